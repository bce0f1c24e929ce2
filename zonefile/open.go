package zonefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by the error that refuses to read a zonefile
// or an $INCLUDE file that is not a regular file: reading a named pipe
// blocks until a writer comes, a device may never end, and neither is a
// zone an operator edits.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens the file at path for reading if it is a regular
// file. It never blocks on the open: the file is opened non-blocking
// and what the descriptor turns out to be (fstat, not a stat of the
// path, which could be replaced in between) decides; a named pipe, a
// device, a socket or a directory is refused with an error that wraps
// ErrNotRegular and says what the file is. The file returned reads in
// the ordinary, blocking way.
func OpenRegular(path string) (*os.File, error) {
	f, _, err := openRegular(osFiles{}, path, path)
	return f, err
}

// files opens and stats names: an *os.Root, or osFiles for the file
// system as it is.
type files interface {
	OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error)
	Stat(name string) (fs.FileInfo, error)
}

// osFiles is files for paths as they are.
type osFiles struct{}

func (osFiles) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}

func (osFiles) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// openError is why a zonefile or an $INCLUDE file was not opened, in
// the words of a finding ("x.zone is a named pipe (FIFO), not a
// regular file"), with the cause wrapped.
type openError struct {
	detail string
	err    error
}

func (e *openError) Error() string { return e.detail }
func (e *openError) Unwrap() error { return e.err }

// openRegular is OpenRegular for name in fsys; display names the file
// in errors. It returns the file's FileInfo too.
func openRegular(fsys files, name, display string) (*os.File, fs.FileInfo, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		// Some kinds refuse the open itself (a Unix socket: ENXIO); the
		// stat only words the error, it decides nothing.
		if fi, serr := fsys.Stat(name); serr == nil && !fi.Mode().IsRegular() {
			return nil, nil, notRegular(display, fi.Mode())
		}
		cause := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			cause = pe.Err // the path is said once, as display
		}
		return nil, nil, &openError{detail: fmt.Sprintf("cannot open %s: %v", display, cause), err: err}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, &openError{detail: fmt.Sprintf("cannot stat %s: %v", display, err), err: err}
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(display, fi.Mode())
	}
	if err := clearNonblock(f); err != nil {
		f.Close()
		return nil, nil, &openError{detail: fmt.Sprintf("cannot read %s: %v", display, err), err: err}
	}
	return f, fi, nil
}

// notRegular refuses the file display, of the given mode.
func notRegular(display string, mode fs.FileMode) error {
	return &openError{detail: fmt.Sprintf("%s is %s, not a regular file", display, fileKind(mode)), err: ErrNotRegular}
}

// fileKind names what a file that is not regular is.
func fileKind(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "of an irregular kind"
}
