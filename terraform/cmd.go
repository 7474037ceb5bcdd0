package terraform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// waitDelay is how long a canceled terraform gets, after SIGINT, to release
// its state lock and exit before it is killed (tfexec's choice too).
const waitDelay = 60 * time.Second

// command builds one terraform command of a workspace, run in the stack
// directory with the given environment (KEY=VALUE). Unit tests inspect the
// result without running it.
//
// Plan and Outputs do not go through tfexec: tfexec always removes
// TF_WORKSPACE from the child's environment ("force usage of workspace
// methods for switching", tfexec/cmd.go buildEnv), and its SetEnv and
// SetStdout mutate the shared *tfexec.Terraform, so one value per stack
// could not run two workspaces' plans at once with their own credentials.
// https://github.com/hashicorp/terraform-exec/blob/v0.26.0/tfexec/cmd.go
// Each command here gets its own environment instead; the stack's
// tfexec.Terraform runs only init and workspace list, one at a time.
func (r *Runner) command(ctx context.Context, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, r.execPath, args...)
	cmd.Dir = dir
	cmd.Env = env
	// SIGINT first, as a user's Ctrl-C: terraform then stops cleanly and
	// releases its state lock; killed only after waitDelay.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = waitDelay
	// Its own process group, so that a terminal's Ctrl-C reaches eksbg,
	// which cancels terraform itself; killed if eksbg dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// run runs cmd and returns its stdout. A failure carries terraform's
// stderr; after cancellation errors.Is(err, ctx.Err()) holds.
// okCodes are exit codes that are not failures (2 for -detailed-exitcode).
func (r *Runner) run(ctx context.Context, cmd *exec.Cmd, okCodes ...int) (stdout []byte, code int, err error) {
	if err := ctx.Err(); err != nil {
		return nil, -1, err
	}
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if r.stderr != nil {
		cmd.Stderr = io.MultiWriter(&errb, r.stderr)
	}
	err = cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return out.Bytes(), code, fmt.Errorf("running %s: %w", cmdName(cmd), ctxErr)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && slices.Contains(okCodes, code) {
		return out.Bytes(), code, nil
	}
	if err != nil {
		return out.Bytes(), code, &ExitError{Args: cmd.Args[1:], Err: err, Stderr: strings.TrimSpace(errb.String())}
	}
	return out.Bytes(), code, nil
}

func cmdName(cmd *exec.Cmd) string { return "terraform " + strings.Join(cmd.Args[1:], " ") }

// ExitError is a terraform command that failed, with what it said.
type ExitError struct {
	Args []string
	Err  error
	// Stderr is terraform's stderr; for -json commands, the error
	// diagnostics of its stdout.
	Stderr string
}

// Error names the command, how it ended and what terraform said.
func (e *ExitError) Error() string {
	return fmt.Sprintf("terraform %s: %v\n%s", strings.Join(e.Args, " "), e.Err, e.Stderr)
}

// Unwrap is the *exec.ExitError.
func (e *ExitError) Unwrap() error { return e.Err }

// childEnv is the environment of a workspace's command: base (KEY=VALUE),
// without the variables terraform-exec manages (TF_LOG*, TF_CLI_ARGS*,
// TF_INPUT, TF_WORKSPACE...; TF_VAR_* reach plans through a variables
// file, see planVars), plus extra. Sorted, so tests can compare it.
func childEnv(base []string, extra map[string]string) []string {
	env := make(map[string]string, len(base)+len(extra))
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env = tfexec.CleanEnv(env)
	// What tfexec sets for every command: no prompts, no log on stderr.
	env["TF_IN_AUTOMATION"] = "1"
	env["TF_INPUT"] = "0"
	env["TF_LOG"] = ""
	maps.Copy(env, extra)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}
