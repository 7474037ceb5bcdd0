package tui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/eksbg/eksbg/upgrade"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// newTestModel is the TUI on f at 80x24 with a fixed clock and no ticks, so
// that every Cmd returns at once.
func newTestModel(t testing.TB, f *fakeBackend, o Options) Model {
	t.Helper()
	o.Backend, o.NoColor, o.Location = f, true, time.UTC
	o.Now = func() time.Time { return t0 }
	o.Refresh = -1
	m := New(t.Context(), o)
	m.c.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	m.c.watch = nil
	return m
}

// drive applies msgs, then runs every Cmd they return and applies what the
// Cmds return, until nothing is left. It reports whether a Cmd quit.
func drive(t testing.TB, m Model, msgs ...tea.Msg) (Model, bool) {
	t.Helper()
	queue := slices.Clone(msgs)
	quit := false
	for len(queue) > 0 {
		msg := queue[0]
		queue = queue[1:]
		switch msg := msg.(type) {
		case nil:
			continue
		case tea.QuitMsg:
			quit = true
			continue
		case tea.BatchMsg:
			for _, c := range msg {
				if c != nil {
					queue = append(queue, c())
				}
			}
			continue
		}
		nm, cmd := m.Update(msg)
		m = nm.(Model)
		if cmd != nil {
			queue = append(queue, cmd())
		}
	}
	return m, quit
}

// start is the TUI after Init's Cmds have run.
func start(t testing.TB, f *fakeBackend, o Options) Model {
	t.Helper()
	m := newTestModel(t, f, o)
	m, _ = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, m.Init()())
	return m
}

// keyMsg is a key press by name ("enter", "esc", "tab", "up", "down",
// "ctrl+c") or the runes typed.
func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// press drives the keys one after another.
func press(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		m, _ = drive(t, m, keyMsg(k))
	}
	return m
}

// noJournal is newFake with prod's upgrade closed, so the TUI stays on the
// environments.
func noJournal() *fakeBackend {
	f := newFake()
	f.status["prod"].Journal = nil
	return f
}

// opCalls are the operations f was asked for, in order.
func opCalls(f *fakeBackend) []string {
	var out []string
	for _, c := range f.called() {
		for _, p := range []string{"Upgrade ", "Shift ", "Rollback "} {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
			}
		}
	}
	return out
}

func count(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}

func TestInitReadsEveryEnvironment(t *testing.T) {
	f := noJournal()
	m := start(t, f, Options{})
	for _, call := range []string{"Environments", "Status demo", "Drift demo", "Status staging", "Drift staging", "Status prod", "Drift prod"} {
		if count(f.called(), call) != 1 {
			t.Errorf("calls %v: want %q once", f.called(), call)
		}
	}
	if m.state != screenEnvs {
		t.Errorf("state %v, want the environments", m.state)
	}
	v := m.View()
	for _, want := range []string{"demo", "staging", "prod", "1.32", "1.33", "1 drift", "✓ none", "100/0"} {
		if !strings.Contains(v, want) {
			t.Errorf("the environments screen lacks %q:\n%s", want, v)
		}
	}
}

func TestResumeLandsOnProgress(t *testing.T) {
	f := newFake()
	m := start(t, f, Options{})
	if m.state != screenProgress || m.env != "prod" {
		t.Fatalf("state %v on %q, want the progress of prod", m.state, m.env)
	}
	r := m.c.d("prod").run
	for p, want := range map[upgrade.Phase]phaseStatus{upgrade.PhasePreflight: phaseSkipped, upgrade.PhaseParity: phaseSkipped,
		upgrade.PhaseShift: phaseFailed, upgrade.PhaseHandoff: phasePending} {
		if got := r.phase(p).status; got != want {
			t.Errorf("phase %s: status %v, want %v", p, got, want)
		}
	}
	if r.step != "10%" || r.spec.to != "1.34" {
		t.Errorf("step %q to %q, want the 10%% step of the upgrade to 1.34", r.step, r.spec.to)
	}
	m = press(t, m, "c")
	if count(f.called(), "Upgrade prod 1.34 approve=false") != 1 {
		t.Errorf("c called %v, want the upgrade of prod to 1.34 resumed", f.called())
	}
}

func TestEnvironmentsKeys(t *testing.T) {
	tests := []struct {
		name   string
		keys   []string
		state  screen
		env    string
		cursor int
		call   string // a call the keys must make
		flash  string
	}{
		{name: "enter opens the detail and checks capacity", keys: []string{"down", "enter"}, state: screenDetail, env: "staging", cursor: 1, call: `Capacity staging ""`},
		{name: "u opens the wizard", keys: []string{"u"}, state: screenWizard, env: "demo", call: "Versions demo"},
		{name: "t opens traffic", keys: []string{"j", "j", "t"}, state: screenTraffic, env: "prod", cursor: 2},
		{name: "p without an upgrade says so", keys: []string{"p"}, state: screenEnvs, flash: "demo has no upgrade in progress"},
		{name: "the cursor stops at the end", keys: []string{"down", "down", "down", "down"}, state: screenEnvs, cursor: 2},
		{name: "the cursor stops at the top", keys: []string{"up", "k"}, state: screenEnvs},
		{name: "G and g jump", keys: []string{"G"}, state: screenEnvs, cursor: 2},
		{name: "esc goes back from the detail", keys: []string{"enter", "esc"}, state: screenEnvs},
		{name: "esc goes back from the wizard to the detail", keys: []string{"u", "esc"}, state: screenDetail, env: "demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := noJournal()
			m := press(t, start(t, f, Options{}), tt.keys...)
			if m.state != tt.state || (tt.env != "" && m.env != tt.env) || m.list.cursor != tt.cursor {
				t.Errorf("state %v env %q cursor %d, want %v %q %d", m.state, m.env, m.list.cursor, tt.state, tt.env, tt.cursor)
			}
			if tt.call != "" && count(f.called(), tt.call) == 0 {
				t.Errorf("calls %v, want %q", f.called(), tt.call)
			}
			if !strings.Contains(m.c.flash, tt.flash) {
				t.Errorf("message %q, want %q", m.c.flash, tt.flash)
			}
		})
	}
}

func TestRefreshAndDriftKeys(t *testing.T) {
	f := noJournal()
	m := start(t, f, Options{})
	m = press(t, m, "D", "r")
	if count(f.called(), "Drift demo") != 2 {
		t.Errorf("D: calls %v, want a second drift check of demo", f.called())
	}
	if count(f.called(), "Status staging") != 2 {
		t.Errorf("r: calls %v, want every status read again", f.called())
	}
	// The background refresh reads every status again.
	m, _ = drive(t, m, refreshMsg{})
	if count(f.called(), "Status prod") != 3 {
		t.Errorf("refresh: calls %v, want a third status of prod", f.called())
	}
	// A read that fails says so and keeps the screen.
	f.statusErr = map[string]error{"demo": errors.New("DescribeCluster: throttled")}
	m, _ = drive(t, m, refreshMsg{})
	if !strings.Contains(m.c.flash, "throttled") || !strings.Contains(m.View(), "status unreadable") {
		t.Errorf("a failed status: message %q, view\n%s", m.c.flash, m.View())
	}
}

func TestDetailKeys(t *testing.T) {
	f := noJournal()
	f.capacity["demo"] = testCapacity(200)
	m := start(t, f, Options{Env: "demo"})
	if m.state != screenDetail || m.env != "demo" {
		t.Fatalf("Options.Env: state %v on %q, want the detail of demo", m.state, m.env)
	}
	v := m.View()
	for _, want := range []string{"Capacity of a green 1.32 cluster beside blue: WARN", "us-east-1c", "add a /22 subnet", "demo-blue", "live"} {
		if !strings.Contains(v, want) {
			t.Errorf("the detail lacks %q:\n%s", want, v)
		}
	}
	m = press(t, m, "down", "down")
	if m.detail.vp.YOffset != 2 {
		t.Errorf("two lines down: offset %d", m.detail.vp.YOffset)
	}
	// Keys read together come as one message; each still counts.
	m = press(t, m, "jjj")
	if m.detail.vp.YOffset != 5 {
		t.Errorf("jjj: offset %d, want 5", m.detail.vp.YOffset)
	}
	m = press(t, m, "G")
	if !m.detail.vp.AtBottom() || !strings.Contains(m.View(), "subnet-") {
		t.Errorf("G: not at the bottom of the subnets:\n%s", m.View())
	}
	m = press(t, m, "C", "D")
	if count(f.called(), `Capacity demo ""`) != 2 || count(f.called(), "Drift demo") != 2 {
		t.Errorf("C and D: calls %v", f.called())
	}
	m = press(t, m, "esc")
	if m.state != screenEnvs {
		t.Errorf("esc: state %v", m.state)
	}
}

func TestWizard(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeBackend)
		keys  []string
		state screen
		step  wizardStep
		call  string
		flash string
	}{
		{name: "the newest version first", keys: []string{"u", "enter"}, state: screenWizard, step: stepPlan, call: "Plan demo 1.35"},
		{name: "down picks 1.34", keys: []string{"u", "down", "enter"}, state: screenWizard, step: stepPlan, call: "Plan demo 1.34"},
		{name: "esc goes back a step", keys: []string{"u", "down", "enter", "esc"}, state: screenWizard, step: stepVersion},
		{name: "a wrong name does not start", keys: []string{"u", "down", "enter", "enter", "d", "e", "m", "enter"}, state: screenWizard, step: stepConfirm,
			flash: "type demo to confirm"},
		{name: "the name starts the upgrade", keys: []string{"u", "down", "enter", "enter", "demo", "enter"}, state: screenProgress,
			call: "Upgrade demo 1.34 approve=false"},
		{name: "tab approves the teardown", keys: []string{"u", "down", "enter", "enter", "tab", "demo", "enter"}, state: screenProgress,
			call: "Upgrade demo 1.34 approve=true"},
		{name: "q is typed, not quit", keys: []string{"u", "enter", "enter", "q"}, state: screenWizard, step: stepConfirm},
		{name: "a blocked plan stops", setup: func(f *fakeBackend) { f.plan.Blocked = true }, keys: []string{"u", "enter", "enter"},
			state: screenWizard, step: stepPlan, flash: "blocking findings"},
		{name: "a failed plan says why", setup: func(f *fakeBackend) { f.planErr = errors.New("terraform: no state") }, keys: []string{"u", "enter", "enter"},
			state: screenWizard, step: stepPlan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := noJournal()
			if tt.setup != nil {
				tt.setup(f)
			}
			m := press(t, start(t, f, Options{}), tt.keys...)
			if m.state != tt.state || (tt.state == screenWizard && m.wizard.step != tt.step) {
				t.Errorf("state %v step %v, want %v %v", m.state, m.wizard.step, tt.state, tt.step)
			}
			if tt.call != "" && count(f.called(), tt.call) != 1 {
				t.Errorf("calls %v, want %q once", f.called(), tt.call)
			}
			if !strings.Contains(m.c.flash, tt.flash) {
				t.Errorf("message %q, want %q", m.c.flash, tt.flash)
			}
			if f.planErr != nil && !strings.Contains(m.View(), "terraform: no state") {
				t.Errorf("the plan's error is not shown:\n%s", m.View())
			}
		})
	}
}

func TestWizardVersions(t *testing.T) {
	f := noJournal()
	f.versionsErr = errors.New("UnknownOperationException")
	f.versions = nil
	m := press(t, start(t, f, Options{}), "u")
	var got []string
	for _, v := range m.wizard.choices(m.c) {
		got = append(got, v.Version+" "+v.SupportAt(t0).String())
	}
	// Blue runs 1.32; on 2026-11-16 1.33 is in extended support, 1.31 and
	// older are not newer.
	want := []string{"1.35 standard", "1.34 standard", "1.33 extended"}
	if !slices.Equal(got, want) {
		t.Errorf("choices %v, want %v", got, want)
	}
	v := m.View()
	for _, s := range []string{"built-in EKS calendar", "UnknownOperationException", "1.33", "extended support until 2027-07-29", "extra cost"} {
		if !strings.Contains(v, s) {
			t.Errorf("the versions page lacks %q:\n%s", s, v)
		}
	}
}

// startUpgrade runs the wizard on demo up to the upgrade to 1.34.
func startUpgrade(t *testing.T, f *fakeBackend) Model {
	t.Helper()
	return press(t, start(t, f, Options{}), "u", "down", "enter", "enter", "demo", "enter")
}

func TestProgressEvents(t *testing.T) {
	f := noJournal()
	f.events[opUpgrade] = shiftEvents(false)
	f.results[opUpgrade] = &upgrade.AwaitingApproval{Blue: "demo-blue", Command: "eksbg upgrade --env demo --to 1.34 --approve"}
	m := startUpgrade(t, f)
	r := m.c.d("demo").run
	if r.running || !r.finished {
		t.Fatalf("the operation did not finish: %+v", r)
	}
	for p, want := range map[upgrade.Phase]phaseStatus{upgrade.PhasePreflight: phaseDone, upgrade.PhaseParity: phaseDone,
		upgrade.PhaseShift: phaseStopped, upgrade.PhaseTeardown: phasePending} {
		if got := r.phase(p).status; got != want {
			t.Errorf("phase %s: %v, want %v", p, got, want)
		}
	}
	if len(r.samples) != 5 || len(r.weights) != 1 || r.weights[0].Green != 25 || r.step != "25%" {
		t.Errorf("samples %d weights %v step %q", len(r.samples), r.weights, r.step)
	}
	v := m.View()
	for _, s := range []string{"✓ parity", "20.0s", "weights", "75%", "25%", "approve its teardown", "A approve teardown"} {
		if !strings.Contains(v, s) {
			t.Errorf("the progress lacks %q:\n%s", s, v)
		}
	}
	// A asks, then y tears blue down: the same upgrade with approval.
	m = press(t, m, "A")
	if m.confirm == nil || !strings.Contains(m.View(), "Tear demo's old cluster down?") {
		t.Fatalf("A: no question:\n%s", m.View())
	}
	m = press(t, m, "y")
	if count(f.called(), "Upgrade demo 1.34 approve=true") != 1 {
		t.Errorf("A y: calls %v", f.called())
	}
}

func TestBreachPrompt(t *testing.T) {
	breach := &upgrade.GateBreachError{Step: 25, Breaches: []traffic.Breach{{Gate: traffic.GateMax5xxPercent, Message: "5xx rate 20.00% is above 2.00%"}}}
	upg, rb := "Upgrade demo 1.34 approve=false", "Rollback demo deleteGreen="
	tests := []struct {
		name  string
		keys  []string
		calls []string
		// prompt is whether the prompt is up after the keys (a retry
		// breaches again).
		prompt bool
		screen screen
	}{
		{name: "r retries the upgrade", keys: []string{"r"}, calls: []string{upg, upg}, prompt: true, screen: screenProgress},
		{name: "h holds", keys: []string{"h"}, calls: []string{upg}, screen: screenProgress},
		{name: "b y rolls back", keys: []string{"b", "y"}, calls: []string{upg, rb + "false"}, screen: screenProgress},
		{name: "b d rolls back and deletes green", keys: []string{"b", "d"}, calls: []string{upg, rb + "true"}, screen: screenProgress},
		{name: "b then no keeps the prompt", keys: []string{"b", "n"}, calls: []string{upg}, prompt: true, screen: screenProgress},
		{name: "the traffic screen has the prompt", keys: []string{"t", "r"}, calls: []string{upg, upg}, prompt: true, screen: screenTraffic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := noJournal()
			f.events[opUpgrade] = shiftEvents(true)
			f.results[opUpgrade] = breach
			m := startUpgrade(t, f)
			r := m.c.d("demo").run
			if r.breach == nil || !strings.Contains(m.View(), "r retry") {
				t.Fatalf("no breach prompt:\n%s", m.View())
			}
			if v := press(t, m, "b").View(); !strings.Contains(v, "Roll demo back: all traffic and singletons to blue") {
				t.Fatalf("b: no question:\n%s", v)
			}
			// The retried upgrade breaches again; the rollback succeeds.
			f.events[opUpgrade] = nil
			m = press(t, m, tt.keys...)
			if got := opCalls(f); !slices.Equal(got, tt.calls) {
				t.Errorf("operations %v, want %v", got, tt.calls)
			}
			if r := m.c.d("demo").run; (r.breach != nil) != tt.prompt {
				t.Errorf("breach prompt up: %v, want %v", r.breach != nil, tt.prompt)
			}
			if m.state != tt.screen {
				t.Errorf("screen %v, want %v", m.state, tt.screen)
			}
		})
	}
}

func TestTrafficKeys(t *testing.T) {
	tests := []struct {
		name   string
		green  int32
		keys   []string
		call   string
		flash  string
		typing bool
	}{
		{name: "n advances from 0 to the first step", green: 0, keys: []string{"n"}, call: "Shift demo 10"},
		{name: "n advances from 25 to 50", green: 25, keys: []string{"n"}, call: "Shift demo 50"},
		{name: "n at 100 has no step left", green: 100, keys: []string{"n"}, flash: "no step is left"},
		{name: "w sets a weight", green: 10, keys: []string{"w", "3", "0", "enter"}, call: "Shift demo 30"},
		{name: "w 0 sends everything back", green: 10, keys: []string{"w", "0", "enter"}, call: "Shift demo 0"},
		{name: "w takes only percentages", green: 10, keys: []string{"w", "1", "2", "0", "enter"}, flash: "not a percentage", typing: true},
		{name: "esc cancels the weight", green: 10, keys: []string{"w", "5", "esc"}},
		{name: "h with nothing running keeps the weights", green: 10, keys: []string{"h"}, flash: "weights stay"},
		{name: "b asks before rolling back", green: 10, keys: []string{"b", "y"}, call: "Rollback demo deleteGreen=false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := noJournal()
			f.status["demo"] = testStatus("demo", "1.32", tt.green)
			f.status["demo"].Journal = openJournal("demo")
			m := press(t, start(t, f, Options{Env: "demo"}), "t")
			if m.state != screenTraffic {
				t.Fatalf("state %v", m.state)
			}
			m = press(t, m, tt.keys...)
			if tt.call != "" && count(f.called(), tt.call) != 1 {
				t.Errorf("calls %v, want %q", f.called(), tt.call)
			}
			if tt.call == "" && slices.ContainsFunc(f.called(), func(s string) bool { return strings.HasPrefix(s, "Shift") || strings.HasPrefix(s, "Rollback") }) {
				t.Errorf("calls %v, want no operation", f.called())
			}
			if !strings.Contains(m.c.flash, tt.flash) {
				t.Errorf("message %q, want %q", m.c.flash, tt.flash)
			}
			if m.traffic.typing != tt.typing {
				t.Errorf("typing %v", m.traffic.typing)
			}
		})
	}
}

// async runs Cmds on goroutines, as bubbletea does, for operations that
// block until they are interrupted.
type async struct {
	t  *testing.T
	ch chan tea.Msg
}

func newAsync(t *testing.T) *async { return &async{t: t, ch: make(chan tea.Msg, 64)} }

func (a *async) run(cmd tea.Cmd) {
	if cmd != nil {
		go func() { a.ch <- cmd() }()
	}
}

// until applies messages until cond holds; quit reports a tea.Quit.
func (a *async) until(m Model, cond func(m Model, quit bool) bool) Model {
	a.t.Helper()
	quit := false
	// The deadline only guards against a hang; nothing is timed.
	deadline := time.After(20 * time.Second)
	for !cond(m, quit) {
		select {
		case msg := <-a.ch:
			switch msg := msg.(type) {
			case nil:
			case tea.QuitMsg:
				quit = true
			case tea.BatchMsg:
				for _, c := range msg {
					a.run(c)
				}
			default:
				nm, cmd := m.Update(msg)
				m = nm.(Model)
				a.run(cmd)
			}
		case <-deadline:
			a.t.Fatalf("condition not met; view:\n%s", m.View())
		}
	}
	return m
}

// key presses k and runs its Cmds on a.
func (a *async) key(m Model, k string) Model {
	nm, cmd := m.Update(keyMsg(k))
	a.run(cmd)
	return nm.(Model)
}

// runningUpgrade is the upgrade of demo blocked in its 25% bake.
func runningUpgrade(t *testing.T, f *fakeBackend) (Model, *async) {
	f.setBlock(opUpgrade, true)
	f.events[opUpgrade] = shiftEvents(false)
	m := press(t, start(t, f, Options{}), "u", "down", "enter", "enter", "demo")
	a := newAsync(t)
	m = a.key(m, "enter")
	m = a.until(m, func(m Model, _ bool) bool { return len(m.c.d("demo").run.samples) == 5 })
	return m, a
}

func TestHoldInterruptsTheUpgrade(t *testing.T) {
	for _, tt := range []struct {
		name string
		keys []string
	}{{"x on the progress", []string{"x"}}, {"h on the traffic", []string{"t", "h"}}} {
		t.Run(tt.name, func(t *testing.T) {
			f := noJournal()
			m, a := runningUpgrade(t, f)
			if !strings.Contains(m.View(), "running") {
				t.Errorf("not running:\n%s", m.View())
			}
			for _, k := range tt.keys {
				m = a.key(m, k)
			}
			m = a.until(m, func(m Model, _ bool) bool { return !m.c.d("demo").run.running })
			r := m.c.d("demo").run
			if st := r.phase(upgrade.PhaseShift).status; st != phaseStopped {
				t.Errorf("the interrupted shift phase is %v, want stopped", st)
			}
			if !errors.Is(r.err, context.Canceled) {
				t.Fatalf("outcome %v, want the upgrade interrupted", r.err)
			}
			if !strings.Contains(m.c.flash, "held at 25%") || !strings.Contains(strings.Join(outcomeLines(m.c, r, "demo"), "\n"), "Held at 25%") {
				t.Errorf("message %q; outcome %q", m.c.flash, outcomeLines(m.c, r, "demo"))
			}
			f.setBlock(opUpgrade, false)
			m, _ = drive(t, m, keyMsg("c"))
			if count(f.called(), "Upgrade demo 1.34 approve=false") != 2 {
				t.Errorf("c: calls %v, want the upgrade continued", f.called())
			}
		})
	}
}

func TestRollbackDuringUpgradeWaitsForIt(t *testing.T) {
	f := noJournal()
	m, a := runningUpgrade(t, f)
	m = a.key(m, "b")
	m = a.key(m, "y")
	m = a.until(m, func(m Model, _ bool) bool { r := m.c.d("demo").run; return r.spec.kind == opRollback && !r.running })
	want := []string{"Upgrade demo 1.34 approve=false", "Rollback demo deleteGreen=false"}
	if got := opCalls(f); !slices.Equal(got, want) {
		t.Errorf("operations %v, want the rollback after the upgrade stopped", got)
	}
	if !strings.Contains(m.c.flash, "demo: rollback: done") {
		t.Errorf("message %q, want the rollback done", m.c.flash)
	}
}

func TestQuitInterruptsFirst(t *testing.T) {
	f := noJournal()
	m, a := runningUpgrade(t, f)
	m = a.key(m, "q")
	if !m.confirmQuit || !strings.Contains(m.c.flash, "quitting interrupts it") {
		t.Fatalf("q: no question; message %q", m.c.flash)
	}
	m = a.key(m, "y")
	m = a.until(m, func(m Model, quit bool) bool { return quit })
	if r := m.c.d("demo").run; r.running || !errors.Is(r.err, context.Canceled) {
		t.Errorf("quit before the upgrade returned: %+v", r.err)
	}
	// Without an operation, q quits at once.
	m2 := start(t, noJournal(), Options{})
	if _, quit := drive(t, m2, keyMsg("q")); !quit {
		t.Errorf("q did not quit")
	}
}

func TestHelp(t *testing.T) {
	m := press(t, start(t, noJournal(), Options{}), "?")
	v := m.View()
	for _, s := range []string{"Keys", "Traffic", "n next step", "After a breached gate", "A approve teardown", "D check drift"} {
		if !strings.Contains(v, s) {
			t.Errorf("the help lacks %q:\n%s", s, v)
		}
	}
	m = press(t, m, "u") // ignored while the help is up
	if !m.fullHelp || m.state != screenEnvs {
		t.Errorf("u under the help: help %v state %v", m.fullHelp, m.state)
	}
	m = press(t, m, "esc")
	if m.fullHelp {
		t.Errorf("esc did not close the help")
	}
}

// TestResize checks every screen fits the terminal exactly at several
// sizes: as many lines as it is high, none wider than it is wide.
func TestResize(t *testing.T) {
	screens := map[string][]string{
		"environments": nil, "detail": {"enter"}, "wizard": {"u"}, "plan": {"u", "enter"}, "confirm": {"u", "enter", "enter"},
		"progress": {"u", "enter", "enter", "demo", "enter"}, "traffic": {"u", "enter", "enter", "demo", "enter", "t"}, "help": {"?"},
	}
	for name, keys := range screens {
		for _, size := range [][2]int{{80, 24}, {120, 40}, {60, 16}, {200, 60}} {
			f := noJournal()
			f.events[opUpgrade] = shiftEvents(true)
			f.results[opUpgrade] = &upgrade.GateBreachError{Step: 25}
			f.capacity["demo"] = testCapacity(50)
			m := press(t, start(t, f, Options{}), keys...)
			m, _ = drive(t, m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			lines := strings.Split(m.View(), "\n")
			if len(lines) != size[1] {
				t.Errorf("%s at %dx%d: %d lines", name, size[0], size[1], len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%s at %dx%d: line %d is %d wide: %q", name, size[0], size[1], i, w, l)
				}
			}
		}
	}
}

func TestColourProfile(t *testing.T) {
	m := start(t, noJournal(), Options{Env: "demo"})
	if v := m.View(); strings.Contains(v, "\x1b[") {
		t.Errorf("NoColor: escape codes in\n%q", v)
	}
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI256)
	m.c.st = newStyles(r)
	if v := m.View(); !strings.Contains(v, "\x1b[") {
		t.Errorf("ANSI256: no escape codes in\n%s", v)
	}
}
