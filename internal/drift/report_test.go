package drift

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/output"
	"github.com/eksbg/eksbg/internal/yamlstrict"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var t0 = time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)

const sampleIgnore = `# accepted drift
ignore:
  - environment: prod
    kind: cluster
    resource: nodegroup/prod-blue/*
    field: labels.*
    reason: Karpenter trial, PLAT-123
    expires: 2026-03-31
  - resource: quota/ec2/*
    reason: raise requested, case 4711
    expires: 2026-02-28
  - environment: staging
    resource: terraform_data.*
    reason: nothing matches this
    expires: 2026-12-31
`

// sampleReport is a report with every part a report can have: each
// check's findings, one suppressed, one expired and one unused ignore
// rule, a failed check and skipped checks.
func sampleReport(t *testing.T) *Report {
	t.Helper()
	ign, err := ParseIgnore(".eksbgignore", []byte(sampleIgnore))
	if err != nil {
		t.Fatal(err)
	}
	rule := "arn:aws:elasticloadbalancing:eu-west-1:444455556666:listener-rule/app/prod-web/6d0ecf831eec9f09/a0c6e51f7b8e36f6/3b5e1d3c9a2f4e71"
	r := &Report{APIVersion: APIVersion, Kind: ReportKind, CheckedAt: t0, Environments: []EnvResult{
		{Environment: "staging", LiveColor: "green", LiveCluster: "staging-green", LiveFrom: "state",
			Errors:  []CheckError{{Kind: KindArgoCD, Error: "reaching the Argo CD management cluster: connection refused"}},
			Skipped: []Skipped{{Kind: KindCapacity, Reason: "both staging-blue and staging-green exist: the next color is already built"}}},
		{Environment: "prod", LiveColor: "blue", LiveCluster: "prod-blue", LiveFrom: "clusters", Findings: []findings.Finding{
			{Check: string(KindJournal), Resource: "journal/prod", Field: "endedAt", Expected: "no upgrade open for more than 24h",
				Actual: "upgrade u1 from prod-blue (1.32) to prod-green (1.33) open since 2026-02-28T10:00:00Z (2d17h)", Severity: findings.Warn,
				Fix: "eksbg upgrade --env prod --to 1.33  # resumes it from the journal; or end it: eksbg rollback --env prod"},
			{Check: string(KindTraffic), Resource: rule, Field: "weights", Expected: "blue 100, green 0 (blue is live: the cluster that exists)",
				Actual: "blue 50, green 50", Severity: findings.Fail, Fix: "eksbg rollback --env prod  # upgrade u1 is open"},
			{Check: string(KindCluster), Resource: "nodegroup/prod-blue/general", Field: "maxSize", Expected: "9", Actual: "12", Severity: findings.Fail,
				Fix: "eksctl scale nodegroup --cluster prod-blue --name general --nodes-min 3 --nodes-max 9"},
			{Check: string(KindCluster), Resource: "nodegroup/prod-blue/general", Field: "labels.team", Expected: "(absent)", Actual: "payments", Severity: findings.Fail,
				Fix: "eksctl unset labels --cluster prod-blue --nodegroup general --labels team  # or add the label to clusters/prod.yaml"},
			{Check: string(KindTerraform), Resource: "module.net.aws_subnet.nodes[\"a\"]", Expected: "no change: the workspace's state matches its configuration",
				Actual: "plan would update (changed outside Terraform)", Severity: findings.Fail,
				Fix: "terraform -chdir=network workspace select prod && terraform -chdir=network apply  # review the plan before approving it"},
			{Check: string(KindArgoCD), Resource: "secret/argocd/cluster-prod-green", Expected: "no cluster secret: cluster prod-green does not exist",
				Actual: "registers prod-green (https://ABC.gr7.eu-west-1.eks.amazonaws.com)", Severity: findings.Fail,
				Fix: "kubectl -n argocd delete secret cluster-prod-green  # on the Argo CD management cluster mgmt"},
			{Check: string(KindCapacity), Resource: "quota/ec2/L-1216C47A", Field: "limit", Expected: "at least 80 (64 used + 16 for green)", Actual: "64", Severity: findings.Warn,
				Fix: "request an increase of L-1216C47A to 96"},
		}},
	}}
	for i := range r.Environments {
		for j := range r.Environments[i].Findings {
			r.Environments[i].Findings[j].Environment = r.Environments[i].Environment
		}
	}
	ign.apply(r, t0)
	r.finish()
	return r
}

// TestReportGolden renders the sample report in every format against
// testdata/report.* (go test -run TestReportGolden -update rewrites them).
func TestReportGolden(t *testing.T) {
	r := sampleReport(t)
	for _, tc := range []struct {
		file   string
		format output.Format
		failOn findings.Severity
	}{
		{"report.txt", output.Table, findings.Fail},
		{"report.md", output.Markdown, findings.Fail},
		{"report.json", output.JSON, findings.Fail},
		{"report.junit.xml", JUnit, findings.Fail},
		{"report.fail-on-warning.junit.xml", JUnit, findings.Warn},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, tc.format, r, tc.failOn); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", tc.file), b.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update if the change is right):\n--- got\n%s", path, got)
	}
}

// TestReportCounts checks the summary, the exit decision and the
// ignore rules' bookkeeping of the sample.
func TestReportCounts(t *testing.T) {
	r := sampleReport(t)
	if want := (Summary{Environments: 2, Drift: 4, Warning: 2, Suppressed: 1, Errors: 1}); r.Summary != want {
		t.Errorf("summary %+v, want %+v", r.Summary, want)
	}
	if !r.Failed() || !r.FailsOn(findings.Fail) || !r.FailsOn(findings.Warn) {
		t.Error("the sample fails on errors, drift and warnings")
	}
	if r.Environments[0].Environment != "prod" || r.Environments[1].Environment != "staging" {
		t.Error("environments are sorted by name")
	}
	var kinds []Kind
	for _, f := range r.Environments[0].Findings {
		kinds = append(kinds, Kind(f.Check))
	}
	if want := []Kind{KindTerraform, KindCluster, KindTraffic, KindArgoCD, KindCapacity, KindJournal}; !slices.Equal(kinds, want) {
		t.Errorf("findings in kind order: %v, want %v", kinds, want)
	}
	sup := r.Environments[0].Suppressed
	if len(sup) != 1 || sup[0].Field != "labels.team" || sup[0].Rule != ".eksbgignore:3" || sup[0].Reason != "Karpenter trial, PLAT-123" {
		t.Errorf("suppressed %+v", sup)
	}
	if len(r.Ignore.Expired) != 1 || r.Ignore.Expired[0].Source != ".eksbgignore:9" ||
		len(r.Ignore.Unused) != 1 || r.Ignore.Unused[0].Source != ".eksbgignore:12" || r.Ignore.Rules != 3 {
		t.Errorf("ignore summary %+v", r.Ignore)
	}
	if got := r.ErrorSummary(); got != "environment staging: argocd check: reaching the Argo CD management cluster: connection refused" {
		t.Errorf("error summary %q", got)
	}

	clean := &Report{Environments: []EnvResult{{Environment: "a"}, {Environment: "b"}}}
	clean.finish()
	if clean.Failed() || clean.FailsOn(findings.Warn) || clean.Headline() != "No drift in 2 environments." {
		t.Errorf("clean report: %+v %q", clean.Summary, clean.Headline())
	}
	warnOnly := &Report{Environments: []EnvResult{{Environment: "a", Findings: []findings.Finding{{Check: string(KindJournal), Severity: findings.Warn}}}}}
	warnOnly.finish()
	if warnOnly.FailsOn(findings.Fail) || !warnOnly.FailsOn(findings.Warn) || warnOnly.Headline() != "0 drift, 1 warning in 1 environment." {
		t.Errorf("warning only: %q", warnOnly.Headline())
	}
}

// TestErrorSummary checks that each check's error is whole in the
// summary: one line when it is one line, else under its environment and
// check with its lines indented, in their order.
func TestErrorSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		envs []EnvResult
		want string
	}{
		{"none", []EnvResult{{Environment: "a"}}, ""},
		{"one line each", []EnvResult{
			{Environment: "a", Errors: []CheckError{{Kind: KindTerraform, Error: "terraform not found"}, {Kind: KindArgoCD, Error: "connection refused\n"}}},
			{Environment: "b", Errors: []CheckError{{Kind: KindCluster, Error: "AccessDenied"}}},
		}, "environment a: terraform check: terraform not found\nenvironment a: argocd check: connection refused\nenvironment b: cluster check: AccessDenied"},
		{"several lines", []EnvResult{
			{Environment: "a", Errors: []CheckError{{Kind: KindTerraform, Error: "terraform init: exit status 1\n\nError: Unsupported backend type\n  \n  on main.tf line 2:\n"},
				{Kind: KindJournal, Error: "reading the journal: denied"}}},
		}, "environment a: terraform check:\n  terraform init: exit status 1\n\n  Error: Unsupported backend type\n\n    on main.tf line 2:\nenvironment a: journal check: reading the journal: denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Environments: tc.envs}
			if got := r.ErrorSummary(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestReportJSONShape pins the JSON field names docs/drift.md documents.
func TestReportJSONShape(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, output.JSON, sampleReport(t), findings.Fail); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(what string, m any, want ...string) {
		t.Helper()
		var got []string
		for k := range m.(map[string]any) {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s keys %v, want %v", what, got, want)
		}
	}
	keys("report", doc, "apiVersion", "kind", "checkedAt", "strict", "summary", "environments", "ignore")
	keys("summary", doc["summary"], "environments", "drift", "warning", "suppressed", "errors")
	env := doc["environments"].([]any)[0]
	keys("environment", env, "environment", "liveColor", "liveCluster", "liveFrom", "findings", "suppressed", "errors", "skipped")
	keys("finding", env.(map[string]any)["findings"].([]any)[0], "environment", "kind", "resource", "expected", "actual", "severity", "fix")
	keys("finding with field", env.(map[string]any)["findings"].([]any)[1], "environment", "kind", "resource", "field", "expected", "actual", "severity", "fix")
	keys("suppressed", env.(map[string]any)["suppressed"].([]any)[0], "environment", "kind", "resource", "field", "expected", "actual", "severity", "fix",
		"reason", "expires", "rule")
	keys("error", doc["environments"].([]any)[1].(map[string]any)["errors"].([]any)[0], "kind", "error")
	keys("ignore", doc["ignore"], "file", "rules", "expired", "unused")
	keys("ignore rule", doc["ignore"].(map[string]any)["expired"].([]any)[0], "resource", "reason", "expires", "rule")
}

// TestJUnitShape reads the JUnit output back: one suite per environment,
// one case per check, failures only for findings at --fail-on.
func TestJUnitShape(t *testing.T) {
	for _, tc := range []struct {
		failOn   findings.Severity
		failures int
	}{{findings.Fail, 4}, {findings.Warn, 6}} {
		var b bytes.Buffer
		if err := Write(&b, JUnit, sampleReport(t), tc.failOn); err != nil {
			t.Fatal(err)
		}
		var doc junitSuites
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Suites) != 2 || doc.Tests != 12 || doc.Failures != tc.failures || doc.Errors != 1 || doc.Skipped != 1 {
			t.Errorf("--fail-on %s: %d suites, tests %d, failures %d, errors %d, skipped %d", tc.failOn, len(doc.Suites), doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
		}
		prod := doc.Suites[0]
		if prod.Name != "prod" || prod.Cases[1].Name != "cluster" || prod.Cases[1].Failure == nil || !strings.Contains(prod.Cases[1].Failure.Text, "maxSize: expected 9, actual 12") {
			t.Errorf("prod's cluster case: %+v", prod.Cases[1])
		}
		if !strings.Contains(prod.Cases[1].SystemOut, "ignored until 2026-03-31") {
			t.Errorf("suppressed findings are in the case's output: %q", prod.Cases[1].SystemOut)
		}
		journal := prod.Cases[5]
		if (journal.Failure != nil) != (tc.failOn == findings.Warn) || !strings.Contains(journal.SystemOut+textOf(journal.Failure), "upgrade u1") {
			t.Errorf("--fail-on %s: journal case %+v", tc.failOn, journal)
		}
	}
}

func textOf(m *junitMessage) string {
	if m == nil {
		return ""
	}
	return m.Text
}

// TestParseIgnore checks the ignore file's rules: required fields, dates,
// kinds, unknown keys, each with its line.
func TestParseIgnore(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		errs      []string
	}{
		{"fine", sampleIgnore, nil},
		{"empty list", "ignore: []\n", nil},
		{"missing reason and expiry", "ignore:\n  - resource: a\n", []string{
			"f:2:5: ignore[0].reason: is required: say why this drift is accepted (a ticket, who agreed)",
			"f:2:5: ignore[0].expires: is required: the last day (YYYY-MM-DD) the rule applies"}},
		{"bad date and kind", "ignore:\n  - resource: a\n    kind: nodes\n    reason: r\n    expires: 31/03/2026\n", []string{
			`f:3:11: ignore[0].kind: is "nodes"; use one of terraform, cluster, traffic, argocd, capacity, journal`,
			`f:5:14: ignore[0].expires: is "31/03/2026", not a date YYYY-MM-DD`}},
		{"no resource", "ignore:\n  - reason: r\n    expires: 2026-01-01\n", []string{
			"f:2:5: ignore[0].resource: is required: the resource to ignore (a glob, such as nodegroup/prod-blue/*)"}},
		{"unknown key", "ignore:\n  - resource: a\n    reason: r\n    expires: 2026-01-01\n    until: 2026-02-01\n", []string{`f:5:5: ignore[0].until: unknown field "until"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIgnore("f", []byte(tc.doc))
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			es, ok := err.(yamlstrict.Errors)
			if !ok || len(es) != len(tc.errs) {
				t.Fatalf("errors %v, want %v", err, tc.errs)
			}
			for i, e := range es {
				if !strings.HasPrefix(e.Error(), tc.errs[i]) {
					t.Errorf("error %d: %q, want %q", i, e.Error(), tc.errs[i])
				}
			}
		})
	}
}

// TestIgnoreMatching checks globs and expiry.
func TestIgnoreMatching(t *testing.T) {
	f, err := ParseIgnore("f", []byte(sampleIgnore))
	if err != nil {
		t.Fatal(err)
	}
	ng := findings.Finding{Environment: "prod", Check: string(KindCluster), Resource: "nodegroup/prod-blue/general", Field: "labels.team"}
	for _, tc := range []struct {
		f    findings.Finding
		rule int // index of the matching rule, -1 for none
	}{
		{ng, 0},
		{findings.Finding{Environment: "prod", Check: string(KindCluster), Resource: "nodegroup/prod-blue/general", Field: "maxSize"}, -1},
		{findings.Finding{Environment: "staging", Check: string(KindCluster), Resource: "nodegroup/prod-blue/general", Field: "labels.team"}, -1},
		{findings.Finding{Environment: "prod", Check: string(KindTraffic), Resource: "nodegroup/prod-blue/general", Field: "labels.team"}, -1},
		{findings.Finding{Environment: "any", Check: string(KindCapacity), Resource: "quota/ec2/L-1216C47A", Field: "limit"}, 1},
		{findings.Finding{Environment: "staging", Check: string(KindTerraform), Resource: "terraform_data.subnets"}, 2},
	} {
		got := -1
		for i, r := range f.Rules {
			if r.matches(tc.f) {
				got = i
				break
			}
		}
		if got != tc.rule {
			t.Errorf("%+v: rule %d, want %d", tc.f, got, tc.rule)
		}
	}
	// A rule applies through its expiry day (UTC), not after.
	r := f.Rules[0]
	if r.expired(time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC)) || !r.expired(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("expiry is the end of the expiry day")
	}
}
