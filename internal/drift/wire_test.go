package drift

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/output"
)

// TestSeverityMapping checks the one severity scale against the names a
// drift report, its JSON and --fail-on use.
func TestSeverityMapping(t *testing.T) {
	for _, tc := range []struct {
		sev  findings.Severity
		name string
		// parses says whether name reads back as sev.
		parses bool
	}{
		{findings.Fail, "drift", true},
		{findings.Warn, "warning", true},
		{findings.Info, "info", false},
	} {
		if got := SeverityName(tc.sev); got != tc.name {
			t.Errorf("SeverityName(%s) = %q, want %q", tc.sev, got, tc.name)
		}
		got, err := ParseSeverity(tc.name)
		if tc.parses && (err != nil || got != tc.sev) {
			t.Errorf("ParseSeverity(%q) = %s, %v; want %s", tc.name, got, err, tc.sev)
		}
		if !tc.parses && err == nil {
			t.Errorf("ParseSeverity(%q) = %s, want an error: a drift finding is never %s", tc.name, got, tc.name)
		}
	}
	// The findings package's own names are not a drift report's.
	for _, name := range []string{"fail", "warn", "", "Drift"} {
		if s, err := ParseSeverity(name); err == nil {
			t.Errorf("ParseSeverity(%q) = %s, want an error", name, s)
		}
	}
	if !(findings.Fail > findings.Warn) {
		t.Error("drift (Fail) is more serious than a warning (Warn)")
	}
}

// TestFailsOn checks --fail-on drift and --fail-on warning on the one
// scale.
func TestFailsOn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sevs   []findings.Severity
		failOn findings.Severity
		want   bool
	}{
		{"nothing, --fail-on drift", nil, findings.Fail, false},
		{"nothing, --fail-on warning", nil, findings.Warn, false},
		{"a warning, --fail-on drift", []findings.Severity{findings.Warn}, findings.Fail, false},
		{"a warning, --fail-on warning", []findings.Severity{findings.Warn}, findings.Warn, true},
		{"drift, --fail-on drift", []findings.Severity{findings.Fail}, findings.Fail, true},
		{"drift, --fail-on warning", []findings.Severity{findings.Fail}, findings.Warn, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := EnvResult{Environment: "a"}
			for _, s := range tc.sevs {
				e.Findings = append(e.Findings, findings.Finding{Check: string(KindJournal), Resource: "journal/a", Severity: s})
			}
			r := &Report{Environments: []EnvResult{e}}
			r.finish()
			if got := r.FailsOn(tc.failOn); got != tc.want {
				t.Errorf("FailsOn(%s) = %v, want %v (summary %+v)", SeverityName(tc.failOn), got, tc.want, r.Summary)
			}
		})
	}
}

// TestReportJSONRoundTrip checks the wire shape: a report written as JSON
// reads back as the same report, and writes the same JSON again.
func TestReportJSONRoundTrip(t *testing.T) {
	r := sampleReport(t)
	var b bytes.Buffer
	if err := Write(&b, output.JSON, r, findings.Fail); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Environments, r.Environments) {
		t.Errorf("environments read back\n got  %+v\n want %+v", back.Environments, r.Environments)
	}
	if back.Summary != r.Summary || !back.CheckedAt.Equal(r.CheckedAt) || back.APIVersion != APIVersion || back.Kind != ReportKind {
		t.Errorf("read back %+v", back)
	}
	var again bytes.Buffer
	if err := Write(&again, output.JSON, &back, findings.Fail); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Errorf("written again:\n%s\nfirst:\n%s", again.Bytes(), b.Bytes())
	}
}

// TestOldReportJSON reads reports written before findings.Finding was the
// drift check's finding type: testdata/report.json (written by that
// version and never changed since) and the example of docs/drift.md.
func TestOldReportJSON(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	prod := r.Environments[0]
	if len(prod.Findings) != 6 || len(prod.Suppressed) != 1 || r.Summary.Drift != 4 || r.Summary.Warning != 2 {
		t.Fatalf("read %+v", r)
	}
	want := findings.Finding{Severity: findings.Fail, Check: "cluster", Environment: "prod", Resource: "nodegroup/prod-blue/general",
		Field: "maxSize", Expected: "9", Actual: "12", Fix: "eksctl scale nodegroup --cluster prod-blue --name general --nodes-min 3 --nodes-max 9"}
	if prod.Findings[1] != want {
		t.Errorf("finding 1:\n got  %+v\n want %+v", prod.Findings[1], want)
	}
	if f := prod.Findings[5]; f.Severity != findings.Warn || f.Check != string(KindJournal) {
		t.Errorf("finding 5: %+v", f)
	}
	if s := prod.Suppressed[0]; s.Severity != findings.Fail || s.Check != string(KindCluster) || s.Field != "labels.team" || s.Rule != ".eksbgignore:3" || s.Reason != "Karpenter trial, PLAT-123" {
		t.Errorf("suppressed: %+v", s)
	}
	var b bytes.Buffer
	if err := Write(&b, output.JSON, &r, findings.Fail); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), data) {
		t.Errorf("testdata/report.json read and written again differs:\n%s", b.Bytes())
	}

	// docs/drift.md's example, as a CI job may have kept it.
	doc := `{"environment": "prod", "liveColor": "blue", "liveCluster": "prod-blue", "liveFrom": "clusters",
	  "findings": [{"environment": "prod", "kind": "cluster", "resource": "nodegroup/prod-blue/general", "field": "maxSize",
	    "expected": "9", "actual": "12", "severity": "drift", "fix": "eksctl scale nodegroup --cluster prod-blue --name general --nodes-min 3 --nodes-max 9"}],
	  "suppressed": [{"environment": "prod", "kind": "cluster", "resource": "nodegroup/prod-blue/general", "field": "labels.team",
	    "expected": "(absent)", "actual": "payments", "severity": "drift", "fix": "eksctl unset labels ...",
	    "reason": "Karpenter trial, PLAT-123", "expires": "2026-03-31", "rule": ".eksbgignore:3"}],
	  "errors": [], "skipped": []}`
	var e EnvResult
	if err := json.Unmarshal([]byte(doc), &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Findings) != 1 || e.Findings[0] != want || e.LiveFrom != "clusters" ||
		len(e.Suppressed) != 1 || e.Suppressed[0].Finding != (findings.Finding{Severity: findings.Fail, Check: "cluster", Environment: "prod",
		Resource: "nodegroup/prod-blue/general", Field: "labels.team", Expected: "(absent)", Actual: "payments", Fix: "eksctl unset labels ..."}) {
		t.Errorf("docs/drift.md's example read as %+v", e)
	}
}

// TestWireFinding checks each finding's JSON: the contract's names, in its
// order, and the severities a drift report cannot have refused both ways.
func TestWireFinding(t *testing.T) {
	f := findings.Finding{Severity: findings.Warn, Check: string(KindCapacity), Environment: "prod", Resource: "subnet/subnet-1",
		Field: "freeAddresses", Expected: "9 free", Actual: "3 free", Fix: "add a subnet",
		// What and Where are not part of the drift report.
		What: "3 free addresses", Where: findings.Where{Object: "subnet subnet-1 (a)"}}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"finding", EnvResult{Environment: "prod", Findings: []findings.Finding{f}},
			`{"environment":"prod","findings":[{"environment":"prod","kind":"capacity","resource":"subnet/subnet-1","field":"freeAddresses","expected":"9 free","actual":"3 free","severity":"warning","fix":"add a subnet"}],"suppressed":null,"errors":null,"skipped":null}`},
		{"no field, empty lists", EnvResult{Environment: "e", Findings: []findings.Finding{{Severity: findings.Fail, Check: "terraform", Environment: "e", Resource: "aws_subnet.a"}},
			Suppressed: []Suppressed{}, Errors: []CheckError{}, Skipped: []Skipped{}},
			`{"environment":"e","findings":[{"environment":"e","kind":"terraform","resource":"aws_subnet.a","expected":"","actual":"","severity":"drift","fix":""}],"suppressed":[],"errors":[],"skipped":[]}`},
		{"suppressed", Suppressed{Finding: f, Reason: "r", Expires: "2026-01-01", Rule: "f:2"},
			`{"environment":"prod","kind":"capacity","resource":"subnet/subnet-1","field":"freeAddresses","expected":"9 free","actual":"3 free","severity":"warning","fix":"add a subnet","reason":"r","expires":"2026-01-01","rule":"f:2"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}

	info := f
	info.Severity = findings.Info
	if b, err := json.Marshal(EnvResult{Findings: []findings.Finding{info}}); err == nil {
		t.Errorf("an info finding marshalled as %s", b)
	}
	if b, err := json.Marshal(Suppressed{Finding: info}); err == nil {
		t.Errorf("an info finding marshalled as %s", b)
	}
	for _, sev := range []string{"fail", "warn", "info", ""} {
		var e EnvResult
		if err := json.Unmarshal([]byte(`{"findings":[{"kind":"cluster","resource":"x","severity":"`+sev+`"}]}`), &e); err == nil {
			t.Errorf("severity %q read as %+v", sev, e)
		}
		var s Suppressed
		if err := json.Unmarshal([]byte(`{"kind":"cluster","resource":"x","severity":"`+sev+`"}`), &s); err == nil {
			t.Errorf("severity %q read as %+v", sev, s)
		}
	}

	// YAML is made from the JSON: the same names.
	var b bytes.Buffer
	if err := output.Write(&b, output.YAML, &Report{Environments: []EnvResult{{Environment: "prod", Findings: []findings.Finding{f}}}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: capacity\n", "severity: warning\n", "resource: subnet/subnet-1\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("YAML lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "check:") || strings.Contains(b.String(), "what:") {
		t.Errorf("YAML has the findings package's names:\n%s", b.String())
	}
}
