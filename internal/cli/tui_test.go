package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/upgrade"
)

// TestRootWithoutArguments checks that `eksbg` alone still prints the help
// when it does not run in a terminal (CI, a pipe): the TUI needs one.
func TestRootWithoutArguments(t *testing.T) {
	stdout, stderr, code := run(t)
	if code != 0 || !strings.Contains(stdout, "Usage:") || !strings.Contains(stdout, "tui ") || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// A terminal on stdout but not on stdin is not enough either.
	var out bytes.Buffer
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, ErrOut: &out, IsTerminal: true}, Globals: &GlobalOptions{LogLevel: "warn"}, Getenv: os.Getenv}
	root := NewRootCmd(f)
	root.SetArgs(nil)
	root.SetOut(&out)
	if err := root.Execute(); err != nil || !strings.Contains(out.String(), "Usage:") {
		t.Fatalf("err %v, output %q", err, out.String())
	}
	// An unknown subcommand is still an error, not the TUI.
	if _, stderr, code := run(t, "tuu"); code == 0 || !strings.Contains(stderr, `unknown command "tuu"`) {
		t.Fatalf("eksbg tuu: exit %d, stderr %q", code, stderr)
	}
}

func TestTUIFlagsReachOptions(t *testing.T) {
	f := &Factory{IO: IO{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Globals: &GlobalOptions{Env: "prod"}, Getenv: func(string) string { return "" }}
	var got *TUIOptions
	cmd := NewCmdTUI(f, func(o *TUIOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--gate-interval", "3s", "--refresh", "5s"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Env != "prod" || got.GateInterval != 3*time.Second || got.Refresh != 5*time.Second {
		t.Fatalf("options: %+v", got)
	}
	cmd = NewCmdTUI(f, func(o *TUIOptions) error { return nil })
	cmd.SetArgs([]string{"--gate-interval", "0s"})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil {
		t.Fatal("--gate-interval 0s accepted")
	}
}

// TestTUIBackendSandbox calls the TUI's backend against the sandbox: the
// environments, the status, EKS's versions, the capacity, and a shift that
// the upgrade refuses (no upgrade is open), the calls the TUI's first
// screens make.
func TestTUIBackendSandbox(t *testing.T) {
	ws, _ := sandboxUp(t)
	ctx := t.Context()
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}},
		Globals: &GlobalOptions{ConfigPath: filepath.Join(ws, "eksbg.yaml"), LogLevel: "warn"}, Getenv: os.Getenv}
	proj, err := config.Load(f.Globals.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	b := newTUIBackend(f, proj, time.Second)
	envs, err := b.Environments(ctx)
	if err != nil || len(envs) != 1 || envs[0].Name != "demo" {
		t.Fatalf("environments %v, %v", envs, err)
	}
	st, err := b.Status(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clusters) != 2 || !st.Clusters[0].Live || st.Clusters[0].Name != "demo-blue" || st.Clusters[0].Version != "1.32" || st.Clusters[1].Exists {
		t.Errorf("clusters %+v", st.Clusters)
	}
	if len(st.Rules) != 1 || st.Rules[0].Blue != 100 || st.Rules[0].Green != 0 || st.Journal != nil {
		t.Errorf("rules %+v, journal %+v", st.Rules, st.Journal)
	}
	vs, err := b.Versions(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range vs {
		if v.Version == "1.34" {
			found = v.EndStandard.Equal(time.Date(2026, time.December, 2, 0, 0, 0, 0, time.UTC))
		}
	}
	if !found {
		t.Errorf("versions %+v: no 1.34 with standard support until 2026-12-02", vs)
	}
	rep, err := b.Capacity(ctx, "demo", "1.34")
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]capacity.Verdict{}
	for _, az := range rep.AZs {
		zones[az.AZ] = az.Verdict
	}
	if len(rep.AZs) != 3 || zones["us-east-1c"] != capacity.Warn || len(rep.Quotas) == 0 || len(rep.Subnets) == 0 {
		t.Errorf("capacity: zones %v, %d quotas, %d subnets", zones, len(rep.Quotas), len(rep.Subnets))
	}
	events := make(chan upgrade.Event, 16)
	if err := b.Shift(ctx, "demo", 10, events); err == nil || !strings.Contains(err.Error(), "no upgrade past its parity checks") {
		t.Errorf("shift without an upgrade: %v", err)
	}
}

// tmuxTUI is `eksbg tui` (this test binary, as TestMain arranges) in a
// detached tmux session of its own server, read with capture-pane and
// driven with send-keys: the binary in a real terminal.
type tmuxTUI struct {
	t    *testing.T
	sock string
}

func (x *tmuxTUI) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-S", x.sock}, args...)...).CombinedOutput()
	return string(out), err
}

// screen is the pane's text.
func (x *tmuxTUI) screen() string {
	out, err := x.tmux("capture-pane", "-p", "-t", "eksbg")
	if err != nil {
		return ""
	}
	return out
}

// keys sends tmux key names (Enter, Down) or, with literal, the text.
func (x *tmuxTUI) keys(literal bool, keys ...string) {
	x.t.Helper()
	args := []string{"send-keys", "-t", "eksbg"}
	if literal {
		args = append(args, "-l")
	}
	if out, err := x.tmux(append(args, keys...)...); err != nil {
		x.t.Fatalf("tmux send-keys %v: %v\n%s", keys, err, out)
	}
}

// waitFor waits until the screen has every text.
func (x *tmuxTUI) waitFor(limit time.Duration, texts ...string) string {
	x.t.Helper()
	var last string
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		last = x.screen()
		ok := true
		for _, s := range texts {
			ok = ok && strings.Contains(last, s)
		}
		if ok {
			return last
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("the screen does not show %q after %s:\n%s", texts, limit, last)
		}
		<-tick.C
	}
}

// TestTUIInTmux drives the real binary in tmux against the sandbox: the
// environments, the wizard to 1.34, the progress until the 25% step bakes,
// a hold on the traffic screen (traffic stays at 25%), a rollback (every
// rule back on blue), then quit. The screen and the emulator's weights are
// checked at each point.
func TestTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed: make test-deps installs it (Debian package tmux)")
	}
	ws, rt := sandboxUp(t)
	w := newDemoWorld(t, ws, rt)
	greenWeight := func() int32 { return w.greenWeight(t) }

	// The session runs a script that sets the sandbox's environment (the
	// tmux server's own may be another test's) and execs eksbg tui.
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString("#!/bin/sh\ncd " + shellQuote(ws) + "\n")
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "EKSBG_") || k == "PATH" || k == "HOME" || k == "XDG_CACHE_HOME" {
			script.WriteString("export " + k + "=" + shellQuote(kv[len(k)+1:]) + "\n")
		}
	}
	script.WriteString("export TERM=xterm-256color NO_COLOR=1\nexec " + shellQuote(self) + " tui --gate-interval 1s\n")
	run := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(run, []byte(script.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	x := &tmuxTUI{t: t, sock: filepath.Join(dir, "tmux.sock")}
	if out, err := x.tmux("-f", "/dev/null", "new-session", "-d", "-s", "eksbg", "-x", "100", "-y", "30", run); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = x.tmux("kill-server") })

	// The environments: demo on blue 1.32, all traffic on blue.
	x.waitFor(time.Minute, "ENVIRONMENT", "demo", "blue", "1.32", "100/0")

	// The wizard: 1.34, its plan, the name typed.
	x.keys(false, "u")
	x.waitFor(time.Minute, "1.34", "standard support")
	// The newest version comes first: move down until 1.34 is selected.
	for i := 0; i < 3 && !strings.Contains(x.screen(), "› 1.34"); i++ {
		before := selectedLine(x.screen())
		x.keys(false, "Down")
		waitUntil(t, 10*time.Second, "the selection to move", func() bool { return selectedLine(x.screen()) != before })
	}
	if scr := x.screen(); !strings.Contains(scr, "› 1.34") {
		t.Fatalf("cannot select 1.34:\n%s", scr)
	}
	var scr string
	x.keys(false, "Enter")
	scr = x.waitFor(3*time.Minute, "Findings", "demo-green 1.34")
	if strings.Contains(scr, "BLOCKED") {
		t.Fatalf("the plan is blocked:\n%s", scr)
	}
	x.keys(false, "Enter")
	x.waitFor(10*time.Second, "Type demo")
	x.keys(true, "demo")
	x.keys(false, "Enter")
	x.waitFor(30*time.Second, "upgrade to 1.34", "preflight")

	// The progress until the 25% step bakes.
	x.waitFor(8*time.Minute, "baking 25%")
	if g := greenWeight(); g != 25 {
		t.Fatalf("the screen bakes 25%% but green's weight is %d", g)
	}

	// Hold on the traffic screen: the upgrade stops, traffic stays at the
	// step it bakes (25%, or a later one on a slow machine).
	x.keys(false, "t")
	x.waitFor(10*time.Second, "Traffic of demo", "READINGS", "5xx rate")
	x.keys(false, "h")
	scr = x.waitFor(time.Minute, "Held at ")
	held := regexp.MustCompile(`Held at (\d+)%`).FindStringSubmatch(scr)
	if held == nil {
		t.Fatalf("no step held:\n%s", scr)
	}
	if g := greenWeight(); fmt.Sprint(g) != held[1] || g < 25 || !strings.Contains(scr, fmt.Sprintf("%d%%", 100-g)) {
		t.Fatalf("held at %s%% but green's weight is %d:\n%s", held[1], g, scr)
	}

	// Roll back: every rule to blue.
	x.keys(false, "b")
	x.waitFor(10*time.Second, "Roll demo back:")
	x.keys(false, "y")
	scr = x.waitFor(3*time.Minute, "rollback: done")
	if g := greenWeight(); g != 0 || !strings.Contains(scr, "100%") {
		t.Fatalf("after the rollback green's weight is %d:\n%s", g, scr)
	}

	// Quit: the process ends, and with it the session.
	x.keys(false, "q")
	waitUntil(t, 30*time.Second, "eksbg tui to exit", func() bool {
		_, err := x.tmux("has-session", "-t", "eksbg")
		return err != nil
	})
}

// selectedLine is the line of the screen the cursor (›) is on.
func selectedLine(screen string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "›") && !strings.Contains(l, "eksbg ›") {
			return l
		}
	}
	return ""
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
