package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
)

// serveOnce runs 'sandbox serve' until it is ready, then stops it, and
// returns its banner.
func serveOnce(t *testing.T, scenario, state string, fresh bool) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := sandbox.Serve(ctx, sandbox.ServeOptions{Scenario: scenario, StatePath: state, Fresh: fresh, Addr: "127.0.0.1:0",
		Out: &out, Ready: func(string) { cancel() }})
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return out.String(), err
}

// TestSandboxServeScenarioMismatch: a state file saved from one scenario is
// not resumed with another, nor with its own once its content changed; the
// refusal names both and says what to do. The same scenario resumes, and
// --fresh starts over.
func TestSandboxServeScenarioMismatch(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "world.json")
	banner, err := serveOnce(t, "large", state, false)
	if err != nil {
		t.Fatalf("serve --scenario large: %v", err)
	}
	if !strings.Contains(banner, "(scenario large)") || !strings.Contains(banner, "(new)") {
		t.Errorf("banner of a new world:\n%s", banner)
	}

	_, err = serveOnce(t, "demo", state, false)
	var mismatch *emulator.ScenarioMismatchError
	if !errors.As(err, &mismatch) || mismatch.Saved == nil || mismatch.Saved.Name != "large" || mismatch.Requested.Name != "demo" {
		t.Fatalf("serve --scenario demo on large's state: %v", err)
	}
	for _, want := range []string{"built from scenario large, not demo", "--fresh", "--scenario large", state} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	// Through the command, as a user meets it.
	var out, errOut bytes.Buffer
	code := Main(t.Context(), []string{"sandbox", "serve", "--scenario", "demo", "--state", state, "--addr", "127.0.0.1:0"},
		IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if code == 0 || !strings.Contains(errOut.String(), "built from scenario large, not demo") {
		t.Errorf("eksbg sandbox serve --scenario demo: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	// 'up' refuses before starting anything.
	_, err = sandbox.Up(t.Context(), sandbox.UpOptions{Scenario: "demo", StatePath: state, Addr: "127.0.0.1:0",
		Workspace: filepath.Join(dir, "ws"), Eksbg: "/nonexistent/eksbg", Out: &out})
	if !errors.As(err, &mismatch) {
		t.Errorf("sandbox up --scenario demo on large's state: %v", err)
	}

	banner, err = serveOnce(t, "large", state, false)
	if err != nil || !strings.Contains(banner, "(scenario large)") || !strings.Contains(banner, "(resumed)") {
		t.Fatalf("serve --scenario large again: %v\n%s", err, banner)
	}
	banner, err = serveOnce(t, "demo", state, true)
	if err != nil || !strings.Contains(banner, "serving account 111122223333 in us-east-1 (scenario demo)") {
		t.Fatalf("serve --scenario demo --fresh: %v\n%s", err, banner)
	}

	// A scenario file edited since: same name, other content.
	file := filepath.Join(dir, "mine.yaml")
	demo, err := os.ReadFile(filepath.Join("..", "sandbox", "scenarios", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, demo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The demo's content under another name is the demo's world.
	if banner, err = serveOnce(t, file, state, false); err != nil || !strings.Contains(banner, "(resumed)") {
		t.Fatalf("serve --scenario %s (the demo's content): %v\n%s", file, err, banner)
	}
	edited := strings.Replace(string(demo), "reservedIPs: 40", "reservedIPs: 41", 1)
	if edited == string(demo) {
		t.Fatal("the test's edit does not apply to demo.yaml")
	}
	state2 := filepath.Join(dir, "world2.json")
	if _, err := serveOnce(t, file, state2, false); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = serveOnce(t, file, state2, false)
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "whose content has changed since") || !strings.Contains(err.Error(), "--fresh") {
		t.Fatalf("serve with an edited scenario file: %v", err)
	}
}
