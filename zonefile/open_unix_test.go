//go:build unix

package zonefile

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// loadWithin runs LoadPacked in a goroutine and fails the test when it
// does not return within a second: a load that blocks on a FIFO must
// not hang the test too.
func loadWithin(t *testing.T, path string) (Findings, error) {
	t.Helper()
	type result struct {
		fs  Findings
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, fs, err := LoadPacked(path, "")
		done <- result{fs, err}
	}()
	select {
	case r := <-done:
		return r.fs, r.err
	case <-time.After(time.Second):
		t.Fatalf("loading %s did not return within a second", path)
		return nil, nil
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// Should the load block in open, a writer lets it go on.
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
}

func TestFifoZonefile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.test.zone")
	mkfifo(t, path)
	_, err := loadWithin(t, path)
	want := "zonefile: " + path + " is a named pipe (FIFO), not a regular file"
	if err == nil || err.Error() != want || !errors.Is(err, ErrNotRegular) {
		t.Fatalf("err %v, want %q", err, want)
	}
}

func TestFifoInclude(t *testing.T) {
	path := writeZone(t, "example.org.zone", head+"$INCLUDE fifo.inc\n")
	fifo := filepath.Join(filepath.Dir(path), "fifo.inc")
	mkfifo(t, fifo)
	fs, err := loadWithin(t, path)
	want := "$INCLUDE fifo.inc: " + fifo + " is a named pipe (FIFO), not a regular file"
	if err == nil || len(fs) != 1 || fs[0].Rule != RuleInclude || fs[0].File != path || fs[0].Line != 5 || fs[0].Detail != want {
		t.Fatalf("err %v, findings %v; want %q at %s:5", err, fs, want, path)
	}
}

// TestIncludeNotRegular: a device, a directory and a socket are refused
// as $INCLUDE files, each named for what it is; so is a device as the
// zonefile.
func TestIncludeNotRegular(t *testing.T) {
	dir := t.TempDir()
	kinds := map[string]string{"dir.inc": "a directory", "sock.inc": "a socket", ".": "a directory"}
	// /dev/null itself is outside the directory (and so is a link to
	// it: os.Root refuses that); a device node inside it needs root.
	if err := unix.Mknod(filepath.Join(dir, "null.inc"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err == nil {
		kinds["null.inc"] = "a character device"
	} else {
		t.Logf("no device node as an $INCLUDE file: mknod: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.inc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Unix socket paths are short: the socket is made from inside dir.
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", "sock.inc")
	os.Chdir(wd)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	for name, kind := range kinds {
		path := filepath.Join(dir, "example.org.zone")
		writeFile(t, path, head+"$INCLUDE "+name+"\n")
		fs, err := loadWithin(t, path)
		want := "$INCLUDE " + name + ": " + filepath.Join(dir, name) + " is " + kind + ", not a regular file"
		if err == nil || len(fs) != 1 || fs[0].Rule != RuleInclude || fs[0].Detail != want {
			t.Errorf("%s: err %v, findings %v; want %q", name, err, fs, want)
		}
	}

	if _, err := OpenRegular("/dev/null"); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a character device") {
		t.Errorf("OpenRegular(/dev/null): %v", err)
	}
}
