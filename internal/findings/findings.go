// Package findings is the one shape every check of eksbg reports in: the
// derivation of a green cluster config, the removed-API check, the
// compatibility and capacity checks of `eksbg preflight` and `eksbg plan`,
// and the checks of `eksbg drift`. Each finding says how bad it is, what is
// wrong, where, and how to fix it; a finding that compares a resource with
// what it should be also says which resource, what was expected and what
// was found.
package findings

import (
	"cmp"
	"encoding"
	"fmt"
	"slices"
	"strings"
)

// Severity is how much a finding matters to the upgrade.
type Severity int

// Severities, from least to most serious. The zero value is Info.
const (
	// Info is worth knowing and needs nothing done.
	Info Severity = iota
	// Warn is something eksbg handled or can live with, but a person
	// should look at before approving.
	Warn
	// Fail blocks the upgrade until it is fixed.
	Fail
)

var severityNames = [...]string{Info: "info", Warn: "warn", Fail: "fail"}

// String returns "info", "warn" or "fail".
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

var (
	_ encoding.TextMarshaler   = Severity(0)
	_ encoding.TextUnmarshaler = (*Severity)(nil)
)

// MarshalText writes the severity's name, so JSON and YAML output read
// "fail" rather than 2.
func (s Severity) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(severityNames) {
		return nil, fmt.Errorf("marshalling severity: unknown severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	i := slices.Index(severityNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("unmarshalling severity: %q is none of %s", b, strings.Join(severityNames[:], ", "))
	}
	*s = Severity(i)
	return nil
}

// Where locates a finding. Every field is optional; fill in those known.
type Where struct {
	// App is the Argo CD Application the object belongs to.
	App string `json:"app,omitempty" yaml:"app,omitempty"`
	// Object names the object at fault: a Kubernetes object as
	// "apiVersion Kind namespace/name", or a field of a config file as its
	// path ("managedNodeGroups[0].amiFamily").
	Object string `json:"object,omitempty" yaml:"object,omitempty"`
	// File is the file the object comes from, with ":line" when known.
	File string `json:"file,omitempty" yaml:"file,omitempty"`
}

// String joins the known parts as "file: app: object".
func (w Where) String() string {
	var parts []string
	for _, p := range []string{w.File, w.App, w.Object} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ": ")
}

// Finding is one result of a check.
type Finding struct {
	Severity Severity `json:"severity" yaml:"severity"`
	// Check names the check that made the finding, short and stable, for
	// grouping and counting ("removed-api", "ami-family", "capacity",
	// and the drift check's kinds: "terraform", "cluster", ...).
	Check string `json:"check" yaml:"check"`
	// What says what is wrong, in a sentence. A finding that compares
	// (Expected and Actual) may leave it empty.
	What  string `json:"what" yaml:"what"`
	Where Where  `json:"where" yaml:"where"`
	// Fix says what to do about it; empty when nothing needs doing.
	Fix string `json:"fix,omitempty" yaml:"fix,omitempty"`

	// The fields below are for checks that compare what runs with what
	// should run (eksbg drift, and the capacity check for it); empty for
	// the others.

	// Environment is the eksbg.yaml environment the finding is about.
	Environment string `json:"environment,omitempty" yaml:"environment,omitempty"`
	// Resource names what differs: a Terraform address, "cluster/NAME",
	// "nodegroup/CLUSTER/NAME", "subnet/ID", "quota/SERVICE/CODE", ...
	// (docs/drift.md lists them).
	Resource string `json:"resource,omitempty" yaml:"resource,omitempty"`
	// Field is the attribute of Resource that differs ("version",
	// "maxSize"); empty when the resource as a whole is missing or extra.
	Field string `json:"field,omitempty" yaml:"field,omitempty"`
	// Expected is what the configuration says; Actual is what runs.
	Expected string `json:"expected,omitempty" yaml:"expected,omitempty"`
	Actual   string `json:"actual,omitempty" yaml:"actual,omitempty"`
}

// String formats the finding on one line: "fail removed-api: where: what
// (fix: ...)", where "where" starts with the environment and ends with the
// resource and field, and "what" is "expected E, actual A" for a finding
// that compares and says nothing else.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", f.Severity, f.Check)
	res := f.Resource
	if f.Field != "" {
		res = strings.TrimSpace(res + " " + f.Field)
	}
	for _, w := range []string{f.Environment, f.Where.String(), res} {
		if w != "" {
			b.WriteString(w)
			b.WriteString(": ")
		}
	}
	what := f.What
	if what == "" && (f.Expected != "" || f.Actual != "") {
		what = fmt.Sprintf("expected %s, actual %s", f.Expected, f.Actual)
	}
	b.WriteString(what)
	if f.Fix != "" {
		fmt.Fprintf(&b, " (fix: %s)", f.Fix)
	}
	return b.String()
}

// Blocking reports whether any finding has severity Fail.
func Blocking(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == Fail })
}

// Sort orders findings most serious first, then by check, place and text, so
// that reports are stable.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Where.File, b.Where.File),
			cmp.Compare(a.Where.App, b.Where.App),
			cmp.Compare(a.Where.Object, b.Where.Object),
			cmp.Compare(a.What, b.What),
			cmp.Compare(a.Environment, b.Environment),
			cmp.Compare(a.Resource, b.Resource),
			cmp.Compare(a.Field, b.Field),
		)
	})
}
