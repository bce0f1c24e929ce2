package main

// `zonekeeper export --role primary` against the real servers: the
// fragment, exported by a zonekeeper whose zones are secondaries of
// that server, makes BIND, Knot or NSD their primary: zonekeeper
// transfers every zone with TSIG and follows the server's NOTIFY after a
// zonefile edit and a reload. With a peer (issue 16), the server is the
// keyed peer `prim` that is the zones' primary by name, and the fragment
// is `export --role primary --peer prim`: the peer's key signs both
// ways, and the server notifies from the peer's address.

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
	"syscall"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

// exportUpstream is a real server of a role-primary export test.
type exportUpstream struct {
	format string
	ip     string
	// start runs the server on ip:port in dir (the zone files are
	// there), with the fragment included as it is; it returns the
	// server's log, and reload, which makes it read the edited zone
	// files (and so NOTIFY).
	start func(t *testing.T, ip string, port int, fragment, dir string) (logs func() string, reload func())
	// wants are what the fragment must say, given zonekeeper's DNS
	// address and, for a peer, the server's IP (else "").
	wants func(zk, peerIP string) []string
}

// TestExportInteropBINDPrimary: named with the zones' key (`zone
// add-secondary --tsig`).
func TestExportInteropBINDPrimary(t *testing.T) { exportInteropPrimary(t, bindUpstream, false) }

// TestExportInteropBINDPrimaryPeer: named as the keyed peer that is the
// zones' primary.
func TestExportInteropBINDPrimaryPeer(t *testing.T) { exportInteropPrimary(t, bindUpstream, true) }

// TestExportInteropKnotPrimaryPeer: knotd as the keyed peer that is the
// zones' primary.
func TestExportInteropKnotPrimaryPeer(t *testing.T) { exportInteropPrimary(t, knotUpstream, true) }

// TestExportInteropNSDPrimaryPeer: nsd as the keyed peer that is the
// zones' primary.
func TestExportInteropNSDPrimaryPeer(t *testing.T) { exportInteropPrimary(t, nsdUpstream, true) }

// exportInteropPrimary runs a role-primary export test of up; byPeer
// makes the server the keyed peer `prim` (else the zones name the key
// and the server's address).
func exportInteropPrimary(t *testing.T, up exportUpstream, byPeer bool) {
	port := freeLoopbackPort(t, up.ip)
	addr := net.JoinHostPort(up.ip, strconv.Itoa(port))
	key := newTSIGKey(t, "export.key", "hmac-sha256")
	zk := startZKNode(t, buildZonekeeper(t, t.TempDir()), zkOptions{IP: zkIP})
	zk.addKey(key)
	args := []string{"export", up.format, "--role", "primary"}
	peerIP := ""
	if byPeer {
		zk.ok("peer", "add", "prim", addr, "--role", "secondary", "--tsig", key.Name)
		args = append(args, "--peer", "prim")
		peerIP = up.ip
	}
	for zone := range exportZones {
		if byPeer {
			zk.ok("zone", "add-secondary", zone, "prim")
		} else {
			zk.ok("zone", "add-secondary", zone, addr, "--tsig", key.Name)
		}
	}
	fragment := zk.ok(args...)
	for _, want := range append(up.wants(zk.dns, peerIP), key.Secret) {
		if !strings.Contains(fragment, want) {
			t.Fatalf("the fragment lacks %q:\n%s", want, fragment)
		}
	}

	dir := t.TempDir()
	for zone, serial := range exportZones {
		writeTestFile(t, filepath.Join(dir, zoneFile(zone)), replicationZone(t, serial))
	}
	logs, reload := up.start(t, up.ip, port, fragment, dir)
	diag := func() string {
		return logs() + "\nzonekeeper events:\n" + zk.eventsText("") + "\nzonekeeper log:\n" + zk.proc.Output()
	}
	for zone, serial := range exportZones {
		// The server answers once it has loaded: a retrieve before that
		// finds nobody listening.
		waitSerial(t, addr, zone, serial, propagationTimeout, diag)
		zk.ok("zone", "retrieve", zone)
		took := waitSerial(t, zk.dns, zone, serial, propagationTimeout, diag)
		t.Logf("%s: zonekeeper serves serial %d after %v", zone, serial, took)
	}

	// A change at the server reaches zonekeeper by NOTIFY (refresh is an
	// hour).
	want := make(map[string]uint32)
	later := time.Now().Add(2 * time.Second) // a newer mtime, whatever the clock's grain
	for zone := range exportZones {
		path := filepath.Join(dir, zoneFile(zone))
		want[zone] = bumpZonefile(t, path, zone, "after-export 300 IN A 127.0.0.91")
		if err := os.Chtimes(path, later, later); err != nil {
			t.Fatal(err)
		}
	}
	since := zk.lastEventID()
	reload()
	for zone, serial := range want {
		took := waitSerial(t, zk.dns, zone, serial, propagationTimeout, diag)
		t.Logf("%s: zonekeeper serves serial %d after %v, by NOTIFY", zone, serial, took)
		if got := lookupA(t, zk.dns, "after-export."+zone); !slices.Equal(got, []string{"127.0.0.91"}) {
			t.Errorf("%s: after-export A at zonekeeper: %v", zone, got)
		}
	}
	ev := zk.waitEvent("", since, cliTimeout, "a NOTIFY from the server", func(ev api.Event) bool {
		return ev.Kind == "notify-in" && ev.Outcome == api.OutcomeOK && strings.HasPrefix(ev.Peer, up.ip)
	})
	t.Logf("zonekeeper: %s from %s", ev.Detail, ev.Peer)
}

// zoneFile is the file the fragments give a zone (daemon/export.go).
func zoneFile(zone string) string { return strings.TrimSuffix(zone, ".") + ".zone" }

// signalPidFile sends sig to the process whose pid is in path.
func signalPidFile(t *testing.T, path string, sig syscall.Signal) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := syscall.Kill(n, sig); err != nil {
		t.Fatalf("%v to %s: %v", sig, path, err)
	}
}

// bindUpstream is named with its own options (notify explicit: it
// notifies only the fragment's also-notify), reloaded by SIGHUP.
var bindUpstream = exportUpstream{
	format: "bind",
	ip:     bindIP,
	wants: func(zk, peerIP string) []string {
		w := []string{"type primary;", `allow-transfer { key "export.key."; };`, "also-notify { " + zkIP + " port " + portOf(zk) + ` key "export.key."; };`}
		if peerIP != "" {
			w = append(w, "notify-source "+peerIP+";")
		}
		return w
	},
	start: func(t *testing.T, ip string, port int, fragment, dir string) (func() string, func()) {
		named := peerBinary(t, "named", "bind9")
		writeTestFile(t, filepath.Join(dir, "zonekeeper.conf"), fragment)
		conf := filepath.Join(dir, "named.conf")
		writeTestFile(t, conf, fmt.Sprintf(`options {
	directory %q;
	pid-file %q;
	session-keyfile %q;
	managed-keys-directory %q;
	listen-on port %d { %s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify explicit;
	notify-delay 0;
};
include %q;
`, dir, filepath.Join(dir, "named.pid"), filepath.Join(dir, "session.key"), dir, port, ip, filepath.Join(dir, "zonekeeper.conf")))
		if out, err := exec.Command(peerBinary(t, "named-checkconf", "bind9"), conf).CombinedOutput(); err != nil {
			t.Fatalf("named-checkconf: %v\n%s\nfragment:\n%s", err, out, fragment)
		}
		proc := startPeerProcess(t, "named", named, "-g", "-c", conf)
		waitPeerLog(t, proc, 0, regexp.MustCompile(`(?m) running$`), peerStartTimeout)
		logs := func() string { return "fragment:\n" + fragment + "\nnamed log:\n" + proc.Output() }
		return logs, func() { signalPidFile(t, filepath.Join(dir, "named.pid"), syscall.SIGHUP) }
	},
}

// knotUpstream is knotd (startExportKnot), reloaded by `knotc
// zone-reload`.
var knotUpstream = exportUpstream{
	format: "knot",
	ip:     "127.0.0.3",
	wants: func(zk, peerIP string) []string {
		w := []string{"address: " + zkIP + "@" + portOf(zk) + "\n", "    key: export.key.\n", "action: transfer", "    notify: [zonekeeper-1]\n"}
		if peerIP != "" {
			w = append(w, "    via: "+peerIP+"\n")
		}
		return w
	},
	start: func(t *testing.T, ip string, port int, fragment, dir string) (func() string, func()) {
		logs := startExportKnot(t, ip, port, fragment, dir)
		return logs, func() {
			if out, err := exec.Command(peerBinary(t, "knotc", "knot"), "-c", filepath.Join(dir, "knot.conf"), "zone-reload").CombinedOutput(); err != nil {
				t.Fatalf("knotc zone-reload: %v\n%s", err, out)
			}
		}
	},
}

// nsdUpstream is nsd (startExportNSD), reloaded by SIGHUP.
var nsdUpstream = exportUpstream{
	format: "nsd",
	ip:     "127.0.0.3",
	wants: func(zk, peerIP string) []string {
		w := []string{"provide-xfr: " + zkIP + " export.key.\n", "notify: " + zkIP + "@" + portOf(zk) + " export.key.\n"}
		if peerIP != "" {
			w = append(w, "outgoing-interface: "+peerIP+"\n")
		}
		return w
	},
	start: func(t *testing.T, ip string, port int, fragment, dir string) (func() string, func()) {
		logs := startExportNSD(t, ip, port, fragment, dir)
		return logs, func() { signalPidFile(t, filepath.Join(dir, "nsd.pid"), syscall.SIGHUP) }
	},
}
