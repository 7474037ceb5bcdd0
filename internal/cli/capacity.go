package cli

import (
	"context"
	"fmt"
	"regexp"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/capacity/kubesource"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/output"
)

// CapacityOptions are the parsed flags of `eksbg capacity`.
type CapacityOptions struct {
	Ctx context.Context
	// ConfigPath and Env come from the global --config and --env.
	ConfigPath string
	Env        string
	// All checks every environment of the project config.
	All bool
	// File is an eksctl ClusterConfig to check without eksbg.yaml.
	File string
	// To is the green cluster's Kubernetes version.
	To string
	// FailOn is "fail" (exit 2 on FAIL) or "warn" (also on WARN).
	FailOn string
	Format output.Format
}

var versionRE = regexp.MustCompile(`^1\.[0-9]{1,3}$`)

// NewCmdCapacity builds `eksbg capacity`.
func NewCmdCapacity(f *Factory, runF func(*CapacityOptions) error) *cobra.Command {
	o := &CapacityOptions{}
	cmd := &cobra.Command{
		Use:   "capacity",
		Short: "Check that the subnets and service quotas can hold the green cluster",
		Long: `Compute the subnet addresses and /28 prefixes the green cluster will take in
each availability zone, from its node groups and the VPC CNI's allocation
rules, and compare them with what its subnets have free; compare its vCPUs,
network interfaces, node groups and target groups with the service quotas.

Each zone, subnet and quota gets OK, WARN or FAIL, and each WARN and FAIL a
one-line remedy. The model is explained in docs/capacity.md.

Exit status 2 when the verdict is FAIL (or WARN with --fail-on warn).`,
		Example: `  # the green cluster of environment prod, on Kubernetes 1.33
  eksbg capacity --env prod --to 1.33

  # every environment of eksbg.yaml, as JSON
  eksbg capacity --all -o json

  # any eksctl ClusterConfig whose VPC and subnets exist (no eksbg.yaml needed)
  eksbg capacity -f cluster.yaml -o markdown`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.OutputFormat()
			if err != nil {
				return err
			}
			o.Ctx, o.Format, o.ConfigPath, o.Env = cmd.Context(), fm, f.Globals.ConfigPath, f.Globals.Env
			n := 0
			for _, set := range []bool{o.All, o.File != "", o.Env != ""} {
				if set {
					n++
				}
			}
			if n != 1 {
				return usageErrorf("say what to check: --env NAME, --all or -f CLUSTERCONFIG (exactly one)")
			}
			if o.FailOn != "fail" && o.FailOn != "warn" {
				return usageErrorf("unknown --fail-on %q: use fail or warn", o.FailOn)
			}
			if o.To != "" && !versionRE.MatchString(o.To) {
				return usageErrorf("--to %q is not a Kubernetes minor version such as 1.33", o.To)
			}
			if runF != nil {
				return runF(o)
			}
			return runCapacity(f, o)
		},
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "check every environment of the project config, concurrently")
	cmd.Flags().StringVarP(&o.File, "filename", "f", "", "eksctl ClusterConfig to check (its VPC and subnets must exist); needs no eksbg.yaml")
	cmd.Flags().StringVar(&o.To, "to", "", "Kubernetes version of the green cluster (default: the eksctl config's)")
	cmd.Flags().StringVar(&o.FailOn, "fail-on", "fail", "verdict that makes the exit status 2: fail or warn")
	return cmd
}

func runCapacity(f *Factory, o *CapacityOptions) error {
	ctx := o.Ctx
	var result output.Tabular
	var verdict capacity.Verdict
	switch {
	case o.File != "":
		cfg, err := clusters.Load(o.File)
		if err != nil {
			return err
		}
		c, err := capacity.FromConfig(cfg, capacity.ConfigOptions{Version: o.To})
		if err != nil {
			return err
		}
		aws, err := awsconf.Load(ctx, awsconf.Options{Region: c.Region})
		if err != nil {
			return err
		}
		r, err := capacity.Check(ctx, kubesource.Clients(aws), capacity.Input{Name: o.File, Cluster: c, BlueCluster: cfg.Name()})
		if err != nil {
			return err
		}
		result, verdict = r, r.Verdict
	default:
		p, err := config.Load(o.ConfigPath)
		if err != nil {
			return err
		}
		envs := p.Environments
		if !o.All {
			e, err := p.Env(o.Env)
			if err != nil {
				return err
			}
			envs = []config.Environment{*e}
		}
		m, err := checkEnvironments(ctx, envs, o.To)
		if err != nil {
			return err
		}
		verdict = m.Verdict
		result = m
		if !o.All {
			result = m.Environments[0].Report
		}
	}
	if err := output.Write(f.IO.Out, o.Format, result); err != nil {
		return err
	}
	if verdict == capacity.Fail || (o.FailOn == "warn" && verdict.AtLeast(capacity.Warn)) {
		return &FindingsError{Summary: "capacity: " + string(verdict)}
	}
	return nil
}

// checkEnvironments checks environments concurrently, one CheckAll per
// account, region and credentials, so that environments sharing them read
// the region once.
func checkEnvironments(ctx context.Context, envs []config.Environment, to string) (*capacity.Multi, error) {
	type group struct {
		opts awsconf.Options
		idx  []int
		ins  []capacity.Input
	}
	var groups []*group
	byKey := map[awsconf.Options]*group{}
	for i := range envs {
		e := &envs[i]
		in, err := capacity.FromEnvironment(e, to)
		if err != nil {
			return nil, err
		}
		key := awsconf.Options{Region: e.AWS.Region, Profile: e.AWS.Profile, RoleARN: e.AWS.RoleARN}
		g := byKey[key]
		if g == nil {
			g = &group{opts: key}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.idx, g.ins = append(g.idx, i), append(g.ins, in)
	}
	reports := make([]*capacity.Report, len(envs))
	eg, ctx := errgroup.WithContext(ctx)
	for _, g := range groups {
		eg.Go(func() error {
			cfg, err := awsconf.Load(ctx, g.opts)
			if err != nil {
				return err
			}
			rs, err := capacity.CheckAll(ctx, kubesource.Clients(cfg), g.ins)
			if err != nil {
				return fmt.Errorf("checking %s: %w", g.opts.Region, err)
			}
			for j, r := range rs {
				reports[g.idx[j]] = r
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	m := &capacity.Multi{Verdict: capacity.OK}
	for i, r := range reports {
		m.Environments = append(m.Environments, capacity.EnvReport{Environment: envs[i].Name, Report: r})
		m.Verdict = m.Verdict.Worse(r.Verdict)
	}
	return m, nil
}
