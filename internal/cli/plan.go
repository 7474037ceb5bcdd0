package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/output"
	"github.com/eksbg/eksbg/upgrade/preflight"
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
			if _, err := clusters.ParseVersion(o.To); err != nil {
				return usageErrorf("--to: %v", err)
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
	// The same clients, terraform, eksctl and schema the upgrade uses.
	d, err := upgradeDeps(o.Ctx, f, true)
	if err != nil {
		return err
	}
	if err := d.withEksctl(o.Ctx, nil); err != nil {
		return err
	}
	plan, err := preflight.MakePlan(o.Ctx, d.planOptions(o.To))
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
