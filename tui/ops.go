package tui

import (
	"context"
	"errors"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/eksbg/eksbg/upgrade"
)

// eventMsg is one event of an operation; wait reads the next one. Every
// event is answered with wait, even one of an operation the screen no
// longer shows: the upgrade blocks until its events are read.
type eventMsg struct {
	env  string
	id   int
	ev   upgrade.Event
	wait tea.Cmd
}

// opDoneMsg is an operation's outcome, delivered after its last event.
type opDoneMsg struct {
	env string
	id  int
	err error
}

// runOp calls the Backend for spec and, when it returns, hands its error to
// done and closes events, so that waitEvent reports the outcome only after
// the last event.
func runOp(ctx context.Context, b Backend, env string, spec opSpec, events chan upgrade.Event, done chan error) tea.Cmd {
	return func() tea.Msg {
		var err error
		switch spec.kind {
		case opShift:
			err = b.Shift(ctx, env, spec.weight, events)
		case opRollback:
			err = b.Rollback(ctx, env, spec.deleteGreen, events)
		default:
			err = b.Upgrade(ctx, env, spec.to, spec.approve, events)
		}
		done <- err
		close(events)
		return nil
	}
}

// waitEvent reads one event of an operation, or its outcome once the
// events are closed.
func waitEvent(env string, id int, events <-chan upgrade.Event, done <-chan error) tea.Cmd {
	var wait tea.Cmd
	wait = func() tea.Msg {
		if e, ok := <-events; ok {
			return eventMsg{env: env, id: id, ev: e, wait: wait}
		}
		return opDoneMsg{env: env, id: id, err: <-done}
	}
	return wait
}

// startOp starts an operation on env. When one runs there already (it holds
// the environment's lock), it is interrupted first and spec runs once it
// has journaled where it stopped.
func (m Model) startOp(env string, spec opSpec) (Model, tea.Cmd) {
	c := m.c
	d := c.d(env)
	if prev := d.run; prev != nil && prev.running {
		prev.next = &spec
		if !prev.stopping {
			prev.stopping = true
			prev.cancel()
		}
		c.say(levelWarn, "interrupting %s, then %s", prev.spec, spec)
		return m, nil
	}
	c.lastID++
	r := newRun(c.lastID, spec, c.now())
	// The same upgrade continued (or a shift or rollback of it) keeps what
	// the screen showed: phases done earlier, the log, weights and gates.
	if prev := d.run; prev != nil && (spec.kind != opUpgrade || prev.spec.to == spec.to) {
		for p, ps := range prev.phases {
			cp := *ps
			if cp.status == phaseDone {
				cp.status = phaseSkipped
			}
			r.phases[p] = &cp
		}
		r.log, r.weights, r.weightsSeq, r.samples, r.step, r.current = prev.log, prev.weights, prev.weightsSeq, prev.samples, prev.step, prev.current
		if spec.kind != opUpgrade {
			r.spec.to = prev.spec.to
		}
	}
	ctx, cancel := context.WithCancel(c.ctx)
	r.running, r.cancel = true, cancel
	r.events, r.done = make(chan upgrade.Event, 64), make(chan error, 1)
	r.addLog(logLine{at: r.started, phase: r.current, text: spec.String() + " ..."})
	d.run = r
	c.say(levelInfo, "%s: %s", env, spec)
	return m, tea.Batch(runOp(ctx, c.backend, env, spec, r.events, r.done), waitEvent(env, r.id, r.events, r.done), c.animate())
}

func (m Model) onEvent(msg eventMsg) (tea.Model, tea.Cmd) {
	if r := m.c.d(msg.env).run; r != nil && r.id == msg.id {
		r.apply(msg.ev)
		if msg.ev.Kind == upgrade.Weights {
			m.c.seq++
			r.weightsSeq = m.c.seq
		}
		m.progress = m.progress.refresh(m.c, m.env)
	}
	return m, msg.wait
}

func (m Model) onOpDone(msg opDoneMsg) (tea.Model, tea.Cmd) {
	c := m.c
	d := c.d(msg.env)
	r := d.run
	if r == nil || r.id != msg.id {
		return m, nil
	}
	r.finish(msg.err, c.now())
	m.progress = m.progress.refresh(c, m.env)
	if m.quitting {
		if m.running() == "" {
			return m, tea.Quit
		}
		return m, nil
	}
	cmds := []tea.Cmd{c.loadStatus(msg.env)}
	if next := r.next; next != nil {
		r.next = nil
		var cmd tea.Cmd
		m, cmd = m.startOp(msg.env, *next)
		return m, tea.Batch(append(cmds, cmd)...)
	}
	level := levelInfo
	switch {
	case msg.err == nil:
	case errors.Is(msg.err, context.Canceled):
		level = levelWarn
		if r.step != "" {
			c.say(level, "%s: held at %s; c continues the upgrade, b rolls back", msg.env, r.step)
			return m, tea.Batch(cmds...)
		}
	case isWaiting(msg.err):
		level = levelWarn
	default:
		level = levelError
	}
	if r.breach != nil {
		c.say(levelError, "%s: a gate breached at %d%%; every rule is back on blue", msg.env, r.breach.Step)
		return m, tea.Batch(cmds...)
	}
	c.say(level, "%s: %s", msg.env, firstLine(r.spec.String()+": "+outcomeText(msg.err)))
	return m, tea.Batch(cmds...)
}

// stopOp interrupts env's operation: the upgrade journals where it stopped
// and traffic stays where it is (a hold).
func (m Model) stopOp(env string) Model {
	r := m.c.d(env).run
	if r == nil || !r.running || r.stopping {
		return m
	}
	r.stopping, r.next = true, nil
	r.cancel()
	m.c.say(levelWarn, "%s: interrupting %s; traffic stays where it is", env, r.spec)
	return m
}

func isWaiting(err error) bool {
	var aw *upgrade.AwaitingApproval
	var hold *upgrade.HoldError
	return errors.As(err, &aw) || errors.As(err, &hold)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// confirmation is a yes/no question about an operation, asked on the two
// lines above the help bar.
type confirmation struct {
	env  string
	text string
	yes  opSpec
	// alt is what `d` does (a rollback that deletes green).
	alt *opSpec
}

// rollbackConfirm asks before a rollback.
func rollbackConfirm(env string) *confirmation {
	alt := opSpec{kind: opRollback, deleteGreen: true}
	return &confirmation{env: env, yes: opSpec{kind: opRollback}, alt: &alt,
		text: "Roll " + env + " back: all traffic and singletons to blue, green out of Argo CD?\n" +
			"y roll back, keep green · d roll back and delete green · any other key: no"}
}

// teardownConfirm asks before blue's teardown.
func teardownConfirm(env string, r *run) *confirmation {
	return &confirmation{env: env, yes: opSpec{kind: opUpgrade, to: r.spec.to, approve: true},
		text: "Tear " + env + "'s old cluster down? Traffic is on green; this deletes blue for good.\n" +
			"y tear it down · any other key: no"}
}
