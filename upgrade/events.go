package upgrade

import (
	"time"

	"github.com/eksbg/eksbg/upgrade/traffic"
)

// Phase is one phase of an upgrade, in the order Phases lists them.
type Phase string

// The phases of an upgrade (docs/upgrade.md says what each does).
const (
	PhasePreflight Phase = "preflight"
	PhaseRender    Phase = "render"
	PhaseCreate    Phase = "create-green"
	PhaseRegister  Phase = "register"
	PhaseParity    Phase = "parity"
	PhaseShift     Phase = "shift"
	PhaseHandoff   Phase = "hand-off"
	PhaseTeardown  Phase = "teardown"
	PhaseDone      Phase = "done"
	// PhaseRollback is not part of an upgrade's normal course: `eksbg
	// rollback` (and a breached gate, for traffic) runs it.
	PhaseRollback Phase = "rollback"
)

// Phases are the upgrade's phases in order.
var Phases = []Phase{PhasePreflight, PhaseRender, PhaseCreate, PhaseRegister, PhaseParity, PhaseShift, PhaseHandoff, PhaseTeardown, PhaseDone}

// EventKind says what an Event reports.
type EventKind string

// Kinds of events.
const (
	// PhaseStarted and PhaseFinished bracket a phase; PhaseFinished
	// carries Elapsed, Calls and, when the phase failed, Err.
	PhaseStarted  EventKind = "phase-started"
	PhaseFinished EventKind = "phase-finished"
	// StepStarted and StepFinished bracket a step of a phase (one journal
	// entry each).
	StepStarted  EventKind = "step-started"
	StepFinished EventKind = "step-finished"
	// Waiting reports a wait in progress: Message says for what, Done and
	// Total count what is ready (Total 0 when unknown).
	Waiting EventKind = "waiting"
	// Weights reports the rules' weights after a write was verified.
	Weights EventKind = "weights"
	// Gate reports a gate reading during a bake, with its breaches.
	Gate EventKind = "gate"
	// Warning is something the operator should know that does not stop
	// the upgrade; Info is progress worth a line.
	Warning EventKind = "warning"
	Info    EventKind = "info"
)

// Event is one progress report of an upgrade. The CLI renders events as
// lines, the TUI as screens; package upgrade never renders them.
type Event struct {
	At    time.Time
	Kind  EventKind
	Env   string
	Phase Phase
	// Step names the step within the phase ("set 25%", "wait for nodes").
	Step    string
	Message string
	// Done and Total count progress of a wait (nodes Ready, apps Synced).
	Done, Total int
	// Elapsed is the phase's or step's duration (on *Finished).
	Elapsed time.Duration
	// Calls counts the AWS and Kubernetes requests the phase made (on
	// PhaseFinished).
	Calls *CallCount
	// Weights are the rules' weights as configured (Weights events), and
	// To the colour traffic moves to.
	Weights []traffic.RuleWeights
	To      string
	// Reading and Breaches are a gate evaluation (Gate events).
	Reading  *traffic.Reading
	Breaches []traffic.Breach
	// Err is set when a phase or step failed.
	Err error
}

// Emitter sends events to a channel; a nil channel drops them. Sends
// block: whoever passes a channel must read it until the upgrade returns
// (the CLI and the TUI do), which keeps every event, including the last
// ones of a cancelled run.
type Emitter struct {
	ch  chan<- Event
	env string
	now func() time.Time
}

// NewEmitter returns an Emitter for env's events on ch (which may be nil).
func NewEmitter(ch chan<- Event, env string, now func() time.Time) *Emitter {
	if now == nil {
		now = time.Now
	}
	return &Emitter{ch: ch, env: env, now: now}
}

// Emit stamps e with the time and environment and sends it.
func (em *Emitter) Emit(e Event) {
	if em == nil || em.ch == nil {
		return
	}
	if e.At.IsZero() {
		e.At = em.now()
	}
	if e.Env == "" {
		e.Env = em.env
	}
	em.ch <- e
}
