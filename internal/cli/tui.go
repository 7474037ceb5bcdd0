package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/capacity/kubesource"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/terraform"
	"github.com/eksbg/eksbg/tui"
	"github.com/eksbg/eksbg/upgrade"
	"github.com/eksbg/eksbg/upgrade/preflight"
)

// TUIOptions are the parsed flags of `eksbg tui`.
type TUIOptions struct {
	Ctx context.Context
	// Env, from the global --env, opens the TUI on that environment.
	Env string
	// GateInterval is how often gates are evaluated during a bake.
	GateInterval time.Duration
	// Refresh is how often the environments' status is read again.
	Refresh time.Duration
}

// NewCmdTUI builds `eksbg tui`.
func NewCmdTUI(f *Factory, runF func(*TUIOptions) error) *cobra.Command {
	o := &TUIOptions{}
	cmd := &cobra.Command{
		Use:   "tui [--env NAME]",
		Short: "The interactive terminal UI: environments, capacity, drift, upgrades and traffic",
		Long: `Open eksbg's terminal UI on the project's environments: each one's live color,
version, weights, drift and open upgrade; an environment's capacity (per-zone
bars, quota gauges) and drift findings; the upgrade wizard (version, plan,
confirmation by the environment's name); the progress of an upgrade, and a
live view of its traffic and gates with keys to advance a step, hold, set a
weight or roll back. An environment with an open upgrade opens on its
progress. '?' lists every key; docs/tui.md describes the screens.

'eksbg' with no arguments in a terminal opens it too. NO_COLOR and --no-color
turn colour off.`,
		Example: `  eksbg tui
  eksbg tui --env prod
  eksbg --env staging`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx, o.Env = cmd.Context(), f.Globals.Env
			if o.GateInterval <= 0 {
				return usageErrorf("--gate-interval must be positive")
			}
			if runF != nil {
				return runF(o)
			}
			return runTUI(f, o)
		},
	}
	cmd.Flags().DurationVar(&o.GateInterval, "gate-interval", 15*time.Second, "how often gates are evaluated during a bake")
	cmd.Flags().DurationVar(&o.Refresh, "refresh", tui.DefaultRefresh, "how often the environments' status is read again")
	return cmd
}

// rootRunE is what `eksbg` does with no subcommand: the TUI when both ends
// are a terminal, the help otherwise (a pipe, CI), as before the TUI.
func rootRunE(f *Factory, tuiCmd *cobra.Command) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if !f.IO.IsTerminal || !isTerminal(f.IO.In) {
			return cmd.Help()
		}
		tuiCmd.SetContext(cmd.Context())
		return tuiCmd.RunE(tuiCmd, nil)
	}
}

func isTerminal(r io.Reader) bool {
	file, ok := r.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

func runTUI(f *Factory, o *TUIOptions) error {
	proj, err := config.Load(f.Globals.ConfigPath)
	if err != nil {
		return err
	}
	if o.Env != "" {
		if _, err := proj.Env(o.Env); err != nil {
			return usageError{err}
		}
	}
	b := newTUIBackend(f, proj, o.GateInterval)
	return tui.Run(o.Ctx, tui.Options{Backend: b, Env: o.Env, Refresh: o.Refresh,
		NoColor: f.Globals.NoColor || f.Getenv("NO_COLOR") != ""}, f.IO.In, f.IO.Out)
}

// tuiBackend is tui.Backend over the upgrade, capacity and drift packages,
// with the clients of each environment as the other commands make them.
type tuiBackend struct {
	f            *Factory
	proj         *config.Project
	gateInterval time.Duration

	mu sync.Mutex
	// light are each environment's deps without terraform and eksctl, for
	// status, versions and capacity, made on first use.
	light map[string]*deps
}

var _ tui.Backend = (*tuiBackend)(nil)

func newTUIBackend(f *Factory, proj *config.Project, gateInterval time.Duration) *tuiBackend {
	return &tuiBackend{f: f, proj: proj, gateInterval: gateInterval, light: map[string]*deps{}}
}

// depsFor builds the deps of env as `eksbg <command> --env env` would;
// full adds terraform (the upgrade and the plan need it). Each call gets
// its own copy: operations set fields of its options.
func (b *tuiBackend) depsFor(ctx context.Context, env string, full bool) (*deps, error) {
	if !full {
		b.mu.Lock()
		d := b.light[env]
		b.mu.Unlock()
		if d != nil {
			cp := *d
			return &cp, nil
		}
	}
	g := *b.f.Globals
	g.Env = env
	f := *b.f
	f.Globals = &g
	d, err := upgradeDeps(ctx, &f, full)
	if err != nil {
		return nil, err
	}
	if !full {
		b.mu.Lock()
		b.light[env] = d
		b.mu.Unlock()
		cp := *d
		return &cp, nil
	}
	return d, nil
}

// Environments implements tui.Backend.
func (b *tuiBackend) Environments(context.Context) ([]config.Environment, error) {
	return b.proj.Environments, nil
}

// Status implements tui.Backend: upgrade.GetStatus and the newest journal.
func (b *tuiBackend) Status(ctx context.Context, env string) (*tui.Status, error) {
	d, err := b.depsFor(ctx, env, false)
	if err != nil {
		return nil, err
	}
	st, err := upgrade.GetStatus(ctx, d.opts)
	if err != nil {
		return nil, err
	}
	j, err := d.opts.Backend.Journal(ctx, env)
	if err != nil {
		return nil, err
	}
	return &tui.Status{Status: st, Journal: j}, nil
}

// Versions implements tui.Backend with EKS DescribeClusterVersions.
func (b *tuiBackend) Versions(ctx context.Context, env string) ([]tui.Version, error) {
	d, err := b.depsFor(ctx, env, false)
	if err != nil {
		return nil, err
	}
	var out []tui.Version
	p := eks.NewDescribeClusterVersionsPaginator(eks.NewFromConfig(d.opts.AWS), &eks.DescribeClusterVersionsInput{ClusterType: aws.String("eks")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing EKS cluster versions: %w", err)
		}
		for _, v := range page.ClusterVersions {
			out = append(out, tui.Version{Version: aws.ToString(v.ClusterVersion), Release: aws.ToTime(v.ReleaseDate),
				EndStandard: aws.ToTime(v.EndOfStandardSupportDate), EndExtended: aws.ToTime(v.EndOfExtendedSupportDate)})
		}
	}
	return out, nil
}

// Capacity implements tui.Backend as `eksbg capacity --env` does.
func (b *tuiBackend) Capacity(ctx context.Context, env, to string) (*capacity.Report, error) {
	d, err := b.depsFor(ctx, env, false)
	if err != nil {
		return nil, err
	}
	in, err := capacity.FromEnvironment(d.env, to)
	if err != nil {
		return nil, err
	}
	return capacity.Check(ctx, kubesource.Clients(d.opts.AWS), in)
}

// Plan implements tui.Backend as `eksbg plan` does.
func (b *tuiBackend) Plan(ctx context.Context, env, to string) (*preflight.Plan, error) {
	d, err := b.depsFor(ctx, env, true)
	if err != nil {
		return nil, err
	}
	if err := d.withEksctl(ctx, nil); err != nil {
		return nil, err
	}
	return preflight.MakePlan(ctx, d.planOptions(to))
}

// Drift implements tui.Backend as `eksbg drift --env` does, with the
// ignore file beside eksbg.yaml.
func (b *tuiBackend) Drift(ctx context.Context, env string) (*drift.EnvResult, error) {
	ign, err := drift.LoadIgnore(filepath.Join(filepath.Dir(b.proj.File), drift.IgnoreFileName), false)
	if err != nil {
		return nil, err
	}
	opts := drift.Options{Project: b.proj, Environments: []string{env}, Ignore: ign}
	// Without terraform the terraform check reports the error and the
	// others still run, as in `eksbg drift`.
	if tf, err := terraform.New(ctx, terraform.WithEnviron(awsconf.ChildEnvirons(childCredentialsValid))); err == nil {
		opts.Terraform = tf
	}
	rep, err := drift.Check(ctx, opts)
	if err != nil {
		return nil, err
	}
	if len(rep.Environments) != 1 {
		return nil, fmt.Errorf("checking drift of %s: the report has %d environments", env, len(rep.Environments))
	}
	return &rep.Environments[0], nil
}

// Upgrade implements tui.Backend as `eksbg upgrade` does.
func (b *tuiBackend) Upgrade(ctx context.Context, env, to string, approve bool, events chan<- upgrade.Event) error {
	d, err := b.depsFor(ctx, env, true)
	if err != nil {
		return err
	}
	d.opts.To, d.opts.Approve, d.opts.GateInterval, d.opts.Events = to, approve, b.gateInterval, events
	d.opts.Operation = "upgrade to " + to + " (tui)"
	if err := d.withEksctl(ctx, events); err != nil {
		return err
	}
	_, err = upgrade.Run(ctx, d.opts)
	return err
}

// Shift implements tui.Backend as `eksbg shift` does.
func (b *tuiBackend) Shift(ctx context.Context, env string, weight int, events chan<- upgrade.Event) error {
	d, err := b.depsFor(ctx, env, false)
	if err != nil {
		return err
	}
	d.opts.GateInterval, d.opts.Events, d.opts.Operation = b.gateInterval, events, fmt.Sprintf("shift to %d%% (tui)", weight)
	return upgrade.Shift(ctx, d.opts, weight)
}

// Rollback implements tui.Backend as `eksbg rollback` does.
func (b *tuiBackend) Rollback(ctx context.Context, env string, deleteGreen bool, events chan<- upgrade.Event) error {
	d, err := b.depsFor(ctx, env, deleteGreen)
	if err != nil {
		return err
	}
	d.opts.Events, d.opts.Operation = events, "rollback (tui)"
	if deleteGreen {
		if err := d.withEksctl(ctx, events); err != nil {
			return err
		}
	}
	_, err = upgrade.Rollback(ctx, d.opts, deleteGreen)
	return err
}
