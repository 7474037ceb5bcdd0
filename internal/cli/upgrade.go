package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	"github.com/eksbg/eksbg/upgrade/preflight"
)

// ExitInterrupted is the exit code after Ctrl-C (128 + SIGINT), as shells
// report it.
const ExitInterrupted = 130

// UpgradeOptions are the parsed flags of `eksbg upgrade`.
type UpgradeOptions struct {
	Ctx     context.Context
	To      string
	Approve bool
	// Force maps a check name to the operator's reason.
	Force        map[string]string
	GateInterval time.Duration
}

// NewCmdUpgrade builds `eksbg upgrade`.
func NewCmdUpgrade(f *Factory, runF func(*UpgradeOptions) error) *cobra.Command {
	o := &UpgradeOptions{}
	var force []string
	cmd := &cobra.Command{
		Use:   "upgrade --env NAME --to VERSION [--approve]",
		Short: "Upgrade an environment blue/green: build green, move apps and traffic, tear blue down",
		Long: `Upgrade an environment to a new Kubernetes version the blue/green way, one
journaled phase after another:

  preflight     capacity, quotas and compatibility ('eksbg plan'); a blocking
                finding stops here unless forced with --force CHECK=REASON
  render        green's eksctl config, derived from blue's, saved in the journal
  create-green  eksctl create cluster; node groups, add-ons and nodes ready;
                the subnets checked again with green's real ENIs
  register      green given to Argo CD (singletons suspended); every
                Application targeting it Synced and Healthy
  parity        blue's Applications have twins on green; Deployments and
                StatefulSets available; green's target groups all healthy
  shift         for each traffic step: green healthy, subnets can hold it,
                weights written to every rule and read back, a bake under the
                gates; a breached gate puts every rule back on blue and exits 1
  hand-off      singletons suspended on blue, its Jobs finished, then active
                on green
  teardown      with --approve (or teardown: auto): blue out of Argo CD, its
                TargetGroupBindings and load balancers deleted, eksctl delete
                cluster, and proof that no ENI, target or secret is left
  done          green becomes the live color; its config replaces the
                environment's eksctl config (commit it)

The journal (state backend of the environment) records each step before and
after it acts, and each step reads the real state first, so rerunning the
same command after a failure, Ctrl-C or a crash resumes where it stopped.
Ctrl-C finishes the AWS call in flight, journals and exits 130. One upgrade
per environment runs at a time (see 'eksbg force-unlock').

Exit status: 0 done (or waiting for --approve to tear blue down), 1 failed or
rolled back by a gate (the journal says why), 2 refused by the preflight,
130 interrupted.`,
		Example: `  eksbg upgrade --env staging --to 1.34
  eksbg upgrade --env staging --to 1.34 --approve      # resume and tear blue down
  eksbg upgrade --env prod --to 1.33 --force quota="raise approved in case 1234"`,
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
			if o.GateInterval <= 0 {
				return usageErrorf("--gate-interval must be positive, such as 15s")
			}
			o.Force = map[string]string{}
			for _, kv := range force {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" || strings.TrimSpace(v) == "" {
					return usageErrorf("--force %q: use --force CHECK=REASON; the reason is journaled", kv)
				}
				o.Force[k] = v
			}
			o.Ctx = cmd.Context()
			if runF != nil {
				return runF(o)
			}
			return runUpgrade(f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.To, "to", "", "Kubernetes version of the green cluster, such as 1.33")
	fl.BoolVar(&o.Approve, "approve", false, "tear blue down once traffic and singletons have moved")
	fl.StringArrayVar(&force, "force", nil, "override a blocking preflight check: CHECK=REASON (repeatable; journaled)")
	fl.DurationVar(&o.GateInterval, "gate-interval", 15*time.Second, "how often gates are evaluated during a bake")
	return cmd
}

// deps are what the upgrade commands share: the environment and the
// clients upgrade.Options needs.
type deps struct {
	proj *config.Project
	env  *config.Environment
	opts upgrade.Options
}

// upgradeDeps loads the project and builds upgrade.Options for the
// selected environment. full also prepares terraform and eksctl (the
// upgrade needs them; status does not).
func upgradeDeps(ctx context.Context, f *Factory, full bool) (*deps, error) {
	proj, err := config.Load(f.Globals.ConfigPath)
	if err != nil {
		return nil, err
	}
	env, err := proj.Env(f.Globals.Env)
	if err != nil {
		return nil, usageError{err}
	}
	cfg, err := awsconf.Load(ctx, awsconf.Options{Region: env.AWS.Region, Profile: env.AWS.Profile, RoleARN: env.AWS.RoleARN})
	if err != nil {
		return nil, err
	}
	projectDir := filepath.Dir(proj.File)
	backend, err := openState(ctx, env, projectDir)
	if err != nil {
		return nil, err
	}
	d := &deps{proj: proj, env: env, opts: upgrade.Options{Env: env, ProjectDir: projectDir, AWS: cfg, Backend: backend,
		Management: func(ctx context.Context) (*rest.Config, error) { return kubeaccess.Management(ctx, env, cfg) },
		Capacity:   preflight.CheckCapacity(cfg, env),
	}}
	if !full {
		return d, nil
	}
	// terraform and eksctl act in the environment's account with its
	// credentials, never the shell's.
	if d.opts.Terraform, err = terraform.New(ctx, terraform.WithEnviron(func(ctx context.Context, _ *config.Environment) ([]string, error) {
		return awsconf.ChildEnv(ctx, cfg, os.Environ(), childCredentialsValid)
	})); err != nil {
		return nil, err
	}
	return d, nil
}

// childCredentialsValid is how long the credentials handed to eksctl and
// terraform must still be valid when the child starts: eksctl create
// cluster takes up to 40 minutes (upgrade.DefaultTimeouts).
const childCredentialsValid = 45 * time.Minute

// planOptions are what `eksbg plan` and the TUI's plan page pass to
// preflight.MakePlan: the upgrade's own clients, state backend (for the
// live colour), terraform, schema and capacity check.
func (d *deps) planOptions(to string) preflight.Options {
	return preflight.Options{Env: d.env, ProjectDir: d.opts.ProjectDir, To: to, AWS: d.opts.AWS, Backend: d.opts.Backend,
		Terraform: d.opts.Terraform, Schema: d.opts.Schema, Capacity: d.opts.Capacity, ArgoCD: d.opts.Management}
}

// withEksctl adds eksctl as the provisioner and its schema, forwarding
// eksctl's progress lines as events.
func (d *deps) withEksctl(ctx context.Context, events chan<- upgrade.Event) error {
	em := upgrade.NewEmitter(events, d.env.Name, nil)
	ek, err := eksctl.New(ctx, "", eksctl.WithEnviron(func(ctx context.Context) ([]string, error) {
		return awsconf.ChildEnv(ctx, d.opts.AWS, os.Environ(), childCredentialsValid)
	}), eksctl.WithEvents(func(ev eksctl.Event) {
		if ev.Level == eksctl.LevelDebug {
			return
		}
		kind := upgrade.Info
		if ev.Level == eksctl.LevelWarning || ev.Level == eksctl.LevelError {
			kind = upgrade.Warning
		}
		// No phase: eksctl runs in create-green, teardown and rollback;
		// the renderer shows the phase in progress.
		em.Emit(upgrade.Event{Kind: kind, Message: "eksctl: " + ev.Message})
	}))
	if err != nil {
		return err
	}
	raw, err := ek.Schema(ctx)
	if err != nil {
		return fmt.Errorf("reading eksctl's ClusterConfig schema: %w", err)
	}
	if d.opts.Schema, err = clusters.CompileSchema(raw); err != nil {
		return fmt.Errorf("compiling the schema from %s utils schema: %w", ek.Path(), err)
	}
	d.opts.Provisioner = ek
	return nil
}

// streamEvents runs fn with an event channel whose events are rendered
// as progress lines on f's output, and returns fn's error once every
// event is written.
func streamEvents(f *Factory, fn func(events chan<- upgrade.Event) error) error {
	events := make(chan upgrade.Event, 64)
	p := newProgress(f.IO.Out, f.IO.IsTerminal, time.Now())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range events {
			p.Render(e)
		}
		p.Close()
	}()
	err := fn(events)
	close(events)
	<-done
	return err
}

func runUpgrade(f *Factory, o *UpgradeOptions) error {
	d, err := upgradeDeps(o.Ctx, f, true)
	if err != nil {
		return err
	}
	d.opts.To, d.opts.Approve, d.opts.Force, d.opts.GateInterval = o.To, o.Approve, o.Force, o.GateInterval
	d.opts.Operation = "upgrade to " + o.To
	d.opts.AfterSave = crashHook(f)
	var sum *upgrade.Summary
	err = streamEvents(f, func(events chan<- upgrade.Event) error {
		d.opts.Events = events
		if err := d.withEksctl(o.Ctx, events); err != nil {
			return err
		}
		var err error
		sum, err = upgrade.Run(o.Ctx, d.opts)
		return err
	})
	return upgradeOutcome(f, sum, err)
}

// upgradeOutcome prints the summary and maps the result to an exit code.
func upgradeOutcome(f *Factory, sum *upgrade.Summary, err error) error {
	var aw *upgrade.AwaitingApproval
	var refused *upgrade.RefusedError
	switch {
	case err == nil:
		writeSummary(f, sum)
		return nil
	case errors.As(err, &aw):
		fmt.Fprintf(f.IO.Out, "\n%s\n", aw.Error())
		return nil
	case errors.As(err, &refused):
		fmt.Fprintf(f.IO.ErrOut, "Error: %v\n", err)
		return &FindingsError{Summary: "the preflight refused the upgrade"}
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(f.IO.ErrOut, "Interrupted: the journal says where the upgrade stopped; run the same command again to resume.")
		return &silentExit{code: ExitInterrupted}
	}
	return err
}

func writeSummary(f *Factory, sum *upgrade.Summary) {
	if sum == nil || sum.Journal == nil {
		return
	}
	j := sum.Journal
	fmt.Fprintf(f.IO.Out, "\nUpgrade %s of %s: %s → %s (%s): %s\n", j.ID, j.Environment, j.From.Name, j.To.Name, j.To.Version, j.Outcome)
	fmt.Fprintf(f.IO.Out, "  %-13s %10s %10s %6s\n", "PHASE", "TOOK", "AWS CALLS", "KUBE")
	for _, p := range sum.Phases {
		if p.Skipped {
			fmt.Fprintf(f.IO.Out, "  %-13s %10s\n", p.Phase, "(earlier)")
			continue
		}
		fmt.Fprintf(f.IO.Out, "  %-13s %10s %10d %6d\n", p.Phase, p.Elapsed.Round(100*time.Millisecond), p.Calls.AWSTotal(), p.Calls.Kubernetes)
	}
}

// RollbackOptions are the parsed flags of `eksbg rollback`.
type RollbackOptions struct {
	Ctx         context.Context
	DeleteGreen bool
}

// NewCmdRollback builds `eksbg rollback`.
func NewCmdRollback(f *Factory, runF func(*RollbackOptions) error) *cobra.Command {
	o := &RollbackOptions{}
	cmd := &cobra.Command{
		Use:   "rollback --env NAME [--delete-green]",
		Short: "End an open upgrade by going back to blue",
		Long: `End the environment's open upgrade by going back to blue, from any phase
before blue's teardown:

  1. every listener rule to 100% blue, read back;
  2. singletons back: green's secret labelled suspended, Argo CD synced,
     then blue's labelled active;
  3. green out of Argo CD (its Applications deleted, none left on a
     finalizer);
  4. with --delete-green, 'eksctl delete cluster' of green.

Each step is journaled; rerun the command if it is interrupted. Before green
leaves Argo CD and before it is deleted, the weights are read back: if
traffic reached green again (a manual shift), the rollback stops and says
how to move it back. Rerun after it finished, it has nothing to do (exit 0);
with --delete-green after a rollback that kept green, it deletes green. Once
blue's teardown has started there is nothing whole to go back to, and
rollback says so.`,
		Example: `  eksbg rollback --env staging
  eksbg rollback --env staging --delete-green`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Globals.Env == "" {
				return usageErrorf("--env is required")
			}
			o.Ctx = cmd.Context()
			if runF != nil {
				return runF(o)
			}
			d, err := upgradeDeps(o.Ctx, f, false)
			if err != nil {
				return err
			}
			d.opts.Operation, d.opts.AfterSave = "rollback", crashHook(f)
			var sum *upgrade.Summary
			err = streamEvents(f, func(events chan<- upgrade.Event) error {
				d.opts.Events = events
				if o.DeleteGreen {
					if err := d.withEksctl(o.Ctx, events); err != nil {
						return err
					}
				}
				var err error
				sum, err = upgrade.Rollback(o.Ctx, d.opts, o.DeleteGreen)
				return err
			})
			return upgradeOutcome(f, sum, err)
		},
	}
	cmd.Flags().BoolVar(&o.DeleteGreen, "delete-green", false, "also delete the green cluster with eksctl")
	return cmd
}

// ShiftOptions are the parsed flags of `eksbg shift`.
type ShiftOptions struct {
	Ctx          context.Context
	Weight       int
	GateInterval time.Duration
}

// NewCmdShift builds `eksbg shift`.
func NewCmdShift(f *Factory, runF func(*ShiftOptions) error) *cobra.Command {
	o := &ShiftOptions{}
	cmd := &cobra.Command{
		Use:   "shift --env NAME --weight PERCENT",
		Short: "Set the share of traffic on the new color by hand, under the gates",
		Long: `Set every listener rule of the environment to PERCENT on the new color, with
the checks and gates of an upgrade step: green's targets all healthy, the
subnets able to hold green at that share, weights written and read back, then
a bake under the environment's gates. A breached gate puts every rule back on
blue and exits 1. --weight 0 sends everything back to blue at once.

The environment must have an open upgrade past its parity checks, and no
rollback under way; once blue's teardown has started only --weight 100 is
allowed. The step is journaled; 'eksbg upgrade' then continues from the
configured steps.`,
		Example: `  eksbg shift --env prod --weight 25
  eksbg shift --env prod --weight 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Globals.Env == "" {
				return usageErrorf("--env is required")
			}
			if !cmd.Flags().Changed("weight") || o.Weight < 0 || o.Weight > 100 {
				return usageErrorf("--weight is required: a percentage from 0 to 100")
			}
			if o.GateInterval <= 0 {
				return usageErrorf("--gate-interval must be positive, such as 15s")
			}
			o.Ctx = cmd.Context()
			if runF != nil {
				return runF(o)
			}
			d, err := upgradeDeps(o.Ctx, f, false)
			if err != nil {
				return err
			}
			d.opts.Operation, d.opts.GateInterval, d.opts.AfterSave = fmt.Sprintf("shift to %d%%", o.Weight), o.GateInterval, crashHook(f)
			err = streamEvents(f, func(events chan<- upgrade.Event) error {
				d.opts.Events = events
				return upgrade.Shift(o.Ctx, d.opts, o.Weight)
			})
			return upgradeOutcome(f, nil, err)
		},
	}
	cmd.Flags().IntVar(&o.Weight, "weight", 0, "percent of traffic on the new color (0-100)")
	cmd.Flags().DurationVar(&o.GateInterval, "gate-interval", 15*time.Second, "how often gates are evaluated during the bake")
	return cmd
}

// StatusOptions are the parsed flags of `eksbg status`.
type StatusOptions struct {
	Ctx context.Context
}

// NewCmdStatus builds `eksbg status`.
func NewCmdStatus(f *Factory, runF func(*StatusOptions) error) *cobra.Command {
	o := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status --env NAME",
		Short: "Show an environment's clusters, weights, upgrade and lock",
		Long: `Show an environment's state: each color's cluster (exists, status, Kubernetes
version, which one is live), the weights of every listener rule, the newest
upgrade's journal position and outcome, and who holds the lock.`,
		Example: `  eksbg status --env prod
  eksbg status --env prod -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Globals.Env == "" {
				return usageErrorf("--env is required")
			}
			fm, err := f.OutputFormat()
			if err != nil {
				return err
			}
			o.Ctx = cmd.Context()
			if runF != nil {
				return runF(o)
			}
			d, err := upgradeDeps(o.Ctx, f, false)
			if err != nil {
				return err
			}
			st, err := upgrade.GetStatus(o.Ctx, d.opts)
			if err != nil {
				return err
			}
			if fm != output.Table {
				return output.Write(f.IO.Out, fm, st)
			}
			writeStatus(f, st)
			return nil
		},
	}
	return cmd
}

func writeStatus(f *Factory, st *upgrade.Status) {
	w := f.IO.Out
	fmt.Fprintf(w, "Environment %s\n\n", st.Environment)
	fmt.Fprintf(w, "  %-6s %-24s %-8s %-9s %s\n", "COLOR", "CLUSTER", "VERSION", "STATUS", "")
	for _, c := range st.Clusters {
		status, live := "absent", ""
		if c.Exists {
			status = c.Status
		}
		if c.Live {
			live = "live"
		}
		fmt.Fprintf(w, "  %-6s %-24s %-8s %-9s %s\n", c.Color, c.Name, c.Version, status, live)
	}
	fmt.Fprintln(w)
	if st.RulesError != "" {
		fmt.Fprintf(w, "  weights: unreadable: %s\n", st.RulesError)
	}
	for _, r := range st.Rules {
		fmt.Fprintf(w, "  rule %s: blue %d, green %d\n", shortARN(r.RuleARN), r.Blue, r.Green)
	}
	if u := st.Upgrade; u != nil {
		state := "ended: " + u.Outcome
		if u.Open {
			state = "OPEN"
		}
		fmt.Fprintf(w, "\n  upgrade %s: %s → %s, started %s, %s\n", u.ID, u.From, u.To, u.StartedAt.Format(time.RFC3339), state)
		if u.Last != nil {
			step := u.Last.Phase
			if u.Last.Step != "" {
				step += " / " + u.Last.Step
			}
			fmt.Fprintf(w, "  last journal entry: %s %s at %s", step, u.Last.State, u.Last.At.Format(time.RFC3339))
			if u.Last.Message != "" {
				fmt.Fprintf(w, ": %s", u.Last.Message)
			}
			fmt.Fprintln(w)
		}
	} else {
		fmt.Fprintln(w, "\n  no upgrade recorded")
	}
	if l := st.Lock; l != nil {
		lease := "no lease: only 'eksbg force-unlock' frees it"
		if e := l.Expires(); !e.IsZero() {
			lease = fmt.Sprintf("lease %ds, renewed %s, expires %s", l.LeaseSeconds, l.Renewed.Format(time.RFC3339), e.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "  locked by %s on %s (pid %d, %s, since %s, ID %s; %s)\n", l.Who, l.Host, l.PID, l.Operation, l.Created.Format(time.RFC3339), l.ID, lease)
	}
}

// crashHook is for the crash tests (internal/cli/crash_test.go and
// commands_crash_test.go; upgrade, shift and rollback read it): with
// EKSBG_TEST_KILL_AFTER_SAVE=N in the environment, eksbg kills itself with
// SIGKILL right after its N-th journal save, the hardest way a run can end
// at a journal boundary. Nothing else reads the variable.
func crashHook(f *Factory) func(int) {
	n, err := strconv.Atoi(f.Getenv("EKSBG_TEST_KILL_AFTER_SAVE"))
	if err != nil || n <= 0 {
		return nil
	}
	return func(saves int) {
		if saves == n {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}
