package tui

import (
	"context"

	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/upgrade"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/preflight"
)

// Backend is what the TUI asks of eksbg. Package internal/cli implements it
// over packages upgrade, capacity and drift with one set of clients per
// environment; the tests use a fake. Every method may block on the network,
// so the TUI calls them only from tea.Cmds, never from Update or View.
type Backend interface {
	// Environments lists the project's environments in eksbg.yaml's order.
	Environments(ctx context.Context) ([]config.Environment, error)
	// Status reads an environment's clusters, weights, newest journal and
	// lock holder.
	Status(ctx context.Context, env string) (*Status, error)
	// Versions lists the Kubernetes versions EKS offers (the environment's
	// region's DescribeClusterVersions). On an error the wizard falls back
	// to BuiltinVersions.
	Versions(ctx context.Context, env string) ([]Version, error)
	// Capacity checks a green cluster of the environment at version to (""
	// keeps the eksctl config's) against its subnets and quotas.
	Capacity(ctx context.Context, env, to string) (*capacity.Report, error)
	// Plan is what an upgrade to version to would do (`eksbg plan`).
	Plan(ctx context.Context, env, to string) (*preflight.Plan, error)
	// Drift runs the drift check of one environment (`eksbg drift --env`).
	Drift(ctx context.Context, env string) (*drift.EnvResult, error)
	// Upgrade runs or resumes the upgrade to version to (upgrade.Run);
	// approve allows blue's teardown. Progress goes to events, which the
	// method must not close; the TUI reads it until the method returns.
	Upgrade(ctx context.Context, env, to string, approve bool, events chan<- upgrade.Event) error
	// Shift sets the new color's share of traffic by hand, under the
	// gates (upgrade.Shift).
	Shift(ctx context.Context, env string, weight int, events chan<- upgrade.Event) error
	// Rollback ends the open upgrade by going back to blue
	// (upgrade.Rollback), deleting green when deleteGreen is set.
	Rollback(ctx context.Context, env string, deleteGreen bool, events chan<- upgrade.Event) error
}

// Status is an environment's state as the TUI shows it: upgrade.GetStatus's
// report, and the newest journal, whose target version and entries let the
// TUI resume an open upgrade on its progress screen.
type Status struct {
	*upgrade.Status
	// Journal is the newest upgrade's journal; nil before the first.
	Journal *journal.Journal
}

// live returns the live color's cluster status, or nil.
func (s *Status) live() *upgrade.ClusterStatus {
	if s == nil || s.Status == nil {
		return nil
	}
	for i := range s.Clusters {
		if s.Clusters[i].Live {
			return &s.Clusters[i]
		}
	}
	return nil
}

// openJournal returns the open upgrade's journal, or nil.
func (s *Status) openJournal() *journal.Journal {
	if s == nil || !s.Journal.Open() {
		return nil
	}
	return s.Journal
}
