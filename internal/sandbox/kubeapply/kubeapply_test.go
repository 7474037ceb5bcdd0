package kubeapply_test

import (
	"testing"

	"github.com/eksbg/eksbg/internal/sandbox/kubeapply"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		kinds []string
		err   bool
	}{
		{"multi-document YAML with empty documents", "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# nothing\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n", []string{"Namespace", "ConfigMap"}, false},
		{"JSON", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"c"}}`, []string{"Secret"}, false},
		{"empty", "", nil, false},
		{"malformed", "apiVersion: v1\nkind: [", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := kubeapply.Decode([]byte(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.GetKind())
			}
			if len(kinds) != len(tc.kinds) {
				t.Fatalf("kinds %v, want %v", kinds, tc.kinds)
			}
			for i := range kinds {
				if kinds[i] != tc.kinds[i] {
					t.Fatalf("kinds %v, want %v", kinds, tc.kinds)
				}
			}
		})
	}
}
