package drift

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/findings"
)

// Kind is one of the drift check's checks; a drift finding's Check is its
// Kind (string(KindCluster), ...).
type Kind string

// The checks, in the order reports list them.
const (
	KindTerraform Kind = "terraform"
	KindCluster   Kind = "cluster"
	KindTraffic   Kind = "traffic"
	KindArgoCD    Kind = "argocd"
	KindCapacity  Kind = "capacity"
	KindJournal   Kind = "journal"
)

// Kinds returns every check, in report order.
func Kinds() []Kind {
	return []Kind{KindTerraform, KindCluster, KindTraffic, KindArgoCD, KindCapacity, KindJournal}
}

func (k Kind) rank() int {
	if i := slices.Index(Kinds(), k); i >= 0 {
		return i
	}
	return len(Kinds())
}

// The names of the severities in a drift report, its JSON and --fail-on.
const (
	// SeverityDrift names findings.Fail: a difference between what runs
	// and what should run.
	SeverityDrift = "drift"
	// SeverityWarning names findings.Warn: something to look at that is
	// not (yet) drift.
	SeverityWarning = "warning"
)

// severityNames are the severities a drift finding can have, by name.
var severityNames = map[findings.Severity]string{findings.Fail: SeverityDrift, findings.Warn: SeverityWarning}

// SeverityName is the name a drift report gives a severity: "drift" for
// findings.Fail, "warning" for findings.Warn. Any other (the drift check
// makes none) keeps its findings name.
func SeverityName(s findings.Severity) string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return s.String()
}

// ParseSeverity reads "drift" (findings.Fail) or "warning" (findings.Warn),
// as --fail-on and the report's JSON write them.
func ParseSeverity(name string) (findings.Severity, error) {
	for s, n := range severityNames {
		if n == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: use %s or %s", name, SeverityDrift, SeverityWarning)
}

// kindOf is the check a finding comes from.
func kindOf(f findings.Finding) Kind { return Kind(f.Check) }

// compareFindings orders findings by kind, resource, field, then the rest
// (drift before warnings), so that reports are stable.
func compareFindings(a, b findings.Finding) int {
	return cmp.Or(
		cmp.Compare(a.Environment, b.Environment),
		cmp.Compare(kindOf(a).rank(), kindOf(b).rank()),
		cmp.Compare(a.Resource, b.Resource),
		cmp.Compare(a.Field, b.Field),
		cmp.Compare(b.Severity, a.Severity),
		cmp.Compare(a.Expected, b.Expected),
		cmp.Compare(a.Actual, b.Actual),
	)
}

// Suppressed is a finding an ignore rule suppressed: it does not count
// toward the exit status, but it is listed. Its JSON form is the finding's
// (wire.go) with the rule's fields.
type Suppressed struct {
	findings.Finding
	// Reason and Expires are the rule's; Rule is where it is written
	// ("FILE:LINE").
	Reason  string
	Expires string
	Rule    string
}

// CheckError is a check that could not run for an environment.
type CheckError struct {
	Kind  Kind   `json:"kind"`
	Error string `json:"error"`
}

// Skipped is a check that had nothing to look at (no live cluster, for
// example), with why.
type Skipped struct {
	Kind   Kind   `json:"kind"`
	Reason string `json:"reason"`
}

// EnvResult is one environment's result. Its JSON form is wireEnvResult
// (wire.go), the documented contract.
type EnvResult struct {
	Environment string
	// LiveColor and LiveCluster are the color serving the environment and
	// its cluster, as config.Environment.LiveColor answers for plan and
	// upgrade too; LiveFrom says how it was found: "state" (the state
	// backend's record) or "config" (no record: the color of the cluster
	// the environment's eksctl config names). All three are empty when the
	// live color is unknown (the state backend or the eksctl config could
	// not be read, or the config names neither color's cluster: the checks
	// that need it say why). Reports of older versions may say "clusters"
	// (the color whose cluster existed, blue if both did).
	LiveColor   string
	LiveCluster string
	LiveFrom    string
	// Findings are sorted by kind, resource and field.
	Findings   []findings.Finding
	Suppressed []Suppressed
	Errors     []CheckError
	Skipped    []Skipped
}

// Count returns how many findings have severity s.
func (e *EnvResult) Count(s findings.Severity) int {
	n := 0
	for _, f := range e.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Summary counts a report's results.
type Summary struct {
	Environments int `json:"environments"`
	Drift        int `json:"drift"`
	Warning      int `json:"warning"`
	Suppressed   int `json:"suppressed"`
	Errors       int `json:"errors"`
}

// Report is the result of a drift check. Its JSON form is a contract
// (docs/drift.md): fields are only ever added.
type Report struct {
	// APIVersion and Kind identify the document: eksbg.io/v1alpha1, DriftReport.
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	CheckedAt  time.Time `json:"checkedAt"`
	// Strict is set when desired sizes were compared too (--strict).
	Strict       bool        `json:"strict"`
	Summary      Summary     `json:"summary"`
	Environments []EnvResult `json:"environments"`
	// Ignore lists the ignore file's rules that no longer suppress
	// anything, so that no suppression is ever silent.
	Ignore IgnoreSummary `json:"ignore"`
}

// Report identification.
const (
	APIVersion = "eksbg.io/v1alpha1"
	ReportKind = "DriftReport"
)

// Failed reports whether any check could not run.
func (r *Report) Failed() bool { return r.Summary.Errors > 0 }

// FailsOn reports whether the report has a finding of severity failOn or
// worse: drift (findings.Fail), or with failOn findings.Warn also a
// warning.
func (r *Report) FailsOn(failOn findings.Severity) bool {
	return r.Summary.Drift > 0 || (failOn <= findings.Warn && r.Summary.Warning > 0)
}

// ErrorSummary names every environment whose checks failed and why, in
// report order; "" when none did. A one-line error is one line,
// "environment E: K check: ERROR"; a longer one (Terraform's, with its
// stderr) is printed whole under "environment E: K check:", each of its
// lines indented by two spaces, so that it reads as it was written.
func (r *Report) ErrorSummary() string {
	var b strings.Builder
	for _, e := range r.Environments {
		for _, ce := range e.Errors {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "environment %s: %s check:", e.Environment, ce.Kind)
			msg := strings.TrimRight(ce.Error, "\n")
			if !strings.Contains(msg, "\n") {
				b.WriteString(" " + msg)
				continue
			}
			for _, line := range strings.Split(msg, "\n") {
				b.WriteString("\n")
				if strings.TrimSpace(line) != "" {
					b.WriteString("  " + line)
				}
			}
		}
	}
	return b.String()
}

// finish sorts the report and counts it.
func (r *Report) finish() {
	slices.SortFunc(r.Environments, func(a, b EnvResult) int { return cmp.Compare(a.Environment, b.Environment) })
	r.Summary = Summary{Environments: len(r.Environments)}
	for i := range r.Environments {
		e := &r.Environments[i]
		slices.SortFunc(e.Findings, compareFindings)
		e.Findings = slices.CompactFunc(e.Findings, func(a, b findings.Finding) bool { return a == b })
		slices.SortFunc(e.Suppressed, func(a, b Suppressed) int { return compareFindings(a.Finding, b.Finding) })
		slices.SortFunc(e.Errors, func(a, b CheckError) int {
			return cmp.Or(cmp.Compare(a.Kind.rank(), b.Kind.rank()), cmp.Compare(a.Error, b.Error))
		})
		slices.SortFunc(e.Skipped, func(a, b Skipped) int { return cmp.Compare(a.Kind.rank(), b.Kind.rank()) })
		if e.Findings == nil {
			e.Findings = []findings.Finding{}
		}
		if e.Suppressed == nil {
			e.Suppressed = []Suppressed{}
		}
		if e.Errors == nil {
			e.Errors = []CheckError{}
		}
		if e.Skipped == nil {
			e.Skipped = []Skipped{}
		}
		r.Summary.Drift += e.Count(findings.Fail)
		r.Summary.Warning += e.Count(findings.Warn)
		r.Summary.Suppressed += len(e.Suppressed)
		r.Summary.Errors += len(e.Errors)
	}
	r.Ignore.sort()
}
