package tui

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/upgrade"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// The golden tests run whole screens in a real bubbletea program (teatest)
// at 80x24 in the Ascii profile, with the fake backend and a fixed clock,
// and compare the last frame with testdata/<test>.golden. Regenerate with
//
//	go test ./tui -run Golden -update

// golden runs the TUI, plays the steps (keys typed, or a wait for text on
// the screen), quits and compares the final frame.
func golden(t *testing.T, f *fakeBackend, o Options, steps ...step) {
	t.Helper()
	o.Backend, o.NoColor, o.Location, o.Refresh = f, true, time.UTC, -1
	o.Now = func() time.Time { return t0 }
	tm := teatest.NewTestModel(t, New(t.Context(), o), teatest.WithInitialTermSize(80, 24))
	for _, s := range steps {
		switch {
		case s.wait != nil:
			// The deadline only guards against a hang; nothing is timed.
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
				for _, w := range s.wait {
					if !bytes.Contains(b, []byte(w)) {
						return false
					}
				}
				return true
			}, teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
		default:
			tm.Send(keyMsg(s.key))
		}
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).(Model)
	teatest.RequireEqualOutput(t, []byte(m.View()))
	screenshot(t, m)
}

// screenshot draws the final frame again in colour, as SVG, and compares it
// with docs/tui/<screen>.svg (written with -update): the screenshots of
// docs/tui.md.
func screenshot(t *testing.T, m Model) {
	t.Helper()
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	m.c.st = newStyles(r)
	m.help.Styles = m.c.st.help
	m.wizard.input.PromptStyle, m.wizard.input.TextStyle = m.c.st.prompt, m.c.st.bold
	m.traffic.input.PromptStyle, m.traffic.input.TextStyle = m.c.st.prompt, m.c.st.bold
	// The scrolling views keep their lines: lay them out again in colour.
	m.detail = m.detail.refresh(m.c, m.env)
	m.progress = m.progress.refresh(m.c, m.env)
	m.wizard = m.wizard.resize(m.c)
	svg := frameSVG(m.View(), m.c.width, m.c.height)
	name := strings.TrimPrefix(t.Name(), "TestGolden")
	var file []rune
	for i, c := range name {
		if unicode.IsUpper(c) && i > 0 {
			file = append(file, '-')
		}
		file = append(file, unicode.ToLower(c))
	}
	path := filepath.Join("..", "docs", "tui", string(file)+".svg")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(svg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != svg {
		t.Errorf("%s is not the screen's picture: run go test ./tui -run Golden -update", path)
	}
}

// step is a key to press or texts to wait for. Each wait is for texts that
// appear only once everything the final frame shows has arrived, so the
// frame does not depend on the order messages came in.
type step struct {
	key  string
	wait []string
}

func keys(ks ...string) []step {
	var out []step
	for _, k := range ks {
		out = append(out, step{key: k})
	}
	return out
}

func wait(texts ...string) step { return step{wait: texts} }

func steps(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch p := p.(type) {
		case step:
			out = append(out, p)
		case []step:
			out = append(out, p...)
		}
	}
	return out
}

// goldenFake is newFake with staging's drift a warning, so that each
// environment's line has a text of its own to wait for.
func goldenFake() *fakeBackend {
	f := newFake()
	f.drift["staging"].Findings = append(f.drift["staging"].Findings, testDrift("staging", 1).Findings...)
	f.drift["staging"].Findings[0].Severity = findings.Warn
	return f
}

func TestGoldenEnvironments(t *testing.T) {
	// prod's open upgrade lands on its progress; esc twice goes back to
	// the list.
	golden(t, goldenFake(), Options{}, steps(wait("open in the journal"), keys("esc", "esc"),
		wait("1 drift", "1 warning", "✓ none", "open → 1.34 · shift", "BLUE/GREEN"))...)
}

func TestGoldenDetail(t *testing.T) {
	golden(t, goldenFake(), Options{Env: "demo"}, wait("Capacity of a green", "1 drift", "demo-blue", "Subnets (6)"))
}

func TestGoldenWizardVersions(t *testing.T) {
	golden(t, goldenFake(), Options{Env: "demo"}, steps(wait("demo-blue"), keys("u"), wait("1.33", "DescribeClusterVersions"))...)
}

func TestGoldenWizardPlan(t *testing.T) {
	golden(t, goldenFake(), Options{Env: "demo"}, steps(wait("demo-blue"), keys("u"), wait("1.33"), keys("down", "enter"),
		wait("Findings (2)"))...)
}

func TestGoldenWizardConfirm(t *testing.T) {
	golden(t, goldenFake(), Options{Env: "demo"}, steps(wait("demo-blue"), keys("u"), wait("1.33"), keys("down", "enter"),
		wait("Findings (2)"), keys("enter", "tab", "d", "e", "m"), wait("[x]", "> dem"))...)
}

// upgradeTo134 are the steps from the detail of demo to its upgrade to 1.34.
func upgradeTo134() []step {
	return steps(wait("demo-blue"), keys("u"), wait("1.33"), keys("down", "enter"), wait("Findings (2)"),
		keys("enter", "d", "e", "m", "o", "enter"))
}

func TestGoldenProgressShift(t *testing.T) {
	f := goldenFake()
	f.events[opUpgrade] = shiftEvents(false)
	f.block[opUpgrade] = true
	golden(t, f, Options{Env: "demo"}, steps(upgradeTo134(), wait("baking 25% 10/15s", "gates 25% 10/15s"))...)
}

func TestGoldenTrafficShift(t *testing.T) {
	f := goldenFake()
	f.events[opUpgrade] = shiftEvents(false)
	f.block[opUpgrade] = true
	golden(t, f, Options{Env: "demo"}, steps(upgradeTo134(), wait("gates 25% 10/15s"), keys("t"), wait("READINGS", "healthy targets"))...)
}

func TestGoldenBreach(t *testing.T) {
	f := goldenFake()
	f.events[opUpgrade] = shiftEvents(true)
	f.results[opUpgrade] = &upgrade.GateBreachError{Step: 25, Breaches: []traffic.Breach{{Gate: traffic.GateMax5xxPercent, Value: 20, Limit: 2,
		Message: "5xx rate 20.00% is above 2.00%"}}}
	golden(t, f, Options{Env: "demo"}, steps(upgradeTo134(), wait("hold on blue"), keys("t"), wait("BREACH", "READINGS"))...)
}

func TestGoldenResume(t *testing.T) {
	golden(t, goldenFake(), Options{}, wait("open in the journal", "c continue upgrade"))
}

func TestGoldenHelp(t *testing.T) {
	golden(t, goldenFake(), Options{Env: "demo"}, steps(wait("demo-blue"), keys("?"), wait("After a breached gate"))...)
}

var _ tea.Model = Model{}
