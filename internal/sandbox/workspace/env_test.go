package workspace

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// TestEnvFileWithAWSCLIs: a shell that sources the env file reaches the
// sandbox with the installed AWS CLIs, including Debian's 2.9.19, which
// ignores AWS_ENDPOINT_URL: the env file gives it --endpoint-url through a
// shell function. The CLI v1 (1.45) reads AWS_ENDPOINT_URL itself and
// gets no function.
func TestEnvFileWithAWSCLIs(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	w, err := Read(t.Context(), env.AWS)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cred := emulator.DefaultCredential
	if _, err := Write(w, Options{Dir: dir, Endpoint: env.URL, AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey,
		Eksbg: "/usr/local/bin/eksbg"}); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, EnvFile)
	home := t.TempDir()
	v1Bin := filepath.Dir(pythonAWS(t))
	// Sourced twice, as a user who re-sources it does; the second time
	// must not wrap the function in itself.
	const interactive = `. "$1" && . "$1" && aws --version && (type aws | head -n 1) && aws sts get-caller-identity --output json`
	// A bash script run from the shell that sourced it.
	const script = `. "$1" && bash -c 'aws --version && (type aws | head -n 1) && aws sts get-caller-identity --output json'`
	for _, tc := range []struct {
		name, shell, script, path, version string
		shim                               bool
	}{
		{"bash, CLI v2 2.9", "bash", interactive, "/usr/bin:/bin", "aws-cli/2.9.", true},
		{"dash, CLI v2 2.9", "sh", interactive, "/usr/bin:/bin", "aws-cli/2.9.", true},
		{"bash script, CLI v2 2.9", "bash", script, "/usr/bin:/bin", "aws-cli/2.9.", true},
		{"bash, CLI v1", "bash", interactive, v1Bin + ":/usr/bin:/bin", "aws-cli/1.", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := tc.script
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, tc.shell, "-c", script, "sh", envFile)
			// What a user's shell might hold: nothing that points at the sandbox.
			cmd.Env = []string{"PATH=" + tc.path, "HOME=" + home, "AWS_CONFIG_FILE=/dev/null",
				"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", script, err, out)
			}
			lines := strings.SplitN(string(out), "\n", 3)
			if len(lines) < 3 || !strings.HasPrefix(lines[0], tc.version) {
				t.Fatalf("want %s, got:\n%s", tc.version, out)
			}
			if isFunc := strings.Contains(lines[1], "function"); isFunc != tc.shim {
				t.Errorf("type aws: %q, want a function: %v", lines[1], tc.shim)
			}
			var id struct{ Account, Arn string }
			if err := json.Unmarshal([]byte(lines[2]), &id); err != nil || id.Account != env.Account {
				t.Fatalf("get-caller-identity: account %q (%v), want the sandbox's %s:\n%s", id.Account, err, env.Account, out)
			}
		})
	}
}

// pythonAWS is the AWS CLI v1's aws script (pip's awscli, on the python3
// the tests use).
func pythonAWS(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import sys, os; print(os.path.join(os.path.dirname(sys.executable), 'aws'))").Output()
	if err != nil {
		t.Fatal(err)
	}
	p := strings.TrimSpace(string(out))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the AWS CLI v1 is not installed beside python3: %v", err)
	}
	return p
}
