package drift

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/output"
)

// JUnit is the JUnit XML output format, which `eksbg drift` offers beside
// internal/output's formats.
const JUnit output.Format = "junit"

// Formats are the -o values of `eksbg drift`.
var Formats = []output.Format{output.Table, output.JSON, output.YAML, output.Markdown, JUnit}

// Write renders the report. failOn decides, in the JUnit form, which
// findings fail a test case (the others are in its output).
func Write(w io.Writer, f output.Format, r *Report, failOn findings.Severity) error {
	switch f {
	case output.Table:
		return writeTable(w, r)
	case output.Markdown:
		return writeMarkdown(w, r)
	case JUnit:
		return writeJUnit(w, r, failOn)
	}
	return output.Write(w, f, r)
}

// Header is the table's header (output.Tabular).
func (r *Report) Header() []string {
	return []string{"ENV", "SEVERITY", "KIND", "RESOURCE", "FIELD", "EXPECTED", "ACTUAL", "FIX"}
}

// Rows are the findings, then the suppressed findings (severity
// "ignored"), then the checks that failed (severity "error").
func (r *Report) Rows() [][]string {
	var rows [][]string
	for _, e := range r.Environments {
		for _, f := range e.Findings {
			rows = append(rows, []string{e.Environment, SeverityName(f.Severity), f.Check, f.Resource, dash(f.Field), f.Expected, f.Actual, f.Fix})
		}
	}
	for _, e := range r.Environments {
		for _, s := range e.Suppressed {
			rows = append(rows, []string{e.Environment, "ignored", s.Check, s.Resource, dash(s.Field), s.Expected, s.Actual,
				fmt.Sprintf("ignored until %s by %s: %s", s.Expires, s.Rule, s.Reason)})
		}
	}
	for _, e := range r.Environments {
		for _, ce := range e.Errors {
			rows = append(rows, []string{e.Environment, "error", string(ce.Kind), "-", "-", "the check runs", ce.Error, "see the error"})
		}
	}
	return rows
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Headline says in one line what the report found.
func (r *Report) Headline() string {
	s := r.Summary
	envs := plural(s.Environments, "environment")
	if s.Drift == 0 && s.Warning == 0 && s.Errors == 0 {
		h := "No drift in " + envs
		if s.Suppressed > 0 {
			h += fmt.Sprintf(" (%d ignored)", s.Suppressed)
		}
		return h + "."
	}
	parts := []string{fmt.Sprintf("%d drift", s.Drift), plural(s.Warning, "warning")}
	if s.Suppressed > 0 {
		parts = append(parts, fmt.Sprintf("%d ignored", s.Suppressed))
	}
	if s.Errors > 0 {
		parts = append(parts, plural(s.Errors, "failed check"))
	}
	return strings.Join(parts, ", ") + " in " + envs + "."
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// notes are the lines every human form ends with: skipped checks and the
// ignore rules that suppress nothing.
func (r *Report) notes() []string {
	var out []string
	for _, e := range r.Environments {
		for _, s := range e.Skipped {
			out = append(out, fmt.Sprintf("%s: %s check skipped: %s", e.Environment, s.Kind, s.Reason))
		}
	}
	for _, ru := range r.Ignore.Expired {
		out = append(out, fmt.Sprintf("%s: ignore rule for %s expired on %s; its findings count again (%s)", ru.Source, ruleTarget(ru), ru.Expires, ru.Reason))
	}
	for _, ru := range r.Ignore.Unused {
		out = append(out, fmt.Sprintf("%s: ignore rule for %s matches nothing; remove it (%s)", ru.Source, ruleTarget(ru), ru.Reason))
	}
	return out
}

func ruleTarget(ru *IgnoreRule) string {
	s := ru.Resource
	if ru.Field != "" {
		s += " " + ru.Field
	}
	if ru.Environment != "" {
		s = ru.Environment + ": " + s
	}
	return s
}

func writeTable(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	if len(r.Rows()) > 0 {
		if err := output.Write(w, output.Table, r); err != nil {
			return err
		}
		ew.printf("\n")
	}
	ew.printf("%s\n", r.Headline())
	for _, n := range r.notes() {
		ew.printf("%s\n", n)
	}
	return ew.err
}

func writeMarkdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("## eksbg drift\n\n%s\n\n", r.Headline())
	var found, ignored [][]string
	for _, row := range r.Rows() {
		switch row[1] {
		case "error":
		case "ignored":
			ignored = append(ignored, row)
		default:
			found = append(found, row)
		}
	}
	table := func(rows [][]string) {
		if ew.err != nil {
			return
		}
		ew.err = output.Write(w, output.Markdown, rowsOf{header: r.Header(), rows: rows})
		ew.printf("\n")
	}
	if len(found) > 0 {
		table(found)
	}
	if len(ignored) > 0 {
		ew.printf("### Ignored\n\n")
		table(ignored)
	}
	if r.Failed() {
		ew.printf("### Checks that failed\n\n")
		for _, e := range r.Environments {
			for _, ce := range e.Errors {
				ew.printf("- **%s** %s: %s\n", e.Environment, ce.Kind, mdLine(ce.Error))
			}
		}
		ew.printf("\n")
	}
	if n := r.notes(); len(n) > 0 {
		ew.printf("### Notes\n\n")
		for _, s := range n {
			ew.printf("- %s\n", mdLine(s))
		}
		ew.printf("\n")
	}
	return ew.err
}

// mdLine keeps a message on one Markdown line.
func mdLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// rowsOf is a ready-made output.Tabular.
type rowsOf struct {
	header []string
	rows   [][]string
}

func (t rowsOf) Header() []string { return t.header }
func (t rowsOf) Rows() [][]string {
	out := make([][]string, len(t.rows))
	for i, r := range t.rows {
		out[i] = make([]string, len(r))
		for j, c := range r {
			out[i][j] = mdLine(c)
		}
	}
	return out
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

// JUnit XML, as CI systems read it: one test suite per environment, one
// test case per check (https://github.com/testmoapp/junitxml documents the
// common format).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"timestamp,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, r *Report, failOn findings.Severity) error {
	doc := junitSuites{Name: "eksbg drift", Time: r.CheckedAt.UTC().Format(time.RFC3339)}
	for _, e := range r.Environments {
		s := junitSuite{Name: e.Environment}
		for _, p := range [][2]string{{"liveColor", e.LiveColor}, {"liveCluster", e.LiveCluster}, {"liveFrom", e.LiveFrom}} {
			if p[1] != "" {
				s.Properties = append(s.Properties, junitProperty{Name: p[0], Value: p[1]})
			}
		}
		for _, k := range Kinds() {
			c := junitCase{Name: string(k), ClassName: "drift." + e.Environment}
			var failing, other []string
			for _, f := range e.Findings {
				if kindOf(f) != k {
					continue
				}
				line := findingLine(f)
				if f.Severity >= failOn {
					failing = append(failing, line)
				} else {
					other = append(other, line)
				}
			}
			for _, sp := range e.Suppressed {
				if kindOf(sp.Finding) == k {
					other = append(other, fmt.Sprintf("ignored until %s (%s: %s): %s", sp.Expires, sp.Rule, sp.Reason, findingLine(sp.Finding)))
				}
			}
			var errs []string
			for _, ce := range e.Errors {
				if ce.Kind == k {
					errs = append(errs, ce.Error)
				}
			}
			switch {
			case len(errs) > 0:
				c.Error = &junitMessage{Message: fmt.Sprintf("the %s check failed", k), Type: "error", Text: strings.Join(errs, "\n")}
				s.Errors++
			case len(failing) > 0:
				c.Failure = &junitMessage{Message: plural(len(failing), "finding") + " to fix", Type: "drift", Text: strings.Join(failing, "\n")}
				s.Failures++
			default:
				for _, sk := range e.Skipped {
					if sk.Kind == k {
						c.Skipped = &junitMessage{Message: sk.Reason}
						s.Skipped++
					}
				}
			}
			if len(failing) > 0 && c.Failure == nil {
				other = append(failing, other...)
			}
			c.SystemOut = strings.Join(other, "\n")
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// findingLine is a finding on one line, without its environment.
func findingLine(f findings.Finding) string {
	where := f.Resource
	if f.Field != "" {
		where += " " + f.Field
	}
	return fmt.Sprintf("%s: %s: expected %s, actual %s; fix: %s", SeverityName(f.Severity), where, f.Expected, f.Actual, f.Fix)
}
