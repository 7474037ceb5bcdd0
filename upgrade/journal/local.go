package journal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/eksbg/eksbg/internal/atomicfile"
)

// Local keeps state in a directory: <dir>/<env>/journal.json, lock.json and
// live.json, each 0600 in a 0700 directory. Writes go to a temporary file
// that is fsynced and renamed over the old one, then the directory is
// fsynced, so a crash leaves the old or the new file, never half of one.
// The lock is a file linked into place: one holder per environment across
// processes on this machine (and on a shared file system whose link(2)
// is atomic, as NFS's is).
type Local struct {
	Dir string
	// mu serialises compare-and-swap within this process; across
	// processes the environment's lock does.
	mu sync.Mutex
}

var _ Backend = (*Local)(nil)

var envNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func (l *Local) envDir(env string) (string, error) {
	if !envNameRE.MatchString(env) {
		return "", fmt.Errorf("environment name %q cannot name a state directory", env)
	}
	d := filepath.Join(l.Dir, env)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("creating state directory %s: %w", d, err)
	}
	return d, nil
}

// NewLockID returns a random lock ID.
func NewLockID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Lock implements Backend.
func (l *Local) Lock(ctx context.Context, env string, info LockInfo) (*LockInfo, error) {
	d, err := l.envDir(env)
	if err != nil {
		return nil, err
	}
	if info.ID == "" {
		info.ID = NewLockID()
	}
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	p := filepath.Join(d, "lock.json")
	// The lock is written whole to a temporary file, then linked to
	// lock.json: link(2) fails when lock.json exists, so the lock appears
	// complete or not at all, and a rival never reads a half-written one
	// (as it could between an O_EXCL create and its write).
	f, err := os.CreateTemp(d, ".lock.json.*")
	if err != nil {
		return nil, fmt.Errorf("taking the lock of %s: %w", env, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // lock.json, if linked, keeps the content
	cherr := f.Chmod(0o600)
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(cherr, werr, serr, cerr); err != nil {
		return nil, fmt.Errorf("writing the lock of %s: %w", env, err)
	}
	err = os.Link(tmp, p)
	if errors.Is(err, fs.ErrExist) {
		holder, rerr := readJSON[LockInfo](p)
		if rerr != nil || holder == nil {
			return nil, fmt.Errorf("environment %s is locked and its lock file %s cannot be read (%v): check it, then remove it by hand", env, p, rerr)
		}
		return nil, &LockedError{Env: env, Holder: *holder}
	}
	if err != nil {
		return nil, fmt.Errorf("taking the lock of %s: %w", env, err)
	}
	if err := atomicfile.SyncDir(d); err != nil {
		return nil, err
	}
	return &info, nil
}

// Unlock implements Backend.
func (l *Local) Unlock(ctx context.Context, env, id string) error {
	return l.removeLock(env, id, "releasing")
}

// ForceUnlock implements Backend.
func (l *Local) ForceUnlock(ctx context.Context, env, id string) error {
	return l.removeLock(env, id, "force-unlocking")
}

func (l *Local) removeLock(env, id, what string) error {
	d, err := l.envDir(env)
	if err != nil {
		return err
	}
	p := filepath.Join(d, "lock.json")
	holder, err := readJSON[LockInfo](p)
	if err != nil {
		return fmt.Errorf("%s the lock of %s: %w", what, env, err)
	}
	if err := checkLockID(holder, env, id, what); err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("%s the lock of %s: %w", what, env, err)
	}
	return atomicfile.SyncDir(d)
}

// checkLockID refuses to remove a lock that is not there or not id's
// (both backends say it the same way).
func checkLockID(holder *LockInfo, env, id, what string) error {
	if holder == nil {
		return fmt.Errorf("%s the lock of %s: it is not locked", what, env)
	}
	if holder.ID != id {
		return fmt.Errorf("%s the lock of %s: it is held under ID %s by %s on %s, not %s", what, env, holder.ID, holder.Who, holder.Host, id)
	}
	return nil
}

// LockHolder implements Backend.
func (l *Local) LockHolder(ctx context.Context, env string) (*LockInfo, error) {
	d, err := l.envDir(env)
	if err != nil {
		return nil, err
	}
	return readJSON[LockInfo](filepath.Join(d, "lock.json"))
}

// Journal implements Backend.
func (l *Local) Journal(ctx context.Context, env string) (*Journal, error) {
	d, err := l.envDir(env)
	if err != nil {
		return nil, err
	}
	return readJSON[Journal](filepath.Join(d, "journal.json"))
}

// SaveJournal implements Backend.
func (l *Local) SaveJournal(ctx context.Context, env string, j *Journal) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, err := l.envDir(env)
	if err != nil {
		return err
	}
	p := filepath.Join(d, "journal.json")
	cur, err := readJSON[Journal](p)
	if err != nil {
		return err
	}
	stored := 0
	if cur != nil {
		stored = cur.Version
	}
	if stored != j.Version {
		return fmt.Errorf("saving the journal of %s (version %d, stored %d): %w", env, j.Version, stored, ErrConflict)
	}
	j.Version++
	if err := writeJSON(p, j); err != nil {
		j.Version--
		return fmt.Errorf("saving the journal of %s: %w", env, err)
	}
	return nil
}

// Live implements Backend.
func (l *Local) Live(ctx context.Context, env string) (*Live, error) {
	d, err := l.envDir(env)
	if err != nil {
		return nil, err
	}
	return readJSON[Live](filepath.Join(d, "live.json"))
}

// SaveLive implements Backend.
func (l *Local) SaveLive(ctx context.Context, env string, lv *Live) error {
	d, err := l.envDir(env)
	if err != nil {
		return err
	}
	return writeJSON(filepath.Join(d, "live.json"), lv)
}

func readJSON[T any](p string) (*T, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	return &v, nil
}

// writeJSON replaces p atomically and durably, owner-only (atomicfile).
func writeJSON(p string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(p, data, 0o600)
}

// Renew implements Backend. Within a process the mutex orders it with
// other writes; across processes a takeover happens only after the lease
// expired, which a holder that renews every third of its lease does not
// let happen, so the window between the read and the rename is harmless.
func (l *Local) Renew(ctx context.Context, env string, info LockInfo) error {
	d, err := l.envDir(env)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := filepath.Join(d, "lock.json")
	holder, err := readJSON[LockInfo](p)
	if err != nil {
		return fmt.Errorf("renewing the lock of %s: %w", env, err)
	}
	if holder == nil || holder.ID != info.ID {
		return &LockLostError{Env: env, ID: info.ID, Holder: holder}
	}
	if err := writeJSON(p, info); err != nil {
		return fmt.Errorf("renewing the lock of %s: %w", env, err)
	}
	return nil
}
