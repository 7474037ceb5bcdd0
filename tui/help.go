package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
)

// helpSection is one group of the full help.
type helpSection struct {
	title string
	keys  []key.Binding
}

// helpSections are every key of the TUI, by screen.
func (k KeyMap) helpSections() (left, right []helpSection) {
	left = []helpSection{
		{"Everywhere", []key.Binding{k.Help, k.Quit, k.Back}},
		{"Moving", []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Select}},
		{"Environments and detail", []key.Binding{k.Select, k.Upgrade, k.Traffic, k.Progress, k.Capacity, k.Drift, k.Refresh}},
		{"Upgrade wizard", []key.Binding{withHelp(k.Select, "next"), k.ToggleApprove, withHelp(k.Back, "previous step")}},
	}
	right = []helpSection{
		{"Progress", []key.Binding{k.Continue, k.Approve, withHelp(k.Interrupt, "interrupt (hold)"), k.Rollback, k.Traffic}},
		{"Traffic", []key.Binding{k.Advance, k.Hold, k.SetWeight, k.Rollback, k.Progress}},
		{"After a breached gate", []key.Binding{withHelp(k.Retry, "retry"), withHelp(k.Hold, "hold on blue"), k.Rollback}},
		{"Questions", []key.Binding{k.Yes, withHelp(k.DeleteGreen, "roll back, delete green"), key.NewBinding(key.WithHelp("other", "no"))}},
	}
	return left, right
}

// fullHelpView is `?`: every key, in two columns of sections.
func (m Model) fullHelpView() string {
	c := m.c
	colW := max((c.width-3)/2, 20)
	render := func(secs []helpSection) []string {
		var lines []string
		for _, s := range secs {
			lines = append(lines, " "+c.st.section.Render(s.title))
			line := "  "
			for _, b := range s.keys {
				item := c.st.key.Render(b.Help().Key) + " " + c.st.dim.Render(b.Help().Desc)
				if ansi.StringWidth(line)+ansi.StringWidth(item)+3 > colW && strings.TrimSpace(line) != "" {
					lines = append(lines, line)
					line = "  "
				}
				if strings.TrimSpace(line) != "" {
					line += c.st.dim.Render(" · ")
				}
				line += item
			}
			lines = append(lines, line)
		}
		return lines
	}
	l, r := c.keys.helpSections()
	left, right := render(l), render(r)
	var b strings.Builder
	b.WriteString(" " + c.st.title.Render("Keys") + c.st.dim.Render("  (? or esc closes)") + "\n")
	for i := 0; i < max(len(left), len(right)); i++ {
		var a, z string
		if i < len(left) {
			a = left[i]
		}
		if i < len(right) {
			z = right[i]
		}
		b.WriteString(padRight(clip(a, colW), colW) + " " + clip(z, colW) + "\n")
	}
	return b.String()
}
