package tui

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The screenshots of docs/tui.md are the golden tests' last frames drawn
// again in the ANSI-256 profile and turned into SVG: a terminal-to-image
// path with no tool but this file, whose output the tests keep current.

// svgCell is the size of a character cell in the SVG, in pixels, for a
// 14 px monospace font.
const (
	svgCellW = 8.43
	svgCellH = 18
	svgPad   = 12
)

// sgr is the state of SGR attributes while a frame is read.
type sgr struct {
	fg, bg string
	bold   bool
}

// apply reads one SGR parameter list ("1;38;5;212").
func (s *sgr) apply(params string) {
	ps := strings.Split(params, ";")
	for i := 0; i < len(ps); i++ {
		switch ps[i] {
		case "", "0":
			*s = sgr{}
		case "1":
			s.bold = true
		case "22":
			s.bold = false
		case "39":
			s.fg = ""
		case "49":
			s.bg = ""
		case "38", "48":
			if i+2 < len(ps) && ps[i+1] == "5" {
				n, _ := strconv.Atoi(ps[i+2])
				if ps[i] == "38" {
					s.fg = xterm256(n)
				} else {
					s.bg = xterm256(n)
				}
				i += 2
			}
		}
	}
}

// xterm256 is the RGB of an ANSI-256 colour (xterm's palette).
func xterm256(n int) string {
	system := []string{"#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
		"#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff"}
	switch {
	case n < 16:
		return system[max(n, 0)]
	case n < 232:
		n -= 16
		level := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + 40*v
		}
		return fmt.Sprintf("#%02x%02x%02x", level(n/36), level(n/6%6), level(n%6))
	}
	g := 8 + 10*(n-232)
	return fmt.Sprintf("#%02x%02x%02x", g, g, g)
}

// frameSVG draws a frame of w x h cells, with its SGR colours, as SVG.
func frameSVG(frame string, w, h int) string {
	const fg, bg = "#d0d0d0", "#1c1c1c"
	var b strings.Builder
	width, height := float64(w)*svgCellW+2*svgPad, float64(h)*svgCellH+2*svgPad
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" rx="6" fill="%s"/>`+"\n", bg)
	fmt.Fprintf(&b, `<g font-family="'DejaVu Sans Mono','Menlo','Consolas',monospace" font-size="14px" fill="%s" xml:space="preserve">`+"\n", fg)
	for row, line := range strings.Split(frame, "\n") {
		var st sgr
		col := 0
		y := svgPad + float64(row)*svgCellH
		var run strings.Builder
		runStart, runStyle := 0, st
		flush := func() {
			if run.Len() == 0 {
				return
			}
			x := svgPad + float64(runStart)*svgCellW
			n := col - runStart
			if runStyle.bg != "" {
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"/>`+"\n", x, y, float64(n)*svgCellW, svgCellH, runStyle.bg)
			}
			attrs := ""
			if runStyle.fg != "" {
				attrs += fmt.Sprintf(` fill="%s"`, runStyle.fg)
			}
			if runStyle.bold {
				attrs += ` font-weight="bold"`
			}
			if strings.TrimSpace(run.String()) != "" {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" textLength="%.1f"%s>%s</text>`+"\n", x, y+svgCellH-5, float64(n)*svgCellW, attrs, html.EscapeString(run.String()))
			}
			run.Reset()
		}
		for i := 0; i < len(line); {
			if strings.HasPrefix(line[i:], "\x1b[") {
				end := strings.IndexByte(line[i:], 'm')
				if end < 0 {
					break
				}
				flush()
				st.apply(line[i+2 : i+end])
				i += end + 1
				runStart, runStyle = col, st
				continue
			}
			r, size := utf8.DecodeRuneInString(line[i:])
			run.WriteRune(r)
			col++
			i += size
		}
		flush()
	}
	b.WriteString("</g>\n</svg>\n")
	return b.String()
}
