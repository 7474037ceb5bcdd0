// Package tui is eksbg's interactive terminal UI (`eksbg tui`, and `eksbg`
// with no arguments in a terminal): the environments, each one's capacity
// and drift, the upgrade wizard, the progress of an upgrade and a live view
// of its traffic, with keys to advance, hold, set a weight or roll back.
//
// It is built with bubbletea the way ../shared/CONVENTIONS.md describes: one
// root Model with a state enum and a shared *common (size, styles, keymap,
// data), one sub-model per screen whose update returns its own type, every
// key a key.Binding of one KeyMap, every style in styles.go, and all I/O in
// tea.Cmds that call a Backend and return typed ...Msg values. Package
// upgrade knows nothing of the UI: an operation's progress arrives as
// upgrade.Events on a channel that a Cmd reads one event at a time and the
// Update loop re-arms.
//
// Update and View do no I/O and read the clock only through common.now, so
// the tests drive Update as a pure function and compare whole screens with
// golden files at a fixed size, colour profile and time.
package tui
