package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// BenchmarkCapacityKeypress is a key press on the detail screen of an
// environment whose capacity report has 2,000 subnets: Update (scroll one
// line) and View, the time from the key to the frame. The budget is 16 ms
// (a frame at 60 Hz).
func BenchmarkCapacityKeypress(b *testing.B) {
	f := noJournal()
	f.capacity["demo"] = testCapacity(2000)
	m := start(b, f, Options{Env: "demo"})
	if len(m.detail.vp.View()) == 0 || m.detail.vp.TotalLineCount() < 2000 {
		b.Fatalf("the detail has %d lines, want the 2,000 subnets", m.detail.vp.TotalLineCount())
	}
	down, up := keyMsg("down"), keyMsg("up")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := down
		if i%2000 >= 1000 {
			k = up
		}
		nm, _ := m.Update(k)
		m = nm.(Model)
		_ = m.View()
	}
}

// BenchmarkCapacityResize is a resize of the same screen, which lays the
// 2,000 subnets out again.
func BenchmarkCapacityResize(b *testing.B) {
	f := noJournal()
	f.capacity["demo"] = testCapacity(2000)
	m := start(b, f, Options{Env: "demo"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nm, _ := m.Update(tea.WindowSizeMsg{Width: 80 + i%40, Height: 24})
		m = nm.(Model)
		_ = m.View()
	}
}
