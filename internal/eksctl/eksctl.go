// Package eksctl drives the eksctl CLI, in the style of hashicorp/terraform-exec:
// a constructor that finds the binary and checks its version, one method per
// subcommand, an *exec.Cmd builder that tests inspect without running it,
// cancellation through the context (SIGINT first, then a kill after
// WaitDelay), stderr in returned errors, and eksctl's log lines turned into
// structured progress events.
//
// eksbg never links eksctl's Go module: it drives the CLI the team already
// trusts, with the ClusterConfig files eksbg wrote.
package eksctl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MinVersion is the oldest eksctl eksbg drives: the first release that
// creates Amazon Linux 2023 node groups for Kubernetes 1.33, which green
// clusters move to (https://github.com/eksctl-io/eksctl/releases/tag/v0.208.0).
var MinVersion = Version{0, 208, 0}

// Eksctl runs one eksctl binary.
type Eksctl struct {
	path      string
	version   Version
	env       []string
	environ   func(ctx context.Context) ([]string, error)
	onEvent   func(Event)
	waitDelay time.Duration
}

// Option configures an Eksctl.
type Option func(*Eksctl)

// WithEnv sets extra environment variables (KEY=VALUE) on top of the
// process's own: AWS_PROFILE, AWS_REGION and the like.
func WithEnv(kv ...string) Option { return func(e *Eksctl) { e.env = append(e.env, kv...) } }

// WithEnviron replaces the process's own environment as the base of
// eksctl's with what f returns when each command starts: eksbg passes the
// environment's resolved AWS credentials and region this way
// (awsconf.ChildEnv), so that eksctl acts in the environment's account
// whatever the shell's credentials are. An error from f fails the command
// before eksctl starts.
func WithEnviron(f func(ctx context.Context) ([]string, error)) Option {
	return func(e *Eksctl) { e.environ = f }
}

// WithEvents receives every log line eksctl prints while a command runs,
// as an Event, in order. It is called from the goroutine reading eksctl's
// output and must not block for long.
func WithEvents(f func(Event)) Option { return func(e *Eksctl) { e.onEvent = f } }

// WithWaitDelay is how long a cancelled eksctl has to exit after SIGINT
// before it is killed (default 30s: eksctl finishes the CloudFormation call
// in flight and prints what it left behind).
func WithWaitDelay(d time.Duration) Option { return func(e *Eksctl) { e.waitDelay = d } }

// New finds eksctl (path, or "eksctl" on PATH when path is empty), asks
// its version and refuses one older than MinVersion.
func New(ctx context.Context, path string, opts ...Option) (*Eksctl, error) {
	if path == "" {
		path = "eksctl"
	}
	full, err := exec.LookPath(path)
	if err != nil {
		return nil, fmt.Errorf("finding eksctl: %w (install it from https://eksctl.io/installation/ and put it on PATH; in the sandbox, source the workspace's env file)", err)
	}
	e := &Eksctl{path: full, waitDelay: 30 * time.Second}
	for _, o := range opts {
		o(e)
	}
	out, err := e.output(ctx, "version")
	if err != nil {
		return nil, fmt.Errorf("asking %s its version: %w", full, err)
	}
	v, err := ParseVersion(strings.TrimSpace(string(out)))
	if err != nil {
		return nil, fmt.Errorf("reading the version of %s: %w", full, err)
	}
	if v.Less(MinVersion) {
		return nil, fmt.Errorf("eksctl %s at %s is too old: eksbg needs %s or newer", v, full, MinVersion)
	}
	e.version = v
	return e, nil
}

// Path is the binary this Eksctl runs.
func (e *Eksctl) Path() string { return e.path }

// Version is the version New found.
func (e *Eksctl) Version() Version { return e.version }

// Cmd builds the command for args without running it: tests inspect it,
// and every method runs through it.
func (e *Eksctl) Cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.path, args...)
	base := os.Environ()
	if e.environ != nil {
		env, err := e.environ(ctx)
		if err != nil {
			// Start returns it: nothing runs with the wrong credentials.
			cmd.Err = fmt.Errorf("preparing eksctl's environment: %w", err)
		}
		base = env
	}
	cmd.Env = append(base, e.env...)
	// Like terraform-exec: ask eksctl to stop cleanly first, so it can
	// report the stacks it leaves behind; kill it after WaitDelay.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = e.waitDelay
	// Its own process group, so a Ctrl-C at the terminal reaches eksbg
	// once and eksbg decides what eksctl gets.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// ExitError is a failed eksctl run: the arguments, the exit code, and the
// last lines it wrote to stderr and stdout (eksctl logs errors to stdout).
type ExitError struct {
	Args     []string
	ExitCode int
	Output   string
	err      error
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("eksctl %s: %v", strings.Join(e.Args, " "), e.err)
	if e.Output != "" {
		msg += ":\n" + e.Output
	}
	return msg
}

func (e *ExitError) Unwrap() error { return e.err }

// tailLines keeps the last n lines written to it.
type tailLines struct {
	mu    sync.Mutex
	n     int
	lines []string
}

func (t *tailLines) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

func (t *tailLines) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// run runs args, streaming both outputs line by line into events and a
// tail kept for the error. stdout, if not nil, receives stdout verbatim
// instead (for -o json).
func (e *Eksctl) run(ctx context.Context, stdout io.Writer, args ...string) error {
	cmd := e.Cmd(ctx, args...)
	tail := &tailLines{n: 20}
	var wg sync.WaitGroup
	pipe := func(r io.Reader, isStderr bool) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			tail.add(line)
			if ev, ok := ParseLine(line); ok && e.onEvent != nil {
				ev.Stderr = isStderr
				e.onEvent(ev)
			}
		}
	}
	errR, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if stdout != nil {
		cmd.Stdout = stdout
	} else {
		outR, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		wg.Add(1)
		go pipe(outR, false)
	}
	wg.Add(1)
	go pipe(errR, true)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", e.path, err)
	}
	wg.Wait() // before Wait, which closes the pipes
	err = cmd.Wait()
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		// errors.Is(err, context.Canceled) holds after cancellation.
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	xe := &ExitError{Args: args, ExitCode: -1, Output: tail.String(), err: err}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		xe.ExitCode = ee.ExitCode()
	}
	return xe
}

// output runs args and returns stdout.
func (e *Eksctl) output(ctx context.Context, args ...string) ([]byte, error) {
	var out bytes.Buffer
	if err := e.run(ctx, &out, args...); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Version is an eksctl release number.
type Version struct{ Major, Minor, Patch int }

// ParseVersion reads what `eksctl version` prints: "0.231.0", possibly
// with a pre-release or build suffix ("0.231.0-dev+abc", "0.231.0-sandbox").
func ParseVersion(s string) (Version, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+ \n"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("%q is not a version like 0.231.0", s)
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("%q is not a version like 0.231.0", s)
		}
		v[i] = n
	}
	return Version{v[0], v[1], v[2]}, nil
}

// Less reports whether v is older than o.
func (v Version) Less(o Version) bool {
	if v.Major != o.Major {
		return v.Major < o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor < o.Minor
	}
	return v.Patch < o.Patch
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }
