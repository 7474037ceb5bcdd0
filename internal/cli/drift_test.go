package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/internal/drift/drifttest"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/upgrade/journal"
)

// TestDriftCommand runs `eksbg drift` against the sandbox (two
// environments: demo, and shop with both colors), with drift introduced
// from outside eksbg: the exit codes, --fail-on, the ignore file, a broken
// environment, and the JSON and JUnit forms CI reads.
func TestDriftCommand(t *testing.T) {
	sb := drifttest.Start(t, nil)
	sb.SetAWSEnv(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // terraform's data directories
	cfg := sb.Config

	// Clean: exit 0, every environment in the JSON.
	out, stderr, code := run(t, "drift", "--config", cfg, "--all", "-o", "json")
	if code != ExitOK || stderr != "" {
		t.Fatalf("clean sandbox: exit %d, stderr %q\n%s", code, stderr, out)
	}
	var rep drift.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Kind != drift.ReportKind || len(rep.Environments) != 2 || rep.Summary.Drift+rep.Summary.Warning+rep.Summary.Errors != 0 {
		t.Fatalf("clean report: %s", out)
	}
	if out, _, code := run(t, "drift", "--config", cfg, "--env", "demo"); code != ExitOK || !strings.HasPrefix(out, "No drift in 1 environment.") {
		t.Errorf("clean table: exit %d\n%s", code, out)
	}

	// An upgrade left open for two days: a warning, which fails only with
	// --fail-on warning.
	p, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := journal.ForEnvironment(p.Environments[0].State, p.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	j := &journal.Journal{ID: "up-7", Environment: "demo", From: journal.ClusterRef{Name: "demo-blue", Color: "blue", Version: "1.32"},
		To: journal.ClusterRef{Name: "demo-green", Color: "green", Version: "1.33"}, StartedAt: time.Now().Add(-48 * time.Hour)}
	if err := b.SaveJournal(context.Background(), "demo", j); err != nil {
		t.Fatal(err)
	}
	if out, stderr, code := run(t, "drift", "--config", cfg, "--env", "demo"); code != ExitOK || stderr != "" || !strings.Contains(out, "journal/demo") {
		t.Errorf("a warning without --fail-on warning: exit %d, stderr %q\n%s", code, stderr, out)
	}
	if out, stderr, code := run(t, "drift", "--config", cfg, "--env", "demo", "--fail-on", "warning"); code != ExitFindings || stderr != "" {
		t.Errorf("a warning with --fail-on warning: exit %d, stderr %q\n%s", code, stderr, out)
	}

	// Traffic abandoned at 50/50 (aws elbv2 modify-rule): drift, exit 2.
	rule := p.Environments[0].Traffic.ListenerRules[0]
	sb.Shell(t, fmt.Sprintf(`aws elbv2 modify-rule --rule-arn %s --actions '[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"%s","Weight":50},{"TargetGroupArn":"%s","Weight":50}]}}]'`,
		rule.ARN, rule.TargetGroups.Blue, rule.TargetGroups.Green))
	out, stderr, code = run(t, "drift", "--config", cfg, "--all")
	if code != ExitFindings || stderr != "" || !strings.Contains(out, "blue 50, green 50") || !strings.Contains(out, "1 drift, 1 warning in 2 environments.") {
		t.Fatalf("50/50: exit %d, stderr %q\n%s", code, stderr, out)
	}

	// JUnit: one suite per environment, demo's traffic case failing.
	out, _, code = run(t, "drift", "--config", cfg, "--all", "-o", "junit")
	var suites struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil || code != ExitFindings {
		t.Fatalf("junit: exit %d, %v\n%s", code, err, out)
	}
	if len(suites.Suites) != 2 || suites.Failures != 1 || suites.Suites[0].Name != "demo" || len(suites.Suites[0].Cases) != 6 ||
		suites.Suites[0].Cases[2].Name != "traffic" || suites.Suites[0].Cases[2].Failure == nil ||
		!strings.Contains(suites.Suites[0].Cases[2].Failure.Text, rule.ARN) || suites.Suites[0].Cases[5].Failure != nil {
		t.Errorf("junit:\n%s", out)
	}

	// The ignore file beside eksbg.yaml suppresses it, and says so.
	ignore := filepath.Join(filepath.Dir(cfg), drift.IgnoreFileName)
	write := func(s string) {
		if err := os.WriteFile(ignore, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf("ignore:\n  - environment: demo\n    kind: traffic\n    resource: %s\n    reason: canary until the load test ends (OPS-42)\n    expires: %s\n",
		rule.ARN, time.Now().AddDate(0, 0, 7).Format("2006-01-02")))
	out, stderr, code = run(t, "drift", "--config", cfg, "--all", "-o", "json")
	if code != ExitOK || stderr != "" {
		t.Fatalf("ignored: exit %d, stderr %q\n%s", code, stderr, out)
	}
	rep = drift.Report{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if s := rep.Environments[0].Suppressed; len(s) != 1 || s[0].Reason != "canary until the load test ends (OPS-42)" || s[0].Rule != ignore+":2" || rep.Summary.Suppressed != 1 {
		t.Errorf("suppressed: %+v", rep.Environments[0].Suppressed)
	}
	if out, _, _ := run(t, "drift", "--config", cfg, "--all"); !strings.Contains(out, "ignored until") || !strings.Contains(out, "OPS-42") {
		t.Errorf("the table does not list the suppressed finding:\n%s", out)
	}
	// Expired, it suppresses nothing and is listed.
	write(fmt.Sprintf("ignore:\n  - resource: %s\n    reason: canary (OPS-42)\n    expires: 2020-01-31\n", rule.ARN))
	if out, _, code := run(t, "drift", "--config", cfg, "--all"); code != ExitFindings || !strings.Contains(out, "expired on 2020-01-31") {
		t.Errorf("expired rule: exit %d\n%s", code, out)
	}
	// Without a reason, the file is refused with its line.
	write("ignore:\n  - resource: x\n    expires: 2030-01-01\n")
	if _, stderr, code := run(t, "drift", "--config", cfg, "--all"); code != ExitError || !strings.Contains(stderr, drift.IgnoreFileName+":2:5: ignore[0].reason: is required") {
		t.Errorf("rule without a reason: exit %d, stderr %q", code, stderr)
	}
	// --ignore-file names a file that must exist.
	if _, stderr, code := run(t, "drift", "--config", cfg, "--all", "--ignore-file", filepath.Join(t.TempDir(), "none")); code != ExitError || !strings.Contains(stderr, "reading the ignore file") {
		t.Errorf("missing --ignore-file: exit %d, stderr %q", code, stderr)
	}
	if err := os.Remove(ignore); err != nil {
		t.Fatal(err)
	}

	// A third environment whose Terraform stack does not init: exit 1,
	// naming it, and the others' findings are still in the report.
	broken := filepath.Join(filepath.Dir(cfg), "broken-network")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "main.tf"), []byte("terraform {\n  backend \"nowhere\" {}\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env := string(data)[strings.Index(string(data), "  - name: demo\n"):strings.Index(string(data), "  - name: shop\n")]
	// Its own eksctl config, naming broken-blue: with no record in the
	// state backend, that is its live cluster (which does not exist).
	sb.CopyEksctlConfig(t, "demo", "broken-blue")
	env = strings.NewReplacer("name: demo", "name: broken", "dir: network", "dir: broken-network", "clusters/demo.yaml", "clusters/broken-blue.yaml").Replace(env)
	if err := os.WriteFile(cfg, append(data, env...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = run(t, "drift", "--config", cfg, "--all", "-o", "json")
	if code != ExitError || !strings.Contains(stderr, "environment broken: terraform check:") || !strings.Contains(stderr, "nowhere") {
		t.Fatalf("broken environment: exit %d, stderr %q", code, stderr)
	}
	rep = drift.Report{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Environments) != 3 || rep.Summary.Errors != 1 || rep.Environments[1].Environment != "demo" || rep.Environments[1].Count(findings.Fail) != 1 {
		t.Errorf("the other environments are still reported: %s", out)
	}
	// Terraform's error, with its stderr, is on stderr whole: its lines in
	// their order, indented under the environment and the check.
	tfErr := strings.Split(strings.TrimRight(rep.Environments[0].Errors[0].Error, "\n"), "\n")
	if len(tfErr) < 2 {
		t.Fatalf("terraform's error is one line: %q", tfErr)
	}
	want := "\n  environment broken: terraform check:"
	for _, l := range tfErr {
		want += "\n"
		if strings.TrimSpace(l) != "" {
			want += "    " + l
		}
	}
	if !strings.Contains(stderr, want+"\n") {
		t.Errorf("stderr does not have terraform's error whole:\n%s\nwant in it:\n%s", stderr, want)
	}
}

// TestDriftCheckErrors checks the error of a run in which checks could not
// run: a multi-line error (terraform's, with its stderr) is printed whole
// and in its order under its environment and check, not sorted line by
// line with the others.
func TestDriftCheckErrors(t *testing.T) {
	tfErr := "initialising the terraform stack: terraform init: exit status 1\n\nError: Unknown backend type \"nowhere\"\n\n" +
		"  on main.tf line 2, in terraform:\n   2:   backend \"nowhere\" {}\n"
	rep := &drift.Report{Summary: drift.Summary{Environments: 2, Errors: 3}, Environments: []drift.EnvResult{
		{Environment: "broken", Errors: []drift.CheckError{
			{Kind: drift.KindTerraform, Error: tfErr},
			{Kind: drift.KindArgoCD, Error: "reaching the Argo CD management cluster: connection refused"},
		}},
		{Environment: "prod", Errors: []drift.CheckError{{Kind: drift.KindCluster, Error: "describing cluster prod-blue: AccessDenied"}}},
	}}
	err := checkErrors(rep)
	want := `the drift check could not run everything (the report above has the rest):
  environment broken: terraform check:
    initialising the terraform stack: terraform init: exit status 1

    Error: Unknown backend type "nowhere"

      on main.tf line 2, in terraform:
       2:   backend "nowhere" {}
  environment broken: argocd check: reaching the Argo CD management cluster: connection refused
  environment prod: cluster check: describing cluster prod-blue: AccessDenied`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	if code := exitCode(err); code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
}

// TestDriftUsage checks the flag rules.
func TestDriftUsage(t *testing.T) {
	for _, args := range [][]string{
		{"drift"},
		{"drift", "--env", "demo", "--all"},
		{"drift", "--all", "--fail-on", "error"},
		{"drift", "--all", "-o", "xml"},
		{"drift", "--all", "--parallel", "0"},
		{"drift", "--all", "--skip", "terraform,nodes"},
		{"drift", "--env", "demo", "--shard", "1/2"},
		{"drift", "--all", "--shard", "5/4"},
	} {
		_, stderr, code := run(t, args...)
		if code != ExitError || !strings.Contains(stderr, "eksbg drift --help") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if _, stderr, _ := run(t, "drift", "--all", "-o", "xml"); !strings.Contains(stderr, "table, json, yaml, markdown, junit") {
		t.Errorf("-o xml: %q", stderr)
	}
	if _, stderr, code := run(t, "drift", "merge"); code != ExitError || !strings.Contains(stderr, "eksbg drift merge --help") {
		t.Errorf("drift merge without files: exit %d, stderr %q", code, stderr)
	}
	// merge: one report and one exit status from the shards' JSON.
	dir := t.TempDir()
	for i, envs := range []string{`[]`, `[{"environment":"b","findings":[{"environment":"b","kind":"cluster","resource":"cluster/b","field":"version","expected":"1.32","actual":"1.31","severity":"drift","fix":"x"}]}]`} {
		doc := `{"apiVersion":"eksbg.io/v1alpha1","kind":"DriftReport","checkedAt":"2026-03-02T03:00:00Z","environments":` + envs + `}`
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.json", i)), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, stderr, code := run(t, "drift", "merge", filepath.Join(dir, "0.json"), filepath.Join(dir, "1.json"), "-o", "json"); code != ExitFindings || !strings.Contains(out, `"drift": 1`) {
		t.Errorf("drift merge: exit %d, stdout %s, stderr %q", code, out, stderr)
	}
	if _, stderr, code := run(t, "drift", "merge", filepath.Join(dir, "1.json"), filepath.Join(dir, "1.json")); code != ExitError || !strings.Contains(stderr, "environment b is in reports 1 and 2") {
		t.Errorf("drift merge of one environment twice: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := run(t, "drift", "--config", filepath.Join(t.TempDir(), "none.yaml"), "--all"); code != ExitError || !strings.Contains(stderr, "not found") {
		t.Errorf("missing config: exit %d, stderr %q", code, stderr)
	}
}

// TestDriftFlags checks that flags reach the options.
func TestDriftFlags(t *testing.T) {
	f := &Factory{IO: IO{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Globals: &GlobalOptions{Output: "junit", ConfigPath: "p.yaml"},
		Getenv: func(string) string { return "" }}
	var got *DriftOptions
	cmd := NewCmdDrift(f, func(o *DriftOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--all", "--fail-on", "warning", "--strict", "--ignore-file", "x.yaml", "--parallel", "3", "--skip", "terraform,capacity", "--skip", "journal"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.All || got.Env != "" || got.ConfigPath != "p.yaml" || got.Format != drift.JUnit || got.FailOn != findings.Warn ||
		!got.Strict || got.IgnoreFile != "x.yaml" || got.Parallel != 3 || !slices.Equal(got.Skip, []drift.Kind{drift.KindTerraform, drift.KindCapacity, drift.KindJournal}) {
		t.Errorf("options %+v", got)
	}
	f.Globals.Output, f.Globals.Env = "markdown", "prod"
	cmd = NewCmdDrift(f, func(o *DriftOptions) error { got = o; return nil })
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.All || got.Env != "prod" || got.Format != "markdown" || got.FailOn != findings.Fail || got.Strict || got.Parallel != drift.DefaultConcurrency || len(got.Skip) != 0 {
		t.Errorf("defaults %+v", got)
	}
}
