package journal

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// The same tests run against every backend: Local in a temporary
// directory, and S3 against the sandbox's S3 emulator.

// stateScenario is an emulator world with the bucket the S3 backend uses.
const stateScenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: eu-west-1
vpcs: []
buckets:
  - name: eksbg-state
`

// store is one backend's storage; open returns a new Backend value over
// it, as a second eksbg process (or machine) would have.
type store struct {
	name string
	open func() Backend
	// separateCAS says compare-and-swap holds between Backend values, not
	// only within one. Local's journal CAS holds within a process (its
	// mutex); across processes its lock guards the journal. S3's holds
	// everywhere: S3 itself decides.
	separateCAS bool
	env         *sandboxtest.Env // the emulator behind S3
}

func stores(t *testing.T) []store {
	dir := t.TempDir()
	env := sandboxtest.StartYAML(t, stateScenario)
	client := NewS3Client(env.AWS)
	return []store{
		{name: "local", open: func() Backend { return &Local{Dir: dir} }},
		{name: "s3", open: func() Backend { return &S3{Client: client, Bucket: "eksbg-state", Prefix: "teams/platform"} },
			separateCAS: true, env: env},
	}
}

// forEachStore runs f against a fresh store of every backend.
func forEachStore(t *testing.T, f func(t *testing.T, st store)) {
	for _, st := range stores(t) {
		t.Run(st.name, func(t *testing.T) { f(t, st) })
	}
}

func TestConformanceLock(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store) {
		ctx := t.Context()
		a, b := st.open(), st.open()
		created := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		if h, err := a.LockHolder(ctx, "prod"); err != nil || h != nil {
			t.Fatalf("holder before any lock: %v, %v", h, err)
		}
		got, err := a.Lock(ctx, "prod", LockInfo{Who: "alice", Host: "laptop-a", PID: 4242, Operation: "upgrade to 1.33", Created: created})
		if err != nil || got.ID == "" {
			t.Fatalf("Lock: %+v, %v", got, err)
		}
		_, err = b.Lock(ctx, "prod", LockInfo{Who: "bob", Host: "laptop-b", PID: 7, Operation: "upgrade to 1.34"})
		var le *LockedError
		if !errors.As(err, &le) || le.Holder != *got || le.Env != "prod" {
			t.Fatalf("second Lock: %v", err)
		}
		for _, want := range []string{"alice", "laptop-a", "4242", "upgrade to 1.33", got.ID, "force-unlock --env prod " + got.ID} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not say %q: %v", want, err)
			}
		}
		if h, err := b.LockHolder(ctx, "prod"); err != nil || h == nil || *h != *got {
			t.Errorf("LockHolder = %+v, %v; want %+v", h, err, got)
		}
		// Other environments are not affected.
		staging, err := b.Lock(ctx, "staging", LockInfo{Who: "bob"})
		if err != nil {
			t.Fatalf("locking staging: %v", err)
		}
		for _, tt := range []struct {
			name string
			call func() error
			want string
		}{
			{"unlock with a wrong ID", func() error { return b.Unlock(ctx, "prod", "not-the-id") }, got.ID},
			{"force-unlock with a wrong ID", func() error { return b.ForceUnlock(ctx, "prod", "nope") }, "held under ID " + got.ID + " by alice on laptop-a"},
			{"unlock an environment that is not locked", func() error { return b.Unlock(ctx, "qa", "x") }, "not locked"},
			{"an environment name that escapes", func() error { _, err := b.Lock(ctx, "../etc", LockInfo{}); return err }, "../etc"},
		} {
			if err := tt.call(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want an error saying %q", tt.name, err, tt.want)
			}
		}
		if h, _ := a.LockHolder(ctx, "prod"); h == nil || h.ID != got.ID {
			t.Fatalf("a refused unlock removed the lock: %+v", h)
		}
		if err := b.ForceUnlock(ctx, "prod", got.ID); err != nil {
			t.Fatal(err)
		}
		if h, err := a.LockHolder(ctx, "prod"); err != nil || h != nil {
			t.Errorf("after ForceUnlock: %v, %v", h, err)
		}
		// Free again: taken, then released by its holder.
		again, err := b.Lock(ctx, "prod", LockInfo{Who: "bob", ID: "fixed-id"})
		if err != nil || again.ID != "fixed-id" {
			t.Fatalf("Lock after force-unlock: %+v, %v", again, err)
		}
		if err := b.Unlock(ctx, "prod", "fixed-id"); err != nil {
			t.Fatal(err)
		}
		if err := a.Unlock(ctx, "staging", staging.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestConformanceJournal(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store) {
		ctx := t.Context()
		l := st.open()
		if j, err := l.Journal(ctx, "prod"); err != nil || j != nil {
			t.Fatalf("no journal yet: %v, %v", j, err)
		}
		start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		j := &Journal{ID: "u1", Environment: "prod", From: ClusterRef{"prod-blue", "blue", "1.31"}, To: ClusterRef{"prod-green", "green", "1.33"}, StartedAt: start}
		j.Entries = append(j.Entries, Entry{Phase: "preflight", Step: "capacity", State: Started, At: start})
		if err := l.SaveJournal(ctx, "prod", j); err != nil || j.Version != 1 {
			t.Fatalf("first save: %v (version %d)", err, j.Version)
		}
		// A second first save (version 0) is refused: a journal exists.
		fresh := &Journal{ID: "u2", Environment: "prod"}
		if err := st.open().SaveJournal(ctx, "prod", fresh); !errors.Is(err, ErrConflict) || fresh.Version != 0 {
			t.Fatalf("a second first save: %v (version %d)", err, fresh.Version)
		}
		// Two writers read version 1; the first save wins, the second is refused.
		a, _ := l.Journal(ctx, "prod")
		b, _ := l.Journal(ctx, "prod")
		a.Entries = append(a.Entries, Entry{Phase: "preflight", Step: "capacity", State: Done, At: start.Add(time.Minute)})
		b.Entries = append(b.Entries, Entry{Phase: "preflight", Step: "capacity", State: Failed, At: start.Add(time.Minute)})
		if err := l.SaveJournal(ctx, "prod", a); err != nil || a.Version != 2 {
			t.Fatalf("save of a: %v (version %d)", err, a.Version)
		}
		if err := l.SaveJournal(ctx, "prod", b); !errors.Is(err, ErrConflict) || b.Version != 1 {
			t.Fatalf("stale save: %v (version %d)", err, b.Version)
		}
		// Another process reads and saves on top; this one's copy is stale then.
		other := st.open()
		c, err := other.Journal(ctx, "prod")
		if err != nil || c.Version != 2 {
			t.Fatalf("other process reads %+v, %v", c, err)
		}
		c.Entries = append(c.Entries, Entry{Phase: "create", Step: "green", State: Started, At: start.Add(2 * time.Minute)})
		if err := other.SaveJournal(ctx, "prod", c); err != nil || c.Version != 3 {
			t.Fatalf("other process saves: %v (version %d)", err, c.Version)
		}
		a.Entries = append(a.Entries, Entry{Phase: "create", Step: "green", State: Failed, At: start.Add(2 * time.Minute)})
		if err := l.SaveJournal(ctx, "prod", a); !errors.Is(err, ErrConflict) {
			t.Fatalf("save over another process's write: %v", err)
		}
		// A version from nowhere is refused too.
		ahead := *c
		ahead.Version = 7
		if err := l.SaveJournal(ctx, "prod", &ahead); !errors.Is(err, ErrConflict) {
			t.Fatalf("save of version 7 over 3: %v", err)
		}
		got, err := st.open().Journal(ctx, "prod")
		if err != nil || got.Version != 3 || !got.Completed("preflight", "capacity") || !got.Open() || len(got.Entries) != 3 {
			t.Fatalf("stored journal = %+v, %v", got, err)
		}
		if e, ok := got.Last("create", "green"); !ok || e.State != Started {
			t.Errorf("Last = %+v", e)
		}
		// Saving the copy just read works, from any backend value.
		ended := start.Add(time.Hour)
		got.EndedAt, got.Outcome = &ended, "done"
		if err := l.SaveJournal(ctx, "prod", got); err != nil || got.Version != 4 {
			t.Fatalf("save after a fresh read: %v (version %d)", err, got.Version)
		}
		if j, _ := other.Journal(ctx, "prod"); j.Open() || !j.EndedAt.Equal(ended) {
			t.Errorf("ended journal reads %+v", j)
		}
	})
}

func TestConformanceLive(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store) {
		ctx := t.Context()
		l := st.open()
		if lv, err := l.Live(ctx, "prod"); err != nil || lv != nil {
			t.Fatalf("no live color yet: %v, %v", lv, err)
		}
		now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		for _, want := range []Live{
			{Color: "blue", Cluster: "prod-blue", Version: "1.31", Since: now},
			{Color: "green", Cluster: "prod-green", Version: "1.33", Since: now.Add(time.Hour), Upgrade: "u1"},
		} {
			if err := l.SaveLive(ctx, "prod", &want); err != nil {
				t.Fatal(err)
			}
			if lv, err := st.open().Live(ctx, "prod"); err != nil || *lv != want {
				t.Errorf("live = %+v, %v; want %+v", lv, err, want)
			}
		}
		if err := l.SaveLive(ctx, "Prod/..", &Live{}); err == nil {
			t.Error("an environment name that escapes was accepted")
		}
	})
}

// TestConformanceLockRace: many eksbg take one environment's lock at once;
// exactly one gets it and every other is refused naming that one.
func TestConformanceLockRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store) {
		const n = 12
		infos := make([]*LockInfo, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			b := st.open() // each its own eksbg
			wg.Go(func() {
				infos[i], errs[i] = b.Lock(t.Context(), "prod", LockInfo{Who: fmt.Sprintf("operator-%d", i), Host: "laptop", PID: i})
			})
		}
		wg.Wait()
		var winner *LockInfo
		for i, err := range errs {
			if err == nil {
				if winner != nil {
					t.Fatalf("two winners: %+v and %+v", winner, infos[i])
				}
				winner = infos[i]
			}
		}
		if winner == nil {
			t.Fatalf("nobody won: %v", errs)
		}
		for _, err := range errs {
			var le *LockedError
			if err != nil && (!errors.As(err, &le) || le.Holder.ID != winner.ID || le.Holder.Who != winner.Who) {
				t.Errorf("a loser got %v, want the holder %s (%s)", err, winner.Who, winner.ID)
			}
		}
	})
}

// TestConformanceJournalRace: two writers read the same version and save
// at once; exactly one gets ErrConflict.
func TestConformanceJournalRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store) {
		ctx := t.Context()
		shared := st.open()
		if err := shared.SaveJournal(ctx, "prod", &Journal{ID: "u1", Environment: "prod"}); err != nil {
			t.Fatal(err)
		}
		for round := range 10 {
			writers := []Backend{shared, shared}
			if st.separateCAS {
				writers = []Backend{st.open(), st.open()}
			}
			js := make([]*Journal, 2)
			for i, w := range writers {
				j, err := w.Journal(ctx, "prod")
				if err != nil {
					t.Fatal(err)
				}
				j.Entries = append(j.Entries, Entry{Phase: "shift", Step: fmt.Sprintf("round %d", round), State: Done, Message: fmt.Sprintf("writer %d", i)})
				js[i] = j
			}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, w := range writers {
				wg.Go(func() { errs[i] = w.SaveJournal(ctx, "prod", js[i]) })
			}
			wg.Wait()
			conflicts := 0
			for _, err := range errs {
				switch {
				case errors.Is(err, ErrConflict):
					conflicts++
				case err != nil:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if conflicts != 1 {
				t.Fatalf("round %d: %d conflicts of 2 writers (%v)", round, conflicts, errs)
			}
		}
		j, err := st.open().Journal(ctx, "prod")
		if err != nil || j.Version != 11 || len(j.Entries) != 10 {
			t.Fatalf("after 10 rounds: version %d, %d entries, %v", j.Version, len(j.Entries), err)
		}
	})
}

// TestConformanceRenew: the holder renews its lease; a renewal by an ID
// that no longer holds the lock (it expired and was taken over, or was
// force-unlocked) is refused with LockLostError and writes nothing.
func TestConformanceRenew(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store) {
		ctx := t.Context()
		a, b := st.open(), st.open()
		created := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
		got, err := a.Lock(ctx, "prod", LockInfo{Who: "alice", Created: created, LeaseSeconds: 60})
		if err != nil {
			t.Fatal(err)
		}
		if want := created.Add(time.Minute); !got.Expires().Equal(want) || got.Expired(want) || !got.Expired(want.Add(time.Second)) {
			t.Fatalf("expires %s, want %s", got.Expires(), want)
		}
		renewed := *got
		renewed.Renewed = created.Add(40 * time.Second)
		if err := a.Renew(ctx, "prod", renewed); err != nil {
			t.Fatalf("renewing: %v", err)
		}
		h, err := b.LockHolder(ctx, "prod")
		if err != nil || h == nil || !h.Renewed.Equal(renewed.Renewed) || !h.Expires().Equal(created.Add(100*time.Second)) {
			t.Fatalf("holder after renewal = %+v, %v", h, err)
		}
		// Bob takes it over (as after expiry); Alice's next renewal is lost.
		if err := b.ForceUnlock(ctx, "prod", got.ID); err != nil {
			t.Fatal(err)
		}
		bob, err := b.Lock(ctx, "prod", LockInfo{Who: "bob", LeaseSeconds: 60})
		if err != nil {
			t.Fatal(err)
		}
		err = a.Renew(ctx, "prod", renewed)
		var lost *LockLostError
		if !errors.As(err, &lost) || lost.Holder == nil || lost.Holder.ID != bob.ID {
			t.Fatalf("renewal after takeover: %v, want LockLostError naming bob's lock", err)
		}
		if h, _ := b.LockHolder(ctx, "prod"); h == nil || h.ID != bob.ID || h.Who != "bob" {
			t.Errorf("the lost renewal overwrote bob's lock: %+v", h)
		}
		// No lock at all: lost too.
		if err := b.Unlock(ctx, "prod", bob.ID); err != nil {
			t.Fatal(err)
		}
		if err := a.Renew(ctx, "prod", renewed); !errors.As(err, &lost) || lost.Holder != nil {
			t.Errorf("renewal of a released lock: %v, want LockLostError with no holder", err)
		}
	})
}

func TestLockWithoutLeaseNeverExpires(t *testing.T) {
	l := LockInfo{Created: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	if l.Expired(time.Now()) || !l.Expires().IsZero() {
		t.Fatal("a lock without a lease expired")
	}
}
