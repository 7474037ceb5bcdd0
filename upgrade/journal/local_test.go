package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets the test binary be a second eksbg taking the lock.
func TestMain(m *testing.M) {
	if dir := os.Getenv("EKSBG_STATE_LOCKER"); dir != "" {
		l := &Local{Dir: dir}
		_, err := l.Lock(context.Background(), "prod", LockInfo{Who: "proc", Host: "h", PID: os.Getpid(), Operation: "upgrade", Created: time.Now()})
		var le *LockedError
		switch {
		case err == nil:
			fmt.Print("won")
		case errors.As(err, &le):
			fmt.Print("lost to " + le.Holder.ID)
		default:
			fmt.Print("error: " + err.Error())
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestLockOneHolderAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	outs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(self)
			cmd.Env = append(os.Environ(), "EKSBG_STATE_LOCKER="+dir)
			out, err := cmd.Output()
			if err != nil {
				outs[i] = "exec: " + err.Error()
				return
			}
			outs[i] = string(out)
		}()
	}
	wg.Wait()
	won, lost := 0, 0
	for _, o := range outs {
		switch {
		case o == "won":
			won++
		case strings.HasPrefix(o, "lost to "):
			lost++
		default:
			t.Errorf("unexpected outcome %q", o)
		}
	}
	if won != 1 || lost != n-1 {
		t.Fatalf("%d won and %d lost of %d concurrent processes: %q", won, lost, n, outs)
	}
	holder, err := (&Local{Dir: dir}).LockHolder(t.Context(), "prod")
	if err != nil || holder == nil {
		t.Fatalf("holder: %v, %v", holder, err)
	}
	for _, o := range outs {
		if o != "won" && o != "lost to "+holder.ID {
			t.Errorf("a loser named %q, the holder is %s", o, holder.ID)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "prod", "lock.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v (%v), want 0600", st.Mode(), err)
	}
	if st, err := os.Stat(filepath.Join(dir, "prod")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v (%v), want 0700", st.Mode(), err)
	}
}

func TestLockedErrorAndUnlock(t *testing.T) {
	ctx := t.Context()
	l := &Local{Dir: t.TempDir()}
	created := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	got, err := l.Lock(ctx, "prod", LockInfo{Who: "alice", Host: "laptop-a", PID: 4242, Operation: "upgrade to 1.33", Created: created})
	if err != nil || got.ID == "" {
		t.Fatalf("Lock: %+v, %v", got, err)
	}
	_, err = l.Lock(ctx, "prod", LockInfo{Who: "bob", Host: "laptop-b", PID: 7, Operation: "upgrade to 1.34"})
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.Who != "alice" {
		t.Fatalf("second Lock: %v", err)
	}
	for _, want := range []string{"alice", "laptop-a", "4242", "upgrade to 1.33", got.ID, "force-unlock --env prod " + got.ID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}
	// Other environments are not affected.
	if _, err := l.Lock(ctx, "staging", LockInfo{Who: "bob"}); err != nil {
		t.Errorf("locking staging: %v", err)
	}
	if err := l.Unlock(ctx, "prod", "not-the-id"); err == nil || !strings.Contains(err.Error(), got.ID) {
		t.Errorf("Unlock with a wrong ID: %v", err)
	}
	if err := l.ForceUnlock(ctx, "prod", "nope"); err == nil {
		t.Error("ForceUnlock with a wrong ID succeeded")
	}
	if err := l.ForceUnlock(ctx, "prod", got.ID); err != nil {
		t.Fatal(err)
	}
	if h, err := l.LockHolder(ctx, "prod"); err != nil || h != nil {
		t.Errorf("after ForceUnlock: %v, %v", h, err)
	}
	if _, err := l.Lock(ctx, "../etc", LockInfo{}); err == nil {
		t.Error("an environment name that escapes the state directory was accepted")
	}
}

func TestJournalCompareAndSwap(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	l := &Local{Dir: dir}
	if j, err := l.Journal(ctx, "prod"); err != nil || j != nil {
		t.Fatalf("no journal yet: %v, %v", j, err)
	}
	j := &Journal{ID: "u1", Environment: "prod", From: ClusterRef{"prod-blue", "blue", "1.31"}, To: ClusterRef{"prod-green", "green", "1.33"},
		StartedAt: time.Now().UTC().Truncate(time.Second)}
	j.Entries = append(j.Entries, Entry{Phase: "preflight", Step: "capacity", State: Started, At: j.StartedAt})
	if err := l.SaveJournal(ctx, "prod", j); err != nil || j.Version != 1 {
		t.Fatalf("first save: %v (version %d)", err, j.Version)
	}
	// Two writers read version 1; the first save wins, the second is refused.
	a, _ := l.Journal(ctx, "prod")
	b, _ := l.Journal(ctx, "prod")
	a.Entries = append(a.Entries, Entry{Phase: "preflight", Step: "capacity", State: Done, At: time.Now()})
	b.Entries = append(b.Entries, Entry{Phase: "preflight", Step: "capacity", State: Failed, At: time.Now()})
	if err := l.SaveJournal(ctx, "prod", a); err != nil {
		t.Fatal(err)
	}
	if err := l.SaveJournal(ctx, "prod", b); !errors.Is(err, ErrConflict) || b.Version != 1 {
		t.Fatalf("stale save: %v (version %d)", err, b.Version)
	}
	got, err := l.Journal(ctx, "prod")
	if err != nil || got.Version != 2 || !got.Completed("preflight", "capacity") || !got.Open() {
		t.Fatalf("stored journal = %+v, %v", got, err)
	}
	if e, ok := got.Last("preflight", "capacity"); !ok || e.State != Done {
		t.Errorf("Last = %+v", e)
	}
	st, err := os.Stat(filepath.Join(dir, "prod", "journal.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v (%v), want 0600", st.Mode(), err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "prod", ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	now := time.Now().UTC().Truncate(time.Second)
	if err := l.SaveLive(ctx, "prod", &Live{Color: "green", Cluster: "prod-green", Version: "1.33", Since: now, Upgrade: "u1"}); err != nil {
		t.Fatal(err)
	}
	if lv, err := l.Live(ctx, "prod"); err != nil || lv.Color != "green" || !lv.Since.Equal(now) {
		t.Errorf("live = %+v, %v", lv, err)
	}
}
