package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/eksbg/eksbg/upgrade"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// progress renders upgrade events as lines: the time since the command
// started, the phase, what happened. On a terminal, a wait rewrites one
// line in place with a spinner; elsewhere (CI logs) each new wait message
// is its own line.
type progress struct {
	w        io.Writer
	tty      bool
	start    time.Time
	spin     int
	waiting  bool // a wait line is on screen without a newline
	lastWait string
	phase    upgrade.Phase // the phase in progress
}

func newProgress(w io.Writer, tty bool, start time.Time) *progress {
	return &progress{w: w, tty: tty, start: start}
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) stamp(t time.Time) string {
	d := t.Sub(p.start).Round(time.Second)
	return fmt.Sprintf("[%2d:%02d]", int(d.Minutes()), int(d.Seconds())%60)
}

func (p *progress) line(e upgrade.Event, format string, args ...any) {
	if p.waiting {
		fmt.Fprint(p.w, "\r\033[K")
		p.waiting = false
	}
	fmt.Fprintf(p.w, "%s %-12s %s\n", p.stamp(e.At), e.Phase, fmt.Sprintf(format, args...))
}

// Render writes one event.
func (p *progress) Render(e upgrade.Event) {
	if e.Phase == "" && e.Kind != upgrade.PhaseStarted {
		e.Phase = p.phase
	}
	switch e.Kind {
	case upgrade.PhaseStarted:
		p.phase = e.Phase
		p.line(e, "started")
	case upgrade.PhaseFinished:
		calls := ""
		if e.Calls != nil {
			calls = fmt.Sprintf(" (%d AWS calls, %d Kubernetes)", e.Calls.AWSTotal(), e.Calls.Kubernetes)
		}
		if e.Err != nil {
			p.line(e, "stopped after %s%s", e.Elapsed.Round(100*time.Millisecond), calls)
			return
		}
		p.line(e, "done in %s%s", e.Elapsed.Round(100*time.Millisecond), calls)
	case upgrade.StepStarted:
		p.line(e, "  %s ...", e.Step)
	case upgrade.StepFinished:
		if e.Err != nil {
			p.line(e, "  %s: %v", e.Step, e.Err)
			return
		}
		p.line(e, "  %s: ok (%s)", e.Step, e.Elapsed.Round(100*time.Millisecond))
	case upgrade.Waiting:
		msg := e.Message
		if e.Total > 0 {
			msg = fmt.Sprintf("%s: %d/%d", e.Step, e.Done, e.Total)
		} else if msg == "" {
			msg = e.Step
		}
		if msg == p.lastWait {
			return
		}
		p.lastWait = msg
		if p.tty {
			if p.waiting {
				fmt.Fprint(p.w, "\r\033[K")
			}
			p.spin = (p.spin + 1) % len(spinner)
			fmt.Fprintf(p.w, "%s %-12s   %s %s", p.stamp(e.At), e.Phase, spinner[p.spin], msg)
			p.waiting = true
			return
		}
		p.line(e, "    %s", msg)
	case upgrade.Weights:
		p.line(e, "  weights: %s", weightsText(e.Weights, e.To))
	case upgrade.Gate:
		if e.Reading == nil {
			return
		}
		rd := e.Reading
		p99 := "-"
		if rd.P99 != nil {
			p99 = rd.P99.Round(time.Millisecond).String()
		}
		verdict := "pass"
		if len(e.Breaches) > 0 {
			verdict = "BREACH"
		}
		p.line(e, "  gates %ds/%ds: %.0f requests, 5xx %.2f%%, p99 %s: %s", e.Done, e.Total, rd.Requests, rd.ErrorPercent, p99, verdict)
	case upgrade.Warning:
		p.line(e, "  ! %s", e.Message)
	case upgrade.Info:
		p.line(e, "  %s", e.Message)
	}
}

// Close ends a pending wait line.
func (p *progress) Close() {
	if p.waiting {
		fmt.Fprintln(p.w)
		p.waiting = false
	}
}

// weightsText is "…/rule 90% live / 10% new, ..." for each rule.
func weightsText(ws []traffic.RuleWeights, to string) string {
	var parts []string
	for _, w := range ws {
		g := w.Percent(to)
		parts = append(parts, fmt.Sprintf("%s %.0f%% live / %.0f%% new", shortARN(w.RuleARN), 100-g, g))
	}
	return strings.Join(parts, ", ")
}

// shortARN is the last path element of an ARN.
func shortARN(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 && i+1 < len(arn) {
		return "…/" + arn[i+1:]
	}
	return arn
}
