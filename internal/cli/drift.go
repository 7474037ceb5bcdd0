package cli

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/output"
	"github.com/eksbg/eksbg/terraform"
)

// DriftOptions are the parsed flags of `eksbg drift`.
type DriftOptions struct {
	Ctx context.Context
	// ConfigPath and Env come from the global --config and --env.
	ConfigPath string
	Env        string
	// All checks every environment of the project config.
	All bool
	// Format is -o: table, json, yaml, markdown or junit.
	Format output.Format
	// FailOn is the severity that makes the exit status 2: findings.Fail
	// (--fail-on drift) or findings.Warn (--fail-on warning).
	FailOn findings.Severity
	// Strict also compares node groups' desired sizes.
	Strict bool
	// IgnoreFile is the ignore file; "" means .eksbgignore beside eksbg.yaml
	// (optional), a path given must exist.
	IgnoreFile string
	// Parallel bounds the environments checked at once.
	Parallel int
	// Skip names checks not to run.
	Skip []drift.Kind
	// Shard, with All, checks only one part of the environments
	// (--shard I/N); the zero value checks them all.
	Shard drift.Shard
}

// NewCmdDrift builds `eksbg drift`.
func NewCmdDrift(f *Factory, runF func(*DriftOptions) error) *cobra.Command {
	o := &DriftOptions{}
	var failOn, shard string
	var skip []string
	cmd := &cobra.Command{
		Use:   "drift (--env NAME | --all [--shard I/N])",
		Short: "Check environments for drift: Terraform, clusters, traffic, Argo CD, capacity, upgrades",
		Long: `Compare what runs with what should run, for one environment or all of them
(concurrently), and report every difference with what was expected, what was
found, and the command or file that fixes it:

  terraform  'terraform plan -detailed-exitcode' of the network stack's workspace
  cluster    the live cluster against its eksctl config: version, endpoint
             access, logging, tags; managed node groups (instance types,
             capacity type, sizes, labels, taints, AMI family); add-ons
  traffic    every listener rule sends all traffic to the live color; the live
             target groups have only healthy targets
  argocd     Applications on the live cluster Synced and Healthy; no cluster
             secret for a cluster that does not exist; the same Applications
             on both colors while both exist
  capacity   a future green fits today's subnets and quotas (else a warning)
  journal    no upgrade open, and no upgrade lock held, for more than a day

The live color is the state backend's record, or without one the color of the
cluster the environment's eksctl config names, as for plan and upgrade.
Desired node group sizes are left to the autoscaler unless --strict. Findings
can be suppressed, with a reason and an expiry date, in .eksbgignore beside
eksbg.yaml; suppressed findings are still listed. docs/drift.md documents the
JSON and the ignore file.

Exit status: 0 nothing found, 2 drift found (or a warning with --fail-on
warning), 1 a check could not run (the report still lists every environment's
findings, and the error names the environment and the check).`,
		Example: `  # every environment, for a nightly CI job
  eksbg drift --all -o json > drift.json

  # one environment, failing on warnings too, with JUnit XML for the CI's test view
  eksbg drift --env prod --fail-on warning -o junit > drift.xml

  # a quarter of the environments, in job 2 of 4; then one report of the four
  eksbg drift --all --shard 2/4 -o json > drift-2.json
  eksbg drift merge drift-1.json drift-2.json drift-3.json drift-4.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx, o.ConfigPath, o.Env = cmd.Context(), f.Globals.ConfigPath, f.Globals.Env
			if (o.Env != "") == o.All {
				return usageErrorf("say what to check: --env NAME or --all (exactly one)")
			}
			o.Shard = drift.Shard{}
			if shard != "" {
				if !o.All {
					return usageErrorf("--shard splits --all: give --all with it")
				}
				sh, err := drift.ParseShard(shard)
				if err != nil {
					return usageError{err}
				}
				o.Shard = sh
			}
			var err error
			if o.Format, o.FailOn, err = driftReportFlags(f, failOn); err != nil {
				return err
			}
			if o.Parallel < 1 {
				return usageErrorf("--parallel must be at least 1")
			}
			o.Skip = o.Skip[:0]
			for _, k := range skip {
				if !slices.Contains(drift.Kinds(), drift.Kind(k)) {
					return usageErrorf("unknown check %q in --skip: use %s", k, kindList())
				}
				o.Skip = append(o.Skip, drift.Kind(k))
			}
			if runF != nil {
				return runF(o)
			}
			return runDrift(f, o)
		},
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "check every environment of the project config, concurrently")
	cmd.Flags().StringVar(&failOn, "fail-on", drift.SeverityDrift, "severity that makes the exit status 2: drift or warning")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "also compare node groups' desired sizes (an autoscaler usually owns them)")
	cmd.Flags().StringVar(&o.IgnoreFile, "ignore-file", "", "file of accepted drift (default: "+drift.IgnoreFileName+" beside eksbg.yaml, if there is one)")
	cmd.Flags().IntVar(&o.Parallel, "parallel", drift.DefaultConcurrency, "environments checked at once")
	cmd.Flags().StringSliceVar(&skip, "skip", nil, "checks not to run: "+kindList())
	cmd.Flags().StringVar(&shard, "shard", "", "with --all, check only part I of N of the environments (1/4 .. 4/4), split by a stable hash of their names; combine the JSON reports with 'eksbg drift merge'")
	cmd.AddCommand(NewCmdDriftMerge(f, nil))
	return cmd
}

// kindList names the checks, for help and errors.
func kindList() string {
	var s []string
	for _, k := range drift.Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func runDrift(f *Factory, o *DriftOptions) error {
	p, err := config.Load(o.ConfigPath)
	if err != nil {
		return err
	}
	var envs []string
	if !o.All {
		if _, err := p.Env(o.Env); err != nil {
			return usageError{err}
		}
		envs = []string{o.Env}
	}
	ignorePath, required := o.IgnoreFile, true
	if ignorePath == "" {
		ignorePath, required = filepath.Join(filepath.Dir(p.File), drift.IgnoreFileName), false
	}
	ign, err := drift.LoadIgnore(ignorePath, required)
	if err != nil {
		return err
	}
	opts := drift.Options{Project: p, Environments: envs, Strict: o.Strict, Skip: o.Skip, Ignore: ign, Concurrency: o.Parallel, Shard: o.Shard}
	// Without terraform the Terraform check fails for every environment
	// (exit 1) and the others still run: Check makes the runner itself.
	if !slices.Contains(o.Skip, drift.KindTerraform) {
		if tf, err := terraform.New(o.Ctx, terraform.WithEnviron(awsconf.ChildEnvirons(childCredentialsValid))); err == nil {
			opts.Terraform = tf
		}
	}
	rep, err := drift.Check(o.Ctx, opts)
	if err != nil {
		return err
	}
	return writeDrift(f, rep, o.Format, o.FailOn)
}

// writeDrift renders the report and returns the error that sets the exit
// status: checks that could not run (1), findings at or above failOn (2).
func writeDrift(f *Factory, rep *drift.Report, format output.Format, failOn findings.Severity) error {
	if err := drift.Write(f.IO.Out, format, rep, failOn); err != nil {
		return err
	}
	if rep.Failed() {
		return checkErrors(rep)
	}
	if rep.FailsOn(failOn) {
		return &FindingsError{Summary: rep.Headline()}
	}
	return nil
}

// checkErrors is the error of a run in which checks could not run: every
// check's error whole, under its environment (drift.Report.ErrorSummary),
// indented under one line. Its lines are never reordered: a Terraform
// error sorted line by line could not be read.
func checkErrors(rep *drift.Report) error {
	var b strings.Builder
	b.WriteString("the drift check could not run everything (the report above has the rest):")
	for _, line := range strings.Split(rep.ErrorSummary(), "\n") {
		b.WriteString("\n")
		if line != "" {
			b.WriteString("  " + line)
		}
	}
	return errors.New(b.String())
}

// driftReportFlags reads the flags a drift report is written with, shared
// by `drift` and `drift merge`: the output format (junit besides the
// common ones) and --fail-on.
func driftReportFlags(f *Factory, failOn string) (output.Format, findings.Severity, error) {
	format := drift.JUnit
	if f.Globals.Output != string(drift.JUnit) {
		fm, err := f.OutputFormat()
		if err != nil {
			return "", 0, usageErrorf("unknown output format %q: use one of table, json, yaml, markdown, junit", f.Globals.Output)
		}
		format = fm
	}
	sev, err := drift.ParseSeverity(failOn)
	if err != nil {
		return "", 0, usageErrorf("unknown --fail-on %q: use drift or warning", failOn)
	}
	return format, sev, nil
}
