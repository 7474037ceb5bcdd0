// Package journal keeps what an upgrade must remember across processes and
// machines: the journal of each environment's upgrade (every step recorded
// before and after it acts, so a rerun resumes), the lock that allows one
// upgrade per environment at a time, and the live color.
//
// A Backend stores them; Local keeps them in a directory (files 0600,
// atomic writes with fsync), S3 in an S3 bucket (conditional writes).
// Writes are compare-and-swap on a version, so that two writers cannot
// both win even where the lock is advisory.
package journal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/config"
)

// Backend stores journals, locks and live colors per environment.
type Backend interface {
	// Lock takes the environment's lock for info's holder, or returns a
	// *LockedError naming the current holder.
	Lock(ctx context.Context, env string, info LockInfo) (*LockInfo, error)
	// Unlock releases a lock this holder took (its ID must match).
	Unlock(ctx context.Context, env string, id string) error
	// ForceUnlock removes the lock whose ID is id, whoever holds it, as
	// `terraform force-unlock` does; any other ID is refused.
	ForceUnlock(ctx context.Context, env string, id string) error
	// LockHolder returns the current lock, or nil.
	LockHolder(ctx context.Context, env string) (*LockInfo, error)
	// Renew writes info (its Renewed time moved on) over the lock if the
	// lock is still info.ID's; otherwise it returns a *LockLostError and
	// writes nothing.
	Renew(ctx context.Context, env string, info LockInfo) error
	// Journal returns the environment's journal, or nil when no upgrade
	// was ever recorded.
	Journal(ctx context.Context, env string) (*Journal, error)
	// SaveJournal writes j if the stored journal's version is still
	// j.Version (0 for none), then increments j.Version; otherwise it
	// returns ErrConflict and writes nothing.
	SaveJournal(ctx context.Context, env string, j *Journal) error
	// Live returns the environment's live color record, or nil.
	Live(ctx context.Context, env string) (*Live, error)
	// SaveLive records the live color.
	SaveLive(ctx context.Context, env string, l *Live) error
}

// ErrConflict means the journal changed since it was read.
var ErrConflict = errors.New("the journal changed since it was read: another eksbg is writing it")

// LockInfo says who holds an environment's lock.
type LockInfo struct {
	// ID is random, one per holder; it is what identifies the holder
	// (hostnames and PIDs repeat across containers). ForceUnlock needs it.
	ID        string    `json:"id"`
	Who       string    `json:"who"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Operation string    `json:"operation"`
	Created   time.Time `json:"created"`
	// LeaseSeconds is how long the lock stays valid after Renewed (0: a
	// lock without a lease, from an older eksbg, which never expires).
	LeaseSeconds int `json:"leaseSeconds,omitempty"`
	// Renewed is when the holder last renewed the lease (Created before
	// the first renewal).
	Renewed time.Time `json:"renewed,omitzero"`
}

// Expires is when the lease ends unless renewed; zero for a lock without
// a lease.
func (l LockInfo) Expires() time.Time {
	if l.LeaseSeconds <= 0 {
		return time.Time{}
	}
	from := l.Renewed
	if from.IsZero() {
		from = l.Created
	}
	return from.Add(time.Duration(l.LeaseSeconds) * time.Second)
}

// Expired reports whether the lease ended before now (never for a lock
// without a lease).
func (l LockInfo) Expired(now time.Time) bool {
	e := l.Expires()
	return !e.IsZero() && now.After(e)
}

// LockLostError is Renew's answer when the lock is no longer the
// holder's: it expired and was taken over, or was force-unlocked.
type LockLostError struct {
	Env string
	ID  string
	// Holder is the lock now, nil when there is none.
	Holder *LockInfo
}

func (e *LockLostError) Error() string {
	now := "nobody holds it now"
	if h := e.Holder; h != nil {
		now = fmt.Sprintf("%s on %s holds it now (lock ID %s, %s)", h.Who, h.Host, h.ID, h.Operation)
	}
	return fmt.Sprintf("the lock of environment %s (ID %s) was lost: %s", e.Env, e.ID, now)
}

// LockedError is Lock's answer when someone else holds the lock.
type LockedError struct {
	Env    string
	Holder LockInfo
}

func (e *LockedError) Error() string {
	h := e.Holder
	return fmt.Sprintf("environment %s is locked by %s on %s (pid %d, %s, since %s, lock ID %s): wait for it, or if that run is gone, 'eksbg force-unlock --env %s %s'",
		e.Env, h.Who, h.Host, h.PID, h.Operation, h.Created.Format(time.RFC3339), h.ID, e.Env, h.ID)
}

// Journal is the record of one environment's upgrade.
type Journal struct {
	// Version counts saves; SaveJournal compares and increments it.
	Version int `json:"version"`
	// ID identifies the upgrade.
	ID          string     `json:"id"`
	Environment string     `json:"environment"`
	From        ClusterRef `json:"from"`
	To          ClusterRef `json:"to"`
	StartedAt   time.Time  `json:"startedAt"`
	// EndedAt is set when the upgrade finished, rolled back or was
	// abandoned; an upgrade with no EndedAt is open.
	EndedAt *time.Time `json:"endedAt,omitempty"`
	Outcome string     `json:"outcome,omitempty"`
	// Forced are the checks overridden with --force, and why.
	Forced  []Override `json:"forced,omitempty"`
	Entries []Entry    `json:"entries"`
}

// ClusterRef is a cluster of the pair.
type ClusterRef struct {
	Name    string `json:"name"`
	Color   string `json:"color"`
	Version string `json:"version"`
}

// Override is a check forced past, with the operator's reason.
type Override struct {
	Check  string    `json:"check"`
	Reason string    `json:"reason"`
	Who    string    `json:"who"`
	At     time.Time `json:"at"`
}

// Entry states of a step.
const (
	Started  = "started"
	Done     = "done"
	Failed   = "failed"
	Skipped  = "skipped"
	Reverted = "reverted"
)

// Entry is one journal line: a step's state at a time.
type Entry struct {
	Phase string    `json:"phase"`
	Step  string    `json:"step"`
	State string    `json:"state"`
	At    time.Time `json:"at"`
	// Message says what happened, for people.
	Message string `json:"message,omitempty"`
	// Data is what a resumed run needs (weights written, a file's path).
	Data map[string]string `json:"data,omitempty"`
}

// Open reports whether the upgrade has not ended.
func (j *Journal) Open() bool { return j != nil && j.EndedAt == nil }

// Last returns the newest entry of a step, and whether there is one.
func (j *Journal) Last(phase, step string) (Entry, bool) {
	for i := len(j.Entries) - 1; i >= 0; i-- {
		if e := j.Entries[i]; e.Phase == phase && e.Step == step {
			return e, true
		}
	}
	return Entry{}, false
}

// Completed reports whether a step's newest entry is Done (or Skipped).
func (j *Journal) Completed(phase, step string) bool {
	e, ok := j.Last(phase, step)
	return ok && (e.State == Done || e.State == Skipped)
}

// Live records which color serves an environment.
type Live struct {
	Color   string    `json:"color"`
	Cluster string    `json:"cluster"`
	Version string    `json:"version"`
	Since   time.Time `json:"since"`
	// Upgrade is the journal ID that made it live ("" for the first).
	Upgrade string `json:"upgrade,omitempty"`
}

// ForEnvironment opens the state backend an environment's config names:
// local (st.Dir, relative to projectDir, the directory of eksbg.yaml) or
// s3 (st.Bucket and st.Prefix, through s3c, which the s3 backend needs and
// the local one ignores).
func ForEnvironment(st config.State, projectDir string, s3c S3API) (Backend, error) {
	switch st.Backend {
	case "", config.StateBackendLocal:
		dir := st.Dir
		if dir == "" {
			dir = config.DefaultStateDir
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(projectDir, dir)
		}
		return &Local{Dir: dir}, nil
	case config.StateBackendS3:
		if st.Bucket == "" {
			return nil, fmt.Errorf("state backend s3 needs state.bucket")
		}
		if s3c == nil {
			return nil, fmt.Errorf("state backend s3 (bucket %s) needs an S3 client", st.Bucket)
		}
		return &S3{Client: s3c, Bucket: st.Bucket, Prefix: st.Prefix}, nil
	}
	return nil, fmt.Errorf("state backend %q is not supported: use %s or %s", st.Backend, config.StateBackendLocal, config.StateBackendS3)
}

// LiveColor is config.Environment.LiveColor with its inputs read: the
// backend's record of the live colour (b may be nil: no record) and the
// cluster the environment's eksctl config names.
func LiveColor(ctx context.Context, b Backend, env *config.Environment) (string, error) {
	recorded := ""
	if b != nil {
		lv, err := b.Live(ctx, env.Name)
		if err != nil {
			return "", err
		}
		if lv != nil {
			recorded = lv.Color
		}
	}
	if config.ValidColor(recorded) {
		return recorded, nil
	}
	cfg, err := clusters.Load(env.Cluster.EksctlConfig)
	if err != nil {
		return "", fmt.Errorf("loading the environment's eksctl config: %w", err)
	}
	return env.LiveColor(recorded, cfg.Name())
}
