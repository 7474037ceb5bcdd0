// Package sandbox runs eksbg's local sandbox: the AWS API emulator (package
// emulator) over a scenario, and what eksbg shows of it.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
)

// ServeOptions configure `eksbg sandbox serve`.
type ServeOptions struct {
	// Scenario is a built-in scenario name or a path to a scenario file.
	Scenario string
	// Addr to listen on; loopback only unless the user says otherwise.
	Addr string
	// StatePath persists the world; an existing file is resumed.
	StatePath string
	// Fresh discards existing state and starts from the scenario.
	Fresh  bool
	Out    io.Writer
	Logger *slog.Logger
	// Ready, when set, receives the endpoint URL once the server listens.
	Ready func(url string)
}

// LoadScenario resolves a built-in name ("demo") or a file path.
func LoadScenario(nameOrPath string) (*scenario.Scenario, error) {
	if !strings.ContainsAny(nameOrPath, "/.") {
		return scenarios.Load(nameOrPath)
	}
	return scenario.Load(nameOrPath)
}

// DefaultStatePath is where `sandbox serve` keeps its world by default.
func DefaultStatePath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "eksbg-sandbox", "world.json")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "eksbg", "sandbox", "world.json")
}

// Serve runs the emulator until ctx ends.
func Serve(ctx context.Context, o ServeOptions) error {
	sc, err := LoadScenario(o.Scenario)
	if err != nil {
		return err
	}
	if o.StatePath != "" {
		if err := os.MkdirAll(filepath.Dir(o.StatePath), 0o700); err != nil {
			return fmt.Errorf("creating state directory: %w", err)
		}
		if o.Fresh {
			if err := os.Remove(o.StatePath); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("discarding old state: %w", err)
			}
		}
	}
	srv, err := emulator.New(emulator.Options{Scenario: sc, StatePath: o.StatePath, Logger: o.Logger})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (is another sandbox running? see 'eksbg sandbox status')", o.Addr, err)
	}
	url := "http://" + l.Addr().String()
	cred := emulator.DefaultCredential
	if len(sc.Credentials) > 0 {
		cred = sc.Credentials[0]
	}
	state := o.StatePath
	if state == "" {
		state = "(in memory)"
	}
	fmt.Fprintf(o.Out, `AWS API emulator serving account %s in %s at %s
state: %s

Point AWS clients at it with:
  export AWS_ENDPOINT_URL=%s
  export AWS_REGION=%s
  export AWS_ACCESS_KEY_ID=%s
  export AWS_SECRET_ACCESS_KEY=%s

Admin API: %s/_sandbox/ (docs/sandbox.md). Ctrl-C stops it.
`, sc.Account, sc.Region, url, state, url, sc.Region, cred.AccessKeyID, cred.SecretAccessKey, url)
	if o.Ready != nil {
		o.Ready(url)
	}
	return srv.Serve(ctx, l)
}
