package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eksbg/eksbg/upgrade/state"
)

func TestForceUnlock(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "config", "testdata", "eksbg.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "eksbg.yaml")
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// staging keeps the default state directory, beside eksbg.yaml.
	l := &state.Local{Dir: filepath.Join(dir, ".eksbg", "state")}
	lock, err := l.Lock(t.Context(), "staging", state.LockInfo{Who: "alice", Host: "gone-laptop", PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "force-unlock", "--config", cfg, "--env", "staging", "0123456789abcdef")
	if code != ExitError || !strings.Contains(stderr, lock.ID) {
		t.Fatalf("wrong ID: exit %d, %q", code, stderr)
	}
	stdout, stderr, code := run(t, "force-unlock", "--config", cfg, "--env", "staging", lock.ID)
	if code != ExitOK || !strings.Contains(stdout, "removed") {
		t.Fatalf("right ID: exit %d, %q %q", code, stdout, stderr)
	}
	if h, err := l.LockHolder(t.Context(), "staging"); err != nil || h != nil {
		t.Errorf("lock still held: %+v, %v", h, err)
	}
	if _, stderr, code := run(t, "force-unlock", "x"); code != ExitError || !strings.Contains(stderr, "--env is required") {
		t.Errorf("without --env: exit %d, %q", code, stderr)
	}
}
