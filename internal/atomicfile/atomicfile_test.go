package atomicfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// entries lists a directory's names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing os.FileMode // 0: no file before
		perm     os.FileMode
	}{
		{name: "new state file", perm: 0o600},
		{name: "replaces a looser file and tightens it", existing: 0o644, perm: 0o600},
		{name: "executable", perm: 0o755},
		// 0666 would be 0644 under the usual umask: the mode is exact.
		{name: "umask does not apply", perm: 0o666},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "state.json")
			if tc.existing != 0 {
				if err := os.WriteFile(p, []byte("old content, longer than the new"), tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := Write(p, []byte("new"), tc.perm); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := os.ReadFile(p)
			if err != nil || string(got) != "new" {
				t.Errorf("content = %q, %v; want %q", got, err, "new")
			}
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode() != tc.perm {
				t.Errorf("mode = %v, want %v", st.Mode(), tc.perm)
			}
			if names := entries(t, dir); len(names) != 1 || names[0] != "state.json" {
				t.Errorf("directory holds %q, want only state.json", names)
			}
		})
	}
}

func TestWriteKeepingMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cluster.yaml")
	if err := WriteKeepingMode(p, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode() != 0o644 {
		t.Fatalf("a new file: mode %v (%v), want the given 0644", st.Mode(), err)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeepingMode(p, []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode() != 0o640 {
		t.Errorf("an existing file: mode %v (%v), want its own 0640", st.Mode(), err)
	}
	if got, _ := os.ReadFile(p); string(got) != "b" {
		t.Errorf("content = %q, want b", got)
	}
}

// A failed write leaves the target as it was and no temporary file.
func TestWriteFailureLeavesNothing(t *testing.T) {
	t.Run("target is a directory", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "state.json")
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "inside"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Write(p, []byte("new"), 0o600); err == nil {
			t.Fatal("Write over a directory succeeded")
		}
		if names := entries(t, dir); len(names) != 1 || names[0] != "state.json" {
			t.Errorf("directory holds %q after the failure, want only state.json", names)
		}
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			t.Errorf("the directory in the way was changed: %v, %v", st, err)
		}
	})
	t.Run("directory missing", func(t *testing.T) {
		dir := t.TempDir()
		if err := Write(filepath.Join(dir, "gone", "state.json"), []byte("new"), 0o600); err == nil {
			t.Fatal("Write into a missing directory succeeded")
		}
		if names := entries(t, dir); len(names) != 0 {
			t.Errorf("directory holds %q after the failure, want nothing", names)
		}
	})
	t.Run("directory not writable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			// root writes anywhere; the two cases above fail the same
			// way (before or at the rename) and run everywhere.
			t.Log("running as root: a read-only directory does not stop it; checking that Write then succeeds cleanly")
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "state.json")
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		err := Write(p, []byte("new"), 0o600)
		want := "old"
		if os.Geteuid() == 0 {
			want = "new"
			if err != nil {
				t.Fatalf("Write as root: %v", err)
			}
		} else if err == nil {
			t.Fatal("Write into a read-only directory succeeded")
		}
		if got, _ := os.ReadFile(p); string(got) != want {
			t.Errorf("content = %q, want %q", got, want)
		}
		if names := entries(t, dir); len(names) != 1 || names[0] != "state.json" {
			t.Errorf("directory holds %q, want only state.json", names)
		}
	})
}

// Concurrent writers of one file each leave a whole content, never a mix,
// and no temporary file (a fixed temporary name would be shared).
func TestWriteConcurrent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "live.json")
	contents := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		c := bytes.Repeat([]byte(fmt.Sprintf("%02d", i)), 4096)
		contents[string(c)] = true
		wg.Go(func() { errs <- Write(p, c, 0o600) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got, err := os.ReadFile(p)
	if err != nil || !contents[string(got)] {
		t.Errorf("content after concurrent writes is none of the writers' (%d bytes, %v)", len(got), err)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q, want only live.json", names)
	}
}
