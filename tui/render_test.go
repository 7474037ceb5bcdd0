package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

func TestSparkline(t *testing.T) {
	tests := []struct {
		vals  []float64
		width int
		want  string
	}{
		{nil, 4, "    "},
		{[]float64{0, 0, 0}, 3, "▁▁▁"},
		{[]float64{1, 2, 4, 8}, 4, "▂▃▅█"},
		{[]float64{8, 0.01}, 2, "█▂"}, // a value above zero never sits at the bottom
		{[]float64{1, 2, 3, 4, 5, 6}, 3, "▆▇█"},
	}
	for _, tt := range tests {
		if got := sparkline(tt.vals, tt.width); got != tt.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tt.vals, tt.width, got, tt.want)
		}
	}
}

func TestCapBar(t *testing.T) {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	st := newStyles(r)
	tests := []struct {
		used, green, free, width int
		want                     string
	}{
		{0, 0, 0, 4, "░░░░"},
		{50, 25, 50, 10, "█████▒▒▒░░"},
		{90, 1, 10, 10, "█████████▒"},  // a small demand still shows
		{50, 80, 50, 10, "████▒▒▒▒!!"}, // more than is free ends in !
		{0, 10, 100, 10, "▒░░░░░░░░░"}, // nothing used
		{100, 0, 0, 10, "██████████"},  // full
		{-5, -1, 10, 4, "░░░░"},        // negatives count as zero
	}
	for _, tt := range tests {
		got := st.capBar(tt.used, tt.green, tt.free, tt.width)
		if got != tt.want || ansi.StringWidth(got) != tt.width {
			t.Errorf("capBar(%d, %d, %d) = %q, want %q", tt.used, tt.green, tt.free, got, tt.want)
		}
	}
	if got := st.weightBar(25, 8, "blue"); got != "██████▒▒" {
		t.Errorf("weightBar(25) = %q", got)
	}
}

func TestWrapLines(t *testing.T) {
	text := "availability zone us-east-1c: green needs 420 addresses; the zone's subnets have 460 free"
	lines := wrapLines("   warn capacity ", "        ", text, 50)
	for _, l := range lines {
		if ansi.StringWidth(l) > 50 {
			t.Errorf("line %q is wider than 50", l)
		}
	}
	joined := strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
	if joined != "warn capacity "+text {
		t.Errorf("words lost or changed: %q", joined)
	}
	if !strings.HasPrefix(lines[1], "        ") {
		t.Errorf("continuation %q is not indented", lines[1])
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[string]string{"0s": "0:00", "61s": "1:01", "3725s": "1:02:05", "-3s": "0:00"} {
		dur, _ := time.ParseDuration(d)
		if got := clock(dur); got != want {
			t.Errorf("clock(%s) = %q, want %q", d, got, want)
		}
	}
}
