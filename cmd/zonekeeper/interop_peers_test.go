package main

// The peer harnesses proved on their own: BIND and Knot replicate to each
// other with TSIG, NOTIFY and IXFR on loopback, each showing it in its
// own log. A failure here is the harness's (or the machine's), not
// zonekeeper's; the interoperability tests rely on exactly these
// configurations and log lines.

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const knotIP = "127.0.0.3" // the Knot of a test, beside BIND on bindIP

func TestPeersBINDAndKnot(t *testing.T) {
	key := newTSIGKey(t, "peers.key", "hmac-sha256")
	const bindZoneName, knotZoneName = "bind.peers.test.", "knot.peers.test."
	dir := t.TempDir()
	bindFile := filepath.Join(dir, "bind-primary.zone")
	knotFile := filepath.Join(dir, "knot-primary.zone")
	writeTestFile(t, bindFile, replicationZone(t, 1))
	writeTestFile(t, knotFile, replicationZone(t, 100))

	bindPort := freeLoopbackPort(t, bindIP)
	knotPort := freeLoopbackPort(t, knotIP)
	bindAddr := net.JoinHostPort(bindIP, strconv.Itoa(bindPort))
	knotAddr := net.JoinHostPort(knotIP, strconv.Itoa(knotPort))

	bind := startBIND(t, bindOptions{
		Port:  bindPort,
		Keys:  []tsigKey{key},
		Debug: 3,
		Zones: []bindZone{
			{Origin: bindZoneName, File: bindFile, AlsoNotify: []string{knotAddr}, Key: key.Name},
			{Origin: knotZoneName, Primaries: []string{knotAddr}, Key: key.Name},
		},
	})
	knot := startKnot(t, knotOptions{
		IP: knotIP, Port: knotPort,
		Keys: []tsigKey{key},
		Zones: []knotZone{
			{Origin: knotZoneName, File: knotFile, Notify: []string{bindAddr}, Key: key.Name},
			{Origin: bindZoneName, Primaries: []string{bindAddr}, Key: key.Name},
		},
	})
	diag := func() string {
		return "named log, lines of the zones:\n" + logLines(bind.Log(), 60, "peers.test/IN") + "\nknotd log:\n" + knot.Log()
	}

	t.Run("BIND primary, Knot secondary", func(t *testing.T) {
		// Knot bootstraps the zone by AXFR, TSIG-signed.
		waitSerial(t, knot.Addr, bindZoneName, 1, propagationTimeout, diag)
		knot.waitLog(0, knotXfr(bindZoneName, "AXFR", "incoming", bindIP), peerStartTimeout)

		mark := len(knot.Log())
		writeTestFile(t, bindFile, replicationZone(t, 2, "new IN A 127.0.0.81"))
		bind.reload(bindZoneName)
		took := waitSerial(t, knot.Addr, bindZoneName, 2, propagationTimeout, diag)
		t.Logf("serial 2 reached Knot %v after rndc reload", took)
		knot.waitLog(mark, knotXfr(bindZoneName, "IXFR", "incoming", bindIP), propagationTimeout)
		if got := lookupA(t, knot.Addr, "new."+bindZoneName); len(got) != 1 || got[0] != "127.0.0.81" {
			t.Errorf("Knot's new.%s A: %v", bindZoneName, got)
		}
	})

	t.Run("Knot primary, BIND secondary", func(t *testing.T) {
		// BIND's first try may come before Knot listens: ask again now.
		mark := len(bind.Log())
		bind.rndc("retransfer", knotZoneName)
		waitSerial(t, bind.Addr, knotZoneName, 100, propagationTimeout, diag)
		bind.waitLog(mark, bindXfrIn(knotZoneName, knotAddr), propagationTimeout)

		mark = len(bind.Log())
		writeTestFile(t, knotFile, replicationZone(t, 101, "new IN A 127.0.0.82"))
		knot.reload(knotZoneName)
		took := waitSerial(t, bind.Addr, knotZoneName, 101, propagationTimeout, diag)
		t.Logf("serial 101 reached BIND %v after knotc zone-reload", took)
		bind.waitLog(mark, regexp.MustCompile(`zone `+regexp.QuoteMeta(knotZoneName[:len(knotZoneName)-1])+`/IN: notify from `+regexp.QuoteMeta(knotIP)+`#\d+: serial 101`), propagationTimeout)
		if m := bind.waitLog(mark, bindXfrIn(knotZoneName, knotAddr), propagationTimeout); strings.Contains(m, "nonincremental") {
			t.Errorf("BIND transferred the change as a whole zone: %q", m)
		}
		if got := lookupA(t, bind.Addr, "new."+knotZoneName); len(got) != 1 || got[0] != "127.0.0.82" {
			t.Errorf("BIND's new.%s A: %v", knotZoneName, got)
		}
	})

	// BIND's journal of the IXFR it applied holds exactly the change.
	if _, err := os.Stat(filepath.Join(bind.dir, "knot.peers.test.bk.jnl")); err != nil {
		t.Errorf("BIND kept no journal of the IXFR: %v", err)
	}
}
