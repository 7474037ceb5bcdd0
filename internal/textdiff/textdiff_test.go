package textdiff

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
	want := `--- blue
+++ green
@@ -1,5 +1,5 @@
 a
-b
+B
 c
 d
 e
@@ -8,3 +8,4 @@
 h
 i
 j
+k
`
	if got := Unified("blue", "green", a, b, 3); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := Unified("x", "y", a, a, 3); got != "" {
		t.Errorf("equal inputs: %q", got)
	}
}

// TestAgreesWithPatch applies the diff with GNU patch, which checks the
// hunk headers and context as strictly as any consumer will.
func TestAgreesWithPatch(t *testing.T) {
	patch, err := exec.LookPath("patch")
	if err != nil {
		t.Fatalf("GNU patch is needed to check the diffs: %v", err)
	}
	cases := [][2]string{
		{"", "x\ny\n"},
		{"x\ny\n", ""},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "0\n1\n2\n3\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"},
		{"metadata:\n  name: demo-blue\n  version: \"1.32\"\nvpc: {}\n", "metadata:\n  name: demo-green\n  version: \"1.34\"\n  tags:\n    eksbg.io/color: green\nvpc: {}\n"},
	}
	for i, c := range cases {
		dir := t.TempDir()
		f := filepath.Join(dir, "f")
		if err := os.WriteFile(f, []byte(c[0]), 0o600); err != nil {
			t.Fatal(err)
		}
		d := Unified("f", "f", c[0], c[1], 3)
		cmd := exec.Command(patch, "-s", "-f", f)
		cmd.Stdin = strings.NewReader(d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("case %d: patch refused the diff: %v\n%s\n%s", i, err, out, d)
		}
		got, _ := os.ReadFile(f)
		if string(got) != c[1] {
			t.Errorf("case %d: patched file = %q, want %q\ndiff:\n%s", i, got, c[1], d)
		}
	}
}
