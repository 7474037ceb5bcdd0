package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/upgrade"
	"github.com/eksbg/eksbg/upgrade/preflight"
)

// wizardStep is the upgrade wizard's page.
type wizardStep int

const (
	stepVersion wizardStep = iota
	stepPlan
	stepConfirm
)

type (
	versionsMsg struct {
		env string
		vs  []Version
		err error
	}
	planMsg struct {
		env, to string
		plan    *preflight.Plan
		err     error
	}
)

// wizard is the upgrade wizard: the target version (supported and
// extended-support marked), the plan (findings and the config diff), then
// the environment's name typed to confirm.
type wizard struct {
	env  string
	step wizardStep
	// from is blue's version.
	from string

	versions        []Version
	versionsErr     error
	loadingVersions bool
	cursor          int

	to       string
	plan     *preflight.Plan
	planErr  error
	planning bool
	vp       viewport.Model

	input   textinput.Model
	approve bool
}

func newWizard(c *common) wizard {
	return wizard{vp: viewport.New(80, 20), input: c.st.input("> ", 64)}
}

func (w wizard) open(c *common, env string) (wizard, tea.Cmd) {
	w = wizard{vp: w.vp, input: w.input, env: env, loadingVersions: true}
	w.input.Reset()
	w.input.Blur()
	if cs := c.d(env).status.live(); cs != nil {
		w.from = cs.Version
	}
	w = w.resize(c)
	ctx, b := c.ctx, c.backend
	return w, tea.Batch(func() tea.Msg {
		vs, err := b.Versions(ctx, env)
		return versionsMsg{env, vs, err}
	}, c.animate())
}

func (w wizard) resize(c *common) wizard {
	w.vp.Width, w.vp.Height = c.width, max(c.bodyHeight()-1, 1)
	if w.plan != nil {
		w.vp.SetContent(planContent(c, w.plan))
	}
	return w
}

// choices are the versions the cursor moves over.
func (w wizard) choices(c *common) []Version { return targets(w.versions, w.from, c.now()) }

func (w wizard) typing() bool { return w.step == stepConfirm }

func (w wizard) update(msg tea.Msg, c *common) (wizard, tea.Cmd) {
	switch msg := msg.(type) {
	case versionsMsg:
		if msg.env != w.env {
			return w, nil
		}
		w.loadingVersions, w.versions, w.versionsErr = false, msg.vs, msg.err
		if msg.err != nil || len(msg.vs) == 0 {
			w.versions = BuiltinVersions()
		}
		return w, nil
	case planMsg:
		if msg.env != w.env || msg.to != w.to {
			return w, nil
		}
		w.planning, w.plan, w.planErr = false, msg.plan, msg.err
		if msg.err != nil {
			w.plan = nil
		}
		if w.plan != nil {
			w.vp.SetContent(planContent(c, msg.plan))
			w.vp.GotoTop()
		}
		return w, nil
	case tea.KeyMsg:
		switch w.step {
		case stepVersion:
			switch {
			case key.Matches(msg, c.keys.Up):
				w.cursor--
			case key.Matches(msg, c.keys.Down):
				w.cursor++
			}
			w.cursor = min(max(w.cursor, 0), max(len(w.choices(c))-1, 0))
		case stepPlan:
			scroll(&w.vp, msg, c.keys)
		case stepConfirm:
			var cmd tea.Cmd
			w.input, cmd = w.input.Update(msg)
			return w, cmd
		}
		return w, nil
	}
	if w.step == stepConfirm {
		var cmd tea.Cmd
		w.input, cmd = w.input.Update(msg)
		return w, cmd
	}
	return w, nil
}

func (m Model) wizardKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	c, keys := m.c, m.c.keys
	w := m.wizard
	switch w.step {
	case stepVersion:
		switch {
		case key.Matches(k, keys.Back):
			return m.back()
		case key.Matches(k, keys.Select):
			ch := w.choices(c)
			if w.loadingVersions || len(ch) == 0 {
				return m, nil
			}
			w.to, w.step, w.planning, w.plan, w.planErr = ch[w.cursor].Version, stepPlan, true, nil, nil
			m.wizard = w
			ctx, b, env, to := c.ctx, c.backend, w.env, w.to
			return m, tea.Batch(func() tea.Msg {
				p, err := b.Plan(ctx, env, to)
				return planMsg{env, to, p, err}
			}, c.animate())
		}
	case stepPlan:
		switch {
		case key.Matches(k, keys.Back):
			m.wizard.step = stepVersion
			return m, nil
		case key.Matches(k, keys.Select):
			switch {
			case w.plan == nil:
				return m, nil
			case w.plan.Blocked:
				c.say(levelError, "the plan has blocking findings: fix them, or override one with 'eksbg upgrade --force CHECK=REASON'")
				return m, nil
			}
			m.wizard.step = stepConfirm
			return m, m.wizard.input.Focus()
		}
	case stepConfirm:
		switch {
		case key.Matches(k, keys.Back):
			m.wizard.step = stepPlan
			m.wizard.input.Blur()
			return m, nil
		case key.Matches(k, keys.ToggleApprove):
			m.wizard.approve = !w.approve
			return m, nil
		case key.Matches(k, keys.Select):
			if strings.TrimSpace(w.input.Value()) != w.env {
				c.say(levelError, "type %s to confirm the upgrade", w.env)
				return m, nil
			}
			m.wizard.input.Blur()
			m, cmd := m.startOp(w.env, opSpec{kind: opUpgrade, to: w.to, approve: w.approve})
			m, cmd2 := m.open(screenProgress, w.env)
			return m, tea.Batch(cmd, cmd2)
		}
	}
	var cmd tea.Cmd
	m.wizard, cmd = m.wizard.update(k, c)
	return m, cmd
}

func (m Model) wizardKeys() keySet {
	k := m.c.keys
	var short []key.Binding
	switch m.wizard.step {
	case stepVersion:
		short = []key.Binding{k.Up, k.Down, withHelp(k.Select, "see the plan"), k.Back, k.Help}
	case stepPlan:
		short = []key.Binding{k.Down, k.PageDown, withHelp(k.Select, "continue"), k.Back, k.Help}
	default:
		short = []key.Binding{withHelp(k.Select, "start the upgrade"), k.ToggleApprove, k.Back}
	}
	return keySet{short: short, full: [][]key.Binding{{k.Up, k.Down, k.Select}, {k.ToggleApprove, k.Back}}}
}

// withHelp is b with another description.
func withHelp(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

func (w wizard) view(c *common) string {
	st := c.st
	var b strings.Builder
	title := func(s string) { b.WriteString(" " + st.section.Render(s) + "\n") }
	switch w.step {
	case stepVersion:
		title(fmt.Sprintf("Upgrade %s · step 1 of 3: green's Kubernetes version", w.env))
		from := w.from
		if from == "" {
			from = "?"
		}
		fmt.Fprintf(&b, " Blue runs %s. Blue/green can skip minor versions: green is a new cluster.\n\n", st.bold.Render(from))
		if w.loadingVersions {
			fmt.Fprintf(&b, "   %s asking EKS for its versions", c.spin())
			return b.String()
		}
		ch := w.choices(c)
		if len(ch) == 0 {
			b.WriteString("   No newer version is supported: nothing to upgrade to.")
		}
		now := c.now()
		for i, v := range ch {
			cur := " "
			if i == w.cursor {
				cur = "›"
			}
			var support string
			switch v.SupportAt(now) {
			case StandardSupport:
				support = st.ok.Render("standard") + " support until " + v.EndStandard.Format("2006-01-02")
			case ExtendedSupport:
				support = st.warn.Render("extended") + " support until " + v.EndExtended.Format("2006-01-02") + st.dim.Render(" (extra cost per cluster hour)")
			}
			line := fmt.Sprintf(" %s %s  %s", cur, cell(v.Version, 5, with(st.bold)), support)
			if i == w.cursor {
				line = st.selected.Render(padRight(ansi.Strip(line), c.width))
			}
			b.WriteString(line + "\n")
		}
		b.WriteString("\n")
		if w.versionsErr != nil {
			b.WriteString(st.dim.Render(" Versions from eksbg's built-in EKS calendar; DescribeClusterVersions failed:") + "\n")
			b.WriteString(st.dim.Render("   "+firstLine(w.versionsErr.Error())) + "\n")
		} else {
			b.WriteString(st.dim.Render(" Versions from EKS DescribeClusterVersions.") + "\n")
		}
	case stepPlan:
		title(fmt.Sprintf("Upgrade %s to %s · step 2 of 3: the plan", w.env, w.to))
		switch {
		case w.planning:
			fmt.Fprintf(&b, "   %s planning: green's config, the preflight checks, capacity", c.spin())
		case w.planErr != nil:
			b.WriteString("   " + st.errorLine.Render(w.planErr.Error()))
		default:
			b.WriteString(w.vp.View())
		}
	case stepConfirm:
		title(fmt.Sprintf("Upgrade %s to %s · step 3 of 3: confirm", w.env, w.to))
		if p := w.plan; p != nil {
			fmt.Fprintf(&b, " %s %s → %s %s\n", p.Blue.Name, p.Blue.Version, p.Green.Name, st.bold.Render(p.Green.Version))
		}
		if e := c.env(w.env); e != nil {
			var steps []string
			for _, s := range upgrade.Steps(e) {
				steps = append(steps, fmt.Sprintf("%d%%", s))
			}
			fmt.Fprintf(&b, " Traffic moves in steps of %s, each baked %s under the gates.\n", strings.Join(steps, ", "), bakeTime(e.Traffic.BakeTime))
		}
		box := "[ ]"
		if w.approve {
			box = "[x]"
		}
		fmt.Fprintf(&b, " %s tear blue down once traffic and singletons have moved (tab)\n", st.bold.Render(box))
		if !w.approve {
			b.WriteString(st.dim.Render("     (without it the upgrade waits for your approval before the teardown)") + "\n")
		}
		fmt.Fprintf(&b, "\n Type %s to start the upgrade:\n %s", st.bold.Render(w.env), w.input.View())
	}
	return b.String()
}

// planContent is the plan's lines: versions, findings, phases, the diff.
func planContent(c *common, p *preflight.Plan) string {
	st, w := c.st, c.width
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, clip(fmt.Sprintf(format, args...), w)) }
	verdict := st.ok.Render("ready")
	if p.Blocked {
		verdict = st.fail.Render("BLOCKED")
	}
	add(" %s %s → %s %s: %s", p.Blue.Name, p.Blue.Version, p.Green.Name, st.bold.Render(p.Green.Version), verdict)
	add(" %s (%d)", st.section.Render("Findings"), len(p.Findings))
	for _, f := range p.Findings {
		sev := f.Severity.String()
		where := f.Where.String()
		if where != "" {
			where += ": "
		}
		for _, l := range wrapLines("   "+cell(sev, 4, st.verdict)+" "+cell(f.Check, 12, nil)+" ", "        ", where+f.What, w) {
			add("%s", l)
		}
		if f.Fix != "" && f.Severity >= findings.Warn {
			for _, l := range wrapLines("        ", "        ", "fix: "+f.Fix, w) {
				add("%s", st.dim.Render(l))
			}
		}
	}
	add(" %s", st.section.Render("Phases"))
	for _, ph := range p.Phases {
		add("   %s %s", cell(ph.Name, 13, nil), st.dim.Render(ph.What))
	}
	add(" %s", st.section.Render("Green's eksctl config against blue's"))
	for _, l := range strings.Split(strings.TrimRight(p.Diff, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			add("   %s", st.bold.Render(l))
		case strings.HasPrefix(l, "+"):
			add("   %s", st.diffAdd.Render(l))
		case strings.HasPrefix(l, "-"):
			add("   %s", st.diffDel.Render(l))
		case strings.HasPrefix(l, "@@"):
			add("   %s", st.diffHunk.Render(l))
		default:
			add("   %s", l)
		}
	}
	return strings.Join(lines, "\n")
}
