package findings

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestFindingString(t *testing.T) {
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{Severity: Fail, Check: "removed-api", What: "uses extensions/v1beta1 Ingress", Where: Where{App: "web", Object: "extensions/v1beta1 Ingress default/web", File: "web.yaml:3"}, Fix: "use networking.k8s.io/v1"},
			"fail removed-api: web.yaml:3: web: extensions/v1beta1 Ingress default/web: uses extensions/v1beta1 Ingress (fix: use networking.k8s.io/v1)"},
		{Finding{Severity: Warn, Check: "ami", What: "pinned AMI dropped"}, "warn ami: pinned AMI dropped"},
		{Finding{What: "x"}, "info : x"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestSeverityJSON(t *testing.T) {
	for _, s := range []Severity{Info, Warn, Fail} {
		b, err := json.Marshal(Finding{Severity: s})
		if err != nil {
			t.Fatal(err)
		}
		var back Finding
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Severity != s {
			t.Errorf("%s round-tripped to %s via %s", s, back.Severity, b)
		}
	}
	b, _ := json.Marshal(Finding{Severity: Fail, Check: "c", What: "w"})
	if want := `{"severity":"fail","check":"c","what":"w","where":{}}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var f Finding
	if err := json.Unmarshal([]byte(`{"severity":"bad"}`), &f); err == nil {
		t.Error("unknown severity accepted")
	}
	if _, err := json.Marshal(Finding{Severity: 7}); err == nil {
		t.Error("out-of-range severity marshalled")
	}
}

func TestBlockingAndSort(t *testing.T) {
	fs := []Finding{
		{Severity: Info, Check: "b", What: "1"},
		{Severity: Fail, Check: "b", What: "2"},
		{Severity: Warn, Check: "a", What: "3"},
		{Severity: Fail, Check: "a", What: "4"},
	}
	if !Blocking(fs) {
		t.Error("not blocking with a fail")
	}
	if Blocking(fs[2:3]) || Blocking(nil) {
		t.Error("blocking without a fail")
	}
	Sort(fs)
	var got []string
	for _, f := range fs {
		got = append(got, f.What)
	}
	if want := []string{"4", "2", "3", "1"}; !slices.Equal(got, want) {
		t.Errorf("sorted %v, want %v", got, want)
	}
}
