package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key of the TUI. Screens pick the bindings that apply to
// them for the help bar (keySet); `?` lists them all.
type KeyMap struct {
	// Global.
	Help key.Binding
	Quit key.Binding
	Back key.Binding

	// Lists and scrolling.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Select   key.Binding

	// Environments and detail.
	Refresh  key.Binding
	Upgrade  key.Binding
	Traffic  key.Binding
	Progress key.Binding
	Drift    key.Binding
	Capacity key.Binding

	// Wizard.
	ToggleApprove key.Binding

	// Progress and traffic.
	Continue  key.Binding
	Approve   key.Binding
	Interrupt key.Binding
	Advance   key.Binding
	Hold      key.Binding
	SetWeight key.Binding
	Rollback  key.Binding

	// Prompts.
	Retry       key.Binding
	Yes         key.Binding
	DeleteGreen key.Binding
}

// DefaultKeyMap is eksbg's keys: vi-style movement, one letter per action.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Help: b([]string{"?"}, "?", "all keys"),
		Quit: b([]string{"q", "ctrl+c"}, "q", "quit"),
		Back: b([]string{"esc"}, "esc", "back"),

		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+d", " "}, "pgdn", "page down"),
		Top:      b([]string{"home", "g"}, "g", "top"),
		Bottom:   b([]string{"end", "G"}, "G", "bottom"),
		Select:   b([]string{"enter"}, "enter", "open"),

		Refresh:  b([]string{"r"}, "r", "refresh"),
		Upgrade:  b([]string{"u"}, "u", "upgrade"),
		Traffic:  b([]string{"t"}, "t", "traffic"),
		Progress: b([]string{"p"}, "p", "progress"),
		Drift:    b([]string{"D"}, "D", "check drift"),
		Capacity: b([]string{"C"}, "C", "check capacity"),

		ToggleApprove: b([]string{"tab"}, "tab", "toggle teardown"),

		Continue:  b([]string{"c"}, "c", "continue upgrade"),
		Approve:   b([]string{"A"}, "A", "approve teardown"),
		Interrupt: b([]string{"x"}, "x", "interrupt"),
		Advance:   b([]string{"n"}, "n", "next step"),
		Hold:      b([]string{"h"}, "h", "hold"),
		SetWeight: b([]string{"w"}, "w", "set weight"),
		Rollback:  b([]string{"b"}, "b", "roll back"),

		Retry:       b([]string{"r"}, "r", "retry"),
		Yes:         b([]string{"y"}, "y", "yes"),
		DeleteGreen: b([]string{"d"}, "d", "and delete green"),
	}
}

// keySet is the bindings of one screen, for the help bubble.
type keySet struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (k keySet) ShortHelp() []key.Binding { return k.short }

// FullHelp implements help.KeyMap.
func (k keySet) FullHelp() [][]key.Binding { return k.full }
