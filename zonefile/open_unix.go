//go:build unix

package zonefile

import (
	"os"
	"syscall"
)

// openNonblock keeps the open of a named pipe from waiting for a writer
// (and of a terminal for its carrier).
const openNonblock = syscall.O_NONBLOCK

// clearNonblock puts f, known by now to be a regular file, back in
// blocking mode: some network and FUSE file systems honour O_NONBLOCK
// on regular files, and Go does not poll a regular file's reads.
func clearNonblock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
