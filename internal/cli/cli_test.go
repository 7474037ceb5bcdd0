package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/eksbg/eksbg/internal/output"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errb})
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "version", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var v struct{ Version, GoVersion string }
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Version == "" || !strings.HasPrefix(v.GoVersion, "go") {
		t.Fatalf("version -o json: %q (%v)", out, err)
	}
	out, _, _ = run(t, "version")
	if !strings.HasPrefix(out, "eksbg ") {
		t.Fatalf("version: %q", out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"version", "-o", "xml"},
		{"version", "--log-level", "loud"},
		{"version", "--bogus"},
		{"version", "extra-arg"},
	} {
		_, stderr, code := run(t, args...)
		if code != ExitError {
			t.Fatalf("%v: exit %d, want %d", args, code, ExitError)
		}
		if !strings.HasPrefix(stderr, "Error: ") {
			t.Fatalf("%v: stderr %q", args, stderr)
		}
	}
	_, stderr, _ := run(t, "version", "-o", "xml")
	if !strings.Contains(stderr, "use one of table, json, yaml, markdown") || !strings.Contains(stderr, "eksbg version --help") {
		t.Fatalf("stderr does not teach: %q", stderr)
	}
}

func TestExitCodes(t *testing.T) {
	if exitCode(nil) != 0 || exitCode(&FindingsError{"drift"}) != 2 || exitCode(context.Canceled) != 1 {
		t.Fatal("exit code mapping")
	}
}

// TestFlagsReachOptions checks the thin-command shape: flags parse into the
// options struct that the run function receives.
func TestFlagsReachOptions(t *testing.T) {
	f := &Factory{IO: IO{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Globals: &GlobalOptions{Output: "table"}, Getenv: func(string) string { return "" }}
	var got *SandboxServeOptions
	cmd := NewCmdSandboxServe(f, func(o *SandboxServeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--scenario", "large", "--addr", "127.0.0.1:1", "--state", "", "--fresh"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Scenario != "large" || got.Addr != "127.0.0.1:1" || got.StatePath != "" || !got.Fresh {
		t.Fatalf("options: %+v", got.ServeOptions)
	}
	var st *SandboxStatusOptions
	f.Globals.Output = "json"
	cmd = NewCmdSandboxStatus(f, func(o *SandboxStatusOptions) error { st = o; return nil })
	cmd.SetArgs([]string{"--addr", "127.0.0.1:2"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if st.Addr != "127.0.0.1:2" || st.Format != output.JSON {
		t.Fatalf("status options: %+v", st)
	}
}

func TestColor(t *testing.T) {
	env := map[string]string{}
	f := &Factory{IO: IO{IsTerminal: true}, Globals: &GlobalOptions{}, Getenv: func(k string) string { return env[k] }}
	if !f.Color() {
		t.Fatal("a terminal without NO_COLOR should get colour")
	}
	env["NO_COLOR"] = "1"
	if f.Color() {
		t.Fatal("NO_COLOR is not honoured")
	}
	delete(env, "NO_COLOR")
	f.Globals.NoColor = true
	if f.Color() {
		t.Fatal("--no-color is not honoured")
	}
	f.Globals.NoColor, f.IO.IsTerminal = false, false
	if f.Color() {
		t.Fatal("no colour when stdout is not a terminal")
	}
}

func TestSandboxStatusWithoutSandbox(t *testing.T) {
	_, stderr, code := run(t, "sandbox", "status", "--addr", "127.0.0.1:1")
	if code != ExitError || !strings.Contains(stderr, "eksbg sandbox up") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestArgumentErrorsBeforeAnyJournal: bad versions, weights and intervals
// are refused while parsing, before any configuration is read or any
// journal opened (no eksbg.yaml exists here), naming the bad value.
func TestArgumentErrorsBeforeAnyJournal(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"upgrade", "--env", "demo", "--to", "1.x"}, `--to: "1.x" is not an EKS Kubernetes version`},
		{[]string{"upgrade", "--env", "demo", "--to", "1.34.1"}, `--to: "1.34.1" is not an EKS Kubernetes version`},
		{[]string{"plan", "--env", "demo", "--to", "2.0"}, `--to: "2.0" is not an EKS Kubernetes version`},
		{[]string{"upgrade", "--env", "demo", "--to", "1.34", "--gate-interval", "0s"}, "--gate-interval must be positive"},
		{[]string{"shift", "--env", "demo", "--weight", "25", "--gate-interval", "0s"}, "--gate-interval must be positive"},
		{[]string{"shift", "--env", "demo", "--weight", "101"}, "--weight is required: a percentage from 0 to 100"},
	} {
		_, stderr, code := run(t, append(c.args, "--config", t.TempDir()+"/missing.yaml")...)
		if code != ExitError || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d saying %q", c.args, code, stderr, ExitError, c.want)
		}
	}
}
