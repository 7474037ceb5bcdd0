package upgrade

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/kubeaccess"
	"github.com/eksbg/eksbg/internal/wait"
	"github.com/eksbg/eksbg/terraform"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/preflight"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// Provisioner creates and deletes EKS clusters from eksctl configs; the
// eksctl CLI (package internal/eksctl) is the one eksbg uses.
type Provisioner interface {
	// CreateCluster creates the cluster and node groups of the config
	// and returns when they are ready.
	CreateCluster(ctx context.Context, configPath string) error
	// CreateNodegroups creates the config's node groups that do not exist
	// yet (a resumed creation).
	CreateNodegroups(ctx context.Context, configPath string) error
	// DeleteCluster deletes a cluster and its node groups and waits.
	DeleteCluster(ctx context.Context, name, region string) error
}

// Timeouts bound the upgrade's waits. Zero values take the defaults
// DefaultTimeouts gives.
type Timeouts struct {
	// Create bounds cluster creation (eksctl and the ACTIVE waiters).
	Create time.Duration
	// Nodes bounds the wait for green's nodes to be Ready.
	Nodes time.Duration
	// Sync bounds the wait for Argo CD to sync green's Applications.
	Sync time.Duration
	// Parity bounds the wait for green's workloads and targets.
	Parity time.Duration
	// Singletons bounds the wait for blue's last singleton Jobs.
	Singletons time.Duration
	// Teardown bounds each wait of the teardown (targets drained, load
	// balancers gone, cluster deleted).
	Teardown time.Duration
	// Regeneration is how long an Application whose ApplicationSet does
	// not read the singletons label is given to change before eksbg
	// decides it will not (the ApplicationSet controller reacts to a
	// secret change in seconds).
	Regeneration time.Duration
}

// DefaultTimeouts are sized for AWS: EKS creates a control plane in 8-12
// minutes and node groups in 3-5.
func DefaultTimeouts() Timeouts {
	return Timeouts{Create: 40 * time.Minute, Nodes: 15 * time.Minute, Sync: 15 * time.Minute,
		Parity: 15 * time.Minute, Singletons: 30 * time.Minute, Teardown: 30 * time.Minute, Regeneration: 30 * time.Second}
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	for _, p := range []struct{ v, def *time.Duration }{{&t.Create, &d.Create}, {&t.Nodes, &d.Nodes}, {&t.Sync, &d.Sync},
		{&t.Parity, &d.Parity}, {&t.Singletons, &d.Singletons}, {&t.Teardown, &d.Teardown}, {&t.Regeneration, &d.Regeneration}} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return t
}

// Options are what an upgrade (and rollback, shift, status) needs.
type Options struct {
	Env *config.Environment
	// ProjectDir is the directory of eksbg.yaml.
	ProjectDir string
	// To is green's Kubernetes version.
	To string
	// Approve allows the teardown of blue once traffic has moved (as
	// `teardown: auto` in the environment does).
	Approve bool
	// Force overrides blocking preflight findings: check name → reason.
	Force map[string]string
	// Who is the operator, for the lock and the journal.
	Who string
	// Operation names the command holding the lock ("upgrade to 1.34").
	Operation string

	// AWS is the environment's AWS configuration, for the real clients
	// and the preflight's.
	AWS       aws.Config
	Terraform *terraform.Runner
	Schema    *clusters.Schema
	// Provisioner runs eksctl.
	Provisioner Provisioner
	Backend     journal.Backend
	// REST returns a client configuration for an EKS cluster; nil uses
	// kubeaccess (DescribeCluster and an EKS token).
	REST func(ctx context.Context, cluster string) (*rest.Config, error)
	// Management returns the Argo CD management cluster's configuration;
	// nil uses kubeaccess.Management.
	Management func(ctx context.Context) (*rest.Config, error)
	// Clients, if set, are used instead of clients built from AWS, REST
	// and Management (unit tests pass fakes).
	Clients *Clients
	// Preflight makes the plan the preflight phase judges (nil:
	// preflight.MakePlan).
	Preflight func(ctx context.Context, o preflight.Options) (*preflight.Plan, error)
	// Capacity checks a cluster config's demand against the subnets and
	// quotas (CheckCapacity); nil skips capacity checks, with a warning.
	Capacity func(ctx context.Context, green *clusters.Config) (any, []findings.Finding, error)

	// Events receives progress; it must be read until Run returns.
	Events chan<- Event
	// Timeouts bound the waits.
	Timeouts Timeouts
	// GateInterval is how often gates are evaluated during a bake
	// (default 15 s); a breach is acted on within one interval.
	GateInterval time.Duration
	// PollInterval is how often the waits that cannot watch look again
	// (default 5 s).
	PollInterval time.Duration
	// WorkDir receives green's eksctl config for eksctl to read (default
	// a directory under os.TempDir()).
	WorkDir string
	// Clock tells the time and waits (default wait.Real).
	Clock wait.Clock
	// AfterSave, if set, is called after every journal save with the
	// number of saves so far (the crash tests kill the process there).
	AfterSave func(saves int)
}

// GateBreachError is returned when a gate failed during a bake and
// traffic went back to blue.
type GateBreachError struct {
	Step     int
	Breaches []traffic.Breach
}

func (e *GateBreachError) Error() string {
	var msgs []string
	for _, b := range e.Breaches {
		msgs = append(msgs, b.Message)
	}
	return fmt.Sprintf("gate breached at %d%%: %s; every rule is back to 100%% blue", e.Step, strings.Join(msgs, "; "))
}

// HoldError is returned when a step cannot go on yet (the subnets cannot
// hold green at the next step's size, or green has unhealthy targets);
// traffic stays where it is and a rerun continues.
type HoldError struct{ Reason string }

func (e *HoldError) Error() string { return "holding: " + e.Reason }

// AwaitingApproval is returned when traffic has moved and blue waits for
// --approve (or `teardown: auto`) to be torn down.
type AwaitingApproval struct{ Blue, Command string }

func (e *AwaitingApproval) Error() string {
	return fmt.Sprintf("traffic is on green and singletons run there; %s is kept until you approve its teardown: %s", e.Blue, e.Command)
}

// RefusedError is returned when the preflight finds blocking problems.
type RefusedError struct{ Findings []findings.Finding }

func (e *RefusedError) Error() string {
	var msgs []string
	for _, f := range e.Findings {
		msgs = append(msgs, fmt.Sprintf("[%s] %s", f.Check, f.What))
	}
	return "the preflight found blocking problems (fix them, or --force CHECK=REASON): " + strings.Join(msgs, "; ")
}

// Summary is what Run returns: the journal and each phase's figures.
type Summary struct {
	Journal *journal.Journal
	Phases  []PhaseSummary
}

// PhaseSummary is one phase's duration and calls in this run.
type PhaseSummary struct {
	Phase   Phase
	Elapsed time.Duration
	Calls   CallCount
	// Skipped is true when the journal had the phase done already.
	Skipped bool
}

// run is one upgrade run's working state.
type run struct {
	o     Options
	em    *Emitter
	calls *callCounter
	clock wait.Clock
	cl    Clients
	j     *journal.Journal
	saves int
	lock  *journal.LockInfo
	// stopLease stops the lease's renewals (set while the lock is held).
	stopLease func()
	blue      string    // the live color's cluster name
	green     string    // the cluster of the colour being built
	colors    [2]string // live, next
	shifter   *traffic.Shifter
	kube      map[string]*Kube
	gitNS     string
}

func (o *Options) defaults() {
	o.Timeouts = o.Timeouts.withDefaults()
	if o.GateInterval <= 0 {
		o.GateInterval = 15 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.Clock == nil {
		o.Clock = wait.Real{}
	}
	if o.Preflight == nil {
		o.Preflight = preflight.MakePlan
	}
	if o.Who == "" {
		o.Who = os.Getenv("USER")
	}
}

// outcomeCompleted is the outcome of an upgrade that finished.
const outcomeCompleted = "completed"

// newRun opens the clients an upgrade needs and works out the colors: the
// live one from the state backend, or (before the first upgrade) from the
// name in the environment's eksctl config.
func newRun(ctx context.Context, o Options) (*run, error) {
	o.defaults()
	r := &run{o: o, clock: o.Clock, em: NewEmitter(o.Events, o.Env.Name, o.Clock.Now), kube: map[string]*Kube{}}
	r.calls = newCallCounter()
	if o.Clients != nil {
		r.cl = *o.Clients
	} else {
		cfg := o.AWS.Copy()
		r.calls.instrumentAWS(&cfg)
		r.o.AWS = cfg
		mgmt := o.Management
		if mgmt == nil {
			mgmt = func(ctx context.Context) (*rest.Config, error) { return kubeaccess.Management(ctx, o.Env, cfg) }
		}
		r.cl = NewClients(cfg, o.REST, mgmt, r.calls.instrumentKube)
	}
	live, err := journal.LiveColor(ctx, o.Backend, o.Env)
	if err != nil {
		return nil, err
	}
	next := config.OtherColor(live)
	r.colors = [2]string{live, next}
	r.blue, r.green = o.Env.ClusterName(live), o.Env.ClusterName(next)
	r.shifter, err = traffic.NewShifter(r.cl.ELB, r.cl.CloudWatch, o.Env.Traffic.ListenerRules, next, traffic.WithClock(o.Clock))
	if err != nil {
		return nil, err
	}
	r.gitNS = o.Env.ArgoCD.Namespace
	if r.gitNS == "" {
		r.gitNS = config.DefaultArgoCDNamespace
	}
	return r, nil
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// Run runs (or resumes) the upgrade of o.Env to o.To: it takes the
// environment's lock, reads the journal, and runs every phase not yet
// done, journaling each step before and after it acts.
func Run(ctx context.Context, o Options) (*Summary, error) {
	// Arguments are checked before anything is locked or journaled.
	if _, err := clusters.ParseVersion(o.To); err != nil {
		return nil, err
	}
	r, err := newRun(ctx, o)
	if err != nil {
		return nil, err
	}
	ctx, err = r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer r.release()
	if err := r.openJournal(ctx); err != nil {
		return nil, err
	}
	sum := &Summary{Journal: r.j}
	if !r.j.Open() {
		return sum, nil // completed already
	}
	phases := map[Phase]func(context.Context) error{
		PhasePreflight: r.preflight, PhaseRender: r.render, PhaseCreate: r.createGreen, PhaseRegister: r.register,
		PhaseParity: r.parity, PhaseShift: r.shift, PhaseHandoff: r.handoff, PhaseTeardown: r.teardown, PhaseDone: r.done,
	}
	for _, ph := range Phases {
		if r.j.Completed(string(ph), "") {
			sum.Phases = append(sum.Phases, PhaseSummary{Phase: ph, Skipped: true})
			continue
		}
		ps, err := r.phase(ctx, ph, phases[ph])
		sum.Phases = append(sum.Phases, ps)
		if err != nil {
			return sum, lockLost(ctx, err)
		}
	}
	return sum, nil
}

// phase runs one phase between its journal entries and events.
func (r *run) phase(ctx context.Context, ph Phase, fn func(context.Context) error) (PhaseSummary, error) {
	start := r.clock.Now()
	r.calls.setPhase(ph)
	r.em.Emit(Event{Kind: PhaseStarted, Phase: ph})
	if err := r.record(ctx, journal.Entry{Phase: string(ph), State: journal.Started}); err != nil {
		return PhaseSummary{Phase: ph}, err
	}
	err := fn(ctx)
	ps := PhaseSummary{Phase: ph, Elapsed: r.clock.Now().Sub(start), Calls: r.calls.take(ph)}
	entry := journal.Entry{Phase: string(ph), State: journal.Done}
	var aw *AwaitingApproval
	var hold *HoldError
	switch {
	case errors.As(err, &aw), errors.As(err, &hold):
		entry.State, entry.Message = "waiting", err.Error()
	case err != nil:
		entry.State, entry.Message = journal.Failed, err.Error()
		if ctx.Err() != nil {
			entry.Message = "interrupted: " + err.Error()
		}
	}
	if ph != PhaseDone || err != nil {
		if jerr := r.record(ctx, entry); jerr != nil && err == nil {
			err = jerr
		}
	}
	calls := ps.Calls
	r.em.Emit(Event{Kind: PhaseFinished, Phase: ph, Elapsed: ps.Elapsed, Calls: &calls, Err: err})
	return ps, err
}

// step runs fn unless the journal has the step done, recording it
// started, then done with fn's data, or failed.
func (r *run) step(ctx context.Context, ph Phase, name string, fn func(ctx context.Context) (map[string]string, error)) error {
	if r.j.Completed(string(ph), name) {
		return nil
	}
	start := r.clock.Now()
	r.em.Emit(Event{Kind: StepStarted, Phase: ph, Step: name})
	if err := r.record(ctx, journal.Entry{Phase: string(ph), Step: name, State: journal.Started}); err != nil {
		return err
	}
	data, err := fn(ctx)
	e := journal.Entry{Phase: string(ph), Step: name, State: journal.Done, Data: data}
	if err != nil {
		e.State, e.Message = journal.Failed, err.Error()
	}
	if jerr := r.record(ctx, e); jerr != nil && err == nil {
		err = jerr
	}
	r.em.Emit(Event{Kind: StepFinished, Phase: ph, Step: name, Elapsed: r.clock.Now().Sub(start), Err: err})
	return err
}

// record appends an entry and saves the journal. It saves even when ctx
// has been cancelled (Ctrl-C): the journal must say where the run stopped.
func (r *run) record(ctx context.Context, e journal.Entry) error {
	e.At = r.clock.Now().UTC()
	r.j.Entries = append(r.j.Entries, e)
	return r.save(ctx)
}

func (r *run) save(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := r.o.Backend.SaveJournal(sctx, r.o.Env.Name, r.j); err != nil {
		return fmt.Errorf("saving the journal: %w", err)
	}
	r.saves++
	if r.o.AfterSave != nil {
		r.o.AfterSave(r.saves)
	}
	return nil
}

// acquire takes the environment's lock with a lease
// (state.lockLease) and keeps renewing it until release; the returned
// context ends, with ErrLockLost as its cause, if a renewal finds the
// lock gone. The holder is identified by the lock's random ID only:
// hostnames and PIDs repeat across containers. A lock whose lease has
// expired (its run was killed) is taken over with a warning; one whose
// lease still runs is waited for until it expires, and refused at once if
// its holder renews it meanwhile (that run is alive). A lock without a
// lease, from an older eksbg, needs 'eksbg force-unlock'.
func (r *run) acquire(ctx context.Context) (context.Context, error) {
	host, _ := os.Hostname()
	lease := r.o.Env.State.LockLease
	if lease <= 0 {
		lease = config.DefaultLockLease
	}
	now := r.clock.Now().UTC()
	info := journal.LockInfo{ID: journal.NewLockID(), Who: r.o.Who, Host: host, PID: os.Getpid(), Operation: r.o.Operation,
		Created: now, Renewed: now, LeaseSeconds: int(lease.Round(time.Second).Seconds())}
	for attempt := 0; ; attempt++ {
		l, err := r.o.Backend.Lock(ctx, r.o.Env.Name, info)
		var le *journal.LockedError
		if !errors.As(err, &le) || attempt >= 3 {
			if err != nil {
				return ctx, err
			}
			r.lock = l
			return r.keepLease(ctx, lease), nil
		}
		h := le.Holder
		if h.LeaseSeconds <= 0 {
			return ctx, err
		}
		if !stale(h, r.clock.Now()) {
			released, err := r.waitLease(ctx, h)
			if err != nil {
				return ctx, err
			}
			if released {
				continue
			}
		}
		r.em.Emit(Event{Kind: Warning, Message: fmt.Sprintf("taking over the lock of %s on %s (pid %d, %s, lock ID %s): its lease expired at %s without being renewed",
			h.Who, h.Host, h.PID, h.Operation, h.ID, h.Expires().Format(time.RFC3339))})
		if err := r.o.Backend.ForceUnlock(ctx, r.o.Env.Name, h.ID); err != nil {
			return ctx, err
		}
		info.Created, info.Renewed = r.clock.Now().UTC(), r.clock.Now().UTC()
	}
}

// waitLease waits until the holder's lease expires (or it releases the
// lock: released), and fails with the holder named as soon as it renews
// the lease (it is alive) or the lock changes hands.
func (r *run) waitLease(ctx context.Context, h journal.LockInfo) (released bool, err error) {
	r.em.Emit(Event{Kind: Waiting, Message: fmt.Sprintf("environment %s is locked by %s on %s (pid %d, %s, lock ID %s), lease renewed %s ago: waiting until it expires at %s in case that run is gone; an alive holder renews it and this run stops",
		r.o.Env.Name, h.Who, h.Host, h.PID, h.Operation, h.ID, r.clock.Now().Sub(h.Renewed).Round(time.Second), h.Expires().Format(time.RFC3339))})
	// The wait ends when the lease is stale; the timeout only bounds a
	// backend that stops answering (each look is a call that may be slow).
	timeout := h.Expires().Add(leaseGrace(h)).Sub(r.clock.Now()) + time.Minute
	err = wait.Poll(ctx, r.clock, "waiting for the lock's lease to expire", time.Second, timeout, func(ctx context.Context) (bool, string, error) {
		cur, err := r.o.Backend.LockHolder(ctx, r.o.Env.Name)
		if err != nil {
			return false, "", err
		}
		switch {
		case cur == nil:
			released = true
			return true, "", nil
		case cur.ID != h.ID || !cur.Renewed.Equal(h.Renewed):
			return false, "", &journal.LockedError{Env: r.o.Env.Name, Holder: *cur}
		}
		return stale(*cur, r.clock.Now()), "", nil
	}, nil)
	var le *journal.LockedError
	if errors.As(err, &le) {
		return false, le // as Lock says it, without the wait's wording
	}
	return released, err
}

// leaseGrace is how long past its expiry a lease is still respected: half
// the lease, at least a second. A holder renews every third of its lease
// and stops at the first renewal after expiry that fails, so by then an
// alive holder has either renewed or stopped, whatever the clocks' skew
// and however slow the backend answered.
func leaseGrace(h journal.LockInfo) time.Duration {
	return max(time.Duration(h.LeaseSeconds)*time.Second/2, time.Second)
}

// stale reports whether a lease expired more than its grace before now:
// only then is the lock taken over.
func stale(h journal.LockInfo, now time.Time) bool {
	return h.LeaseSeconds > 0 && now.After(h.Expires().Add(leaseGrace(h)))
}

// ErrLockLost is the cause of a run's context when its lock was lost.
var ErrLockLost = errors.New("the environment's lock was lost")

// keepLease renews the lock every third of its lease until release. If a
// renewal finds the lock gone, or the lease runs out before a renewal
// succeeds, the returned context is cancelled with ErrLockLost: another
// run may hold the environment now, and this one must stop acting.
func (r *run) keepLease(ctx context.Context, lease time.Duration) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	done := make(chan struct{})
	r.stopLease = func() { close(stop); <-done; cancel(nil) }
	go func() {
		defer close(done)
		// A heartbeat, not a wait: it beats in real time; the times it
		// records are the run's clock's, as every other time in the lock.
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			l := *r.lock
			l.Renewed = r.clock.Now().UTC()
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), lease/3)
			err := r.o.Backend.Renew(rctx, r.o.Env.Name, l)
			rcancel()
			var lost *journal.LockLostError
			switch {
			case err == nil:
				r.lock.Renewed = l.Renewed
			case errors.As(err, &lost), r.lock.Expired(r.clock.Now()):
				r.em.Emit(Event{Kind: Warning, Message: "stopping: " + err.Error()})
				cancel(fmt.Errorf("%w: %v", ErrLockLost, err))
				return
			}
		}
	}()
	return ctx
}

// lockLost names the lost lock as the reason a run stopped, rather than
// the cancelled context it shows as.
func lockLost(ctx context.Context, err error) error {
	if c := context.Cause(ctx); err != nil && errors.Is(c, ErrLockLost) {
		return fmt.Errorf("%w; the run stopped where the journal says: %v", c, err)
	}
	return err
}

func (r *run) release() {
	if r.lock == nil {
		return
	}
	if r.stopLease != nil {
		r.stopLease()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.o.Backend.Unlock(ctx, r.o.Env.Name, r.lock.ID); err != nil {
		r.em.Emit(Event{Kind: Warning, Message: "releasing the lock: " + err.Error()})
	}
	r.lock = nil
}

// openJournal resumes the open journal (when it is for the same target
// version) or starts a new one.
func (r *run) openJournal(ctx context.Context) error {
	j, err := r.o.Backend.Journal(ctx, r.o.Env.Name)
	if err != nil {
		return err
	}
	if j.Open() {
		if j.To.Version != r.o.To {
			return fmt.Errorf("an upgrade of %s to %s (journal %s) is open since %s: resume it with 'eksbg upgrade --env %s --to %s', or end it with 'eksbg rollback --env %s'",
				r.o.Env.Name, j.To.Version, j.ID, j.StartedAt.Format(time.RFC3339), r.o.Env.Name, j.To.Version, r.o.Env.Name)
		}
		r.j = j
		r.em.Emit(Event{Kind: Info, Message: fmt.Sprintf("resuming upgrade %s (%s → %s) from its journal (%d entries)", j.ID, j.From.Name, j.To.Name, len(j.Entries))})
		return nil
	}
	if j != nil && j.Outcome == outcomeCompleted && j.To.Version == r.o.To {
		// The same command rerun after it finished (or after a crash right
		// after its last save): it has nothing left to do.
		r.j = j
		r.em.Emit(Event{Kind: Info, Message: fmt.Sprintf("upgrade %s of %s to %s already completed at %s: nothing to do", j.ID, r.o.Env.Name, j.To.Version, j.EndedAt.Format(time.RFC3339))})
		return nil
	}
	nj := &journal.Journal{ID: newID(), Environment: r.o.Env.Name, StartedAt: r.clock.Now().UTC(),
		From: journal.ClusterRef{Name: r.blue, Color: r.colors[0]},
		To:   journal.ClusterRef{Name: r.green, Color: r.colors[1], Version: r.o.To}}
	if j != nil {
		nj.Version = j.Version
	}
	r.j = nj
	return r.save(ctx)
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// end closes the journal with an outcome.
func (r *run) end(ctx context.Context, outcome string) error {
	now := r.clock.Now().UTC()
	r.j.EndedAt, r.j.Outcome = &now, outcome
	return r.save(ctx)
}

// clients returns (and caches) the Kubernetes clients of an EKS cluster.
func (r *run) clients(ctx context.Context, cluster string) (*Kube, error) {
	if c, ok := r.kube[cluster]; ok {
		return c, nil
	}
	c, err := r.cl.Cluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	r.kube[cluster] = c
	return c, nil
}

// management returns (and caches) the clients of the Argo CD management
// cluster.
func (r *run) management(ctx context.Context) (*Kube, error) {
	const key = "\x00management"
	if c, ok := r.kube[key]; ok {
		return c, nil
	}
	c, err := r.cl.Management(ctx)
	if err != nil {
		return nil, err
	}
	r.kube[key] = c
	return c, nil
}
