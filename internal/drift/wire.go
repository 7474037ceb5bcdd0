package drift

import (
	"encoding/json"
	"fmt"

	"github.com/eksbg/eksbg/internal/findings"
)

// wireFinding is a finding as the drift report's JSON writes it.
//
// The wire shapes exist because the drift report's JSON (and YAML, which
// is made from it) is a contract that CI jobs read (docs/drift.md): fields
// are only ever added. It was written before the drift check's findings
// became findings.Finding, eksbg's one finding type, whose own JSON
// differs: severity "fail"/"warn" instead of "drift"/"warning", "check"
// instead of "kind", "what" and "where" besides, and no "environment",
// "expected" or "actual" when empty. EnvResult and Suppressed marshal
// their findings through wireFinding, and unmarshal reports written by any
// version of eksbg, so that the Go type can change and the JSON does not.
type wireFinding struct {
	Environment string `json:"environment"`
	Kind        Kind   `json:"kind"`
	Resource    string `json:"resource"`
	Field       string `json:"field,omitempty"`
	Expected    string `json:"expected"`
	Actual      string `json:"actual"`
	// Severity is "drift" or "warning".
	Severity string `json:"severity"`
	Fix      string `json:"fix"`
}

// wireSuppressed is a suppressed finding as the drift report's JSON
// writes it: the finding's fields, then the rule's.
type wireSuppressed struct {
	wireFinding
	Reason  string `json:"reason"`
	Expires string `json:"expires"`
	Rule    string `json:"rule"`
}

// wireEnvResult is an environment's result as the drift report's JSON
// writes it.
type wireEnvResult struct {
	Environment string           `json:"environment"`
	LiveColor   string           `json:"liveColor,omitempty"`
	LiveCluster string           `json:"liveCluster,omitempty"`
	LiveFrom    string           `json:"liveFrom,omitempty"`
	Findings    []wireFinding    `json:"findings"`
	Suppressed  []wireSuppressed `json:"suppressed"`
	Errors      []CheckError     `json:"errors"`
	Skipped     []Skipped        `json:"skipped"`
}

func toWire(f findings.Finding) (wireFinding, error) {
	sev, ok := severityNames[f.Severity]
	if !ok {
		return wireFinding{}, fmt.Errorf("marshalling a drift finding of %s: severity %s is neither %s nor %s",
			f.Resource, f.Severity, SeverityDrift, SeverityWarning)
	}
	return wireFinding{Environment: f.Environment, Kind: Kind(f.Check), Resource: f.Resource, Field: f.Field,
		Expected: f.Expected, Actual: f.Actual, Severity: sev, Fix: f.Fix}, nil
}

func fromWire(w wireFinding) (findings.Finding, error) {
	sev, err := ParseSeverity(w.Severity)
	if err != nil {
		return findings.Finding{}, fmt.Errorf("unmarshalling a drift finding of %s: %w", w.Resource, err)
	}
	return findings.Finding{Severity: sev, Check: string(w.Kind), Environment: w.Environment, Resource: w.Resource, Field: w.Field,
		Expected: w.Expected, Actual: w.Actual, Fix: w.Fix}, nil
}

func (s Suppressed) toWire() (wireSuppressed, error) {
	w, err := toWire(s.Finding)
	return wireSuppressed{wireFinding: w, Reason: s.Reason, Expires: s.Expires, Rule: s.Rule}, err
}

func (w wireSuppressed) fromWire() (Suppressed, error) {
	f, err := fromWire(w.wireFinding)
	return Suppressed{Finding: f, Reason: w.Reason, Expires: w.Expires, Rule: w.Rule}, err
}

var (
	_ json.Marshaler   = EnvResult{}
	_ json.Unmarshaler = (*EnvResult)(nil)
	_ json.Marshaler   = Suppressed{}
	_ json.Unmarshaler = (*Suppressed)(nil)
)

// MarshalJSON writes the suppressed finding in the documented form.
func (s Suppressed) MarshalJSON() ([]byte, error) {
	w, err := s.toWire()
	if err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a suppressed finding in the documented form.
func (s *Suppressed) UnmarshalJSON(b []byte) error {
	var w wireSuppressed
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	v, err := w.fromWire()
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalJSON writes the result in the documented form.
func (e EnvResult) MarshalJSON() ([]byte, error) {
	w := wireEnvResult{Environment: e.Environment, LiveColor: e.LiveColor, LiveCluster: e.LiveCluster, LiveFrom: e.LiveFrom,
		Errors: e.Errors, Skipped: e.Skipped}
	if e.Findings != nil {
		w.Findings = make([]wireFinding, 0, len(e.Findings))
	}
	for _, f := range e.Findings {
		wf, err := toWire(f)
		if err != nil {
			return nil, err
		}
		w.Findings = append(w.Findings, wf)
	}
	if e.Suppressed != nil {
		w.Suppressed = make([]wireSuppressed, 0, len(e.Suppressed))
	}
	for _, s := range e.Suppressed {
		ws, err := s.toWire()
		if err != nil {
			return nil, err
		}
		w.Suppressed = append(w.Suppressed, ws)
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a result in the documented form.
func (e *EnvResult) UnmarshalJSON(b []byte) error {
	var w wireEnvResult
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	v := EnvResult{Environment: w.Environment, LiveColor: w.LiveColor, LiveCluster: w.LiveCluster, LiveFrom: w.LiveFrom,
		Errors: w.Errors, Skipped: w.Skipped}
	if w.Findings != nil {
		v.Findings = make([]findings.Finding, 0, len(w.Findings))
	}
	for _, wf := range w.Findings {
		f, err := fromWire(wf)
		if err != nil {
			return err
		}
		v.Findings = append(v.Findings, f)
	}
	if w.Suppressed != nil {
		v.Suppressed = make([]Suppressed, 0, len(w.Suppressed))
	}
	for _, ws := range w.Suppressed {
		s, err := ws.fromWire()
		if err != nil {
			return err
		}
		v.Suppressed = append(v.Suppressed, s)
	}
	*e = v
	return nil
}
