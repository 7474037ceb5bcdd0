package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// TestMakeDemo runs hack/demo.sh, what 'make demo' runs, with this test
// binary as eksbg. The script checks each act's outcome from the AWS APIs
// (weights, clusters, ENIs), eksbg's exit codes and the processes left,
// and exits non-zero when an act did not do what it said.
func TestMakeDemo(t *testing.T) {
	sandboxtest.SkipShort(t, "kube-apiserver")
	script, err := filepath.Abs(filepath.Join("..", "..", "hack", "demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(script))
	cmd := exec.CommandContext(t.Context(), "bash", script, os.Args[0])
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "EKSBG_TEST_AS_EKSBG=1", "EKSBG_DEMO_PORT="+strings.Split(freeAddr(t), ":")[1],
		"XDG_STATE_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the demo failed: %v\n%s", err, out)
	}
	for _, act := range []string{"Sandbox up", "Capacity for a green cluster", "The upgrade plan", "gate fires", "resumes", "drift", "nothing left running", "Demo finished"} {
		if !strings.Contains(string(out), act) {
			t.Errorf("the demo's output has no %q", act)
		}
	}
}
