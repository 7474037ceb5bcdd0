package drift

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/eksbg/eksbg/internal/findings"
)

// Kind is the check a finding comes from.
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

// Severity says whether a finding is drift or a warning.
type Severity string

// Severities, from most to least serious.
const (
	// Drift is a difference between what runs and what should run.
	Drift Severity = "drift"
	// Warning is something to look at that is not (yet) drift: an upgrade
	// open for more than a day, green that would not fit tonight.
	Warning Severity = "warning"
)

// ParseSeverity reads "drift" or "warning".
func ParseSeverity(s string) (Severity, error) {
	switch Severity(s) {
	case Drift, Warning:
		return Severity(s), nil
	}
	return "", fmt.Errorf("unknown severity %q: use drift or warning", s)
}

// AtLeast reports whether s is as serious as t or more.
func (s Severity) AtLeast(t Severity) bool { return s == Drift || t == Warning }

// Finding is one difference between what runs and what should run.
type Finding struct {
	Environment string `json:"environment"`
	Kind        Kind   `json:"kind"`
	// Resource names what differs: a Terraform address, "cluster/NAME",
	// "nodegroup/CLUSTER/NAME", "addon/CLUSTER/NAME", a listener rule or
	// target group ARN, "application/NAMESPACE/NAME",
	// "secret/NAMESPACE/NAME", "az/ZONE", "subnet/ID", "quota/SERVICE/CODE",
	// "journal/ENV", "lock/ENV" (docs/drift.md lists them).
	Resource string `json:"resource"`
	// Field is the attribute of Resource that differs ("version",
	// "maxSize", "labels.team", "weights"); empty when the resource as a
	// whole is missing or extra.
	Field string `json:"field,omitempty"`
	// Expected is what eksbg.yaml, the eksctl config, the Terraform
	// configuration or the state backend say; Actual is what runs.
	Expected string   `json:"expected"`
	Actual   string   `json:"actual"`
	Severity Severity `json:"severity"`
	// Fix is the command to run or the file to change.
	Fix string `json:"fix"`
}

// String formats the finding on one line.
func (f Finding) String() string {
	where := f.Resource
	if f.Field != "" {
		where += " " + f.Field
	}
	return fmt.Sprintf("%s %s %s %s: expected %s, actual %s (fix: %s)", f.Environment, f.Severity, f.Kind, where, f.Expected, f.Actual, f.Fix)
}

// AsFinding converts f to the finding shape of eksbg plan and capacity
// (drift is findings.Fail, warning findings.Warn), for screens that show
// both.
func (f Finding) AsFinding() findings.Finding {
	sev := findings.Warn
	if f.Severity == Drift {
		sev = findings.Fail
	}
	obj := f.Resource
	if f.Field != "" {
		obj += " " + f.Field
	}
	return findings.Finding{Severity: sev, Check: "drift-" + string(f.Kind), Where: findings.Where{Object: obj},
		What: fmt.Sprintf("environment %s: expected %s, actual %s", f.Environment, f.Expected, f.Actual), Fix: f.Fix}
}

// compareFindings orders findings by kind, resource, field, then the rest,
// so that reports are stable.
func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.Environment, b.Environment),
		cmp.Compare(a.Kind.rank(), b.Kind.rank()),
		cmp.Compare(a.Resource, b.Resource),
		cmp.Compare(a.Field, b.Field),
		cmp.Compare(a.Severity, b.Severity),
		cmp.Compare(a.Expected, b.Expected),
		cmp.Compare(a.Actual, b.Actual),
	)
}

// Suppressed is a finding an ignore rule suppressed: it does not count
// toward the exit status, but it is listed.
type Suppressed struct {
	Finding
	// Reason and Expires are the rule's; Rule is where it is written
	// ("FILE:LINE").
	Reason  string `json:"reason"`
	Expires string `json:"expires"`
	Rule    string `json:"rule"`
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

// EnvResult is one environment's result.
type EnvResult struct {
	Environment string `json:"environment"`
	// LiveColor and LiveCluster are the color serving the environment and
	// its cluster; LiveFrom says how it was found: "state" (the state
	// backend's record) or "clusters" (no record: the color whose cluster
	// exists, blue if both do). All three are empty when neither is known.
	LiveColor   string `json:"liveColor,omitempty"`
	LiveCluster string `json:"liveCluster,omitempty"`
	LiveFrom    string `json:"liveFrom,omitempty"`
	// Findings are sorted by kind, resource and field.
	Findings   []Finding    `json:"findings"`
	Suppressed []Suppressed `json:"suppressed"`
	Errors     []CheckError `json:"errors"`
	Skipped    []Skipped    `json:"skipped"`
}

// Count returns how many findings have severity s.
func (e *EnvResult) Count(s Severity) int {
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
// worse: drift, or with failOn Warning also a warning.
func (r *Report) FailsOn(failOn Severity) bool {
	return r.Summary.Drift > 0 || (failOn == Warning && r.Summary.Warning > 0)
}

// ErrorSummary names every environment whose checks failed and why, on
// one line per check; "" when none did.
func (r *Report) ErrorSummary() string {
	s := ""
	for _, e := range r.Environments {
		for _, ce := range e.Errors {
			if s != "" {
				s += "\n"
			}
			s += fmt.Sprintf("environment %s: %s check: %s", e.Environment, ce.Kind, ce.Error)
		}
	}
	return s
}

// finish sorts the report and counts it.
func (r *Report) finish() {
	slices.SortFunc(r.Environments, func(a, b EnvResult) int { return cmp.Compare(a.Environment, b.Environment) })
	r.Summary = Summary{Environments: len(r.Environments)}
	for i := range r.Environments {
		e := &r.Environments[i]
		slices.SortFunc(e.Findings, compareFindings)
		e.Findings = slices.CompactFunc(e.Findings, func(a, b Finding) bool { return a == b })
		slices.SortFunc(e.Suppressed, func(a, b Suppressed) int { return compareFindings(a.Finding, b.Finding) })
		slices.SortFunc(e.Errors, func(a, b CheckError) int {
			return cmp.Or(cmp.Compare(a.Kind.rank(), b.Kind.rank()), cmp.Compare(a.Error, b.Error))
		})
		slices.SortFunc(e.Skipped, func(a, b Skipped) int { return cmp.Compare(a.Kind.rank(), b.Kind.rank()) })
		if e.Findings == nil {
			e.Findings = []Finding{}
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
		r.Summary.Drift += e.Count(Drift)
		r.Summary.Warning += e.Count(Warning)
		r.Summary.Suppressed += len(e.Suppressed)
		r.Summary.Errors += len(e.Errors)
	}
	r.Ignore.sort()
}
