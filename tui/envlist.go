package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
)

// envList is the environments screen: one line per environment with its
// live color, version, weights, drift and upgrade badges.
type envList struct {
	cursor int
}

func (l envList) update(msg tea.Msg, c *common) (envList, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return l, nil
	}
	switch {
	case key.Matches(k, c.keys.Up):
		l.cursor--
	case key.Matches(k, c.keys.Down):
		l.cursor++
	case key.Matches(k, c.keys.Top):
		l.cursor = 0
	case key.Matches(k, c.keys.Bottom):
		l.cursor = len(c.envs) - 1
	}
	l.cursor = min(max(l.cursor, 0), max(len(c.envs)-1, 0))
	return l, nil
}

// selected is the environment under the cursor, or "".
func (l envList) selected(c *common) string {
	if l.cursor < 0 || l.cursor >= len(c.envs) {
		return ""
	}
	return c.envs[l.cursor].Name
}

// envsKey handles the environments screen's actions.
func (m Model) envsKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	c, keys := m.c, m.c.keys
	env := m.list.selected(c)
	switch {
	case env == "":
	case key.Matches(k, keys.Select):
		return m.open(screenDetail, env)
	case key.Matches(k, keys.Upgrade):
		return m.upgradeOrResume(env)
	case key.Matches(k, keys.Traffic):
		return m.open(screenTraffic, env)
	case key.Matches(k, keys.Progress):
		return m.openProgress(env)
	case key.Matches(k, keys.Drift):
		return m, c.loadDrift(env)
	case key.Matches(k, keys.Refresh):
		var cmds []tea.Cmd
		for _, e := range c.envs {
			cmds = append(cmds, c.loadStatus(e.Name))
		}
		return m, tea.Batch(cmds...)
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.update(k, c)
	return m, cmd
}

// openProgress opens the progress of env's operation or open upgrade.
func (m Model) openProgress(env string) (Model, tea.Cmd) {
	if m.c.d(env).run == nil {
		m.c.say(levelInfo, "%s has no upgrade in progress: u starts one", env)
		return m, nil
	}
	return m.open(screenProgress, env)
}

// upgradeOrResume opens the wizard, or the progress screen of an upgrade
// that is open already (a second one would be refused).
func (m Model) upgradeOrResume(env string) (Model, tea.Cmd) {
	d := m.c.d(env)
	if (d.run != nil && d.run.running) || d.status.openJournal() != nil {
		m.c.say(levelInfo, "%s has an upgrade in progress: c continues it, b rolls it back", env)
		return m.open(screenProgress, env)
	}
	return m.open(screenWizard, env)
}

func (m Model) envsKeys() keySet {
	k := m.c.keys
	return keySet{short: []key.Binding{k.Select, k.Upgrade, k.Traffic, k.Drift, k.Refresh, k.Help, k.Quit},
		full: [][]key.Binding{{k.Up, k.Down, k.Select}, {k.Upgrade, k.Traffic, k.Progress}, {k.Drift, k.Refresh}}}
}

const envCols = "%-2s%-14s %-6s %-7s %-11s %-13s %s"

// cell pads s to w cells, then styles it with render (nil: as is).
func cell(s string, w int, render func(string) string) string {
	pad := strings.Repeat(" ", max(w-ansi.StringWidth(s), 0))
	if render != nil {
		s = render(s)
	}
	return s + pad
}

func (l envList) view(c *common) string {
	st := c.st
	var b strings.Builder
	switch {
	case c.envsLoading:
		return " " + c.spin() + " reading eksbg.yaml"
	case c.envsErr != nil:
		return " " + st.errorLine.Render(c.envsErr.Error())
	case len(c.envs) == 0:
		return " eksbg.yaml has no environments"
	}
	b.WriteString(st.dim.Render(fmt.Sprintf(envCols, "", "ENVIRONMENT", "LIVE", "VERSION", "BLUE/GREEN", "DRIFT", "UPGRADE")))
	for i, e := range c.envs {
		d := c.d(e.Name)
		live, version, weights := "…", "", ""
		if d.statusErr != nil {
			live = st.errorLine.Render("error")
		}
		if s := d.status; s != nil {
			live, version = "-", "-"
			if cs := s.live(); cs != nil {
				live, version = cs.Color, cs.Version
				if !cs.Exists {
					version = "absent"
				}
			}
			weights = weightsBadge(s)
		}
		cursor := " "
		if i == l.cursor {
			cursor = "›"
		}
		// Each column is padded before it is styled: escape codes have no
		// width, but %-Ns would count them.
		line := cursor + " " + cell(e.Name, 14, nil) + " " + cell(live, 6, st.color) + " " + cell(version, 7, nil) + " " +
			cell(weights, 11, nil) + " " + cell(driftBadge(c, d), 13, nil) + " " + upgradeBadge(c, d)
		if i == l.cursor {
			// One style for the whole line: the cells' own end in resets
			// that would cut the highlight.
			line = st.selected.Render(padRight(ansi.Strip(line), c.width))
		}
		b.WriteString("\n" + line)
	}
	return b.String()
}

// weightsBadge is the rules' blue/green split, "mixed" when they differ.
func weightsBadge(s *Status) string {
	if s.RulesError != "" {
		return "unreadable"
	}
	if len(s.Rules) == 0 {
		return "-"
	}
	first := s.Rules[0]
	for _, r := range s.Rules[1:] {
		if r.Percent(config.Green) != first.Percent(config.Green) {
			return "mixed"
		}
	}
	g := first.Percent(config.Green)
	return fmt.Sprintf("%.0f/%.0f", 100-g, g)
}

func driftBadge(c *common, d *envData) string {
	st := c.st
	switch {
	case d.driftLoading:
		return st.dim.Render(c.spin() + " checking")
	case d.driftErr != nil:
		return st.errorLine.Render("! error")
	case d.drift == nil:
		return st.dim.Render("-")
	}
	n, w := d.drift.Count(findings.Fail), d.drift.Count(findings.Warn)
	switch {
	case n > 0:
		return st.fail.Render(fmt.Sprintf("%d drift", n))
	case w > 0:
		return st.warn.Render(fmt.Sprintf("%d warning", w))
	case len(d.drift.Errors) > 0:
		return st.errorLine.Render(fmt.Sprintf("%d unchecked", len(d.drift.Errors)))
	}
	return st.ok.Render("✓ none")
}

func upgradeBadge(c *common, d *envData) string {
	st := c.st
	if d.statusErr != nil && d.status != nil {
		return st.errorLine.Render("! status unreadable")
	}
	if r := d.run; r != nil && r.running {
		s := fmt.Sprintf("%s %s", c.spin(), r.spec)
		if r.current != "" {
			s += " · " + string(r.current)
		}
		return st.info.Render(s)
	}
	if j := d.status.openJournal(); j != nil {
		s := "open → " + j.To.Version
		if n := len(j.Entries); n > 0 {
			s += " · " + j.Entries[n-1].Phase
		}
		return st.warn.Render(s)
	}
	if s := d.status; s != nil && s.Lock != nil {
		return st.warn.Render("locked by " + s.Lock.Who)
	}
	return ""
}
