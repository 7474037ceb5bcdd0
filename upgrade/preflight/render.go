package preflight

import (
	"fmt"
	"io"
	"strings"

	"github.com/eksbg/eksbg/internal/findings"
)

// WriteText renders the plan for a terminal: clusters, the config diff,
// findings, and the phases with their gates and estimates.
func (p *Plan) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("Upgrade plan for environment %s\n", p.Environment)
	ew.printf("  blue  (%s, live): %s, Kubernetes %s\n", p.Blue.Color, p.Blue.Name, p.Blue.Version)
	ew.printf("  green (%s, new):  %s, Kubernetes %s (%s)\n\n", p.Green.Color, p.Green.Name, p.Green.Version, jump(p.Blue.Version, p.Green.Version))
	if p.Diff != "" {
		ew.printf("Green's eksctl config, against blue's:\n%s\n", indent(p.Diff, "  "))
	} else {
		ew.printf("Green's eksctl config could not be derived (see the findings).\n\n")
	}
	if len(p.Findings) == 0 {
		ew.printf("Findings: none.\n\n")
	} else {
		ew.printf("Findings (%s):\n", countBySeverity(p.Findings))
		for _, f := range p.Findings {
			ew.printf("  %-4s %s\n", strings.ToUpper(f.Severity.String()), f.What)
			if wh := f.Where.String(); wh != "" {
				ew.printf("       where: %s\n", wh)
			}
			if f.Fix != "" {
				ew.printf("       fix:   %s\n", f.Fix)
			}
		}
		ew.printf("\n")
	}
	ew.printf("Phases:\n")
	for i, ph := range p.Phases {
		ew.printf("  %d. %-13s ~%-6s %s\n", i+1, ph.Name, roundDur(ph.Estimate), ph.What)
		if len(ph.Gates) > 0 {
			ew.printf("     %-13s         gates: %s\n", "", strings.Join(ph.Gates, "; "))
		}
	}
	if p.Blocked {
		ew.printf("\nBLOCKED: a FAIL finding stops the upgrade at preflight (fix it, or --force CHECK --reason TEXT on 'eksbg upgrade').\n")
	} else {
		ew.printf("\nReady: 'eksbg upgrade --env %s --to %s' would run these phases.\n", p.Environment, p.Green.Version)
	}
	return ew.err
}

// WriteMarkdown renders the plan for a change request.
func (p *Plan) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("## eksbg upgrade plan: %s\n\n", p.Environment)
	ew.printf("| | cluster | Kubernetes |\n| --- | --- | --- |\n| live (%s) | `%s` | %s |\n| new (%s) | `%s` | %s |\n\n",
		p.Blue.Color, p.Blue.Name, p.Blue.Version, p.Green.Color, p.Green.Name, p.Green.Version)
	if p.Diff != "" {
		ew.printf("### Green's eksctl config\n\n```diff\n%s```\n\n", p.Diff)
	}
	ew.printf("### Findings\n\n")
	if len(p.Findings) == 0 {
		ew.printf("None.\n\n")
	} else {
		ew.printf("| severity | check | what | where | fix |\n| --- | --- | --- | --- | --- |\n")
		for _, f := range p.Findings {
			ew.printf("| %s | %s | %s | %s | %s |\n", f.Severity, f.Check, mdCell(f.What), mdCell(f.Where.String()), mdCell(f.Fix))
		}
		ew.printf("\n")
	}
	ew.printf("### Phases\n\n| # | phase | estimate | gates |\n| --- | --- | --- | --- |\n")
	for i, ph := range p.Phases {
		ew.printf("| %d | %s | ~%s | %s |\n", i+1, ph.Name, roundDur(ph.Estimate), mdCell(strings.Join(ph.Gates, "; ")))
	}
	verdict := "ready"
	if p.Blocked {
		verdict = "**blocked** by a FAIL finding"
	}
	ew.printf("\nVerdict: %s.\n", verdict)
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func mdCell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func jump(from, to string) string {
	n := cmpMinor(to, from)
	if n == 1 {
		return "one minor version"
	}
	return fmt.Sprintf("%d minor versions at once", n)
}

func countBySeverity(fs []findings.Finding) string {
	n := map[findings.Severity]int{}
	for _, f := range fs {
		n[f.Severity]++
	}
	var parts []string
	for _, s := range []findings.Severity{findings.Fail, findings.Warn, findings.Info} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

func roundDur(d interface{ Minutes() float64 }) string {
	m := d.Minutes()
	switch {
	case m < 1:
		return fmt.Sprintf("%.0fs", m*60)
	default:
		return fmt.Sprintf("%.0fm", m)
	}
}
