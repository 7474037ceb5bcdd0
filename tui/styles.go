package tui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
)

// styles are every style of the TUI, made by one renderer so that its
// colour profile (Ascii under NO_COLOR and in the golden tests) applies to
// all of them. Colours are fixed ANSI-256 numbers, never adaptive ones: an
// adaptive colour asks the terminal for its background, which is I/O in View.
type styles struct {
	r *lipgloss.Renderer

	title, crumb, dim, bold, selected, key lipgloss.Style
	ok, warn, fail, info                   lipgloss.Style
	blue, green                            lipgloss.Style
	barUsed, barGreen, barFree, barOver    lipgloss.Style
	section, prompt, errorLine, diffAdd    lipgloss.Style
	diffDel, diffHunk                      lipgloss.Style
	help                                   help.Styles
}

func newStyles(r *lipgloss.Renderer) *styles {
	c := func(n string) lipgloss.TerminalColor { return lipgloss.Color(n) }
	s := &styles{r: r}
	s.title = r.NewStyle().Bold(true).Foreground(c("212"))
	s.crumb = r.NewStyle().Foreground(c("250"))
	s.dim = r.NewStyle().Foreground(c("243"))
	s.bold = r.NewStyle().Bold(true)
	s.selected = r.NewStyle().Bold(true).Foreground(c("231")).Background(c("237"))
	s.key = r.NewStyle().Bold(true).Foreground(c("111"))
	s.ok = r.NewStyle().Foreground(c("78"))
	s.warn = r.NewStyle().Foreground(c("214"))
	s.fail = r.NewStyle().Bold(true).Foreground(c("203"))
	s.info = r.NewStyle().Foreground(c("117"))
	s.blue = r.NewStyle().Foreground(c("33"))
	s.green = r.NewStyle().Foreground(c("35"))
	s.barUsed = r.NewStyle().Foreground(c("245"))
	s.barGreen = r.NewStyle().Foreground(c("35"))
	s.barFree = r.NewStyle().Foreground(c("238"))
	s.barOver = r.NewStyle().Bold(true).Foreground(c("203"))
	s.section = r.NewStyle().Bold(true).Foreground(c("111"))
	s.prompt = r.NewStyle().Bold(true).Foreground(c("214"))
	s.errorLine = r.NewStyle().Foreground(c("203"))
	s.diffAdd = r.NewStyle().Foreground(c("78"))
	s.diffDel = r.NewStyle().Foreground(c("203"))
	s.diffHunk = r.NewStyle().Foreground(c("117"))
	s.help = help.Styles{
		ShortKey: s.key, ShortDesc: s.dim, ShortSeparator: s.dim, Ellipsis: s.dim,
		FullKey: s.key, FullDesc: s.dim, FullSeparator: s.dim,
	}
	return s
}

// color styles a color's name (blue or green) in its colour.
func (s *styles) color(name string) string { return s.paint(name, name) }

// paint styles text in the colour of the color name.
func (s *styles) paint(name, text string) string {
	switch name {
	case "blue":
		return s.blue.Render(text)
	case "green":
		return s.green.Render(text)
	}
	return text
}

// with adapts a style to cell's render argument.
func with(s lipgloss.Style) func(string) string {
	return func(x string) string { return s.Render(x) }
}

// input is a text input in the TUI's styles with a static cursor: a
// blinking one would change the frame on a timer.
func (s *styles) input(prompt string, limit int) textinput.Model {
	in := textinput.New()
	in.Prompt, in.CharLimit = prompt, limit
	in.PromptStyle, in.TextStyle = s.prompt, s.bold
	in.Cursor.Style = s.bold
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}
