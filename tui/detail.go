package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/internal/findings"
)

// detailView is an environment's detail: its clusters and weights, the
// capacity report as per-zone bars and quota gauges, the drift findings and
// the subnets, in one scrolling view.
type detailView struct {
	vp  viewport.Model
	env string
}

func newDetailView() detailView { return detailView{vp: viewport.New(80, 21)} }

func (v detailView) open(c *common, env string) detailView {
	v.env = env
	v = v.resize(c, env)
	v.vp.GotoTop()
	return v
}

// refresh rebuilds the content when env's data changed, keeping the
// scroll position.
func (v detailView) refresh(c *common, env string) detailView {
	if env == "" || env != v.env {
		return v
	}
	v.vp.SetContent(detailContent(c, env))
	return v
}

func (v detailView) resize(c *common, env string) detailView {
	v.vp.Width, v.vp.Height = c.width, c.bodyHeight()
	return v.refresh(c, env)
}

func (v detailView) update(msg tea.Msg, c *common) (detailView, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		scroll(&v.vp, k, c.keys)
	}
	return v, nil
}

// scroll moves a viewport by the movement keys; the viewport's own keymap
// is not used, its letters are eksbg's actions.
func scroll(vp *viewport.Model, k tea.KeyMsg, keys KeyMap) bool {
	switch {
	case key.Matches(k, keys.Up):
		vp.ScrollUp(1)
	case key.Matches(k, keys.Down):
		vp.ScrollDown(1)
	case key.Matches(k, keys.PageUp):
		vp.PageUp()
	case key.Matches(k, keys.PageDown):
		vp.PageDown()
	case key.Matches(k, keys.Top):
		vp.GotoTop()
	case key.Matches(k, keys.Bottom):
		vp.GotoBottom()
	default:
		return false
	}
	return true
}

func (m Model) detailKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	c, keys, env := m.c, m.c.keys, m.env
	switch {
	case key.Matches(k, keys.Back):
		return m.back()
	case key.Matches(k, keys.Upgrade):
		return m.upgradeOrResume(env)
	case key.Matches(k, keys.Traffic):
		return m.open(screenTraffic, env)
	case key.Matches(k, keys.Progress):
		return m.openProgress(env)
	case key.Matches(k, keys.Drift):
		cmd := c.loadDrift(env)
		m.detail = m.detail.refresh(c, env)
		return m, cmd
	case key.Matches(k, keys.Capacity):
		cmd := c.loadCapacity(env)
		m.detail = m.detail.refresh(c, env)
		return m, cmd
	case key.Matches(k, keys.Refresh):
		return m, c.loadStatus(env)
	}
	var cmd tea.Cmd
	m.detail, cmd = m.detail.update(k, c)
	return m, cmd
}

func (m Model) detailKeys() keySet {
	k := m.c.keys
	return keySet{short: []key.Binding{k.Upgrade, k.Traffic, k.Capacity, k.Drift, k.Down, k.Back, k.Help},
		full: [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Upgrade, k.Traffic, k.Progress}, {k.Capacity, k.Drift, k.Refresh, k.Back}}}
}

func (v detailView) view(c *common, env string) string {
	if v.env != env {
		return ""
	}
	return v.vp.View()
}

// detailContent is the detail screen's lines, each cut to the width.
func detailContent(c *common, env string) string {
	st, w := c.st, c.width
	d := c.d(env)
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, clip(fmt.Sprintf(format, args...), w)) }
	section := func(s string) { lines = append(lines, clip(" "+st.section.Render(s), w)) }

	section("Clusters")
	switch {
	case d.statusErr != nil:
		add("   %s", st.errorLine.Render(d.statusErr.Error()))
	case d.status == nil:
		add("   %s reading the status", c.spin())
	default:
		s := d.status
		for _, cs := range s.Clusters {
			status, version, live := "absent", "-", ""
			if cs.Exists {
				status, version = cs.Status, cs.Version
			}
			if cs.Live {
				live = st.bold.Render("live")
			}
			add("   %s %s %s %s %s", cell(cs.Color, 6, st.color), cell(cs.Name, 22, nil), cell(version, 6, nil), cell(status, 9, nil), live)
		}
		if s.RulesError != "" {
			add("   weights unreadable: %s", st.errorLine.Render(s.RulesError))
		}
		for _, r := range s.Rules {
			g := r.Percent(config.Green)
			add("   %s %s blue %.0f%% · green %.0f%%", cell(shortARN(r.RuleARN), 22, nil), st.weightBar(g, 20, "blue"), 100-g, g)
		}
		if u := s.Upgrade; u != nil {
			state := "ended: " + u.Outcome
			if u.Open {
				state = st.warn.Render("open")
			}
			add("   upgrade %s → %s, started %s, %s", u.From, u.To, u.StartedAt.In(c.loc).Format("2006-01-02 15:04"), state)
		}
		if l := s.Lock; l != nil {
			add("   %s", st.warn.Render(fmt.Sprintf("locked by %s on %s (%s, since %s)", l.Who, l.Host, l.Operation, l.Created.In(c.loc).Format("2006-01-02 15:04"))))
		}
	}

	lines = append(lines, "")
	lines = append(lines, capacityLines(c, d)...)
	lines = append(lines, "")
	lines = append(lines, driftLines(c, d)...)
	if rep := d.capacity; rep != nil && len(rep.Subnets) > 0 {
		lines = append(lines, "")
		section(fmt.Sprintf("Subnets (%d)", len(rep.Subnets)))
		add("   %s", st.dim.Render(fmt.Sprintf("%-24s %-11s %-16s %5s %5s %4s %-4s %s", "SUBNET", "ZONE", "CIDR", "FREE", "GREEN", "/28", "", "ROLES")))
		for _, sn := range rep.Subnets {
			add("   %-24s %-11s %-16s %5d %5d %4d %s %s", sn.ID, sn.AZ, sn.CIDR, sn.AvailableIPs, sn.DemandIPs, sn.FreePrefixes,
				cell(string(sn.Verdict), 4, st.verdict), strings.Join(sn.Roles, ","))
		}
	}
	return strings.Join(lines, "\n")
}

// barWidth is the width of the capacity bars at width w.
func barWidth(w int) int { return min(max(w-52, 10), 40) }

func capacityLines(c *common, d *envData) []string {
	st, w := c.st, c.width
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, clip(fmt.Sprintf(format, args...), w)) }
	rep := d.capacity
	switch {
	case d.capLoading:
		add(" %s %s checking the subnets and quotas", st.section.Render("Capacity"), c.spin())
		return lines
	case d.capErr != nil:
		add(" %s %s", st.section.Render("Capacity"), st.errorLine.Render(d.capErr.Error()))
		return lines
	case rep == nil:
		add(" %s not checked (C checks)", st.section.Render("Capacity"))
		return lines
	}
	version := ""
	if rep.Version != "" {
		version = " " + rep.Version
	}
	add(" %s of a green%s cluster beside blue: %s", st.section.Render("Capacity"), version, st.verdict(string(rep.Verdict)))
	bw := barWidth(w)
	add("   %s %s %6s %6s  %s", cell("ZONE", 12, nil), cell("█ used ▒ green ░ free", bw, nil), "FREE", "GREEN", "")
	for _, az := range rep.AZs {
		add("   %s %s %6d %6d  %s", cell(az.AZ, 12, nil), st.capBar(az.UsableIPs-az.SupplyIPs, az.DemandIPs, az.SupplyIPs, bw),
			az.SupplyIPs, az.DemandIPs, st.verdict(string(az.Verdict)))
		if az.Remedy != "" {
			for _, l := range wrapLines("     ", "     ", az.Remedy, w) {
				add("%s", st.dim.Render(l))
			}
		}
	}
	if len(rep.Quotas) > 0 {
		add(" %s", st.section.Render("Quotas"))
		for _, q := range rep.Quotas {
			add("   %s %s %s %s %s", cell(serviceName(q.Service)+" "+q.Code, 15, nil), st.capBar(q.Used, q.Demand, int(q.Limit)-q.Used, 16),
				cell(fmt.Sprintf("%d+%d/%s", q.Used, q.Demand, limitText(q.Limit)), 14, nil), cell(string(q.Verdict), 4, st.verdict), st.dim.Render(q.Name))
		}
	}
	return lines
}

// serviceName shortens a Service Quotas service code for a narrow column.
func serviceName(s string) string {
	if s == "elasticloadbalancing" {
		return "elb"
	}
	return s
}

func limitText(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", v)
}

func driftLines(c *common, d *envData) []string {
	st, w := c.st, c.width
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, clip(fmt.Sprintf(format, args...), w)) }
	head := st.section.Render("Drift")
	switch {
	case d.driftLoading:
		add(" %s %s checking Terraform, the clusters, traffic, Argo CD and the journal", head, c.spin())
		return lines
	case d.driftErr != nil:
		add(" %s %s", head, st.errorLine.Render(d.driftErr.Error()))
		return lines
	case d.drift == nil:
		add(" %s not checked (D checks)", head)
		return lines
	}
	res := d.drift
	n, warn := res.Count(findings.Fail), res.Count(findings.Warn)
	summary := st.ok.Render("none")
	if n+warn > 0 {
		ds, ws := st.dim, st.dim
		if n > 0 {
			ds = st.fail
		}
		if warn > 0 {
			ws = st.warn
		}
		summary = ds.Render(fmt.Sprintf("%d drift", n)) + ", " + ws.Render(fmt.Sprintf("%d warning", warn))
	}
	add(" %s %s", head, summary)
	for _, f := range res.Findings {
		where := f.Resource
		if f.Field != "" {
			where += " " + f.Field
		}
		for _, l := range wrapLines("   "+cell(drift.SeverityName(f.Severity), 7, st.verdict)+" "+cell(f.Check, 9, nil)+" ", "     ",
			fmt.Sprintf("%s: expected %s, actual %s", where, f.Expected, f.Actual), w) {
			add("%s", l)
		}
		if f.Fix != "" {
			for _, l := range wrapLines("     ", "     ", "fix: "+f.Fix, w) {
				add("%s", st.dim.Render(l))
			}
		}
	}
	for _, e := range res.Errors {
		add("   %s %s %s", st.errorLine.Render("error  "), cell(string(e.Kind), 9, nil), e.Error)
	}
	for _, s := range res.Suppressed {
		add("   %s %s %s (%s, until %s)", st.dim.Render("ignored"), cell(s.Check, 9, nil), s.Resource, s.Reason, s.Expires)
	}
	return lines
}
