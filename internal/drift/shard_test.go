package drift

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/findings"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"1/1": {1, 1}, "2/4": {2, 4}, "4/4": {4, 4}} {
		if got, err := ParseShard(in); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0/4", "5/4", "1/0", "a/b", "2"} {
		if _, err := ParseShard(in); err == nil {
			t.Errorf("ParseShard(%q) succeeded", in)
		}
	}
}

// TestShardOwns: every environment is in exactly one shard, the shards
// are of about equal size, and adding environments moves none.
func TestShardOwns(t *testing.T) {
	const n = 4
	names := func(k int) []string {
		var s []string
		for i := range k {
			s = append(s, fmt.Sprintf("env-%03d", i))
		}
		return s
	}
	before := map[string]int{}
	sizes := make([]int, n+1)
	for _, e := range names(200) {
		owners := 0
		for i := 1; i <= n; i++ {
			if (Shard{i, n}).Owns(e) {
				owners++
				before[e] = i
				sizes[i]++
			}
		}
		if owners != 1 {
			t.Fatalf("%s is in %d shards", e, owners)
		}
	}
	for i := 1; i <= n; i++ {
		if sizes[i] < 30 || sizes[i] > 70 {
			t.Errorf("shard %d/%d has %d of 200 environments", i, n, sizes[i])
		}
	}
	for _, e := range names(400) {
		if old, ok := before[e]; ok && shardOf(e, n) != old {
			t.Errorf("%s moved from shard %d to %d when environments were added", e, old, shardOf(e, n))
		}
	}
	// Going from 4 to 5 shards moves only what the new shard takes.
	for _, e := range names(200) {
		if s := shardOf(e, n+1); s != before[e] && s != n+1 {
			t.Errorf("%s moved from %d to %d, not to the new shard", e, before[e], s)
		}
	}
	if !(Shard{}).Owns("x") {
		t.Error("the zero Shard does not own everything")
	}
}

func TestMerge(t *testing.T) {
	at := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	rule := func(src string) *IgnoreRule { return &IgnoreRule{Source: src} }
	env := func(name string, sev findings.Severity) EnvResult {
		return EnvResult{Environment: name, Findings: []findings.Finding{{Environment: name, Check: string(KindCluster), Resource: "cluster/" + name, Field: "version",
			Expected: "1.32", Actual: "1.31", Severity: sev, Fix: "eksctl upgrade cluster"}}}
	}
	whole := &Report{APIVersion: APIVersion, Kind: ReportKind, CheckedAt: at,
		Environments: []EnvResult{env("a", findings.Fail), env("b", findings.Warn), env("c", findings.Fail), {Environment: "d", Errors: []CheckError{{Kind: KindTerraform, Error: "boom"}}}},
		Ignore:       IgnoreSummary{File: ".eksbgignore", Rules: 2, Unused: []*IgnoreRule{rule(".eksbgignore:9")}}}
	whole.finish()
	shard := func(at time.Time, unused []*IgnoreRule, envs ...EnvResult) *Report {
		r := &Report{APIVersion: APIVersion, Kind: ReportKind, CheckedAt: at, Environments: envs, Ignore: IgnoreSummary{File: ".eksbgignore", Rules: 2, Unused: unused}}
		r.finish()
		// Through JSON, as eksbg drift merge reads it.
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out := &Report{}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Rule :3 suppressed something in shard 1 only; :9 nothing anywhere.
	got, err := Merge(
		shard(at.Add(time.Second), []*IgnoreRule{rule(".eksbgignore:9")}, env("c", findings.Fail), env("a", findings.Fail)),
		shard(at, []*IgnoreRule{rule(".eksbgignore:3"), rule(".eksbgignore:9")}, env("b", findings.Warn), EnvResult{Environment: "d", Errors: []CheckError{{Kind: KindTerraform, Error: "boom"}}}),
		shard(at.Add(2*time.Second), []*IgnoreRule{rule(".eksbgignore:3"), rule(".eksbgignore:9")}),
	)
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(whole)
	if string(gb) != string(wb) {
		t.Errorf("Merge() =\n%s\nwant\n%s", gb, wb)
	}
	if got.Summary != (Summary{Environments: 4, Drift: 2, Warning: 1, Errors: 1}) {
		t.Errorf("summary %+v", got.Summary)
	}

	if _, err := Merge(shard(at, nil, env("a", findings.Fail)), shard(at, nil, env("a", findings.Fail))); err == nil {
		t.Error("Merge() of an environment in two reports succeeded")
	}
	strict := shard(at, nil, env("b", findings.Fail))
	strict.Strict = true
	if _, err := Merge(shard(at, nil, env("a", findings.Fail)), strict); err == nil {
		t.Error("Merge() of strict and non-strict reports succeeded")
	}
	if _, err := Merge(); err == nil {
		t.Error("Merge() of nothing succeeded")
	}
}
