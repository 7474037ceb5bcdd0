package kube

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a process has to exit after SIGTERM before it is
// killed.
const stopGrace = 10 * time.Second

// process is one control-plane binary running, its output in a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	done    chan struct{}
	err     error // of Wait, once done is closed
	logPath string
}

// startProcess starts bin with args and a minimal environment (HOME=home,
// PATH), appending its stdout and stderr to logPath. The process lives
// until stop is called: its context is detached from ctx's cancellation,
// so a request that starts a control plane does not bound its lifetime.
// Cancelling sends SIGTERM to its process id and, after stopGrace, SIGKILL
// (exec.Cmd.Cancel and WaitDelay).
func startProcess(ctx context.Context, name, bin string, args []string, home, logPath string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the log of %s: %w", name, err)
	}
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cmd := exec.CommandContext(pctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	cmd.Dir = home
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		cancel()
		_ = f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, cancel: cancel, done: make(chan struct{}), logPath: logPath}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	return p, nil
}

// pid is the process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError describes why a process ended on its own, with the end of its log.
func (p *process) exitError() error {
	return fmt.Errorf("%s exited (%v); the end of %s:\n%s", p.name, p.err, p.logPath, logTail(p.logPath, 20))
}

// stop terminates the process (SIGTERM to its pid, SIGKILL after
// stopGrace) and waits for it; ctx bounds the wait.
func (p *process) stop(ctx context.Context) error {
	p.cancel()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for %s (pid %d) to stop: %w", p.name, p.pid(), ctx.Err())
	}
}

// logTail returns the last n lines of a log file.
func logTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const window = 16 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		_, _ = f.Seek(st.Size()-window, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(bytes.ToValidUTF8(b, nil)), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
