package argocd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// stopGrace is how long a process has after SIGTERM before SIGKILL.
const stopGrace = 10 * time.Second

// proc is one process the sandbox's Argo CD runs, its output in a log.
type proc struct {
	name string
	cmd  *exec.Cmd
	stop context.CancelFunc
	done chan struct{}
	log  string
}

// spawn starts path with argv (argv[0] included: Argo CD's binary picks
// its role from the name it is run by) and exactly env, in dir, its
// output appended to logPath. The process outlives ctx; halt ends it.
// Like the control planes' processes it gets its own process group and
// SIGTERM should the sandbox die first.
func spawn(ctx context.Context, name, path string, argv, env []string, dir, logPath string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the log of %s: %w", name, err)
	}
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cmd := exec.CommandContext(pctx, path)
	cmd.Args = argv
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		cancel()
		_ = f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, stop: cancel, done: make(chan struct{}), log: logPath}
	go func() {
		_ = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// running reports whether the process has not exited.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// halt stops the process (SIGTERM, SIGKILL after stopGrace) and waits.
func (p *proc) halt() {
	p.stop()
	<-p.done
}
