package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/eksbg/eksbg/upgrade"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// opKind is what an operation calls on the Backend.
type opKind int

const (
	opUpgrade opKind = iota
	opShift
	opRollback
)

// opSpec is one operation: an upgrade (or its resumption), a manual shift
// or a rollback.
type opSpec struct {
	kind        opKind
	to          string // upgrade: green's version
	approve     bool   // upgrade: tear blue down
	weight      int    // shift: percent on the new color
	deleteGreen bool   // rollback
}

func (o opSpec) String() string {
	switch o.kind {
	case opShift:
		return fmt.Sprintf("shift to %d%%", o.weight)
	case opRollback:
		if o.deleteGreen {
			return "rollback (delete green)"
		}
		return "rollback"
	}
	if o.approve {
		return "upgrade to " + o.to + " (teardown approved)"
	}
	return "upgrade to " + o.to
}

// phaseStatus is how far a phase got.
type phaseStatus int

const (
	phasePending phaseStatus = iota
	phaseRunning
	phaseDone
	phaseFailed
	phaseWaiting // held (HoldError) or awaiting approval
	phaseSkipped // done in an earlier run
	phaseStopped // started in the journal, no run in progress
)

// phaseState is one phase on the progress screen.
type phaseState struct {
	status  phaseStatus
	started time.Time
	elapsed time.Duration
	// step is the step in progress; wait the wait in progress ("nodes
	// Ready 3/6").
	step, wait string
}

// logLine is one line of the progress screen's log.
type logLine struct {
	at    time.Time
	phase upgrade.Phase
	text  string
	level logLevel
}

type logLevel int

const (
	levelInfo logLevel = iota
	levelWarn
	levelError
)

// gateSample is one gate reading of a bake.
type gateSample struct {
	at       time.Time
	step     string
	reading  traffic.Reading
	breaches []traffic.Breach
	done     int // seconds into the bake
	total    int
}

// maxLog and maxSamples bound what a run keeps: enough for a screen and
// its scrollback, not the whole of a day-long upgrade.
const (
	maxLog     = 2000
	maxSamples = 240
)

// run is an environment's operation: the one in progress, or the last one
// and its outcome, or (after `eksbg tui` opens on an open journal) the
// journal's position.
type run struct {
	id      int
	spec    opSpec
	running bool
	// stopping is set once the operation was asked to stop (hold, quit).
	stopping bool
	cancel   context.CancelFunc
	events   chan upgrade.Event
	done     chan error
	started  time.Time

	phases  map[upgrade.Phase]*phaseState
	current upgrade.Phase
	log     []logLine
	weights []traffic.RuleWeights
	// weightsSeq orders weights against the status (common.seq): the
	// newer of the two is shown.
	weightsSeq int
	samples    []gateSample
	// step is the traffic step in progress or last done ("25%").
	step string

	// err is the last operation's outcome (nil while it runs, and after a
	// success).
	err      error
	finished bool
	// breach is set when the last operation ended on a breached gate and
	// the prompt (retry, hold, roll back) is up.
	breach *upgrade.GateBreachError
	// next runs when this operation has stopped (a rollback asked for
	// during an upgrade, which holds the lock).
	next *opSpec
}

func newRun(id int, spec opSpec, now time.Time) *run {
	return &run{id: id, spec: spec, started: now, phases: map[upgrade.Phase]*phaseState{}}
}

func (r *run) phase(p upgrade.Phase) *phaseState {
	ps := r.phases[p]
	if ps == nil {
		ps = &phaseState{}
		r.phases[p] = ps
	}
	return ps
}

func (r *run) addLog(l logLine) {
	r.log = append(r.log, l)
	if len(r.log) > maxLog {
		r.log = slices.Delete(r.log, 0, len(r.log)-maxLog)
	}
}

// apply records one event of the operation.
func (r *run) apply(e upgrade.Event) {
	if e.Phase == "" {
		e.Phase = r.current
	}
	line := func(level logLevel, format string, args ...any) {
		r.addLog(logLine{at: e.At, phase: e.Phase, level: level, text: fmt.Sprintf(format, args...)})
	}
	switch e.Kind {
	case upgrade.PhaseStarted:
		r.current = e.Phase
		ps := r.phase(e.Phase)
		ps.status, ps.started, ps.step, ps.wait = phaseRunning, e.At, "", ""
		line(levelInfo, "started")
	case upgrade.PhaseFinished:
		ps := r.phase(e.Phase)
		ps.elapsed, ps.step, ps.wait = e.Elapsed, "", ""
		var aw *upgrade.AwaitingApproval
		var hold *upgrade.HoldError
		switch {
		case errors.As(e.Err, &aw), errors.As(e.Err, &hold):
			ps.status = phaseWaiting
			line(levelWarn, "waiting after %s", short(e.Elapsed))
		case errors.Is(e.Err, context.Canceled):
			ps.status = phaseStopped
			line(levelWarn, "interrupted after %s", short(e.Elapsed))
		case e.Err != nil:
			ps.status = phaseFailed
			line(levelError, "stopped after %s: %v", short(e.Elapsed), e.Err)
		default:
			ps.status = phaseDone
			calls := ""
			if e.Calls != nil {
				calls = fmt.Sprintf(" (%d AWS calls, %d Kubernetes)", e.Calls.AWSTotal(), e.Calls.Kubernetes)
			}
			line(levelInfo, "done in %s%s", short(e.Elapsed), calls)
		}
	case upgrade.StepStarted:
		r.phase(e.Phase).step, r.phase(e.Phase).wait = e.Step, ""
		if e.Phase == upgrade.PhaseShift {
			r.step = e.Step
		}
		line(levelInfo, "%s ...", e.Step)
	case upgrade.StepFinished:
		r.phase(e.Phase).wait = ""
		if e.Err != nil {
			line(levelError, "%s: %v", e.Step, e.Err)
			return
		}
		line(levelInfo, "%s: ok (%s)", e.Step, short(e.Elapsed))
	case upgrade.Waiting:
		msg := e.Message
		if e.Total > 0 {
			msg = fmt.Sprintf("%s %d/%d", e.Step, e.Done, e.Total)
		} else if msg == "" {
			msg = e.Step
		}
		ps := r.phase(e.Phase)
		if ps.wait != msg {
			ps.wait = msg
			// Waits repeat with new counts; the log keeps each change.
			line(levelInfo, "  %s", msg)
		}
	case upgrade.Weights:
		r.weights = e.Weights
		for _, w := range e.Weights {
			g := w.Percent(e.To)
			line(levelInfo, "weights %s: %.0f%% live, %.0f%% new", shortARN(w.RuleARN), 100-g, g)
		}
	case upgrade.Gate:
		if e.Reading == nil {
			return
		}
		r.samples = append(r.samples, gateSample{at: e.At, step: e.Step, reading: *e.Reading, breaches: e.Breaches, done: e.Done, total: e.Total})
		if len(r.samples) > maxSamples {
			r.samples = slices.Delete(r.samples, 0, len(r.samples)-maxSamples)
		}
		r.phase(e.Phase).wait = fmt.Sprintf("baking %s %d/%ds", e.Step, e.Done, e.Total)
		verdict, level := "pass", levelInfo
		if len(e.Breaches) > 0 {
			verdict, level = "BREACH", levelError
		}
		line(level, "gates %s %d/%ds: %s requests, 5xx %.2f%%, p99 %s: %s", e.Step, e.Done, e.Total,
			humanCount(e.Reading.Requests), e.Reading.ErrorPercent, p99Text(e.Reading.P99), verdict)
	case upgrade.Warning:
		line(levelWarn, "! %s", e.Message)
	case upgrade.Info:
		line(levelInfo, "%s", e.Message)
	}
}

// finish records the operation's outcome.
func (r *run) finish(err error, now time.Time) {
	r.running, r.finished, r.err, r.cancel = false, true, err, nil
	var gb *upgrade.GateBreachError
	if errors.As(err, &gb) {
		r.breach = gb
	}
	for _, ps := range r.phases {
		if ps.status == phaseRunning {
			ps.status, ps.elapsed = phaseStopped, now.Sub(ps.started)
		}
	}
	level, text := levelInfo, r.spec.String()+": done"
	if err != nil {
		level, text = levelError, r.spec.String()+": "+outcomeText(err)
	}
	r.addLog(logLine{at: now, phase: r.current, level: level, text: text})
}

// outcomeText says how an operation ended, in the words of the CLI.
func outcomeText(err error) string {
	var aw *upgrade.AwaitingApproval
	var hold *upgrade.HoldError
	var gb *upgrade.GateBreachError
	var refused *upgrade.RefusedError
	switch {
	case err == nil:
		return "done"
	case errors.Is(err, context.Canceled):
		return "interrupted: traffic stays where it is and the journal says where the upgrade stopped"
	case errors.As(err, &aw):
		return "traffic is on green; blue is kept until you approve its teardown"
	case errors.As(err, &hold), errors.As(err, &gb), errors.As(err, &refused):
		return err.Error()
	}
	return "failed: " + err.Error()
}

// fromJournal rebuilds what the progress screen shows of an upgrade that
// no operation of this TUI runs: each phase's last state, and the journal's
// entries as the log.
func fromJournal(j *journal.Journal) *run {
	r := newRun(0, opSpec{kind: opUpgrade, to: j.To.Version}, j.StartedAt)
	r.finished = true
	for _, e := range j.Entries {
		p := upgrade.Phase(e.Phase)
		text := e.State
		if e.Step != "" {
			text = e.Step + ": " + e.State
			if p == upgrade.PhaseShift && e.State == journal.Done {
				r.step = e.Step
			}
		}
		if e.Message != "" {
			text += ": " + e.Message
		}
		level := levelInfo
		switch e.State {
		case journal.Failed:
			level = levelError
		case "waiting", journal.Reverted:
			level = levelWarn
		}
		r.addLog(logLine{at: e.At, phase: p, text: text, level: level})
		if e.Step != "" {
			continue
		}
		ps := r.phase(p)
		r.current = p
		switch e.State {
		case journal.Started:
			ps.status, ps.started = phaseStopped, e.At
		case journal.Done:
			ps.status = phaseSkipped
			if !ps.started.IsZero() {
				ps.elapsed = e.At.Sub(ps.started)
			}
		case journal.Failed:
			ps.status = phaseFailed
			if !ps.started.IsZero() {
				ps.elapsed = e.At.Sub(ps.started)
			}
		case "waiting":
			ps.status = phaseWaiting
		}
	}
	return r
}

func p99Text(p *time.Duration) string {
	if p == nil {
		return "-"
	}
	return p.Round(time.Millisecond).String()
}
