package main

// `zonekeeper export` against the real servers (issue 8, "Must show"):
// the fragment exported for BIND, Knot and NSD, included as it is in a
// configuration that holds only the server's own options, makes that
// server a secondary of zonekeeper that transfers every zone with TSIG
// and follows a NOTIFY. The key is the zones' TSIG-ALLOW-AXFR key, or
// (issue 16) the key of the keyed secondary peer the server is, with
// `export --peer`: zonekeeper then refuses it anything unsigned.
// zonekeeper listens on zkIP; BIND on bindIP, Knot and NSD on 127.0.0.3.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"zonekeeper/daemon/api"
)

// exportZones are the zones an export interop test serves, with their
// first serials.
var exportZones = map[string]uint32{"exp-a.test.": 100, "exp-b.test.": 200}

// exportPeerName is the name zonekeeper knows the secondary by when the
// export is for a peer.
const exportPeerName = "sec"

// exportMode is how zonekeeper knows the secondary of an export test.
type exportMode int

const (
	exportByZoneKey exportMode = iota // every zone's TSIG-ALLOW-AXFR key; the server in ALSO-NOTIFY
	exportByPeer                      // a keyed secondary peer; `export --peer`
	exportEveryPeer                   // one of two keyed secondary peers; `export` without --peer
)

// exportPrimary starts zonekeeper on zkIP serving exportZones and returns
// it with the fragment that `zonekeeper export format` prints for the
// secondary at sec (an "ip:port"). With exportByZoneKey, every zone names
// a TSIG key in TSIG-ALLOW-AXFR and sec in ALSO-NOTIFY. Otherwise the
// zones name no key and no target: sec is `peer add sec ADDR --role
// secondary --tsig KEY`, and the fragment is `export --peer sec`
// (exportByPeer) or, with a second keyed secondary peer on 127.0.0.4,
// plain `export`, which carries both peers' keys (exportEveryPeer).
func exportPrimary(t *testing.T, format, sec string, mode exportMode) (*zkNode, tsigKey, string) {
	t.Helper()
	key := newTSIGKey(t, "export.key", "hmac-sha256")
	zones := make(map[string]string)
	for zone, serial := range exportZones {
		zones[zone] = replicationZone(t, serial)
	}
	zk := startZKNode(t, buildZonekeeper(t, t.TempDir()), zkOptions{IP: zkIP, Zones: zones})
	zk.addKey(key)
	args := []string{"export", format}
	secrets := []string{key.Secret}
	switch mode {
	case exportByZoneKey:
		for zone := range exportZones {
			zk.ok("meta", "set", zone, "TSIG-ALLOW-AXFR", key.Name)
			zk.ok("meta", "set", zone, "ALSO-NOTIFY", sec)
		}
	case exportByPeer:
		zk.ok("peer", "add", exportPeerName, sec, "--role", "secondary", "--tsig", key.Name)
		args = append(args, "--peer", exportPeerName)
	case exportEveryPeer:
		zk.ok("peer", "add", exportPeerName, sec, "--role", "secondary", "--tsig", key.Name)
		other := newTSIGKey(t, "other.key", "hmac-sha512")
		zk.addKey(other)
		zk.ok("peer", "add", "other", net.JoinHostPort("127.0.0.4", strconv.Itoa(freeLoopbackPort(t, "127.0.0.4"))), "--role", "secondary", "--tsig", other.Name)
		secrets = append(secrets, other.Secret)
	}
	fragment := zk.ok(args...)
	for _, secret := range secrets {
		if !strings.Contains(fragment, secret) {
			t.Fatalf("the %s fragment lacks the secret %s:\n%s", format, secret, fragment)
		}
	}
	return zk, key, fragment
}

// exportGrant is what the transfer events of exportPrimary's zones say
// allowed the secondary.
func exportGrant(mode exportMode) string {
	switch mode {
	case exportByPeer:
		return "is the key of peer " + exportPeerName
	case exportEveryPeer:
		return "is the key of peer " // either: both are in the fragment
	}
	return "TSIG-ALLOW-AXFR"
}

// followsExport checks that the secondary at addr serves every zone at
// its first serial, transferred with the key grant names (exportGrant),
// then gets a `record add` in each by NOTIFY (the zones' refresh is an
// hour), signed with that key.
func followsExport(t *testing.T, zk *zkNode, addr, grant string, diag func() string) {
	t.Helper()
	host, _, _ := net.SplitHostPort(addr)
	for zone, serial := range exportZones {
		took := waitSerial(t, addr, zone, serial, propagationTimeout, diag)
		t.Logf("%s: serial %d at %s after %v", zone, serial, addr, took)
		// Transfers are allowed by the key alone (no address lists).
		ev := zk.waitEvent(zone, 0, cliTimeout, "a signed transfer out", func(ev api.Event) bool {
			return (ev.Kind == "axfr-out" || ev.Kind == "ixfr-out") && ev.Outcome == api.OutcomeOK && strings.Contains(ev.Detail, grant)
		})
		t.Logf("%s: zonekeeper: %s", zone, ev.Detail)
		if got := lookupA(t, addr, "www."+zone); !slices.Equal(got, []string{"127.0.0.80"}) {
			t.Errorf("%s: www A at %s: %v", zone, addr, got)
		}
	}
	for zone := range exportZones {
		since := zk.lastEventID()
		res := zk.edit("add", zone, "after-export", "A", "127.0.0.91")
		took := waitSerialUnless(t, addr, zone, res.NewSerial, propagationTimeout, diag, zk.notifyRefused(zone, host, since))
		t.Logf("%s: serial %d at %s after %v, by NOTIFY", zone, res.NewSerial, addr, took)
		ev := zk.waitEvent(zone, since, cliTimeout, "a signed NOTIFY", func(ev api.Event) bool {
			return ev.Kind == "notify-out" && ev.Peer == host && strings.Contains(ev.Detail, "signed with key export.key.")
		})
		t.Logf("%s: zonekeeper: %s", zone, ev.Detail)
		if got := lookupA(t, addr, "after-export."+zone); !slices.Equal(got, []string{"127.0.0.91"}) {
			t.Errorf("%s: after-export A at %s: %v", zone, addr, got)
		}
	}
}

// TestExportInteropBIND: the zones' TSIG-ALLOW-AXFR key.
func TestExportInteropBIND(t *testing.T) { exportInteropBIND(t, exportByZoneKey) }

// TestExportInteropBINDPeer: named as the keyed secondary peer zonekeeper
// knows, with the fragment of `export --peer`.
func TestExportInteropBINDPeer(t *testing.T) { exportInteropBIND(t, exportByPeer) }

// TestExportInteropBINDEveryPeer: the same with two keyed secondary peers
// and plain `export`, whose fragment carries both keys.
func TestExportInteropBINDEveryPeer(t *testing.T) { exportInteropBIND(t, exportEveryPeer) }

// exportInteropBIND: named with its own options (recursion no;
// dnssec-validation no; notify no; listening on loopback) and the
// exported fragment included as it is.
// mode says how zonekeeper knows the server (exportPrimary).
func exportInteropBIND(t *testing.T, mode exportMode) {
	named := peerBinary(t, "named", "bind9")
	port := freeLoopbackPort(t, bindIP)
	addr := net.JoinHostPort(bindIP, strconv.Itoa(port))
	zk, key, fragment := exportPrimary(t, "bind", addr, mode)

	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "zonekeeper.conf"), fragment)
	conf := filepath.Join(dir, "named.conf")
	// allow-transfer to the test alone, so that it can compare copies.
	writeTestFile(t, conf, fmt.Sprintf(`options {
	directory %q;
	pid-file %q;
	session-keyfile %q;
	managed-keys-directory %q;
	listen-on port %d { %s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	allow-transfer { 127.0.0.1; };
};
include %q;
`, dir, filepath.Join(dir, "named.pid"), filepath.Join(dir, "session.key"), dir, port, bindIP, filepath.Join(dir, "zonekeeper.conf")))
	if out, err := exec.Command(peerBinary(t, "named-checkconf", "bind9"), conf).CombinedOutput(); err != nil {
		t.Fatalf("named-checkconf: %v\n%s\nfragment:\n%s", err, out, fragment)
	}
	proc := startPeerProcess(t, "named", named, "-g", "-c", conf)
	waitPeerLog(t, proc, 0, regexp.MustCompile(`(?m) running$`), peerStartTimeout)
	diag := func() string {
		return "fragment:\n" + fragment + "\nnamed log:\n" + proc.Output() + "\nzonekeeper log:\n" + zk.proc.Output()
	}
	followsExport(t, zk, addr, exportGrant(mode), diag)
	for zone := range exportZones {
		compareZones(t, zone, zk.dns, &key, addr, nil)
	}
}

// TestExportInteropKnot: the zones' TSIG-ALLOW-AXFR key.
func TestExportInteropKnot(t *testing.T) { exportInteropKnot(t, exportByZoneKey) }

// TestExportInteropKnotPeer: knotd as the keyed secondary peer zonekeeper
// knows, with the fragment of `export --peer`.
func TestExportInteropKnotPeer(t *testing.T) { exportInteropKnot(t, exportByPeer) }

// TestExportInteropKnotEveryPeer: the same with two keyed secondary peers
// and plain `export`, whose fragment carries both keys.
func TestExportInteropKnotEveryPeer(t *testing.T) { exportInteropKnot(t, exportEveryPeer) }

// exportInteropKnot: knotd with its own server, log, database and
// template sections and the exported fragment included as it is.
// mode says how zonekeeper knows the server (exportPrimary).
func exportInteropKnot(t *testing.T, mode exportMode) {
	const ip = "127.0.0.3"
	port := freeLoopbackPort(t, ip)
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	zk, _, fragment := exportPrimary(t, "knot", addr, mode)
	logs := startExportKnot(t, ip, port, fragment, t.TempDir())
	diag := func() string { return logs() + "\nzonekeeper log:\n" + zk.proc.Output() }
	followsExport(t, zk, addr, exportGrant(mode), diag)
}

// TestExportInteropNSD: the zones' TSIG-ALLOW-AXFR key.
func TestExportInteropNSD(t *testing.T) { exportInteropNSD(t, exportByZoneKey) }

// TestExportInteropNSDPeer: nsd as the keyed secondary peer zonekeeper
// knows, with the fragment of `export --peer`.
func TestExportInteropNSDPeer(t *testing.T) { exportInteropNSD(t, exportByPeer) }

// TestExportInteropNSDEveryPeer: the same with two keyed secondary peers
// and plain `export`, whose fragment carries both keys.
func TestExportInteropNSDEveryPeer(t *testing.T) { exportInteropNSD(t, exportEveryPeer) }

// exportInteropNSD: nsd with its own server section (as startNSD
// writes it) and the exported fragment included as it is.
// mode says how zonekeeper knows the server (exportPrimary).
func exportInteropNSD(t *testing.T, mode exportMode) {
	const ip = "127.0.0.3"
	port := freeLoopbackPort(t, ip)
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	zk, _, fragment := exportPrimary(t, "nsd", addr, mode)
	logs := startExportNSD(t, ip, port, fragment, t.TempDir())
	diag := func() string { return logs() + "\nzonekeeper log:\n" + zk.proc.Output() }
	followsExport(t, zk, addr, exportGrant(mode), diag)
}

// startExportKnot runs knotd on ip:port in dir, with its own server, log,
// database, control and template sections (zone files in dir) and
// fragment included as it is, once knotc conf-check accepts it; it
// returns the fragment and knotd's log, for failure messages.
func startExportKnot(t *testing.T, ip string, port int, fragment, dir string) func() string {
	t.Helper()
	knotd := peerBinary(t, "knotd", "knot")
	writeTestFile(t, filepath.Join(dir, "zonekeeper.conf"), fragment)
	conf := filepath.Join(dir, "knot.conf")
	writeTestFile(t, conf, fmt.Sprintf(`server:
    rundir: %q
    listen: %s@%d
log:
  - target: stderr
    any: info
database:
    storage: %q
control:
    listen: %q
template:
  - id: default
    storage: %q
include: %q
`, dir, ip, port, dir, filepath.Join(dir, "knot.sock"), dir, filepath.Join(dir, "zonekeeper.conf")))
	if out, err := exec.Command(peerBinary(t, "knotc", "knot"), "-c", conf, "conf-check").CombinedOutput(); err != nil {
		t.Fatalf("knotc conf-check: %v\n%s\nfragment:\n%s", err, out, fragment)
	}
	proc := startPeerProcess(t, "knotd", knotd, "-c", conf)
	waitPeerLog(t, proc, 0, regexp.MustCompile(`server started`), peerStartTimeout)
	return func() string { return "fragment:\n" + fragment + "\nknotd log:\n" + proc.Output() }
}

// startExportNSD runs nsd on ip:port in dir, with its own server section
// (as startNSD writes it; zone files in dir, nsd.pid there) and fragment
// included as it is, once nsd-checkconf accepts it; it returns the
// fragment and nsd's log, for failure messages.
func startExportNSD(t *testing.T, ip string, port int, fragment, dir string) func() string {
	t.Helper()
	nsd := nsdBinary(t)
	writeTestFile(t, filepath.Join(dir, "zonekeeper.conf"), fragment)
	conf := filepath.Join(dir, "nsd.conf")
	writeTestFile(t, conf, fmt.Sprintf(`server:
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
	verbosity: 2
remote-control:
	control-enable: no
include: %q
`, ip, port, port, dir, filepath.Join(dir, "nsd.pid"), filepath.Join(dir, "zone.list"),
		filepath.Join(dir, "xfrd.state"), dir, filepath.Join(dir, "nsd.log"), filepath.Join(dir, "zonekeeper.conf")))
	checkconf := filepath.Join(filepath.Dir(nsd), "nsd-checkconf")
	if out, err := exec.Command(checkconf, conf).CombinedOutput(); err != nil {
		t.Fatalf("nsd-checkconf: %v\n%s\nfragment:\n%s", err, out, fragment)
	}
	startPeerProcess(t, "nsd", nsd, "-d", "-c", conf)
	return func() string {
		log, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
		return "fragment:\n" + fragment + "\nnsd log:\n" + string(log)
	}
}
