package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/eksctl"
	"github.com/eksbg/eksbg/internal/kubeaccess"
	"github.com/eksbg/eksbg/internal/output"
	"github.com/eksbg/eksbg/terraform"
	"github.com/eksbg/eksbg/upgrade"
)

// PlanOptions are the parsed flags of `eksbg plan`.
type PlanOptions struct {
	Ctx    context.Context
	To     string
	Format output.Format
}

// NewCmdPlan builds `eksbg plan`.
func NewCmdPlan(f *Factory, runF func(*PlanOptions) error) *cobra.Command {
	o := &PlanOptions{}
	cmd := &cobra.Command{
		Use:   "plan --env NAME --to VERSION",
		Short: "Show what an upgrade would do, changing nothing",
		Long: `Show what 'eksbg upgrade' would do for an environment, without changing anything:

  - the live (blue) and new (green) cluster names and Kubernetes versions;
  - green's eksctl config as a unified diff against blue's: eksbg changes only
    the fields it owns (name, version, tags, network, AMI family, add-on
    versions) and keeps everything else as written;
  - the findings of the preflight checks: EKS upgrade insights, Kubernetes APIs
    removed between the two versions in blue's manifests, workloads that would
    drop requests when traffic moves, Spot without a termination handler,
    capacity and quotas;
  - the phases the upgrade runs, with their gates and typical durations.

Green may be any number of minor versions ahead: that is blue/green's
advantage over in-place upgrades. The network comes from the environment's
Terraform outputs; eksctl's own schema ('eksctl utils schema') validates both
configs. Exit status 2 when a finding would block the upgrade.`,
		Example: `  eksbg plan --env demo --to 1.34
  eksbg plan --env prod --to 1.33 -o markdown > change-request.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Globals.Env == "" {
				return usageErrorf("--env is required")
			}
			if o.To == "" {
				return usageErrorf("--to is required (the Kubernetes version of green, such as 1.33)")
			}
			fm, err := f.OutputFormat()
			if err != nil {
				return err
			}
			o.Ctx, o.Format = cmd.Context(), fm
			if runF != nil {
				return runF(o)
			}
			return runPlan(f, o)
		},
	}
	cmd.Flags().StringVar(&o.To, "to", "", "Kubernetes version of the green cluster, such as 1.33")
	return cmd
}

func runPlan(f *Factory, o *PlanOptions) error {
	proj, err := config.Load(f.Globals.ConfigPath)
	if err != nil {
		return err
	}
	env, err := proj.Env(f.Globals.Env)
	if err != nil {
		return usageError{err}
	}
	cfg, err := awsconf.Load(o.Ctx, awsconf.Options{Region: env.AWS.Region, Profile: env.AWS.Profile, RoleARN: env.AWS.RoleARN})
	if err != nil {
		return err
	}
	tf, err := terraform.New(o.Ctx)
	if err != nil {
		return err
	}
	ek, err := eksctl.New(o.Ctx, "")
	if err != nil {
		return err
	}
	raw, err := ek.Schema(o.Ctx)
	if err != nil {
		return fmt.Errorf("reading eksctl's ClusterConfig schema: %w", err)
	}
	schema, err := clusters.CompileSchema(raw)
	if err != nil {
		return fmt.Errorf("compiling the schema from %s utils schema: %w", ek.Path(), err)
	}
	plan, err := upgrade.MakePlan(o.Ctx, upgrade.PlanOptions{
		Env: env, ProjectDir: filepath.Dir(proj.File), To: o.To, AWS: cfg, Terraform: tf, Schema: schema,
		Capacity: upgrade.CheckCapacity(cfg, env),
		ArgoCD:   func(ctx context.Context) (*rest.Config, error) { return kubeaccess.Management(ctx, env, cfg) },
	})
	if err != nil {
		return err
	}
	switch o.Format {
	case output.Table:
		err = plan.WriteText(f.IO.Out)
	case output.Markdown:
		err = plan.WriteMarkdown(f.IO.Out)
	default:
		err = output.Write(f.IO.Out, o.Format, plan)
	}
	if err != nil {
		return err
	}
	if plan.Blocked {
		return &FindingsError{Summary: "the plan has blocking findings"}
	}
	return nil
}
