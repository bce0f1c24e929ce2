package daemon

// Secondary zones end to end: a zonekeeper daemon on 127.0.0.2 follows a
// primary of our own (secondary_fixture_test.go) through transfers,
// NOTIFYs, faults, expiry and restarts.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// sendNotify sends a NOTIFY for zone from ip to addr over UDP and
// returns the answer's rcode.
func sendNotify(t testing.TB, ip, addr, zone string) int {
	t.Helper()
	m := new(dns.Msg)
	m.SetNotify(zone)
	c := &dns.Client{Timeout: 3 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(ip)}}}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("NOTIFY %s to %s: %v", zone, addr, err)
	}
	return r.Rcode
}

const testSecZone = "sec.test."

func TestSecondaryTransfersAndFollowsNotify(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)

	eventually(t, 10*time.Second, "serial 1 served", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	ev := n.waitEvent(t, testSecZone, "axfr-in", "serial none -> 1", 5*time.Second)
	if ev.Peer != p.addr {
		t.Errorf("axfr-in peer %q, want %q", ev.Peer, p.addr)
	}
	if r := n.ask(t, "www."+testSecZone, dns.TypeA); len(r.Answer) != 1 || !r.Authoritative {
		t.Fatalf("www: %v", r)
	}
	file := n.zoneFile(t, testSecZone)
	if !bytes.Contains(file, []byte("www\t300\tIN\tA\t127.0.0.10")) {
		t.Fatalf("zone file:\n%s", file)
	}

	// A change announced by NOTIFY from the primary's address arrives by IXFR.
	p.set(secZoneLines(2, 3600, 600, 86400, "new A 127.0.0.11")...)
	if rc := sendNotify(t, "127.0.0.1", n.addr, testSecZone); rc != dns.RcodeSuccess {
		t.Fatalf("NOTIFY answered %s", dns.RcodeToString[rc])
	}
	eventually(t, 10*time.Second, "serial 2 served", func() bool { return n.servedSerial(t, testSecZone) == 2 }, n.logs.String)
	n.waitEvent(t, testSecZone, "ixfr-in", "serial 1 -> 2", 5*time.Second)
	n.waitEvent(t, testSecZone, "notify-in", "accepted", 5*time.Second)
	if got := p.ixfrs.Load(); got != 1 {
		t.Errorf("%d IXFR requests, want 1", got)
	}
	if r := n.ask(t, "new."+testSecZone, dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("new.: %v", r)
	}
	// Written atomically: no temporary file is left beside it.
	if entries, err := os.ReadDir(filepath.Join(n.cfg.Data, "secondary")); err != nil || len(entries) != 1 {
		t.Errorf("DATA/secondary holds %v (%v)", entries, err)
	}
	file = n.zoneFile(t, testSecZone)
	if !bytes.Contains(file, []byte("new\t300\tIN\tA\t127.0.0.11")) || bytes.Count(file, []byte("\tSOA\t")) != 1 {
		t.Fatalf("zone file after IXFR:\n%s", file)
	}
	// The check is persisted.
	row, err := n.store.Zones().Get(context.Background(), testSecZone)
	if err != nil || row.LastSerial != 2 || time.Since(row.LastCheck) > time.Minute {
		t.Fatalf("stored check: %+v, %v", row, err)
	}
	// zone list shows it fresh.
	z, _, err := n.zoneByName(context.Background(), testSecZone)
	if err != nil || z.State != api.StateFresh || z.Serial != 2 || z.Records != 5 || z.LastSerial != 2 || !strings.HasSuffix(z.File, "/secondary/sec.test.zone") {
		t.Errorf("zone view %+v (%v)", z, err)
	}
}

func TestSecondaryIXFRAnsweredWithFullZone(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	p.configure(func(p *testPrimary) { p.ixfrMode = "full" })
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)

	p.set(secZoneLines(2, 3600, 600, 86400, "other A 127.0.0.12")...)
	n.secondaries.notify(testSecZone, netip.MustParseAddrPort("127.0.0.1:5353"), "")
	n.waitEvent(t, testSecZone, "ixfr-in", "answered with the full zone", 10*time.Second)
	if s := n.servedSerial(t, testSecZone); s != 2 {
		t.Fatalf("serial %d", s)
	}
	file := n.zoneFile(t, testSecZone)
	if c := bytes.Count(file, []byte("\tSOA\t")); c != 1 {
		t.Fatalf("%d SOA records in the file:\n%s", c, file)
	}
	n.secondaries.mu.RLock()
	held, err := heldRecords(n.secondaries.zones[testSecZone].snap)
	n.secondaries.mu.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	soas := 0
	for _, rr := range held.Records {
		if rr.Header().Rrtype == dns.TypeSOA {
			soas++
		}
	}
	if soas != 1 {
		t.Fatalf("%d SOA records held", soas)
	}
	if r := n.ask(t, testSecZone, dns.TypeSOA); len(r.Answer) != 1 {
		t.Fatalf("SOA answer %v", r.Answer)
	}
}

// When the IXFR is unusable and the AXFR it falls back to is refused
// too, the failure names both, not only "AXFR: refused".
func TestSecondaryFallbackFailureNamesTheIXFR(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	p.configure(func(p *testPrimary) { p.ixfrMode, p.axfrRcode = "NOTIMP", "REFUSED" })
	p.set(secZoneLines(2, 3600, 600, 86400)...)
	n.secondaries.notify(testSecZone, netip.MustParseAddrPort("127.0.0.1:5353"), "")
	ev := n.waitEvent(t, testSecZone, "xfr-in-error", "the AXFR it fell back to", 10*time.Second)
	if !strings.Contains(ev.Detail, "IXFR unusable") || !strings.Contains(ev.Detail, "REFUSED") {
		t.Errorf("event %q: want the IXFR's failure and the AXFR's refusal", ev.Detail)
	}
	if s := n.servedSerial(t, testSecZone); s != 1 {
		t.Errorf("serial %d, want 1 kept", s)
	}
}

func TestSecondaryIXFRRefusedFallsBackToAXFR(t *testing.T) {
	t.Parallel()
	for _, rcode := range []string{"NOTIMP", "FORMERR", "REFUSED"} {
		t.Run(rcode, func(t *testing.T) {
			p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
			p.configure(func(p *testPrimary) { p.ixfrMode = rcode })
			n := startSecondaryNode(t, "", nil)
			n.addSecondaryZone(t, testSecZone, "", p.addr)
			eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
			p.set(secZoneLines(2, 3600, 600, 86400)...)
			n.secondaries.notify(testSecZone, netip.MustParseAddrPort("127.0.0.1:5353"), "")
			n.waitEvent(t, testSecZone, "axfr-in", "fell back to AXFR", 10*time.Second)
			if s := n.servedSerial(t, testSecZone); s != 2 {
				t.Fatalf("serial %d", s)
			}
		})
	}
}

func TestSecondaryPrimaryDiesMidTransfer(t *testing.T) {
	t.Parallel()
	var extra []string
	for i := range 30 {
		extra = append(extra, "h"+strconv.Itoa(i)+" A 127.0.1.1")
	}
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 30, 86400, extra...)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	before := n.zoneFile(t, testSecZone)

	// Version 2 is sent in 3-record messages; the primary hangs up after 2.
	p.set(secZoneLines(2, 3600, 30, 86400, append(extra, "late A 127.0.0.13")...)...)
	p.configure(func(p *testPrimary) { p.stopAfter, p.ixfrMode = 2, "full" })
	err := n.secondaries.retrieve(context.Background(), testSecZone)
	if err == nil || !strings.Contains(err.Error(), p.addr) || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("retrieve: %v", err)
	}
	// The same through a NOTIFY-triggered check.
	n.secondaries.notify(testSecZone, netip.MustParseAddrPort("127.0.0.1:5353"), "")
	z := n.secondaries.zone(testSecZone)
	eventually(t, 10*time.Second, "the check after the NOTIFY failed", func() bool {
		n.secondaries.mu.RLock()
		defer n.secondaries.mu.RUnlock()
		return z.failures == 2 && !z.running
	}, n.logs.String)
	ev := n.waitEvent(t, testSecZone, "xfr-in-error", "next try in", 10*time.Second)
	if !strings.Contains(ev.Detail, "still serving serial 1") || !strings.Contains(ev.Detail, "incomplete") {
		t.Errorf("event: %s", ev.Detail)
	}
	if s := n.servedSerial(t, testSecZone); s != 1 {
		t.Fatalf("serial %d after a broken transfer", s)
	}
	if after := n.zoneFile(t, testSecZone); !bytes.Equal(before, after) {
		t.Fatalf("the file changed:\n%s\n---\n%s", before, after)
	}
	// The retry is scheduled: about 30 s (the SOA retry) from now.
	n.secondaries.mu.RLock()
	next := z.next
	n.secondaries.mu.RUnlock()
	if wait := time.Until(next); wait < 20*time.Second || wait > 31*time.Second {
		t.Errorf("next check in %s, want about 30s", wait)
	}
	if !strings.Contains(n.logs.String(), "next try in") {
		t.Error("the failure is not logged")
	}
	// Once the primary behaves, the retry brings version 2.
	p.configure(func(p *testPrimary) { p.stopAfter = 0 })
	if err := n.secondaries.retrieve(context.Background(), testSecZone); err != nil {
		t.Fatal(err)
	}
	if s := n.servedSerial(t, testSecZone); s != 2 {
		t.Fatalf("serial %d", s)
	}
}

func TestSecondaryTransferLimits(t *testing.T) {
	t.Parallel()
	var extra []string
	for i := range 40 {
		extra = append(extra, "h"+strconv.Itoa(i)+" A 127.0.1.1")
	}
	cases := []struct {
		name  string
		tune  func(*Config)
		fault func(*testPrimary)
		want  string
	}{
		{"records", func(c *Config) { c.XFRMaxRecords = 30 }, nil, "xfr-max-records"},
		{"bytes", func(c *Config) { c.XFRMaxBytes = 800 }, nil, "xfr-max-bytes"},
		{"idle", func(c *Config) { c.XFRIdleTimeout = time.Second }, func(p *testPrimary) { p.stall = 4 * time.Second }, "xfr-idle-timeout"},
		{"total", func(c *Config) { c.XFRTimeout = 1500 * time.Millisecond }, func(p *testPrimary) { p.stall = 4 * time.Second }, "xfr-timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
			n := startSecondaryNode(t, "", tc.tune)
			n.addSecondaryZone(t, testSecZone, "", p.addr)
			eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
			before := n.zoneFile(t, testSecZone)
			p.set(secZoneLines(2, 3600, 600, 86400, extra...)...)
			p.configure(func(p *testPrimary) {
				p.ixfrMode = "full"
				if tc.fault != nil {
					tc.fault(p)
				}
			})
			err := n.secondaries.retrieve(context.Background(), testSecZone)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("retrieve: %v\n%s", err, eventDump(n.events(t, testSecZone, "")))
			}
			if s := n.servedSerial(t, testSecZone); s != 1 {
				t.Fatalf("serial %d", s)
			}
			if after := n.zoneFile(t, testSecZone); !bytes.Equal(before, after) {
				t.Fatal("the file changed")
			}
			n.waitEvent(t, testSecZone, "xfr-in-error", tc.want, 5*time.Second)
		})
	}
}

func TestSecondaryExpiresAndRecovers(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 2, 1, 6)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	// Let a refresh pass, then lose the primary.
	n.waitEvent(t, testSecZone, "refresh", "up to date", 10*time.Second)
	p.stop()
	stopped := time.Now()
	n.secondaries.mu.RLock()
	lastOK := n.secondaries.zones[testSecZone].lastOK
	n.secondaries.mu.RUnlock()

	eventually(t, 12*time.Second, "SERVFAIL", func() bool {
		return n.ask(t, testSecZone, dns.TypeSOA).Rcode == dns.RcodeServerFailure
	}, func() string { return eventDump(n.events(t, testSecZone, "")) })
	took := time.Since(lastOK)
	if took < 5500*time.Millisecond || took > 9*time.Second {
		t.Errorf("SERVFAIL %s after the last successful check, want about 6s (primary stopped %s ago)", took, time.Since(stopped))
	}
	n.waitEvent(t, testSecZone, "expire", "expired", 5*time.Second)
	if v, _ := n.secondaries.view(testSecZone); v.state != api.StateExpired {
		t.Errorf("state %q", v.state)
	}
	if r := n.ask(t, "www."+testSecZone, dns.TypeA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("www answered %s", dns.RcodeToString[r.Rcode])
	}

	p.start()
	eventually(t, 10*time.Second, "answers again", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	n.waitEvent(t, testSecZone, "expire", "answering again", 5*time.Second)
}

func TestSecondaryStatesWhileFailing(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 2, 1, 8)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	if v, _ := n.secondaries.view(testSecZone); v.state != api.StateFresh && v.state != api.StateChecking {
		t.Errorf("state %q after the transfer", v.state)
	}
	p.stop()
	seen := map[string]bool{}
	eventually(t, 15*time.Second, "stale, expiring then expired", func() bool {
		v, _ := n.secondaries.view(testSecZone)
		seen[v.state] = true
		if v.state == api.StateExpiring && !strings.Contains(v.detail, "expires in") {
			t.Errorf("expiring detail %q", v.detail)
		}
		return seen[api.StateStale] && seen[api.StateExpiring] && seen[api.StateExpired]
	}, func() string { return eventDump(n.events(t, testSecZone, "")) })
}

func TestSecondaryNotifyAccess(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	n := startSecondaryNode(t, "", nil)
	n.addKey(t, "xfr.key.", "hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MDA=")
	p.withKey("xfr.key.", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MDA=")
	n.addSecondaryZone(t, testSecZone, "xfr.key", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)

	cases := []struct {
		from string
		key  string
		want int
	}{
		{"127.0.0.1:5353", "", dns.RcodeSuccess},         // a primary's address, another port
		{"127.0.0.3:53", "", dns.RcodeRefused},           // anyone else
		{"127.0.0.3:53", "XFR.Key.", dns.RcodeSuccess},   // signed with the zone's key
		{"127.0.0.3:53", "other.key.", dns.RcodeRefused}, // another key
	}
	for _, c := range cases {
		if got := n.secondaries.notify(testSecZone, netip.MustParseAddrPort(c.from), c.key); got != c.want {
			t.Errorf("NOTIFY from %s key %q: %s, want %s", c.from, c.key, dns.RcodeToString[got], dns.RcodeToString[c.want])
		}
	}
	n.waitEvent(t, testSecZone, "notify-in", "refused: not one of the zone's primaries", 5*time.Second)
	if got := n.secondaries.notify("unknown.test.", netip.MustParseAddrPort("127.0.0.1:53"), ""); got != dns.RcodeRefused {
		t.Errorf("unknown zone: %s", dns.RcodeToString[got])
	}
	// Over the wire, from a host that is not a primary.
	if rc := sendNotify(t, "127.0.0.3", n.addr, testSecZone); rc != dns.RcodeRefused {
		t.Errorf("NOTIFY from 127.0.0.3 answered %s", dns.RcodeToString[rc])
	}
}

func TestSecondaryNotifiesCoalesce(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	// Hold the zone's turn so that NOTIFYs arrive during a "check".
	z := n.secondaries.zone(testSecZone)
	z.busy <- struct{}{}
	n.secondaries.mu.Lock()
	z.retrieving = true
	n.secondaries.mu.Unlock()
	before := p.soas.Load()
	for range 5 {
		n.secondaries.notify(testSecZone, netip.MustParseAddrPort("127.0.0.1:53"), "")
	}
	n.secondaries.mu.Lock()
	z.retrieving = false
	n.secondaries.mu.Unlock()
	<-z.busy
	n.secondaries.settle(z, checkResult{ok: true, serial: 1}, false)
	eventually(t, 10*time.Second, "one check", func() bool { return p.soas.Load() == before+1 }, nil)
	time.Sleep(500 * time.Millisecond)
	if got := p.soas.Load() - before; got != 1 {
		t.Errorf("%d checks for 5 NOTIFYs, want 1", got)
	}
}

func TestSecondarySerialArithmetic(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(4294967295, 3600, 600, 86400)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 4294967295", func() bool { return n.servedSerial(t, testSecZone) == 4294967295 }, n.logs.String)

	// 4294967295 -> 5 is an increase (RFC 1982).
	p.set(secZoneLines(5, 3600, 600, 86400, "wrapped A 127.0.0.14")...)
	n.secondaries.notify(testSecZone, netip.MustParseAddrPort("127.0.0.1:53"), "")
	eventually(t, 10*time.Second, "serial 5", func() bool { return n.servedSerial(t, testSecZone) == 5 }, func() string { return eventDump(n.events(t, testSecZone, "")) })
	n.waitEvent(t, testSecZone, "axfr-in", "serial 4294967295 -> 5", 5*time.Second)
	if r := n.ask(t, "wrapped."+testSecZone, dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("wrapped.: %v", r)
	}

	// 5 -> 3 is a decrease: never fetched.
	transfers := p.axfrs.Load() + p.ixfrs.Load()
	p.set(secZoneLines(3, 3600, 600, 86400)...)
	n.secondaries.notify(testSecZone, netip.MustParseAddrPort("127.0.0.1:53"), "")
	n.waitEvent(t, testSecZone, "refresh", "serial 3 is lower than ours (5)", 10*time.Second)
	if got := p.axfrs.Load() + p.ixfrs.Load(); got != transfers {
		t.Errorf("%d transfers after a lower serial", got-transfers)
	}
	if s := n.servedSerial(t, testSecZone); s != 5 {
		t.Errorf("serial %d", s)
	}
	// An equal serial is not fetched either.
	p.set(secZoneLines(5, 3600, 600, 86400)...)
	n.secondaries.notify(testSecZone, netip.MustParseAddrPort("127.0.0.1:53"), "")
	n.waitEvent(t, testSecZone, "refresh", "serial 5 at "+p.addr+": up to date", 10*time.Second)
	if got := p.axfrs.Load() + p.ixfrs.Load(); got != transfers {
		t.Errorf("%d transfers after an equal serial", got-transfers)
	}
}

func TestSecondaryRestartKeepsExpireClock(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 2, 1, 6)...)
	data := t.TempDir()
	n := startSecondaryNode(t, data, nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	// The check is stored just after the version is served.
	eventually(t, 5*time.Second, "the check stored", func() bool {
		row, err := n.store.Zones().Get(context.Background(), testSecZone)
		return err == nil && !row.LastCheck.IsZero()
	}, nil)
	p.stop()
	n.stopFn()

	time.Sleep(2 * time.Second) // down for a third of the expire time
	n2 := startSecondaryNode(t, data, nil)
	row, err := n2.store.Zones().Get(context.Background(), testSecZone)
	if err != nil || row.LastCheck.IsZero() {
		t.Fatalf("stored check: %+v %v", row, err)
	}
	deadline := row.LastCheck.Add(6 * time.Second)
	eventually(t, 5*time.Second, "the zone registered", func() bool {
		_, ok := n2.secondaries.expireRemaining(testSecZone)
		return ok
	}, nil)
	if left, ok := n2.secondaries.expireRemaining(testSecZone); !ok || time.Duration(left)*time.Second > time.Until(deadline)+time.Second {
		t.Errorf("expire remaining %d s, want at most %s\n%s", left, time.Until(deadline), n2.logs)
	}
	eventually(t, 10*time.Second, "served from the file", func() bool {
		r := n2.ask(t, testSecZone, dns.TypeSOA)
		return r.Rcode == dns.RcodeServerFailure || (r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1)
	}, n2.logs.String)
	eventually(t, 10*time.Second, "SERVFAIL", func() bool {
		return n2.ask(t, testSecZone, dns.TypeSOA).Rcode == dns.RcodeServerFailure
	}, n2.logs.String)
	if late := time.Since(deadline); late > 2500*time.Millisecond {
		t.Errorf("expired %s after LastCheck+expire: the restart reset the clock", late)
	}
}

func TestSecondaryTSIG(t *testing.T) {
	t.Parallel()
	const secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MDA="
	const wrong = "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nMDA="
	cases := []struct {
		name  string
		fault func(*testPrimary)
		want  string // "" success
	}{
		{"good", nil, ""},
		{"transfer signed with the wrong secret", func(p *testPrimary) { p.tcpSecret = wrong }, "does not verify"},
		{"transfer not signed", func(p *testPrimary) { p.unsignedXFR = true }, "not TSIG-signed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
			if tc.fault != nil {
				p.configure(tc.fault)
			}
			p.withKey("xfr.key.", secret)
			n := startSecondaryNode(t, "", nil)
			n.addKey(t, "xfr.key.", "hmac-sha256", secret)
			n.addSecondaryZone(t, testSecZone, "xfr.key.", p.addr)
			if tc.want == "" {
				eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
				return
			}
			n.waitEvent(t, testSecZone, "xfr-in-error", tc.want, 10*time.Second)
			if n.zoneFile(t, testSecZone) != nil {
				t.Fatal("a file was written")
			}
			if r := n.ask(t, testSecZone, dns.TypeSOA); r.Rcode == dns.RcodeSuccess {
				t.Fatal("the zone is served")
			}
		})
	}
	t.Run("SOA answer signed with the wrong secret", func(t *testing.T) {
		t.Parallel()
		p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
		p.withKey("xfr.key.", wrong)
		n := startSecondaryNode(t, "", nil)
		n.addKey(t, "xfr.key.", "hmac-sha256", secret)
		// The key comes from AXFR-MASTER-TSIG metadata this time.
		n.addSecondaryZone(t, testSecZone, "", p.addr)
		if err := n.store.Meta().Set(context.Background(), testSecZone, "AXFR-MASTER-TSIG", []string{"xfr.key."}); err != nil {
			t.Fatal(err)
		}
		err := n.secondaries.retrieve(context.Background(), testSecZone)
		if err == nil || !strings.Contains(err.Error(), "does not verify") {
			t.Fatalf("retrieve: %v", err)
		}
	})
}

func TestSecondaryPrimariesInOrder(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	// 127.0.0.3 has nothing listening on that port: connection refused.
	dead := newTestPrimary(t, "127.0.0.3", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	dead.stop()
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", dead.addr, p.addr)
	z := n.secondaries.zone(testSecZone)
	lastGood := func() int {
		n.secondaries.mu.RLock()
		defer n.secondaries.mu.RUnlock()
		return z.lastGood
	}
	// The version is served a moment before the check records which
	// primary gave it.
	eventually(t, 10*time.Second, "serial 1 from the second primary", func() bool {
		return n.servedSerial(t, testSecZone) == 1 && lastGood() == 1
	}, func() string { return fmt.Sprintf("last good primary %d, want 1\n%s", lastGood(), n.logs.String()) })
	// The next check starts with the one that answered.
	soas := p.soas.Load()
	p.set(secZoneLines(2, 3600, 600, 86400)...)
	n.secondaries.notify(testSecZone, netip.MustParseAddrPort("127.0.0.1:53"), "")
	eventually(t, 10*time.Second, "serial 2", func() bool { return n.servedSerial(t, testSecZone) == 2 }, n.logs.String)
	if p.soas.Load() != soas+1 {
		t.Errorf("%d SOA queries", p.soas.Load()-soas)
	}
	if strings.Contains(eventDump(n.events(t, testSecZone, "")), dead.addr) {
		// Only the first check, which found it dead, may name it.
		for _, e := range n.events(t, testSecZone, "refresh") {
			if strings.Contains(e.Detail, "serial 2") && strings.Contains(e.Detail, dead.addr) {
				t.Errorf("the second check asked the dead primary: %s", e.Detail)
			}
		}
	}
}

func TestSecondaryHonoursUpstreamExpire(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	p.configure(func(p *testPrimary) { p.expireOpt = 100 })
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	eventually(t, 5*time.Second, "the upstream EXPIRE applied", func() bool {
		left, ok := n.secondaries.expireRemaining(testSecZone)
		return ok && left <= 100 && left >= 90
	}, nil)
	if _, ok := n.secondaries.expireRemaining("not-secondary.test."); ok {
		t.Error("expireRemaining for a zone that is not a secondary")
	}
}

func TestSecondaryRemoved(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 2, 1, 6)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	n.secondaries.removed(testSecZone)
	if r := n.ask(t, testSecZone, dns.TypeSOA); r.Rcode != dns.RcodeRefused {
		t.Fatalf("removed zone answered %s", dns.RcodeToString[r.Rcode])
	}
	soas := p.soas.Load()
	time.Sleep(3 * time.Second) // more than a refresh
	if got := p.soas.Load(); got != soas {
		t.Errorf("%d checks after removal", got-soas)
	}
	if _, ok := n.secondaries.view(testSecZone); ok {
		t.Error("still in the secondaries")
	}
}

// TestSecondaryRejectedKey: a zonekeeper primary that does not accept
// the secondary's TSIG answers NOTAUTH with the TSIG error; the
// secondary names it (BADSIG for a wrong secret, BADKEY for a key the
// primary does not know) instead of a bare "bad authentication".
func TestSecondaryRejectedKey(t *testing.T) {
	t.Parallel()
	const secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MDA="
	const wrong = "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nMDA="
	zoneText := "$TTL 300\n" + strings.Join(secZoneLines(7, 3600, 600, 86400), "\n") + "\n"
	primary := startNode(t, "127.0.0.1", "", map[string]string{strings.TrimSuffix(testSecZone, ".") + ".zone": zoneText}, nil)
	primary.addKey(t, "xfr.key.", "hmac-sha256", secret)
	if err := primary.store.Meta().Set(context.Background(), testSecZone, store.MetaTSIGAllowAXFR, []string{"xfr.key."}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, secret, want, not string }{
		{"xfr.key.", wrong, "BADSIG", "BADKEY"},
		{"other.key.", secret, "BADKEY", "BADSIG"},
	} {
		n := startSecondaryNode(t, "", nil)
		n.addKey(t, tc.key, "hmac-sha256", tc.secret)
		n.addSecondaryZone(t, testSecZone, tc.key, primary.addr)
		err := n.secondaries.retrieve(context.Background(), testSecZone)
		if err == nil || !strings.Contains(err.Error(), "NOTAUTH") || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.not) {
			t.Errorf("key %s: retrieve: %v; want NOTAUTH and %s", tc.key, err, tc.want)
		}
		// The SOA query of a refresh says the same.
		key, err := n.secondaries.keyNamed(context.Background(), tc.key)
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.secondaries.querySOA(context.Background(), netip.MustParseAddrPort(primary.addr), testSecZone, key)
		if err == nil || !strings.Contains(err.Error(), "NOTAUTH") || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.not) {
			t.Errorf("key %s: SOA query: %v; want NOTAUTH and %s", tc.key, err, tc.want)
		}
	}
}
