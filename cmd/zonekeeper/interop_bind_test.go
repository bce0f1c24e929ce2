package main

// Interoperability with BIND 9 (issue 4, "Must show"): zonekeeper as
// BIND's primary and as its secondary, TSIG hmac-sha256, each change
// carried by NOTIFY and IXFR, each side's own log or activity log
// showing how. zonekeeper listens on 127.0.0.2, BIND on bindIP.

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

const zkIP = "127.0.0.2" // zonekeeper's address in the interoperability tests

// TestInteropZonekeeperToBIND: BIND, a secondary of zonekeeper, transfers
// the zone, then gets each `record add` by NOTIFY and IXFR (its -d 3 log
// says "got incremental response"), also across a restart of zonekeeper
// (the zonefile edited while it was stopped); and `dig IXFR=N` against
// zonekeeper returns differences, from versions journaled before the
// restart too.
func TestInteropZonekeeperToBIND(t *testing.T) {
	const zone = "zk-to-bind.test."
	key := newTSIGKey(t, "xfer.key", "hmac-sha256")
	const s0 = 1000
	bin := buildZonekeeper(t, t.TempDir())
	zk := startZKNode(t, bin, zkOptions{IP: zkIP, Zones: map[string]string{zone: replicationZone(t, s0)}})
	bindPort := freeLoopbackPort(t, bindIP)
	zk.addKey(key)
	zk.ok("meta", "set", zone, "TSIG-ALLOW-AXFR", key.Name)
	zk.ok("meta", "set", zone, "ALSO-NOTIFY", fmt.Sprintf("%s:%d", bindIP, bindPort))

	bind := startBIND(t, bindOptions{
		Port: bindPort, Keys: []tsigKey{key}, Debug: 3,
		Zones: []bindZone{{Origin: zone, Primaries: []string{zk.dns}, Key: key.Name}},
	})
	diag := func() string {
		return "named log, lines of the zone:\n" + logLines(bind.Log(), 40, strings.TrimSuffix(zone, ".")+"/IN") +
			"\nzonekeeper events:\n" + zk.eventsText(zone) + "\nzonekeeper log:\n" + zk.proc.Output()
	}
	xfrIn := bindXfrIn(zone, zk.dns)
	notifyFrom := func(serial uint32) *regexp.Regexp {
		return regexp.MustCompile(`zone ` + regexp.QuoteMeta(strings.TrimSuffix(zone, ".")) + `/IN: notify from ` +
			regexp.QuoteMeta(zkIP) + `#\d+: serial ` + fmt.Sprint(serial))
	}

	// BIND's first transfer: the whole zone, TSIG-signed.
	waitSerial(t, bind.Addr, zone, s0, propagationTimeout, diag)
	t.Logf("BIND's first transfer: %q", bind.waitLog(0, xfrIn, propagationTimeout))

	// arrived checks that BIND serves serial within propagationTimeout,
	// told by NOTIFY (its refresh is an hour), transferred by IXFR, with
	// the record added at host.
	arrived := func(step string, mark int, since int64, serial uint32, host string) {
		t.Helper()
		took := waitSerialUnless(t, bind.Addr, zone, serial, propagationTimeout, diag, zk.notifyRefused(zone, bindIP, since))
		t.Logf("%s: serial %d reached BIND in %v", step, serial, took)
		bind.waitLog(mark, notifyFrom(serial), 5*time.Second)
		if m := bind.waitLog(mark, xfrIn, 5*time.Second); strings.Contains(m, "nonincremental") {
			t.Errorf("%s: BIND got the whole zone, not an IXFR: %q\n%s", step, m, diag())
		}
		ev := zk.waitEvent(zone, since, 5*time.Second, "ixfr-out to BIND", func(ev api.Event) bool {
			return ev.Kind == "ixfr-out" && ev.Outcome == api.OutcomeOK && ev.Peer == bindIP && ev.Serial == serial
		})
		t.Logf("%s: zonekeeper: %s", step, ev.Detail)
		if got := lookupA(t, bind.Addr, host+"."+zone); !slices.Equal(got, []string{"127.0.0.91"}) {
			t.Errorf("%s: BIND's %s.%s A: %v", step, host, zone, got)
		}
	}
	// change adds a record with `record add`.
	change := func(step string) uint32 {
		t.Helper()
		mark, since := len(bind.Log()), zk.lastEventID()
		res := zk.edit("add", zone, "new-"+step, "A", "127.0.0.91")
		arrived(step, mark, since, res.NewSerial, "new-"+step)
		return res.NewSerial
	}
	change("first")
	s2 := change("second")

	// Across a restart: the zonefile edited while zonekeeper is stopped
	// is a new version, whose difference from the version served before
	// the restart (known only from the persisted journal) is what BIND
	// gets by IXFR after the NOTIFY of the start.
	since := zk.lastEventID()
	zk.stop()
	mark := len(bind.Log())
	file := filepath.Join(zk.data, "zones", strings.TrimSuffix(zone, ".")+".zone")
	stopped := bumpZonefile(t, file, zone, "new-while-stopped 300 IN A 127.0.0.91")
	zk.start(zone)
	arrived("while-stopped", mark, since, stopped, "new-while-stopped")
	s3 := change("after-restart")

	// IXFR from zonekeeper itself: the differences since s0 (journaled
	// before the restart) and since s2 (the edit while stopped and after),
	// never the whole zone.
	for _, from := range []uint32{s0, s2} {
		r := runDig(t, "-y", key.digY(), "-b", "127.0.0.1", "@"+zkIP, "-p", portOf(zk.dns), zone, fmt.Sprintf("IXFR=%d", from))
		serials := soaSerials(r.Records)
		if len(serials) < 4 || serials[0] != s3 || serials[1] != from || serials[len(serials)-1] != s3 || r.Records[len(r.Records)-1].Header().Rrtype != dns.TypeSOA {
			t.Errorf("IXFR=%d: want the SOA %d, then differences from %d, then the SOA %d; SOA serials %v\n%v", from, s3, from, s3, serials, r)
			continue
		}
		var added []string
		for _, rr := range r.Records {
			if strings.HasPrefix(rr.Header().Name, "www.") {
				t.Errorf("IXFR=%d carries unchanged data (%s): a whole zone, not differences\n%v", from, rr, r)
			}
			if rr.Header().Rrtype == dns.TypeA {
				added = append(added, rr.Header().Name)
			}
		}
		want := []string{"new-while-stopped." + zone, "new-after-restart." + zone}
		if from == s0 {
			want = append(want, "new-first."+zone, "new-second."+zone)
		}
		slices.Sort(added)
		slices.Sort(want)
		if !slices.Equal(added, want) {
			t.Errorf("IXFR=%d adds %v, want %v\n%v", from, added, want, r)
		}
		if len(r.TSIG) == 0 {
			t.Errorf("IXFR=%d: the reply is not TSIG-signed\n%v", from, r)
		}
	}
}

// TestInteropBINDToZonekeeper: zonekeeper, a secondary of BIND with
// TSIG, transfers the zone; each change on BIND (zonefile edit, rndc
// reload, ixfr-from-differences) reaches zonekeeper by NOTIFY and IXFR,
// as zonekeeper's events and BIND's log both say.
func TestInteropBINDToZonekeeper(t *testing.T) {
	const zone = "bind-to-zk.test."
	key := newTSIGKey(t, "xfer.key", "hmac-sha256")
	bin := buildZonekeeper(t, t.TempDir())
	zk := startZKNode(t, bin, zkOptions{IP: zkIP, Flags: []string{"--allow-axfr", "127.0.0.1"}})
	zk.addKey(key)

	file := filepath.Join(t.TempDir(), "primary.zone")
	writeTestFile(t, file, replicationZone(t, 1))
	bind := startBIND(t, bindOptions{
		Keys:  []tsigKey{key},
		Zones: []bindZone{{Origin: zone, File: file, AlsoNotify: []string{zk.dns}, Key: key.Name}},
	})
	diag := func() string {
		return "named log, lines of the zone:\n" + logLines(bind.Log(), 40, strings.TrimSuffix(zone, ".")+"/IN") +
			"\nzonekeeper events:\n" + zk.eventsText(zone) + "\nzonekeeper log:\n" + zk.proc.Output()
	}

	zk.ok("zone", "add-secondary", zone, bind.Addr, "--tsig", key.Name)
	waitSerial(t, zk.dns, zone, 1, propagationTimeout, diag)
	bind.waitLog(0, regexp.MustCompile(`transfer of '`+regexp.QuoteMeta(strings.TrimSuffix(zone, "."))+`/IN': AXFR ended: .*\(serial 1\)`), 5*time.Second)

	extra := []string{}
	for serial := uint32(2); serial <= 3; serial++ {
		since := zk.lastEventID()
		mark := len(bind.Log())
		host := fmt.Sprintf("new%d", serial)
		extra = append(extra, host+" IN A 127.0.0.9"+fmt.Sprint(serial))
		writeTestFile(t, file, replicationZone(t, serial, extra...))
		bind.reload(zone)
		took := waitSerial(t, zk.dns, zone, serial, propagationTimeout, diag)
		t.Logf("serial %d reached zonekeeper %v after rndc reload", serial, took)
		zk.waitEvent(zone, since, 5*time.Second, "notify-in", func(ev api.Event) bool { return ev.Kind == "notify-in" })
		zk.waitEvent(zone, since, 5*time.Second, "ixfr-in ok", func(ev api.Event) bool {
			return ev.Kind == "ixfr-in" && ev.Outcome == api.OutcomeOK && ev.Serial == serial
		})
		bind.waitLog(mark, regexp.MustCompile(`transfer of '`+regexp.QuoteMeta(strings.TrimSuffix(zone, "."))+
			fmt.Sprintf(`/IN': IXFR started: TSIG %s \(serial %d -> %d\)`, regexp.QuoteMeta(strings.TrimSuffix(key.Name, ".")), serial-1, serial)), 5*time.Second)
		if got := lookupA(t, zk.dns, host+"."+zone); !slices.Equal(got, []string{fmt.Sprintf("127.0.0.9%d", serial)}) {
			t.Errorf("zonekeeper's %s.%s A: %v", host, zone, got)
		}
	}

	// The transferred zone is the primary's, record for record.
	compareZones(t, zone, bind.Addr, &key, zk.dns, nil)
}
