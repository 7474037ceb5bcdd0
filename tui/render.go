package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/eksbg/eksbg/internal/config"
)

// fit makes s exactly h lines of at most w cells: longer lines are cut with
// an ellipsis, missing lines are blank. Every screen's body goes through it,
// so a frame never wraps or scrolls the terminal whatever its size.
func fit(s string, w, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = clip(l, w)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// clip cuts one line to w cells.
func clip(l string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(l) > w {
		return ansi.Truncate(l, w, "…")
	}
	return l
}

// padRight pads s with spaces to w cells (it does not cut).
func padRight(s string, w int) string {
	if n := w - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// wrapLines wraps text to lines of w cells: the first after the prefix
// first, the others after indent; at words where it can, hard where not.
func wrapLines(first, indent, text string, w int) []string {
	fw, iw := ansi.StringWidth(first), ansi.StringWidth(indent)
	head := strings.SplitN(ansi.Wrap(text, max(w-fw, 10), "/-_."), "\n", 2)[0]
	rest := strings.TrimLeft(strings.TrimPrefix(text, head), " ")
	if !strings.HasPrefix(text, head) {
		// ansi.Wrap changed the text (spaces): wrap it all at the narrower width.
		lines := strings.Split(ansi.Wrap(text, max(w-max(fw, iw), 10), "/-_."), "\n")
		head, rest = lines[0], strings.Join(lines[1:], " ")
	}
	out := []string{first + head}
	if rest != "" {
		for _, l := range strings.Split(ansi.Wrap(rest, max(w-iw, 10), "/-_."), "\n") {
			out = append(out, indent+l)
		}
	}
	return out
}

// spread puts left and right on one line of w cells, right-aligned.
func spread(left, right string, w int) string {
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return clip(left+" "+right, w)
	}
	return left + strings.Repeat(" ", gap) + right
}

// sparkTicks are the eight heights of a sparkline.
var sparkTicks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values as bars from zero to the largest
// value (a flat line of zeros stays at the bottom).
func sparkline(vals []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if top > 0 && v > 0 {
			i = int(math.Round(v / top * float64(len(sparkTicks)-1)))
			i = min(max(i, 1), len(sparkTicks)-1)
		}
		b.WriteRune(sparkTicks[i])
	}
	return padRight(b.String(), width)
}

// capBar draws used + free addresses as width cells: █ used, ▒ green's
// demand, ░ what stays free; a demand that does not fit fills the bar and
// ends in "!". The glyphs differ so that the bar reads without colour.
func (s *styles) capBar(used, green, free, width int) string {
	used, green, free = max(used, 0), max(green, 0), max(free, 0)
	total := used + max(free, green)
	if total == 0 || width <= 0 {
		return s.barFree.Render(strings.Repeat("░", max(width, 0)))
	}
	cells := func(n int) int { return (n*width + total/2) / total }
	u := min(cells(used), width)
	g := min(cells(used+min(green, free))-u, width-u)
	if green > 0 && g == 0 && u < width {
		g = 1
	}
	over := 0
	if green > free {
		over = max(width-u-g, 1)
		if u+g+over > width {
			g = max(width-u-over, 0)
		}
	}
	rest := max(width-u-g-over, 0)
	return s.barUsed.Render(strings.Repeat("█", u)) + s.barGreen.Render(strings.Repeat("▒", g)) +
		s.barOver.Render(strings.Repeat("!", over)) + s.barFree.Render(strings.Repeat("░", rest))
}

// weightBar draws a rule's split as width cells: █ for the share of the
// color left, ▒ for the other color's rightPct.
func (s *styles) weightBar(rightPct float64, width int, left string) string {
	g := int(math.Round(rightPct / 100 * float64(width)))
	g = min(max(g, 0), width)
	return s.paint(left, strings.Repeat("█", width-g)) + s.paint(config.OtherColor(left), strings.Repeat("▒", g))
}

// verdict styles OK, WARN and FAIL.
func (s *styles) verdict(v string) string {
	switch v {
	case "OK", "ok", "pass":
		return s.ok.Render(v)
	case "WARN", "warn", "warning":
		return s.warn.Render(v)
	case "FAIL", "fail", "drift", "BREACH":
		return s.fail.Render(v)
	}
	return v
}

// clock formats a duration as m:ss (or h:mm:ss).
func clock(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

// short formats a duration to one decimal ("12.3s", "4m05s").
func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return d.Round(time.Minute).String()
}

// shortARN is the last path element of an ARN.
func shortARN(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 && i+1 < len(arn) {
		return "…/" + arn[i+1:]
	}
	return arn
}

// humanCount formats 1234 as 1.2k.
func humanCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// bakeTime says how long each traffic step is baked.
func bakeTime(d time.Duration) string {
	if d <= 0 {
		return "0s (no bake)"
	}
	return d.String()
}
