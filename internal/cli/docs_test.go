package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite docs/commands from the command tree")

// TestCommandDocs keeps docs/commands equal to what the command tree
// says: one page per command, and an index. With -update it rewrites them.
func TestCommandDocs(t *testing.T) {
	// Defaults that come from the environment read as the variable.
	t.Setenv("XDG_STATE_HOME", "$XDG_STATE_HOME")
	f := &Factory{IO: IO{}, Globals: &GlobalOptions{}, Getenv: func(string) string { return "" }}
	pages := CommandDocs(NewRootCmd(f))
	dir := filepath.Join("..", "..", "docs", "commands")
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range pages {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, want := range []string{"eksbg_upgrade.md", "eksbg_rollback.md", "eksbg_status.md", "eksbg_shift.md", "eksbg_plan.md", "eksbg_capacity.md", "eksbg_sandbox_up.md"} {
		if _, ok := pages[want]; !ok {
			t.Errorf("no page %s", want)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v (go test ./internal/cli -run TestCommandDocs -update writes it)", dir, err)
	}
	var stale []string
	for _, e := range entries {
		if _, ok := pages[e.Name()]; !ok {
			stale = append(stale, e.Name())
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("docs/commands has pages of no command: %s (rerun with -update)", strings.Join(stale, ", "))
	}
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("docs/commands/%s is not what the command tree says (go test ./internal/cli -run TestCommandDocs -update)", name)
		}
	}
	// Every command teaches by example.
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no example in its --help", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCmd(f))
	// The pages are of the real tree: upgrade's page teaches its phases.
	if !bytes.Contains(pages["eksbg_upgrade.md"], []byte("hand-off")) || !bytes.Contains(pages["eksbg_upgrade.md"], []byte("--approve")) {
		t.Errorf("eksbg_upgrade.md:\n%s", pages["eksbg_upgrade.md"])
	}
}

// TestCompletion: 'eksbg completion SHELL' prints a completion script for
// bash, zsh and fish.
func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_eksbg", "zsh": "#compdef eksbg", "fish": "complete -c eksbg"} {
		var out, errOut bytes.Buffer
		if code := Main(t.Context(), []string{"completion", shell}, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != 0 || !strings.Contains(out.String(), marker) {
			t.Errorf("completion %s: exit %d, no %q in %d bytes (%s)", shell, code, marker, out.Len(), errOut.String())
		}
	}
}
