package main

// zonekeeper as a peer of the replication tests: the real binary serving
// on its own 127.0.0.x with its own data directory, driven through its
// client verbs (the cliDaemon helpers of e2e_test.go), and restartable
// on the same data so that what must survive a restart can be checked.

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

// zkOptions configures a zonekeeper node of a test.
type zkOptions struct {
	IP    string            // its 127.0.0.x
	Zones map[string]string // origin → zonefile text, written to DATA/zones
	Flags []string          // more serve flags: --allow-axfr, --also-notify, --xfr-...
}

// zkNode is a `zonekeeper serve` of a replication test.
type zkNode struct {
	*cliDaemon
	IP   string
	argv []string
	stop func() // stops the running process and waits for it
}

// startZKNode runs bin (see buildZonekeeper) as `serve` with opts on a
// free port of opts.IP, with an empty config file and NOTIFYs derived
// from NS records sent to a port of opts.IP where nothing listens. It
// returns once every zone answers its SOA and the control socket answers.
func startZKNode(t *testing.T, bin string, opts zkOptions) *zkNode {
	t.Helper()
	dir := t.TempDir()
	d := &cliDaemon{t: t, dir: dir, bin: bin, data: filepath.Join(dir, "data")}
	d.sock = filepath.Join(d.data, "control.sock")
	d.conf = filepath.Join(dir, "empty.conf")
	writeTestFile(t, d.conf, "# the test passes flags\n")
	if err := os.MkdirAll(filepath.Join(d.data, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for origin, text := range opts.Zones {
		writeTestFile(t, filepath.Join(d.data, "zones", strings.TrimSuffix(origin, ".")+".zone"), text)
	}
	d.dns = net.JoinHostPort(opts.IP, strconv.Itoa(freeLoopbackPort(t, opts.IP)))
	deadPort := freeLoopbackPort(t, opts.IP)
	n := &zkNode{cliDaemon: d, IP: opts.IP}
	n.argv = append([]string{bin, "serve", "--config", d.conf, "--data", d.data,
		"--listen", d.dns, "--ns-port", strconv.Itoa(deadPort)}, opts.Flags...)
	origins := make([]string, 0, len(opts.Zones))
	for origin := range opts.Zones {
		origins = append(origins, origin)
	}
	n.start(origins...)
	return n
}

// start runs the serve process (again, after stop: on the same data,
// address and flags) and waits until it answers the SOA of origins and
// on its control socket.
func (n *zkNode) start(origins ...string) {
	n.t.Helper()
	n.proc, n.stop = startStoppableProcess(n.t, "zonekeeper@"+n.IP, n.argv...)
	for _, origin := range origins {
		waitForSOA(n.t, n.proc, n.dns, origin)
	}
	deadline := time.Now().Add(cliTimeout)
	for {
		r := n.run("status")
		if r.code == 0 {
			return
		}
		select {
		case <-n.proc.exited:
			n.t.Fatalf("zonekeeper@%s exited: %v\n%s", n.IP, n.proc.err, n.proc.Output())
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("zonekeeper@%s: the control socket did not answer `status` within %v: %s", n.IP, cliTimeout, r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// addKey registers k with `key add`.
func (n *zkNode) addKey(k tsigKey) {
	n.t.Helper()
	n.ok("key", "add", k.Name, "--algorithm", k.Algorithm, "--secret", k.Secret)
}

// edit runs a record verb (add, set, delete) and returns its result.
func (n *zkNode) edit(args ...string) api.EditResult {
	n.t.Helper()
	var res api.EditResult
	n.json(&res, append([]string{"record"}, args...)...)
	return res
}

// events returns the activity log of zone ("" for all), oldest first.
func (n *zkNode) events(zone string) []api.Event {
	n.t.Helper()
	args := []string{"events", "--json", "--limit", "10000"}
	if zone != "" {
		args = append(args, "--zone", zone)
	}
	out := n.ok(args...)
	var evs []api.Event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var ev api.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			n.t.Fatalf("events --json: %v in line %q", err, line)
		}
		evs = append(evs, ev)
	}
	return evs
}

// eventsText is the activity log of zone as text, for failure messages.
func (n *zkNode) eventsText(zone string) string {
	var b strings.Builder
	for _, ev := range n.events(zone) {
		b.WriteString(eventLine(ev) + "\n")
	}
	return b.String()
}

// eventLine is one event on one line.
func eventLine(ev api.Event) string {
	return strings.Join([]string{ev.Time.Format(time.TimeOnly), ev.Zone, ev.Kind, ev.Outcome, ev.Peer, strconv.FormatUint(uint64(ev.Serial), 10), ev.Detail}, " | ")
}

// waitEvent polls the activity log of zone until an event after the
// event id since matches, and returns it; it fails the test after
// timeout, showing the log.
func (n *zkNode) waitEvent(zone string, since int64, timeout time.Duration, what string, match func(api.Event) bool) api.Event {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := n.events(zone)
		for _, ev := range evs {
			if ev.ID > since && match(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, ev := range evs {
				b.WriteString("  " + eventLine(ev) + "\n")
			}
			n.t.Fatalf("zonekeeper@%s: no %s event for %s within %v; its events:\n%s\nits log:\n%s", n.IP, what, zone, timeout, b.String(), n.proc.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// notifyRefused returns a hopeless function for waitSerialUnless: the
// detail of a NOTIFY of zone to peer (an IP) that was not answered with
// NOERROR, after the event id since.
func (n *zkNode) notifyRefused(zone, peer string, since int64) func() string {
	return func() string {
		for _, ev := range n.events(zone) {
			if ev.ID > since && ev.Kind == "notify-out" && ev.Peer == peer && ev.Outcome != api.OutcomeOK {
				return "zonekeeper's NOTIFY failed: " + ev.Detail
			}
		}
		return ""
	}
}

// lastEventID is the id of the newest event, to wait for later ones.
func (n *zkNode) lastEventID() int64 {
	n.t.Helper()
	evs := n.events("")
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].ID
}

// startStoppableProcess is startPeerProcess with a stop function, for a
// server the test restarts: stop sends SIGTERM to its process group and
// waits (SIGKILL after a grace period); Cleanup stops it if still running.
func startStoppableProcess(t testing.TB, name string, argv ...string) (*peerProcess, func()) {
	t.Helper()
	p := &peerProcess{Name: name, exited: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = &p.out
	cmd.Stderr = &p.out
	cmd.SysProcAttr = groupAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s (%s): %v", name, strings.Join(argv, " "), err)
	}
	pgid := cmd.Process.Pid
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	stop := func() {
		if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Logf("stopping %s: %v", name, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		select {
		case <-p.exited:
		case <-ctx.Done():
			t.Errorf("%s did not stop within 10s of SIGTERM; killing it", name)
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.exited
		}
	}
	t.Cleanup(func() {
		stop()
		if out := p.out.String(); t.Failed() && out != "" {
			t.Logf("%s (%s) output:\n%s", name, strings.Join(argv, " "), out)
		}
	})
	return p, stop
}
