package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/upgrade"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// trafficView is the live view of an environment's traffic: each rule's
// split, the gate readings of the bake with sparklines, the steps, and keys
// to advance a step, hold, set a weight or roll back.
type trafficView struct {
	input  textinput.Model
	typing bool
}

func newTrafficView(c *common) trafficView {
	return trafficView{input: c.st.input("weight on the new color, 0-100: ", 3)}
}

func (v trafficView) open(_ *common, _ string) trafficView {
	v.typing = false
	v.input.Reset()
	v.input.Blur()
	return v
}

func (v trafficView) update(msg tea.Msg, _ *common) (trafficView, tea.Cmd) {
	if !v.typing {
		return v, nil
	}
	var cmd tea.Cmd
	v.input, cmd = v.input.Update(msg)
	return v, cmd
}

// share is one rule's share of traffic on the new color.
type share struct {
	rule   string
	newPct float64
}

// newShares are the rules' shares on the new color, from the newest of the
// status (rules as configured: blue is blue) and the operation's Weights
// events (rules toward the new color), and the live color.
func newShares(c *common, env string) ([]share, string) {
	d := c.d(env)
	live := config.Blue
	if cs := d.status.live(); cs != nil {
		live = cs.Color
	}
	next := config.OtherColor(live)
	var out []share
	if r := d.run; r != nil && len(r.weights) > 0 && r.weightsSeq > d.statusSeq {
		for _, w := range r.weights {
			out = append(out, share{w.RuleARN, w.Percent(next)})
		}
		return out, live
	}
	if d.status != nil {
		for _, w := range d.status.Rules {
			out = append(out, share{w.RuleARN, w.Percent(next)})
		}
	}
	return out, live
}

func (m Model) trafficKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	c, keys, env := m.c, m.c.keys, m.env
	if m.traffic.typing {
		switch {
		case key.Matches(k, keys.Back):
			m.traffic = m.traffic.open(c, env)
			return m, nil
		case key.Matches(k, keys.Select):
			w, err := strconv.Atoi(strings.TrimSpace(m.traffic.input.Value()))
			if err != nil || w < 0 || w > 100 {
				c.say(levelError, "%q is not a percentage from 0 to 100", m.traffic.input.Value())
				return m, nil
			}
			m.traffic = m.traffic.open(c, env)
			return m.startOp(env, opSpec{kind: opShift, weight: w})
		}
		var cmd tea.Cmd
		m.traffic, cmd = m.traffic.update(k, c)
		return m, cmd
	}
	if m2, cmd, ok := m.runKey(k); ok {
		return m2, cmd
	}
	d := c.d(env)
	switch {
	case key.Matches(k, keys.Back):
		return m.back()
	case key.Matches(k, keys.Progress):
		return m.open(screenProgress, env)
	case key.Matches(k, keys.Hold):
		if r := d.run; r != nil && r.running {
			return m.stopOp(env), nil
		}
		c.say(levelInfo, "nothing is moving %s's traffic: the weights stay as they are", env)
		return m, nil
	case key.Matches(k, keys.SetWeight):
		m.traffic.typing = true
		return m, m.traffic.input.Focus()
	case key.Matches(k, keys.Advance):
		e := c.env(env)
		if e == nil {
			return m, nil
		}
		shares, _ := newShares(c, env)
		cur := 0.0
		if len(shares) > 0 {
			cur = shares[0].newPct
		}
		steps := upgrade.Steps(e)
		i := slices.IndexFunc(steps, func(s int) bool { return float64(s) > cur })
		if i < 0 {
			c.say(levelInfo, "all of %s's traffic is on the new color: no step is left", env)
			return m, nil
		}
		return m.startOp(env, opSpec{kind: opShift, weight: steps[i]})
	}
	return m, nil
}

func (m Model) trafficKeys() keySet {
	k := m.c.keys
	if m.traffic.typing {
		return keySet{short: []key.Binding{withHelp(k.Select, "shift"), withHelp(k.Back, "cancel")}}
	}
	var short []key.Binding
	if r := m.c.d(m.env).run; r != nil && r.breach != nil && !r.running {
		short = []key.Binding{k.Retry, withHelp(k.Hold, "hold on blue"), k.Rollback}
	} else {
		short = []key.Binding{k.Advance, k.Hold, k.SetWeight, k.Rollback}
	}
	short = append(short, k.Progress, k.Back, k.Help)
	return keySet{short: short, full: [][]key.Binding{{k.Advance, k.Hold, k.SetWeight, k.Rollback}, {k.Continue, k.Approve, k.Progress, k.Back}}}
}

// sparkWidth is the number of readings a sparkline shows.
const sparkWidth = 24

func (v trafficView) view(c *common, env string) string {
	st, w := c.st, c.width
	d := c.d(env)
	r := d.run
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, clip(fmt.Sprintf(format, args...), w)) }

	state := st.dim.Render("no operation running")
	if r != nil && r.running {
		state = st.info.Render(fmt.Sprintf("%s %s", c.spin(), r.spec))
		if ps := r.phases[upgrade.PhaseShift]; ps != nil && ps.status == phaseRunning && ps.wait != "" {
			state += st.info.Render(" · " + ps.wait)
		}
	}
	lines = append(lines, spread(" "+st.section.Render("Traffic of "+env), state+" ", w))

	shares, live := newShares(c, env)
	newColor := config.OtherColor(live)
	add(" %s %s %s", cell("Rules", 21, with(st.section)), cell(live+" (live)", 24, nil), newColor+" (new)")
	if d.status != nil && d.status.RulesError != "" {
		add("   %s", st.errorLine.Render(d.status.RulesError))
	}
	if len(shares) == 0 {
		add("   %s", st.dim.Render("no weights read yet"))
	}
	for _, s := range shares {
		add("   %s %s %4.0f%%  %4.0f%%", cell(shortARN(s.rule), 18, nil), st.weightBar(s.newPct, 20, live), 100-s.newPct, s.newPct)
	}
	lines = append(lines, "")
	lines = append(lines, gateLines(c, env, r)...)
	lines = append(lines, "")
	lines = append(lines, stepsLine(c, env, r, shares))
	if v.typing {
		lines = append(lines, "", " "+v.input.View())
	}
	out := lines
	if ol := outcomeLines(c, r, env); len(ol) > 0 {
		// The outcome sits at the bottom of the body, where the progress
		// screen has it.
		pad := c.bodyHeight() - len(out) - len(ol)
		for i := 0; i < pad; i++ {
			out = append(out, "")
		}
		out = append(out, ol...)
	}
	return strings.Join(out, "\n")
}

// gateLines are the gate readings of the bakes: the newest value of each
// gate, its limit, a sparkline of the readings and the verdict.
func gateLines(c *common, env string, r *run) []string {
	st, w := c.st, c.width
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, clip(fmt.Sprintf(format, args...), w)) }
	var samples []gateSample
	if r != nil {
		samples = r.samples
	}
	if len(samples) == 0 {
		add(" %s %s", st.section.Render("Gates"), st.dim.Render("no reading yet: readings come every gate interval of a step's bake"))
		return lines
	}
	last := samples[len(samples)-1]
	add(" %s on the new color · reading of %s, %d/%ds into the %s bake", st.section.Render("Gates"), last.at.In(c.loc).Format("15:04:05"), last.done, last.total, last.step)
	add("   %s %s %s %s", cell("GATE", 16, nil), cell("NOW", 8, nil), cell("LIMIT", 10, nil), "READINGS")
	var gates gateLimits
	if e := c.env(env); e != nil {
		gates = gateLimits{e.Traffic.Gates.Max5xxPercent, e.Traffic.Gates.MaxP99Latency, e.Traffic.Gates.MinHealthyTargets, e.Traffic.Gates.MinRequestCount}
	}
	series := func(f func(traffic.Reading) float64) []float64 {
		out := make([]float64, len(samples))
		for i, s := range samples {
			out[i] = f(s.reading)
		}
		return out
	}
	verdict := func(names ...string) string {
		for _, b := range last.breaches {
			if slices.Contains(names, b.Gate) {
				return st.fail.Render("BREACH")
			}
		}
		return st.ok.Render("ok")
	}
	rd := last.reading
	limit5xx, limitP99, limitHealthy, limitReq := "-", "-", "-", "-"
	if gates.max5xx != nil {
		limit5xx = fmt.Sprintf("≤ %.2f%%", *gates.max5xx)
	}
	if gates.p99 != nil {
		limitP99 = "≤ " + gates.p99.String()
	}
	if gates.healthy != nil {
		limitHealthy = fmt.Sprintf("≥ %d", *gates.healthy)
	}
	if gates.requests != nil {
		limitReq = fmt.Sprintf("≥ %d", *gates.requests)
	}
	healthy := "-"
	if rd.MinHealthy != nil {
		healthy = fmt.Sprintf("%.0f", *rd.MinHealthy)
	}
	add("   %s %s %s %s %s", cell("5xx rate", 16, nil), cell(fmt.Sprintf("%.2f%%", rd.ErrorPercent), 8, nil), cell(limit5xx, 10, nil),
		sparkline(series(func(r traffic.Reading) float64 { return r.ErrorPercent }), sparkWidth), verdict(traffic.GateMax5xxPercent))
	add("   %s %s %s %s %s", cell("p99 latency", 16, nil), cell(p99Text(rd.P99), 8, nil), cell(limitP99, 10, nil),
		sparkline(series(func(r traffic.Reading) float64 {
			if r.P99 == nil {
				return 0
			}
			return float64(*r.P99)
		}), sparkWidth), verdict(traffic.GateMaxP99Latency))
	add("   %s %s %s %s %s", cell("healthy targets", 16, nil), cell(healthy, 8, nil), cell(limitHealthy, 10, nil),
		sparkline(series(func(r traffic.Reading) float64 {
			if r.MinHealthy == nil {
				return 0
			}
			return *r.MinHealthy
		}), sparkWidth), verdict(traffic.GateMinHealthyTargets, traffic.GateUnhealthyTargets))
	add("   %s %s %s %s %s", cell("requests", 16, nil), cell(humanCount(rd.Requests), 8, nil), cell(limitReq, 10, nil),
		sparkline(series(func(r traffic.Reading) float64 { return r.Requests }), sparkWidth), verdict(traffic.GateMinRequestCount))
	return lines
}

// gateLimits are the environment's gates as the traffic view shows them.
type gateLimits struct {
	max5xx   *float64
	p99      *time.Duration
	healthy  *int
	requests *int
}

// stepsLine is the configured steps: done, in progress, to come.
func stepsLine(c *common, env string, r *run, shares []share) string {
	st := c.st
	e := c.env(env)
	if e == nil {
		return ""
	}
	cur := 0.0
	if len(shares) > 0 {
		cur = shares[0].newPct
	}
	parts := []string{st.section.Render("Steps")}
	for _, s := range upgrade.Steps(e) {
		name := strconv.Itoa(s) + "%"
		mark := st.dim.Render("·")
		switch {
		case r != nil && r.running && (r.step == name || r.step == "manual "+name) && r.phases[upgrade.PhaseShift] != nil &&
			r.phases[upgrade.PhaseShift].status == phaseRunning:
			mark = st.info.Render(c.spin())
		case float64(s) <= cur:
			mark = st.ok.Render("✓")
		}
		parts = append(parts, name+" "+mark)
	}
	return " " + strings.Join(parts, "   ")
}
