package upgrade

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eksbg/eksbg/upgrade/journal"
)

// plantLock makes another holder's lock, on this host, with a PID that
// does not run: what a killed run (or another container with the same
// hostname) leaves. renewedAgo is how long ago it renewed its lease.
func (w *world) plantLock(t *testing.T, renewedAgo time.Duration, lease int) *journal.LockInfo {
	t.Helper()
	host, _ := os.Hostname()
	renewed := w.clock.Now().Add(-renewedAgo).UTC()
	l, err := w.backend.Lock(context.Background(), "demo", journal.LockInfo{Who: "ci", Host: host, PID: 999999, Operation: "upgrade to 1.34",
		Created: renewed, Renewed: renewed, LeaseSeconds: lease})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLockTakesOverAnExpiredLease(t *testing.T) {
	w := newWorld(t)
	old := w.plantLock(t, 2*time.Minute, 60)
	r, err := newRun(context.Background(), w.options("1.34"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.acquire(context.Background()); err != nil {
		t.Fatalf("acquire: %v", err)
	}
	defer r.release()
	if r.lock.ID == old.ID || r.lock.LeaseSeconds != 60 {
		t.Errorf("lock = %+v, want a new one with a 60 s lease", r.lock)
	}
	if !contains(w.eventsOf(Warning), "its lease expired") {
		t.Errorf("warnings %v, want the takeover said", w.eventsOf(Warning))
	}
}

// TestLockWaitsOutAnUnexpiredLease: a holder on this host whose PID does
// not run is not taken over on that ground alone (containers repeat
// hostnames and PIDs); its lease is waited out first.
func TestLockWaitsOutAnUnexpiredLease(t *testing.T) {
	w := newWorld(t)
	w.plantLock(t, 10*time.Second, 60)
	r, err := newRun(context.Background(), w.options("1.34"))
	if err != nil {
		t.Fatal(err)
	}
	start := w.clock.Now()
	if _, err := r.acquire(context.Background()); err != nil {
		t.Fatalf("acquire: %v", err)
	}
	defer r.release()
	if waited := w.clock.Now().Sub(start); waited < 50*time.Second {
		t.Errorf("took the lock over after %s, before the lease's remaining 50 s", waited)
	}
}

// renewingBackend renews the planted lock on the holder's behalf the
// second time anyone looks at it: an alive holder.
type renewingBackend struct {
	journal.Backend
	holder *journal.LockInfo
	looks  int
}

func (b *renewingBackend) LockHolder(ctx context.Context, env string) (*journal.LockInfo, error) {
	b.looks++
	if b.looks == 2 {
		l := *b.holder
		l.Renewed = l.Renewed.Add(20 * time.Second)
		if err := b.Backend.Renew(ctx, env, l); err != nil {
			return nil, err
		}
	}
	return b.Backend.LockHolder(ctx, env)
}

func TestLockRefusedWhenTheHolderRenews(t *testing.T) {
	w := newWorld(t)
	held := w.plantLock(t, 10*time.Second, 60)
	o := w.options("1.34")
	o.Backend = &renewingBackend{Backend: w.backend, holder: held}
	r, err := newRun(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.acquire(context.Background())
	var le *journal.LockedError
	if !errors.As(err, &le) || le.Holder.ID != held.ID || !strings.Contains(err.Error(), "force-unlock") {
		t.Fatalf("acquire = %v, want LockedError naming the alive holder", err)
	}
}

func TestLockLostStopsTheRun(t *testing.T) {
	w := newWorld(t)
	w.env.State.LockLease = time.Second
	r, err := newRun(context.Background(), w.options("1.34"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := r.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer r.release()
	// Someone force-unlocks it and takes it.
	if err := w.backend.ForceUnlock(context.Background(), "demo", r.lock.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.backend.Lock(context.Background(), "demo", journal.LockInfo{Who: "other", LeaseSeconds: 60}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the run's context is still live 10 s after its lock was taken")
	}
	if !errors.Is(context.Cause(ctx), ErrLockLost) {
		t.Errorf("cause = %v, want ErrLockLost", context.Cause(ctx))
	}
	if err := lockLost(ctx, ctx.Err()); !errors.Is(err, ErrLockLost) {
		t.Errorf("lockLost = %v", err)
	}
}

// countingBackend counts renewals.
type countingBackend struct {
	journal.Backend
	mu      sync.Mutex
	renewed int
}

func (b *countingBackend) Renew(ctx context.Context, env string, l journal.LockInfo) error {
	b.mu.Lock()
	b.renewed++
	b.mu.Unlock()
	return b.Backend.Renew(ctx, env, l)
}

func (b *countingBackend) renewals() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.renewed
}

func TestLockIsRenewed(t *testing.T) {
	w := newWorld(t)
	w.env.State.LockLease = time.Second
	b := &countingBackend{Backend: w.backend}
	o := w.options("1.34")
	o.Backend = b
	r, err := newRun(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := r.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.renewals() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d renewals in 10 s with a 1 s lease, want one every third of it", b.renewals())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Errorf("the run's context ended while its lease was renewed: %v", context.Cause(ctx))
	}
	r.release()
	n := b.renewals()
	time.Sleep(time.Second)
	if b.renewals() != n {
		t.Error("renewals went on after release")
	}
	if h, _ := w.backend.LockHolder(context.Background(), "demo"); h != nil {
		t.Errorf("the lock is still held after release: %+v", h)
	}
}

// TestLockWithoutLeaseNeedsForceUnlock: a lock from an eksbg without
// leases is never taken over, however old: only force-unlock frees it.
func TestLockWithoutLeaseNeedsForceUnlock(t *testing.T) {
	w := newWorld(t)
	w.plantLock(t, 24*time.Hour, 0)
	r, err := newRun(context.Background(), w.options("1.34"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.acquire(context.Background())
	var le *journal.LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "eksbg force-unlock") {
		t.Fatalf("acquire = %v, want LockedError pointing at force-unlock", err)
	}
}
