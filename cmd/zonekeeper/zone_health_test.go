package main

// End-to-end test of `zone health` (issue 8): a zone served by a
// zonekeeper primary, held by a BIND secondary and by a stealth server
// that is down, each listed with its source, AA, serial, lag and
// reachability, and the live lint findings.

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

// freeSharedPort returns a port free for UDP and TCP on every one of ips.
func freeSharedPort(t *testing.T, ips ...string) int {
	t.Helper()
	for range 50 {
		port := freeLoopbackPort(t, ips[0])
		free := true
		for _, ip := range ips {
			addr := net.JoinHostPort(ip, strconv.Itoa(port))
			u, err := net.ListenPacket("udp", addr)
			if err != nil {
				free = false
				break
			}
			l, err := net.Listen("tcp", addr)
			u.Close()
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return port
		}
	}
	t.Fatalf("no port free on all of %v", ips)
	return 0
}

// TestZoneHealthServers: zonekeeper on 127.0.0.2 is the primary of a zone
// whose NS are itself (ns1, 127.0.0.2) and a BIND secondary (ns2,
// 127.0.0.1), both on the ns-port; a stopped server is its also-notify
// target. `zone health` lists all three: itself and BIND authoritative
// at the zone's serial with lag 0, the stopped one unreachable.
func TestZoneHealthServers(t *testing.T) {
	const zone = "health.test."
	bin := buildZonekeeper(t, t.TempDir())
	port := freeSharedPort(t, bindIP, "127.0.0.2")
	stopped := net.JoinHostPort("127.0.0.3", strconv.Itoa(freeLoopbackPort(t, "127.0.0.3")))
	zoneText := fmt.Sprintf(`$ORIGIN %s
$TTL 300
@    SOA ns1 hostmaster 1000 3600 600 1209600 300
@    NS  ns1
@    NS  ns2
ns1  A   127.0.0.2
ns2  A   127.0.0.1
www  A   127.0.0.10
`, zone)
	zk := startZKNode(t, bin, zkOptions{IP: "127.0.0.2", Zones: map[string]string{zone: zoneText},
		Flags: []string{"--allow-axfr", "127.0.0.1", "--listen", net.JoinHostPort("127.0.0.2", strconv.Itoa(port)),
			"--ns-port", strconv.Itoa(port), "--also-notify", stopped, "--health-interval", "1s"}})
	bind := startBIND(t, bindOptions{Port: port, Zones: []bindZone{{Origin: zone, Primaries: []string{zk.dns}}}})
	diag := func() string { return "named log:\n" + bind.Log() + "\nzonekeeper log:\n" + zk.proc.Output() }
	waitSerial(t, bind.Addr, zone, 1000, propagationTimeout, diag)

	self := net.JoinHostPort("127.0.0.2", strconv.Itoa(port))
	var z api.Zone
	var r cliResult
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = zk.run("zone", "health", zone, "--json")
		z = api.Zone{}
		if err := json.Unmarshal([]byte(r.stdout), &z); err != nil {
			t.Fatalf("zone health --json: %v\n%v", err, r)
		}
		if s := findServer(z, bind.Addr); s != nil && s.InSync {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("BIND never in sync in zone health: %v\n%s", r, diag())
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("zone health --json:\n%s", r.stdout)
	if r.code != 0 {
		t.Errorf("exit status %d, want 0 (no lint error, no split-brain): %v", r.code, r)
	}
	check := func(addr, source string, stealth, reachable, aa bool, serial uint32) {
		t.Helper()
		s := findServer(z, addr)
		switch {
		case s == nil:
			t.Errorf("server %s not listed: %+v", addr, z.Servers)
		case !strings.Contains(strings.Join(s.Sources, ", "), source) || s.Stealth != stealth || s.Reachable != reachable || s.Authoritative != aa:
			t.Errorf("server %s: %+v; want source %q stealth %v reachable %v aa %v", addr, *s, source, stealth, reachable, aa)
		case reachable && (!s.HasSerial || s.Serial != serial || s.Lag != 0 || !s.InSync || s.LastSync.IsZero()):
			t.Errorf("server %s: %+v; want serial %d lag 0 in sync", addr, *s, serial)
		case !reachable && (s.HasSerial || s.Error == "" || s.InSync):
			t.Errorf("stopped server %s: %+v", addr, *s)
		}
	}
	check(self, "ns ns1.health.test.", false, true, true, 1000)
	check(bind.Addr, "ns ns2.health.test.", false, true, true, 1000)
	check(stopped, "also-notify", true, false, false, 0)
	rules := ""
	for _, f := range z.Lint {
		rules += f.Severity + " " + f.Rule + " " + f.RFC + "\n"
	}
	for _, want := range []string{"warning few-ns RFC 2182 §5", "warning ns-one-network RFC 2182 §3.1"} {
		if !strings.Contains(rules, want) {
			t.Errorf("lint lacks %q:\n%s", want, rules)
		}
	}
	if strings.Contains(rules, "error") {
		t.Errorf("lint errors:\n%s", rules)
	}

	// The table names every server and the findings.
	out := zk.run("zone", "health", zone)
	t.Logf("zone health:\n%s", out.stdout)
	for _, want := range []string{"ADDR", "AA", self, bind.Addr, stopped, "ns ns2.health.test.", "also-notify", "ns-one-network", "RFC 2182 §3.1"} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("zone health table lacks %q:\n%s", want, out.stdout)
		}
	}

	// BIND stopped too: its NS is now lame, an error, exit status 1.
	bind.rndc("stop")
	deadline = time.Now().Add(15 * time.Second)
	for {
		r = zk.run("zone", "health", zone)
		if strings.Contains(r.stderr, "lame-ns") || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if r.code != 1 || !strings.Contains(r.stderr, "lame-ns (RFC 1912 §2.8)") || !strings.Contains(r.stderr, "ns2.health.test.") {
		t.Errorf("with BIND stopped: want exit status 1 and a lame-ns error: %v", r)
	}
	found := false
	for _, ev := range zk.events(zone) {
		if ev.Kind == "server-health" && ev.Outcome == api.OutcomeWarning && strings.Contains(ev.Detail, bind.Addr+" (ns ns2.health.test.) no longer answers authoritatively") {
			found = true
		}
	}
	if !found {
		t.Errorf("no server-health event for the stopped BIND:\n%s", zk.eventsText(zone))
	}
	// The last time BIND was seen in sync is kept.
	r = zk.run("zone", "health", zone, "--json")
	z = api.Zone{}
	if err := json.Unmarshal([]byte(r.stdout), &z); err != nil {
		t.Fatal(err)
	}
	if s := findServer(z, bind.Addr); s == nil || s.Reachable || s.LastSync.IsZero() {
		t.Errorf("stopped BIND: %+v", s)
	}
}

// findServer returns the server of z at addr, nil when not listed.
func findServer(z api.Zone, addr string) *api.ServerState {
	for i := range z.Servers {
		if z.Servers[i].Addr == addr {
			return &z.Servers[i]
		}
	}
	return nil
}
