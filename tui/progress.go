package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/upgrade"
)

// progressView is an operation's progress: each phase with a spinner or its
// outcome and elapsed time, the weights, and the log in a viewport that
// follows the end unless scrolled up.
type progressView struct {
	vp     viewport.Model
	env    string
	follow bool
}

func newProgressView() progressView { return progressView{vp: viewport.New(80, 10), follow: true} }

// progressTop is the lines above the log: the title, five rows of phases
// in two columns, what runs now, the weights line and the log's rule.
const progressTop = 9

func (v progressView) open(c *common, env string) progressView {
	v.env, v.follow = env, true
	return v.resize(c, env)
}

func (v progressView) resize(c *common, env string) progressView {
	v.vp.Width = c.width
	v.vp.Height = max(c.bodyHeight()-progressTop-len(outcomeLines(c, c.d(env).run, env)), 1)
	return v.refresh(c, env)
}

// refresh rebuilds the log when env's run changed.
func (v progressView) refresh(c *common, env string) progressView {
	if env == "" || env != v.env {
		return v
	}
	r := c.d(env).run
	if r == nil {
		v.vp.SetContent("")
		return v
	}
	h := max(c.bodyHeight()-progressTop-len(outcomeLines(c, r, env)), 1)
	v.vp.Width, v.vp.Height = c.width, h
	v.vp.SetContent(logContent(c, r))
	if v.follow {
		v.vp.GotoBottom()
	}
	return v
}

func (v progressView) update(msg tea.Msg, c *common) (progressView, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && scroll(&v.vp, k, c.keys) {
		v.follow = v.vp.AtBottom()
	}
	return v, nil
}

func logContent(c *common, r *run) string {
	st := c.st
	lines := make([]string, 0, len(r.log))
	for _, l := range r.log {
		text := l.text
		switch l.level {
		case levelWarn:
			text = st.warn.Render(text)
		case levelError:
			text = st.errorLine.Render(text)
		}
		lines = append(lines, clip(fmt.Sprintf(" %s %s %s", st.dim.Render(l.at.In(c.loc).Format("15:04:05")), cell(string(l.phase), 12, with(st.dim)), text), c.width))
	}
	return strings.Join(lines, "\n")
}

// runKey handles the keys the progress and traffic screens share: the
// breach prompt, continue, approve, interrupt and roll back.
func (m Model) runKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	c, keys, env := m.c, m.c.keys, m.env
	d := c.d(env)
	r := d.run
	if r != nil && r.breach != nil && !r.running {
		switch {
		case key.Matches(k, keys.Retry):
			r.breach = nil
			m, cmd := m.startOp(env, r.spec)
			return m, cmd, true
		case key.Matches(k, keys.Hold):
			r.breach = nil
			c.say(levelInfo, "%s: holding with every rule on blue; c continues the upgrade, b rolls it back", env)
			m.progress = m.progress.resize(c, env)
			return m, nil, true
		}
	}
	switch {
	case key.Matches(k, keys.Rollback):
		if r == nil && d.status.openJournal() == nil {
			c.say(levelInfo, "%s has no open upgrade to roll back", env)
			return m, nil, true
		}
		m.confirm = rollbackConfirm(env)
		return m, nil, true
	case key.Matches(k, keys.Interrupt):
		if r == nil || !r.running {
			return m, nil, true
		}
		return m.stopOp(env), nil, true
	case key.Matches(k, keys.Continue):
		to := resumeTarget(d)
		switch {
		case r != nil && r.running:
			c.say(levelInfo, "%s is running", r.spec)
		case to == "":
			c.say(levelInfo, "%s has no open upgrade to continue: u starts one", env)
		default:
			m, cmd := m.startOp(env, opSpec{kind: opUpgrade, to: to})
			return m, cmd, true
		}
		return m, nil, true
	case key.Matches(k, keys.Approve):
		var aw *upgrade.AwaitingApproval
		if r == nil || r.running || !errors.As(r.err, &aw) && !journalWaiting(d) {
			c.say(levelInfo, "nothing waits for an approval")
			return m, nil, true
		}
		m.confirm = teardownConfirm(env, r)
		return m, nil, true
	}
	return m, nil, false
}

// resumeTarget is the version of the environment's open upgrade.
func resumeTarget(d *envData) string {
	if j := d.status.openJournal(); j != nil {
		return j.To.Version
	}
	if r := d.run; r != nil && r.spec.kind == opUpgrade && r.err != nil {
		return r.spec.to
	}
	return ""
}

// journalWaiting reports whether the open journal waits for the teardown's
// approval.
func journalWaiting(d *envData) bool {
	j := d.status.openJournal()
	if j == nil || len(j.Entries) == 0 {
		return false
	}
	e := j.Entries[len(j.Entries)-1]
	return e.Phase == string(upgrade.PhaseTeardown) && e.State == "waiting"
}

func (m Model) progressKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	c, keys := m.c, m.c.keys
	if m2, cmd, ok := m.runKey(k); ok {
		m2.progress = m2.progress.resize(c, m2.env)
		return m2, cmd
	}
	switch {
	case key.Matches(k, keys.Back):
		return m.back()
	case key.Matches(k, keys.Traffic):
		return m.open(screenTraffic, m.env)
	}
	var cmd tea.Cmd
	m.progress, cmd = m.progress.update(k, c)
	return m, cmd
}

func (m Model) progressKeys() keySet {
	k := m.c.keys
	short := m.runShortKeys()
	short = append(short, k.Traffic, k.Back, k.Help)
	return keySet{short: short, full: [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Bottom}, {k.Continue, k.Approve, k.Interrupt, k.Rollback}, {k.Traffic, k.Back}}}
}

// runShortKeys are the run actions that apply now, for the help bar.
func (m Model) runShortKeys() []key.Binding {
	k := m.c.keys
	d := m.c.d(m.env)
	r := d.run
	switch {
	case r != nil && r.running:
		return []key.Binding{withHelp(k.Interrupt, "hold here"), k.Rollback}
	case r != nil && r.breach != nil:
		return []key.Binding{k.Retry, k.Hold, k.Rollback}
	case resumeTarget(d) != "":
		keys := []key.Binding{k.Continue, k.Rollback}
		var aw *upgrade.AwaitingApproval
		if (r != nil && errors.As(r.err, &aw)) || journalWaiting(d) {
			keys = append([]key.Binding{k.Approve}, keys...)
		}
		return keys
	}
	return nil
}

func (v progressView) view(c *common, env string) string {
	st := c.st
	d := c.d(env)
	r := d.run
	if r == nil {
		return " No upgrade in progress on " + env + ": u starts one."
	}
	var b strings.Builder
	state := ""
	switch {
	case r.running && r.stopping:
		state = st.warn.Render(c.spin() + " stopping")
	case r.running:
		state = st.info.Render(c.spin() + " running " + clock(c.now().Sub(r.started)))
	case r.id == 0:
		state = st.warn.Render("open in the journal, not running")
	case r.err == nil:
		state = st.ok.Render("done")
	default:
		state = st.warn.Render("stopped")
	}
	title := r.spec.String()
	if r.spec.kind != opUpgrade && r.spec.to != "" {
		title += " of the upgrade to " + r.spec.to
	}
	b.WriteString(spread(" "+st.section.Render(title), state+" ", c.width) + "\n")

	phases := append([]upgrade.Phase{}, upgrade.Phases...)
	if _, ok := r.phases[upgrade.PhaseRollback]; ok {
		phases = append(phases, upgrade.PhaseRollback)
	}
	half := c.width / 2
	for row := 0; row < 5; row++ {
		left := phaseCell(c, r, phases, row, half)
		right := phaseCell(c, r, phases, row+5, c.width-half)
		b.WriteString(padRight(left, half) + right + "\n")
	}
	b.WriteString(clip(nowLine(c, r), c.width) + "\n")
	b.WriteString(weightsLine(c, env) + "\n")
	b.WriteString(st.dim.Render(" "+strings.Repeat("─", max(c.width-2, 0))) + "\n")
	b.WriteString(v.vp.View())
	for _, l := range outcomeLines(c, r, env) {
		b.WriteString("\n" + l)
	}
	return b.String()
}

// phaseCell is the i-th phase: its mark, name, elapsed time and the step
// or wait in progress.
func phaseCell(c *common, r *run, phases []upgrade.Phase, i, w int) string {
	if i >= len(phases) {
		return ""
	}
	st := c.st
	p := phases[i]
	ps := r.phases[p]
	if ps == nil {
		ps = &phaseState{}
	}
	var mark, elapsed, detail string
	switch ps.status {
	case phaseRunning:
		mark, elapsed = st.info.Render(c.spin()), short(c.now().Sub(ps.started))
	case phaseDone:
		mark, elapsed = st.ok.Render("✓"), short(ps.elapsed)
	case phaseSkipped:
		mark, detail = st.ok.Render("✓"), st.dim.Render("earlier")
	case phaseFailed:
		mark, elapsed = st.fail.Render("✗"), short(ps.elapsed)
	case phaseWaiting:
		mark, detail = st.warn.Render("‖"), st.warn.Render("waiting")
	case phaseStopped:
		mark, detail = st.warn.Render("■"), st.warn.Render("stopped")
		if ps.step != "" {
			detail = st.warn.Render("stopped at " + ps.step)
		}
	default:
		mark = st.dim.Render("·")
	}
	name := string(p)
	if ps.status == phasePending {
		name = st.dim.Render(name)
	}
	return clip(fmt.Sprintf(" %s %s %7s %s", mark, cell(name, 12, nil), elapsed, detail), w)
}

// nowLine says what the running phase does: its step and wait.
func nowLine(c *common, r *run) string {
	ps := r.phases[r.current]
	if !r.running || ps == nil || ps.status != phaseRunning {
		return ""
	}
	parts := []string{string(r.current)}
	if ps.step != "" {
		parts = append(parts, ps.step)
	}
	if ps.wait != "" {
		parts = append(parts, ps.wait)
	}
	return " " + c.st.info.Render(c.spin()+" "+strings.Join(parts, " · "))
}

// weightsLine is the first rule's split between the live and the new
// color, with how many rules there are.
func weightsLine(c *common, env string) string {
	shares, live := newShares(c, env)
	if len(shares) == 0 {
		return c.st.dim.Render(" weights: -")
	}
	s := shares[0]
	more := ""
	if len(shares) > 1 {
		more = fmt.Sprintf(" (+%d rules)", len(shares)-1)
	}
	return fmt.Sprintf(" weights %s %s %s %.0f%% %s %.0f%%%s", cell(shortARN(s.rule), 16, nil), c.st.weightBar(s.newPct, 20, live),
		c.st.color(live), 100-s.newPct, c.st.color(config.OtherColor(live)), s.newPct, more)
}

// outcomeLines say how the last operation ended and what can be done now;
// a breached gate gets the retry, hold or roll back prompt.
func outcomeLines(c *common, r *run, env string) []string {
	if r == nil || r.running {
		return nil
	}
	st, w := c.st, c.width
	k := c.keys
	hint := func(b ...key.Binding) string {
		var parts []string
		for _, x := range b {
			parts = append(parts, st.key.Render(x.Help().Key)+" "+x.Help().Desc)
		}
		return "   " + strings.Join(parts, st.dim.Render(" · "))
	}
	var aw *upgrade.AwaitingApproval
	var hold *upgrade.HoldError
	switch {
	case r.breach != nil:
		return []string{clip(" "+st.fail.Render("! "+r.breach.Error()), w), hint(withHelp(k.Retry, "retry"), withHelp(k.Hold, "hold on blue"), k.Rollback)}
	case r.id == 0:
		return []string{clip(" "+st.warn.Render("This upgrade is open in the journal; nothing runs it now."), w), hint(k.Continue, k.Rollback)}
	case r.err == nil:
		return nil
	case errors.As(r.err, &aw):
		return []string{clip(" "+st.warn.Render("Traffic is on green; blue is kept until you approve its teardown."), w), hint(k.Approve, k.Rollback)}
	case errors.As(r.err, &hold):
		return []string{clip(" "+st.warn.Render(hold.Error()), w), hint(k.Continue, k.Rollback)}
	case errors.Is(r.err, context.Canceled):
		where := "where it stopped"
		if r.step != "" {
			where = "at " + r.step
		}
		return []string{clip(" "+st.warn.Render("Held "+where+": traffic stays as it is."), w), hint(k.Continue, k.Rollback)}
	}
	return []string{clip(" "+st.errorLine.Render(firstLine(outcomeText(r.err))), w), hint(withHelp(k.Continue, "retry"), k.Rollback)}
}
