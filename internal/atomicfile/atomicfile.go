// Package atomicfile replaces a file's content so that a reader, or a
// crash, finds the old content or the new, never a mix: the data goes to a
// temporary file in the same directory (a rename is atomic only within one
// file system), which is fsynced and renamed over the target, and then the
// directory is fsynced so that the rename itself survives a crash.
//
// The rename replaces what is at path: a symbolic link there is replaced
// by a regular file, not followed.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path's content with data and gives it exactly the
// permission bits perm (the umask does not apply). An existing file's
// mode is not kept: state files must end up 0600 whatever was there
// before. WriteKeepingMode keeps it. The directory must exist. A failure
// up to the rename removes the temporary file and leaves path as it was;
// a failure to sync the directory afterwards is reported with the new
// content already in place.
func Write(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm.Perm())
}

// WriteKeepingMode is Write for a file a person owns (an eksctl config in
// their repository): an existing file keeps its permission bits, and perm
// applies only when path does not exist yet.
func WriteKeepingMode(path string, data []byte, perm os.FileMode) error {
	st, err := os.Stat(path)
	switch {
	case err == nil:
		perm = st.Mode()
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("reading the mode of %s: %w", path, err)
	}
	return write(path, data, perm.Perm())
}

func write(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CreateTemp picks a name no other writer has (a fixed "path.tmp"
	// lets two writers interleave their bytes) and creates it 0600.
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating a temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if !renamed {
			_ = f.Close() // after a successful Close this only reports ErrClosed
			_ = os.Remove(tmp)
		}
	}()
	// Chmod on the descriptor, before the data: the file never holds the
	// data under looser bits than asked for, and the umask does not apply.
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("setting the mode of %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	renamed = true
	// The new content is in place; a failed directory sync is still an
	// error (the rename may not survive a crash).
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, making the creation, removal or renaming of
// its entries durable (for callers that link or remove files themselves).
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening %s to sync it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
