package zonefile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tempInfix marks ReplaceFile's temporary files: .NAME.tmp-RANDOM.
const tempInfix = ".tmp-"

// RemoveStaleTemps removes from dir the temporary files that a
// ReplaceFile interrupted by a crash (kill -9, power loss) left behind,
// and returns their paths. Only this process's start may call it: a
// replace under way would lose its file.
func RemoveStaleTemps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, ".") || !strings.Contains(name, tempInfix) {
			continue
		}
		path := filepath.Join(dir, name)
		if err := os.Remove(path); err != nil {
			return removed, err
		}
		removed = append(removed, path)
	}
	return removed, nil
}

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
	tmp, err := os.CreateTemp(dir, "."+base+tempInfix+"*")
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
