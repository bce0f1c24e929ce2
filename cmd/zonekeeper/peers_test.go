package main

// Helpers that start servers for the interoperability tests: reference
// servers from Debian packages (NSD here) and the zonekeeper binary
// itself, each in its own process on loopback with its own files under a
// temp dir (docs/architecture.md, "Tests and peers").

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// peerStartTimeout bounds how long a started server may take to answer
// its first query; generous so the tests do not flake under -race.
const peerStartTimeout = 20 * time.Second

// peerZone is a zone a started server loads: its origin (absolute, with
// the trailing dot) and the absolute path of its zonefile.
type peerZone struct {
	Origin string
	File   string
}

// peerZonesFromDir lists the zonefiles of dir: every NAME.zone, whose
// origin is NAME (docs/architecture.md, "Files in DATA").
func peerZonesFromDir(t testing.TB, dir string) []peerZone {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(abs, "*.zone"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.zone files in %s", abs)
	}
	zones := make([]peerZone, 0, len(files))
	for _, f := range files {
		origin := dns.Fqdn(strings.TrimSuffix(filepath.Base(f), ".zone"))
		zones = append(zones, peerZone{Origin: origin, File: f})
	}
	return zones
}

// freeLoopbackPort returns a port free on ip for both UDP and TCP. The
// sockets are closed before it returns, so another process could take the
// port first; the callers' start-up checks would then fail loudly.
func freeLoopbackPort(t testing.TB, ip string) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("binding a UDP port on %s: %v", ip, err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatalf("no port free for both UDP and TCP on %s", ip)
	return 0
}

// lockedBuffer collects a child process's output; exec copies into it
// from its own goroutine while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// peerProcess is a server process started by a test in its own process
// group. It is stopped in Cleanup (SIGTERM to the group, SIGKILL after a
// grace period), and its output is logged when the test failed.
type peerProcess struct {
	Name   string
	out    lockedBuffer
	exited chan struct{} // closed when the process has been waited for
	err    error         // Wait's result, set before exited is closed
	pid    int
}

// startPeerProcess runs argv until the end of the test.
func startPeerProcess(t testing.TB, name string, argv ...string) *peerProcess {
	t.Helper()
	p := &peerProcess{Name: name, exited: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout = &p.out
	cmd.Stderr = &p.out
	// A group of its own: NSD forks a server and an xfrd process, which
	// must go with it.
	cmd.SysProcAttr = groupAttr()
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s (%s): %v", name, strings.Join(argv, " "), err)
	}
	pgid := cmd.Process.Pid
	p.pid = pgid
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.exited
		// Children left behind in the group (the leader is gone).
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Logf("killing %s's process group %d: %v", name, pgid, err)
		}
		if out := p.out.String(); t.Failed() && out != "" {
			t.Logf("%s (%s) output:\n%s", name, strings.Join(argv, " "), out)
		}
	})
	return p
}

// Output returns what the process wrote to stdout and stderr so far.
func (p *peerProcess) Output() string { return p.out.String() }

// waitForSOA polls addr over UDP until it answers an SOA query for zone
// with an SOA record, failing the test if the process exits first or
// nothing answers within peerStartTimeout.
func waitForSOA(t testing.TB, p *peerProcess, addr, zone string) {
	t.Helper()
	c := &dns.Client{Net: "udp", Timeout: 500 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	deadline := time.NewTimer(peerStartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		r, _, err := c.Exchange(m, addr)
		switch {
		case err != nil:
			last = err.Error()
		case r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 || r.Answer[0].Header().Rrtype != dns.TypeSOA:
			last = "reply without an SOA answer:\n" + r.String()
		default:
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before answering SOA %s on %s: %v\noutput:\n%s", p.Name, zone, addr, p.err, p.Output())
		case <-deadline.C:
			t.Fatalf("%s did not answer SOA %s on %s within %v; last: %s\noutput:\n%s", p.Name, zone, addr, peerStartTimeout, last, p.Output())
		case <-tick.C:
		}
	}
}

// nsdBinary finds nsd; the test fails (never skips) without it, since the
// interoperability tests are part of the suite.
func nsdBinary(t testing.TB) string {
	t.Helper()
	if path, err := exec.LookPath("nsd"); err == nil {
		return path
	}
	for _, path := range []string{"/usr/sbin/nsd", "/usr/local/sbin/nsd"} {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	t.Fatal("nsd not found (neither in PATH nor /usr/sbin): run `make deps` to install the reference servers (Debian package nsd)")
	return ""
}

// startNSD runs NSD with zones as primary zones, listening on ip (a
// 127.0.0.x address) at a free port, and returns its address
// ("ip:port"). NSD answers once this returns. Its NOTIFY is off (no
// notify: lines), its rate limit too (rrl-ratelimit: 0, else Debian's
// NSD answers a source 200 times a second), and it neither drops
// privileges nor chroots, so it runs from the temp dir as whoever runs
// the test.
func startNSD(t testing.TB, ip string, zones []peerZone) string {
	t.Helper()
	nsd := nsdBinary(t)
	dir := t.TempDir()
	port := freeLoopbackPort(t, ip)

	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
	ip-address: %s@%d
	port: %d
	do-ip4: yes
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: %q
	pidfile: %q
	database: ""
	zonelistfile: %q
	xfrdfile: %q
	xfrdir: %q
	logfile: %q
	server-count: 1
	rrl-ratelimit: 0
	verbosity: 1
	hide-version: yes
	hide-identity: yes
remote-control:
	control-enable: no
`, ip, port, port, dir, filepath.Join(dir, "nsd.pid"), filepath.Join(dir, "zone.list"),
		filepath.Join(dir, "xfrd.state"), dir, filepath.Join(dir, "nsd.log"))
	for _, z := range zones {
		fmt.Fprintf(&conf, "zone:\n\tname: %q\n\tzonefile: %q\n", z.Origin, z.File)
	}
	confPath := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	checkconf := filepath.Join(filepath.Dir(nsd), "nsd-checkconf")
	if out, err := exec.Command(checkconf, confPath).CombinedOutput(); err != nil {
		t.Fatalf("nsd-checkconf %s: %v\n%s\nconfig:\n%s", confPath, err, out, conf.String())
	}

	p := startPeerProcess(t, "nsd", nsd, "-d", "-c", confPath)
	t.Cleanup(func() {
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "nsd.log")); err == nil {
				t.Logf("nsd log:\n%s", log)
			}
		}
	})
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	for _, z := range zones {
		waitForSOA(t, p, addr, z.Origin)
	}
	return addr
}

// peerControl runs a peer's control tool (rndc, knotc: from the Debian
// package pkg) with its configuration conf and args, and returns its
// output; it fails the test when the tool does.
func peerControl(t testing.TB, tool, pkg, conf string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	argv := append([]string{"-c", conf}, args...)
	out, err := exec.CommandContext(ctx, peerBinary(t, tool, pkg), argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}
