// Package atomicfile writes files so that a reader, or the next start after a crash, finds
// either the old content or the new one, never a part of it.
//
// The data goes to a temporary file in the same directory (a rename is only atomic within
// one file system), which is synced, then renamed over the name (or linked to it, when the
// file must not exist yet), and the directory is synced so that the new name survives a
// crash too. The desktop bridge keeps its card files, the cards' master key and its
// configuration this way.
//
// github.com/google/renameio covers the temporary file and the rename, but by design neither
// the directory sync (it "concerns itself only with atomicity") nor creating a file only where
// none exists, which the master key needs when two bridges start at once. With both written
// around it little of it would be used, so the few steps are written out here, once.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile replaces the file at path with data, with mode perm. The directory must exist.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return write(path, data, perm, os.Rename)
}

// CreateFile writes data to a new file at path, with mode perm. If path exists it is left
// alone and CreateFile returns an error for which errors.Is(err, fs.ErrExist) holds.
func CreateFile(path string, data []byte, perm fs.FileMode) error {
	// A hard link fails if path exists, unlike rename.
	return write(path, data, perm, os.Link)
}

func write(path string, data []byte, perm fs.FileMode, place func(tmp, path string) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// After a rename the temporary name is gone; after a link it is a second name to drop.
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(perm)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = place(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return SyncDir(dir)
}

// SyncDir makes the names in dir durable: a file created, renamed or removed in dir stays so
// after a crash once SyncDir returns.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
