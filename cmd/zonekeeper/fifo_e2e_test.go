package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestFIFOZoneFiles puts a FIFO in DATA/zones and a zone that includes
// one beside it while the daemon runs: both are refused with an event
// naming the file, the control socket keeps answering, other zones keep
// reloading, and SIGTERM ends the process within shutdown-timeout
// (issue 21, point 1: a FIFO used to hang the reload with its lock held).
func TestFIFOZoneFiles(t *testing.T) {
	d := startCLIDaemon(t, "--shutdown-timeout", "3s")
	zones := filepath.Join(d.data, "zones")
	if err := syscall.Mkfifo(filepath.Join(zones, "fifo.test.zone"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(zones, "hosts.inc"), 0o644); err != nil {
		t.Fatal(err)
	}
	inc := strings.Replace(exampleNetZone, "www", "$INCLUDE hosts.inc\nwww", 1)
	if err := os.WriteFile(filepath.Join(zones, "inc.test.zone"), []byte(strings.ReplaceAll(inc, "example.org.", "inc.test.")), 0o644); err != nil {
		t.Fatal(err)
	}
	d.eventually("the FIFO refused", func() bool {
		out := d.ok("events", "--kind", "reload-error")
		return strings.Contains(out, "fifo.test.zone") && strings.Contains(out, "hosts.inc")
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.ok("zone", "list")
		d.ok("status")
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("zone list and status hang with a FIFO in DATA/zones")
	}

	// Another zone's edit is still reloaded.
	path := filepath.Join(zones, "example.org.zone")
	if err := os.WriteFile(path, []byte(strings.Replace(exampleOrgZone, "2026112101", "2026112102", 1)+"new IN A 127.0.0.7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.eventually("the edit of example.org served", func() bool { return len(d.answers("new.example.org.", dns.TypeA)) == 1 })

	start := time.Now()
	if err := syscall.Kill(d.proc.pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.proc.exited:
		t.Logf("stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("the daemon did not exit within 5 s of SIGTERM")
	}
}
