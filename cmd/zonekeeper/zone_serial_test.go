package main

// End-to-end tests of `zonekeeper zone set-serial` through the real
// binary: argument errors, a dry run, an increase, a decrease of a zone
// nobody else holds, one stopped at a server that does not follow, and
// the full procedure with a zonekeeper and a BIND secondary.

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"zonekeeper/daemon/api"
)

func TestCLIZoneSetSerialUsage(t *testing.T) {
	t.Setenv(controlEnv, filepath.Join(t.TempDir(), "none.sock"))
	for _, tc := range []struct {
		args string
		want string
	}{
		{"zone set-serial", "missing arguments: want NAME SERIAL"},
		{"zone set-serial example.org.", "missing arguments: want NAME SERIAL"},
		{"zone set-serial example.org. 1 2", "unexpected argument"},
		{"zone set-serial example.org. 4294967296", "not a number"},
		{"zone set-serial example.org. ten", "not a number"},
		{"zone set-serial exa..mple.org 1", "not a domain name"},
		{"zone set-serial example.org. 1 --timeout 0s", "not positive"},
		{"zone set-serial example.org. 1 --timeout soon", "invalid value"},
	} {
		wantUsageError(t, tc.args, tc.want)
	}
	var stdout, stderr strings.Builder
	if err := run([]string{"zone", "set-serial", "--help"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(stdout.String(), "--dry-run") || !strings.Contains(stdout.String(), "RFC 2182") {
		t.Errorf("--help:\n%s", stdout.String())
	}
}

func TestCLIZoneSetSerial(t *testing.T) {
	d := startCLIDaemon(t)

	// example.org. (serial 2026112101) NOTIFYs ns2 = 127.0.0.2 on a port
	// where nothing listens. A dry run of a decrease prints the plan.
	out := d.ok("zone", "set-serial", "example.org.", "11", "--dry-run")
	for _, want := range []string{"plan: 2026112101 -> 4173595748 -> 11 (2 steps", "dry run: nothing changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run: want %q in:\n%s", want, out)
		}
	}
	var plan api.SetSerialResult
	d.json(&plan, "zone", "set-serial", "example.org.", "11", "--dry-run")
	if len(plan.Plan) != 2 || plan.Plan[0] != 4173595748 || plan.Plan[1] != 11 || !plan.DryRun {
		t.Errorf("dry run --json: %+v", plan)
	}
	if s := d.serial("example.org."); s != 2026112101 {
		t.Fatalf("the dry run changed the serial to %d", s)
	}

	// The decrease stops at its first step: ns2 does not follow.
	r := d.run("zone", "set-serial", "example.org.", "11", "--timeout", "1s")
	if r.code != 1 || !strings.HasPrefix(r.stdout, "plan: 2026112101 -> 4173595748 -> 11") ||
		!strings.Contains(r.stderr, "server 127.0.0.2:") || !strings.Contains(r.stderr, "left at serial 4173595748 (step 1 of 2)") {
		t.Errorf("stuck: %v", r)
	}
	if s := d.serial("example.org."); s != 4173595748 {
		t.Errorf("after the stuck step the zone serves %d, want 4173595748", s)
	}
	if !strings.Contains(string(d.zonefile("example.org.")), "4173595748") {
		t.Errorf("zonefile:\n%s", d.zonefile("example.org."))
	}

	// An increase is applied at once, whoever follows.
	out = d.ok("zone", "set-serial", "example.org.", "4173595800")
	if !strings.Contains(out, "an increase") || !strings.Contains(out, "serial 4173595748 -> 4173595800") {
		t.Errorf("increase:\n%s", out)
	}
	if s := d.serial("example.org."); s != 4173595800 {
		t.Errorf("after the increase the zone serves %d", s)
	}

	// example.net. has no other server: a decrease goes through.
	out = d.ok("zone", "set-serial", "example.net.", "3")
	for _, want := range []string{"plan: 7 -> 2147483654 -> 3", "step 1/2", "step 2/2", "nothing to wait for", "is at serial 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("example.net.: want %q in:\n%s", want, out)
		}
	}
	if s := d.serial("example.net."); s != 3 {
		t.Errorf("example.net. serves %d", s)
	}
	out = d.ok("zone", "set-serial", "example.net.", "3")
	if !strings.Contains(out, "nothing to do") {
		t.Errorf("equal:\n%s", out)
	}
	d.refused(1, "is not known here", "zone", "set-serial", "nothere.test.", "3")
}

// TestCLIZoneSetSerialMixed: a zonekeeper primary on 127.0.0.2 whose zone
// is followed by zonekeeper secondaries on 127.0.0.3 and .4 and a BIND
// secondary on 127.0.0.1, all told by ALSO-NOTIFY and transferring with
// TSIG. set-serial from 1000 to 11 goes through 2147484647; every
// secondary ends at 11 with the zone's records. With one secondary
// stopped, the next reset stops at its first step and names it.
func TestCLIZoneSetSerialMixed(t *testing.T) {
	const zone = "reset.test."
	key := newTSIGKey(t, "xfer.key", "hmac-sha256")
	bin := buildZonekeeper(t, t.TempDir())
	zoneText := fmt.Sprintf(`$ORIGIN %s
$TTL 300
@    SOA ns1 hostmaster 1000 3600 600 1209600 300
@    NS  ns1
ns1  A   127.0.0.2
www  A   127.0.0.80
`, zone)
	zk := startZKNode(t, bin, zkOptions{IP: zkIP, Zones: map[string]string{zone: zoneText}})
	sec := startZKNode(t, bin, zkOptions{IP: "127.0.0.3"})
	sec2 := startZKNode(t, bin, zkOptions{IP: "127.0.0.4"})
	bindPort := freeLoopbackPort(t, bindIP)
	for _, n := range []*zkNode{zk, sec, sec2} {
		n.addKey(key)
	}
	zk.ok("meta", "set", zone, "TSIG-ALLOW-AXFR", key.Name)
	zk.ok("meta", "set", zone, "ALSO-NOTIFY", fmt.Sprintf("%s:%d", bindIP, bindPort), sec.dns, sec2.dns)
	for _, n := range []*zkNode{sec, sec2} {
		n.ok("zone", "add-secondary", zone, zk.dns, "--tsig", key.Name)
	}
	bind := startBIND(t, bindOptions{
		Port: bindPort, Keys: []tsigKey{key},
		Zones: []bindZone{{Origin: zone, Primaries: []string{zk.dns}, Key: key.Name}},
	})
	diag := func() string {
		return "named log:\n" + logLines(bind.Log(), 40, strings.TrimSuffix(zone, ".")+"/IN") +
			"\nzonekeeper events:\n" + zk.eventsText(zone) + "\nsecondary events:\n" + sec.eventsText(zone)
	}
	waitSerial(t, bind.Addr, zone, 1000, propagationTimeout, diag)
	waitSerial(t, sec.dns, zone, 1000, propagationTimeout, diag)
	waitSerial(t, sec2.dns, zone, 1000, propagationTimeout, diag)

	r := zk.run("zone", "set-serial", zone, "11", "--timeout", "30s")
	if r.code != 0 {
		t.Fatalf("%v\n%s", r, diag())
	}
	t.Logf("set-serial:\n%s", r.stdout)
	for _, want := range []string{"plan: 1000 -> 2147484647 -> 11 (2 steps", bind.Addr + " (ALSO-NOTIFY) serves 2147484647",
		sec.dns + " (ALSO-NOTIFY) serves 11", "is at serial 11"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("want %q in:\n%s", want, r.stdout)
		}
	}
	for _, addr := range []string{zk.dns, sec.dns, sec2.dns, bind.Addr} {
		if s, err := soaSerial(addr, zone); err != nil || s != 11 {
			t.Errorf("%s serves serial %d (%v)", addr, s, err)
		}
		if got := lookupA(t, addr, "www."+zone); !slices.Equal(got, []string{"127.0.0.80"}) {
			t.Errorf("%s: www.%s A: %v", addr, zone, got)
		}
	}

	// One secondary stopped: 11 -> 5 stops at its first step.
	sec2.stop()
	r = zk.run("zone", "set-serial", zone, "5", "--timeout", "2s")
	if r.code != 1 || !strings.Contains(r.stderr, "server "+sec2.dns+" (ALSO-NOTIFY) did not reach serial 2147483658") ||
		!strings.Contains(r.stderr, "left at serial 2147483658 (step 1 of 2)") {
		t.Errorf("stuck: %v\n%s", r, diag())
	}
	if s, err := soaSerial(zk.dns, zone); err != nil || s != 2147483658 {
		t.Errorf("the primary serves %d (%v) after the stuck step", s, err)
	}
}
