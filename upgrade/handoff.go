package upgrade

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eksbg/eksbg/internal/gitops"
)

// handoff moves singletons from blue to green, stopping the old before
// starting the new: blue's secret is labelled suspended, Argo CD
// regenerates and syncs blue's Applications (spec.suspend on their
// CronJobs), blue's running singleton Jobs finish, and only then is
// green's secret labelled active.
func (r *run) handoff(ctx context.Context) error {
	// Singletons follow the traffic only once all of it is on green (a
	// manual shift may have moved some back since the last step).
	if !r.j.Completed(string(PhaseHandoff), "activate green") {
		if err := r.shifter.VerifyWeights(ctx, 100); err != nil {
			return fmt.Errorf("traffic is not all on %s, so singletons stay on %s (move it with 'eksbg shift --env %s --weight 100', or 'eksbg rollback --env %s'): %w",
				r.green, r.blue, r.o.Env.Name, r.o.Env.Name, err)
		}
	}
	if err := r.step(ctx, PhaseHandoff, "suspend blue", func(ctx context.Context) (map[string]string, error) {
		return r.setSingletons(ctx, r.blue, false)
	}); err != nil {
		return err
	}
	if err := r.step(ctx, PhaseHandoff, "wait for blue's jobs", func(ctx context.Context) (map[string]string, error) {
		e, _ := r.j.Last(string(PhaseHandoff), "suspend blue")
		if err := r.waitRegenerated(ctx, PhaseHandoff, r.blue, e.Data); err != nil {
			return nil, err
		}
		b, err := r.clients(ctx, r.blue)
		if err != nil {
			return nil, err
		}
		var rogue []string
		err = r.waitFor(ctx, PhaseHandoff, "no singleton Job running on "+r.blue, r.o.Timeouts.Singletons, func(ctx context.Context) (bool, string, error) {
			cjs, err := b.Core.BatchV1().CronJobs("").List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, "", err
			}
			rogue = rogue[:0]
			var running []string
			for _, cj := range cjs.Items {
				id := cj.Namespace + "/" + cj.Name
				if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
					rogue = append(rogue, id)
					continue
				}
				if n := len(cj.Status.Active); n > 0 {
					running = append(running, fmt.Sprintf("%s (%d Job(s))", id, n))
				}
			}
			return len(running) == 0, "waiting for " + strings.Join(running, ", "), nil
		})
		if err != nil {
			return nil, err
		}
		for _, id := range rogue {
			r.em.Emit(Event{Kind: Warning, Phase: PhaseHandoff, Message: fmt.Sprintf("CronJob %s on %s is not suspended: it does not template spec.suspend from the %s label (docs/singletons.md), so it runs on both clusters until blue is gone", id, r.blue, gitops.LabelSingletons)})
		}
		return map[string]string{"notFollowingContract": strings.Join(rogue, ",")}, nil
	}); err != nil {
		return err
	}
	if err := r.step(ctx, PhaseHandoff, "activate green", func(ctx context.Context) (map[string]string, error) {
		return r.setSingletons(ctx, r.green, true)
	}); err != nil {
		return err
	}
	return r.step(ctx, PhaseHandoff, "wait for green", func(ctx context.Context) (map[string]string, error) {
		e, _ := r.j.Last(string(PhaseHandoff), "activate green")
		return nil, r.waitRegenerated(ctx, PhaseHandoff, r.green, e.Data)
	})
}

// setSingletons labels a cluster's secret and returns the spec
// fingerprints of its Applications from before, for waitRegenerated.
func (r *run) setSingletons(ctx context.Context, cluster string, active bool) (map[string]string, error) {
	m, err := r.management(ctx)
	if err != nil {
		return nil, err
	}
	server, err := r.endpoint(ctx, cluster)
	if err != nil {
		return nil, err
	}
	apps, err := gitops.ListApplications(ctx, m.Dynamic, r.gitNS, server)
	if err != nil {
		return nil, err
	}
	before := map[string]string{}
	for _, a := range apps {
		before["spec/"+a.Name] = a.Spec
	}
	return before, gitops.SetSingletons(ctx, m.Core, r.gitNS, cluster, active)
}

// waitRegenerated waits until the cluster's Applications whose spec the
// label change altered are Synced and Healthy for the new spec. Those
// whose spec does not change within Timeouts.Regeneration do not template the
// label, which the CronJob check then reports.
func (r *run) waitRegenerated(ctx context.Context, ph Phase, cluster string, before map[string]string) error {
	m, err := r.management(ctx)
	if err != nil {
		return err
	}
	server, err := r.endpoint(ctx, cluster)
	if err != nil {
		return err
	}
	grace := r.o.Timeouts.Regeneration
	deadline := r.clock.Now().Add(grace)
	wctx, cancel := context.WithTimeout(ctx, r.o.Timeouts.Sync)
	defer cancel()
	// WaitApplications re-evaluates on changes only; a timer poke makes
	// the grace period end even when nothing changes.
	gctx, gcancel := context.WithTimeout(wctx, grace)
	defer gcancel()
	apps, err := gitops.WaitApplications(gctx, m.Dynamic, r.gitNS, server, func(apps []gitops.Application) bool {
		pending := 0
		for _, a := range apps {
			changed := before["spec/"+a.Name] != "" && before["spec/"+a.Name] != a.Spec
			if !a.SyncedHealthy() || (!changed && r.clock.Now().Before(deadline)) {
				pending++
			}
		}
		r.em.Emit(Event{Kind: Waiting, Phase: ph, Step: "Applications of " + cluster + " regenerated and synced", Done: len(apps) - pending, Total: len(apps)})
		return pending == 0
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	// The grace period ended: what matters now is that every Application
	// is Synced and Healthy for whatever spec it has.
	if _, err := r.waitSynced(ctx, ph, cluster, false); err != nil {
		return err
	}
	var unchanged []string
	for _, a := range apps {
		if before["spec/"+a.Name] == a.Spec {
			unchanged = append(unchanged, a.Name)
		}
	}
	if len(unchanged) > 0 {
		r.em.Emit(Event{Kind: Info, Phase: ph, Message: fmt.Sprintf("Applications %s did not change with the %s label: their ApplicationSets do not read it", strings.Join(unchanged, ", "), gitops.LabelSingletons)})
	}
	return nil
}
