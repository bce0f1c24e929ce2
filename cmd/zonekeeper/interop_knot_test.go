package main

// Interoperability with Knot DNS (issue 4, "Must show"): zonekeeper as
// Knot's primary and as its secondary, TSIG hmac-sha256, changes carried
// by NOTIFY, and by IXFR, as Knot's log and zonekeeper's events say.
// zonekeeper listens on zkIP, Knot on knotIP.

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

// TestInteropZonekeeperToKnot: Knot, a secondary of zonekeeper, transfers
// the zone by AXFR, then gets each `record add` by NOTIFY and IXFR.
func TestInteropZonekeeperToKnot(t *testing.T) {
	const zone = "zk-to-knot.test."
	key := newTSIGKey(t, "xfer.key", "hmac-sha256")
	const s0 = 500
	bin := buildZonekeeper(t, t.TempDir())
	zk := startZKNode(t, bin, zkOptions{IP: zkIP, Zones: map[string]string{zone: replicationZone(t, s0)}})
	knotPort := freeLoopbackPort(t, knotIP)
	zk.addKey(key)
	zk.ok("meta", "set", zone, "TSIG-ALLOW-AXFR", key.Name)
	zk.ok("meta", "set", zone, "ALSO-NOTIFY", fmt.Sprintf("%s:%d", knotIP, knotPort))

	knot := startKnot(t, knotOptions{
		IP: knotIP, Port: knotPort, Keys: []tsigKey{key},
		Zones: []knotZone{{Origin: zone, Primaries: []string{zk.dns}, Key: key.Name}},
	})
	diag := func() string {
		return "knotd log:\n" + knot.Log() + "\nzonekeeper events:\n" + zk.eventsText(zone) + "\nzonekeeper log:\n" + zk.proc.Output()
	}

	waitSerial(t, knot.Addr, zone, s0, propagationTimeout, diag)
	knot.waitLog(0, knotXfr(zone, "AXFR", "incoming", zkIP), 5*time.Second)

	for _, step := range []string{"first", "second"} {
		mark, since := len(knot.Log()), zk.lastEventID()
		host := "new-" + step
		res := zk.edit("add", zone, host, "A", "127.0.0.92")
		took := waitSerialUnless(t, knot.Addr, zone, res.NewSerial, propagationTimeout, diag, zk.notifyRefused(zone, knotIP, since))
		t.Logf("%s: serial %d reached Knot %v after `record add`", step, res.NewSerial, took)
		knot.waitLog(mark, knotXfr(zone, "IXFR", "incoming", zkIP), 5*time.Second)
		zk.waitEvent(zone, since, 5*time.Second, "ixfr-out to Knot", func(ev api.Event) bool {
			return ev.Kind == "ixfr-out" && ev.Outcome == api.OutcomeOK && ev.Peer == knotIP && ev.Serial == res.NewSerial
		})
		if got := lookupA(t, knot.Addr, host+"."+zone); !slices.Equal(got, []string{"127.0.0.92"}) {
			t.Errorf("%s: Knot's %s.%s A: %v", step, host, zone, got)
		}
	}
	compareZones(t, zone, zk.dns, &key, knot.Addr, nil)
}

// TestInteropKnotToZonekeeper: zonekeeper, a secondary of Knot with TSIG,
// transfers the zone; each change on Knot (zonefile edit, knotc
// zone-reload, zonefile-load: difference) reaches zonekeeper by NOTIFY
// and IXFR.
func TestInteropKnotToZonekeeper(t *testing.T) {
	const zone = "knot-to-zk.test."
	key := newTSIGKey(t, "xfer.key", "hmac-sha256")
	bin := buildZonekeeper(t, t.TempDir())
	zk := startZKNode(t, bin, zkOptions{IP: zkIP, Flags: []string{"--allow-axfr", "127.0.0.1"}})
	zk.addKey(key)

	file := filepath.Join(t.TempDir(), "primary.zone")
	writeTestFile(t, file, replicationZone(t, 1))
	knot := startKnot(t, knotOptions{
		IP: knotIP, Keys: []tsigKey{key},
		Zones: []knotZone{{Origin: zone, File: file, Notify: []string{zk.dns}, Key: key.Name}},
	})
	diag := func() string {
		return "knotd log:\n" + knot.Log() + "\nzonekeeper events:\n" + zk.eventsText(zone) + "\nzonekeeper log:\n" + zk.proc.Output()
	}

	zk.ok("zone", "add-secondary", zone, knot.Addr, "--tsig", key.Name)
	waitSerial(t, zk.dns, zone, 1, propagationTimeout, diag)
	knot.waitLog(0, knotXfr(zone, "AXFR", "outgoing", zkIP), 5*time.Second)

	var extra []string
	for serial := uint32(2); serial <= 3; serial++ {
		since := zk.lastEventID()
		mark := len(knot.Log())
		host := fmt.Sprintf("new%d", serial)
		extra = append(extra, fmt.Sprintf("%s IN A 127.0.0.9%d", host, serial))
		writeTestFile(t, file, replicationZone(t, serial, extra...))
		knot.reload(zone)
		took := waitSerial(t, zk.dns, zone, serial, propagationTimeout, diag)
		t.Logf("serial %d reached zonekeeper %v after knotc zone-reload", serial, took)
		zk.waitEvent(zone, since, 5*time.Second, "notify-in", func(ev api.Event) bool { return ev.Kind == "notify-in" })
		zk.waitEvent(zone, since, 5*time.Second, "ixfr-in ok", func(ev api.Event) bool {
			return ev.Kind == "ixfr-in" && ev.Outcome == api.OutcomeOK && ev.Serial == serial
		})
		knot.waitLog(mark, regexp.MustCompile(`\[`+regexp.QuoteMeta(zone)+`\] IXFR, outgoing, remote `+
			regexp.QuoteMeta(zkIP)+fmt.Sprintf(`@\d+, started, serial %d -> %d`, serial-1, serial)), 5*time.Second)
		if got := lookupA(t, zk.dns, host+"."+zone); !slices.Equal(got, []string{fmt.Sprintf("127.0.0.9%d", serial)}) {
			t.Errorf("zonekeeper's %s.%s A: %v", host, zone, got)
		}
	}
	compareZones(t, zone, knot.Addr, &key, zk.dns, nil)
}
