package zonefile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ReplaceFile atomically replaces the file at path with what write
// produces: it writes a temporary file in the same directory, fsyncs it,
// gives it the mode of the file it replaces (0644 for a new file), renames
// it over path and fsyncs the directory. When write or any step fails,
// the temporary file is removed and path is left untouched.
func ReplaceFile(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mode := os.FileMode(0o644)
	uid, gid := -1, -1
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		uid, gid = fileOwner(fi)
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("zonefile: replace %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 64*1024)
	if err = write(bw); err != nil {
		return fmt.Errorf("zonefile: replace %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("zonefile: replace %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("zonefile: replace %s: %w", path, err)
	}
	if uid >= 0 && os.Geteuid() == 0 {
		// Keep the owner when root rewrites a file the service user owns.
		if err = tmp.Chown(uid, gid); err != nil {
			return fmt.Errorf("zonefile: replace %s: %w", path, err)
		}
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("zonefile: replace %s: fsync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("zonefile: replace %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("zonefile: replace %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("zonefile: fsync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("zonefile: fsync %s: %w", dir, err)
	}
	return nil
}
