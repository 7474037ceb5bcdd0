package upgrade

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// Rollback ends an open upgrade by going back to blue, from any phase
// before teardown: traffic to blue first, then singletons back on blue,
// then green out of Argo CD, then (deleteGreen) green deleted. Each step
// is journaled, so an interrupted rollback is rerun the same way.
func Rollback(ctx context.Context, o Options, deleteGreen bool) (*Summary, error) {
	r, err := newRun(ctx, o)
	if err != nil {
		return nil, err
	}
	ctx, err = r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer r.release()
	j, err := o.Backend.Journal(ctx, o.Env.Name)
	if err != nil {
		return nil, err
	}
	if !j.Open() {
		if j != nil && strings.HasPrefix(j.Outcome, rolledBack) {
			// Rerun after a crash, or asked to delete the green a first
			// rollback kept (as its outcome suggests): converge.
			r.j = j
			return r.afterRollback(ctx, deleteGreen)
		}
		return nil, fmt.Errorf("environment %s has no open upgrade to roll back ('eksbg status --env %s' shows its state)", o.Env.Name, o.Env.Name)
	}
	r.j = j
	if e, ok := destructiveTeardownStarted(j); ok {
		return nil, fmt.Errorf("%s is being torn down in upgrade %s (step %q %s at %s): there is no whole blue to go back to; finish the upgrade with 'eksbg upgrade --env %s --to %s --approve'",
			j.From.Name, j.ID, e.Step, e.State, e.At.Format(time.RFC3339), o.Env.Name, j.To.Version)
	}
	sum := &Summary{Journal: j}
	ps, err := r.phase(ctx, PhaseRollback, func(ctx context.Context) error {
		if err := r.step(ctx, PhaseRollback, "traffic to blue", func(ctx context.Context) (map[string]string, error) {
			wctx := context.WithoutCancel(ctx)
			if err := r.shifter.Rollback(wctx); err != nil {
				return nil, err
			}
			if err := r.shifter.VerifyWeights(wctx, 0); err != nil {
				return nil, err
			}
			if ws, err := r.shifter.Weights(wctx); err == nil {
				r.em.Emit(Event{Kind: Weights, Phase: PhaseRollback, Weights: ws, To: r.shifter.To()})
			}
			return nil, nil
		}); err != nil {
			return err
		}
		if err := r.step(ctx, PhaseRollback, "singletons to blue", func(ctx context.Context) (map[string]string, error) {
			m, err := r.management(ctx)
			if err != nil {
				return nil, err
			}
			if err := gitops.SetSingletons(ctx, m.Core, r.gitNS, r.green, false); err != nil && !isNotFound(err) {
				return nil, err
			}
			if _, err := r.waitSyncedIfExists(ctx, r.green); err != nil {
				return nil, err
			}
			return nil, gitops.SetSingletons(ctx, m.Core, r.gitNS, r.blue, true)
		}); err != nil {
			return err
		}
		if err := r.step(ctx, PhaseRollback, "remove green from Argo CD", func(ctx context.Context) (map[string]string, error) {
			if err := r.allOnLive(ctx, "remove green from Argo CD"); err != nil {
				return nil, err
			}
			return nil, r.unregister(ctx, PhaseRollback, r.green)
		}); err != nil {
			return err
		}
		if deleteGreen {
			if err := r.step(ctx, PhaseRollback, "delete green", func(ctx context.Context) (map[string]string, error) {
				if err := r.allOnLive(ctx, "delete green"); err != nil {
					return nil, err
				}
				return nil, r.deleteCluster(ctx, PhaseRollback, r.green)
			}); err != nil {
				return err
			}
		}
		return nil
	})
	sum.Phases = append(sum.Phases, ps)
	if err != nil {
		return sum, lockLost(ctx, err)
	}
	return sum, r.end(ctx, r.rolledBackOutcome(deleteGreen))
}

// rolledBack begins the outcome of every rolled-back upgrade.
const rolledBack = "rolled back"

func (r *run) rolledBackOutcome(greenDeleted bool) string {
	if greenDeleted {
		return rolledBack
	}
	return fmt.Sprintf("%s (%s kept: delete it with 'eksbg rollback --env %s --delete-green' or eksctl)", rolledBack, r.green, r.o.Env.Name)
}

// afterRollback answers a rollback of an upgrade that is already rolled
// back: nothing to do, or (deleteGreen) delete the green the first
// rollback kept, journaled into that upgrade, with the weights read back
// first as in any rollback.
func (r *run) afterRollback(ctx context.Context, deleteGreen bool) (*Summary, error) {
	sum := &Summary{Journal: r.j}
	c, err := r.describe(ctx, r.green)
	if err != nil {
		return nil, err
	}
	if deleteGreen && c == nil && r.j.Outcome != rolledBack {
		// Deleted by a run killed before it could say so.
		return sum, r.end(ctx, r.rolledBackOutcome(true))
	}
	if !deleteGreen || c == nil {
		r.em.Emit(Event{Kind: Info, Phase: PhaseRollback, Message: fmt.Sprintf("upgrade %s of %s was already %s at %s: nothing to do",
			r.j.ID, r.o.Env.Name, r.j.Outcome, r.j.EndedAt.Format(time.RFC3339))})
		return sum, nil
	}
	ps, err := r.phase(ctx, PhaseRollback, func(ctx context.Context) error {
		return r.step(ctx, PhaseRollback, "delete green", func(ctx context.Context) (map[string]string, error) {
			if err := r.allOnLive(ctx, "delete green"); err != nil {
				return nil, err
			}
			return nil, r.deleteCluster(ctx, PhaseRollback, r.green)
		})
	})
	sum.Phases = append(sum.Phases, ps)
	if err != nil {
		return sum, lockLost(ctx, err)
	}
	return sum, r.end(ctx, r.rolledBackOutcome(true))
}

// waitSyncedIfExists waits for a cluster's Applications when the cluster
// still exists.
func (r *run) waitSyncedIfExists(ctx context.Context, cluster string) (int, error) {
	c, err := r.describe(ctx, cluster)
	if err != nil || c == nil {
		return 0, err
	}
	return r.waitSynced(ctx, PhaseRollback, cluster, false)
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

// Shift sets the environment's traffic to weight percent on the new color
// by hand, under the same checks and gates as a step of the upgrade: green
// all healthy, capacity, verified weights, a bake under the gates, and a
// rollback to blue on a breach. It is journaled into the open upgrade.
func Shift(ctx context.Context, o Options, weight int) error {
	if weight < 0 || weight > 100 {
		return fmt.Errorf("weight %d is not a percentage", weight)
	}
	r, err := newRun(ctx, o)
	if err != nil {
		return err
	}
	ctx, err = r.acquire(ctx)
	if err != nil {
		return err
	}
	defer r.release()
	j, err := o.Backend.Journal(ctx, o.Env.Name)
	if err != nil {
		return err
	}
	if !j.Open() || !j.Completed(string(PhaseParity), "") {
		return fmt.Errorf("environment %s has no upgrade past its parity checks: green must exist, run the apps and have healthy targets before it takes traffic ('eksbg upgrade --env %s --to VERSION')", o.Env.Name, o.Env.Name)
	}
	if e, ok := rollbackStarted(j); ok {
		return fmt.Errorf("a rollback of upgrade %s is under way (step %q %s at %s): traffic stays on %s; finish it with 'eksbg rollback --env %s'",
			j.ID, e.Step, e.State, e.At.Format(time.RFC3339), j.From.Name, o.Env.Name)
	}
	if e, ok := teardownStarted(j); ok && weight < 100 {
		return fmt.Errorf("%s is being torn down (step %q %s at %s): traffic must stay on %s; finish the upgrade with 'eksbg upgrade --env %s --to %s --approve'",
			j.From.Name, e.Step, e.State, e.At.Format(time.RFC3339), j.To.Name, o.Env.Name, j.To.Version)
	}
	r.j = j
	// A step of its own, not the shift phase: the upgrade's own steps and
	// phases keep their state, and those after the shift check the weights
	// they need (hand-off and teardown want everything on green).
	r.calls.setPhase(PhaseShift)
	return lockLost(ctx, r.step(ctx, PhaseShift, fmt.Sprintf("manual %d%% at %s", weight, r.clock.Now().UTC().Format(time.RFC3339)), func(ctx context.Context) (map[string]string, error) {
		if weight == 0 {
			return nil, r.breachRollback(ctx, 0, nil, errors.New("shifted back by hand"))
		}
		return r.shiftStep(ctx, weight)
	}))
}

// allOnLive reads the weights back right before a destructive step of a
// rollback and refuses it unless every rule sends all traffic to the live
// colour: a resumed rollback skips its "traffic to blue" step.
func (r *run) allOnLive(ctx context.Context, step string) error {
	if err := r.shifter.VerifyWeights(ctx, 0); err != nil {
		return fmt.Errorf("refusing to %s: traffic is not all on %s (move it back with 'eksbg shift --env %s --weight 0', then rerun 'eksbg rollback --env %s'): %w",
			step, r.blue, r.o.Env.Name, r.o.Env.Name, err)
	}
	return nil
}

// rollbackStarted returns the first rollback step the journal has.
func rollbackStarted(j *journal.Journal) (journal.Entry, bool) {
	for _, e := range j.Entries {
		if e.Phase == string(PhaseRollback) && e.Step != "" {
			return e, true
		}
	}
	return journal.Entry{}, false
}

// destructiveTeardownStarted returns the first teardown step past the
// drain: from then on blue is being taken apart.
func destructiveTeardownStarted(j *journal.Journal) (journal.Entry, bool) {
	for _, e := range j.Entries {
		if e.Phase == string(PhaseTeardown) && e.Step != "" && e.Step != "drain" {
			return e, true
		}
	}
	return journal.Entry{}, false
}

// teardownStarted returns the first teardown step the journal has (the
// teardown's phase entry does not count: it only says the phase was
// reached, perhaps to wait for approval).
func teardownStarted(j *journal.Journal) (journal.Entry, bool) {
	for _, e := range j.Entries {
		if e.Phase == string(PhaseTeardown) && e.Step != "" {
			return e, true
		}
	}
	return journal.Entry{}, false
}

// Status is an environment's state as `eksbg status` shows it.
type Status struct {
	Environment string `json:"environment"`
	// Live is the live color's record (nil before the first upgrade).
	Live     *journal.Live         `json:"live,omitempty"`
	Clusters []ClusterStatus       `json:"clusters"`
	Rules    []traffic.RuleWeights `json:"rules"`
	// RulesError says why the weights could not be read.
	RulesError string            `json:"rulesError,omitempty"`
	Upgrade    *UpgradeStatus    `json:"upgrade,omitempty"`
	Lock       *journal.LockInfo `json:"lock,omitempty"`
}

// ClusterStatus is one color's cluster.
type ClusterStatus struct {
	Color   string `json:"color"`
	Name    string `json:"name"`
	Exists  bool   `json:"exists"`
	Status  string `json:"status,omitempty"`
	Version string `json:"version,omitempty"`
	Live    bool   `json:"live"`
}

// UpgradeStatus is the newest journal's position.
type UpgradeStatus struct {
	ID        string         `json:"id"`
	From      string         `json:"from"`
	To        string         `json:"to"`
	Open      bool           `json:"open"`
	Outcome   string         `json:"outcome,omitempty"`
	StartedAt time.Time      `json:"startedAt"`
	Last      *journal.Entry `json:"last,omitempty"`
	// Phase is the phase the upgrade is in (or ended in).
	Phase Phase `json:"phase"`
}

// GetStatus reads an environment's state: both colors' clusters, the rules'
// weights, the journal's position and the lock holder.
func GetStatus(ctx context.Context, o Options) (*Status, error) {
	r, err := newRun(ctx, o)
	if err != nil {
		return nil, err
	}
	st := &Status{Environment: o.Env.Name}
	if st.Live, err = o.Backend.Live(ctx, o.Env.Name); err != nil {
		return nil, err
	}
	for i, color := range []string{r.colors[0], r.colors[1]} {
		name := o.Env.ClusterName(color)
		cs := ClusterStatus{Color: color, Name: name, Live: i == 0}
		c, err := r.describe(ctx, name)
		if err != nil {
			return nil, err
		}
		if c != nil {
			cs.Exists, cs.Status, cs.Version = true, string(c.Status), aws.ToString(c.Version)
		}
		st.Clusters = append(st.Clusters, cs)
	}
	if ws, err := r.shifter.Weights(ctx); err != nil {
		st.RulesError = err.Error()
	} else {
		st.Rules = ws
	}
	j, err := o.Backend.Journal(ctx, o.Env.Name)
	if err != nil {
		return nil, err
	}
	if j != nil {
		u := &UpgradeStatus{ID: j.ID, From: j.From.Name, To: j.To.Name + " (" + j.To.Version + ")", Open: j.Open(), Outcome: j.Outcome, StartedAt: j.StartedAt}
		if n := len(j.Entries); n > 0 {
			e := j.Entries[n-1]
			u.Last, u.Phase = &e, Phase(e.Phase)
		}
		st.Upgrade = u
	}
	if st.Lock, err = o.Backend.LockHolder(ctx, o.Env.Name); err != nil {
		return nil, err
	}
	return st, nil
}
