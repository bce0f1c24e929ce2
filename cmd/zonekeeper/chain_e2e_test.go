package main

// A chain of secondaries with real processes (issue 15, "Must show"):
// zonekeeper A, primary on 127.0.0.2 → zonekeeper B, its secondary on
// 127.0.0.3 → zonekeeper C, B's secondary on 127.0.0.4, and BIND, B's
// secondary on bindIP. B passes each version it takes on (RFC 1996
// §3.11): it NOTIFYs C and BIND (ALSO-NOTIFY) and answers their IXFR from
// the journal of what it transferred in (RFC 1995), across a restart too.
// Refresh is 3600 s everywhere, so only NOTIFY carries an edit down the
// chain in the time the test allows.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

const (
	chainZone     = "chain-e2e.test."
	chainDeadline = 5 * time.Second // from `record add` on A to the new serial served by C and BIND
)

// chainZoneText is A's zonefile at serial: every NS name has a 127.0.0.x
// address (ns1, the SOA MNAME, is A itself and is never notified); www
// is never edited, so an IXFR that carries it sent the whole zone.
func chainZoneText(serial uint32) string {
	return fmt.Sprintf(`$TTL 300
@    IN SOA ns1 hostmaster %d 3600 900 1209600 300
     IN NS  ns1
     IN NS  ns2
     IN NS  ns3
ns1  IN A   127.0.0.2
ns2  IN A   127.0.0.3
ns3  IN A   127.0.0.4
www  IN A   127.0.0.80
     IN TXT "not edited"
`, serial)
}

// chainEdit is one `record` verb on A and what it leaves at host.
type chainEdit struct {
	args []string // after `record`
	host string
	want []string // host's A records afterwards
}

// TestChainPassesChangesOn: each edit on A reaches the end of the chain
// (C and BIND) within chainDeadline, both by IXFR from B, told by B's
// NOTIFY; `dig IXFR=N` against B returns the differences since N, before
// and after a restart of B.
func TestChainPassesChangesOn(t *testing.T) {
	const s0 = 2026050100
	bin := buildZonekeeper(t, t.TempDir())
	a := startZKNode(t, bin, zkOptions{IP: "127.0.0.2", Zones: map[string]string{chainZone: chainZoneText(s0)}})
	b := startZKNode(t, bin, zkOptions{IP: "127.0.0.3"})
	c := startZKNode(t, bin, zkOptions{IP: "127.0.0.4"})
	bindPort := freeLoopbackPort(t, bindIP)
	bindAddr := fmt.Sprintf("%s:%d", bindIP, bindPort)

	// A lets B transfer and NOTIFYs it; B lets C, BIND (and the test's
	// dig, also from bindIP) transfer and NOTIFYs them.
	a.ok("meta", "set", chainZone, "ALLOW-AXFR-FROM", b.IP)
	a.ok("meta", "set", chainZone, "ALSO-NOTIFY", b.dns)
	b.ok("zone", "add-secondary", chainZone, a.dns)
	b.ok("meta", "set", chainZone, "ALLOW-AXFR-FROM", c.IP, bindIP)
	b.ok("meta", "set", chainZone, "ALSO-NOTIFY", c.dns, bindAddr)
	c.ok("zone", "add-secondary", chainZone, b.dns)
	bind := startBIND(t, bindOptions{Port: bindPort, Debug: 3,
		Zones: []bindZone{{Origin: chainZone, Primaries: []string{b.dns}}}})

	diag := func() string {
		return "\nB's events:\n" + b.eventsText(chainZone) + "\nC's events:\n" + c.eventsText(chainZone) +
			"\nnamed's log, lines of the zone:\n" + logLines(bind.Log(), 40, strings.TrimSuffix(chainZone, ".")+"/IN")
	}
	for _, addr := range []string{b.dns, c.dns, bind.Addr} {
		waitSerial(t, addr, chainZone, s0, propagationTimeout, diag)
	}
	t.Logf("first transfers: B, C and BIND serve serial %d; BIND: %q", s0, bind.waitLog(0, bindXfrIn(chainZone, b.dns), 5*time.Second))

	edits := []chainEdit{
		{[]string{"add", chainZone, "one", "A", "127.0.0.31"}, "one", []string{"127.0.0.31"}},
		{[]string{"add", chainZone, "two", "A", "127.0.0.32"}, "two", []string{"127.0.0.32"}},
		{[]string{"delete", chainZone, "one", "A", "127.0.0.31"}, "one", nil},
	}
	serials := []uint32{s0}
	for i, e := range edits {
		step := fmt.Sprintf("edit %d (record %s)", i+1, strings.Join(e.args, " "))
		serials = append(serials, chainStep(t, step, e, a, b, c, bind, diag))
	}

	// B's journal: the difference sequence since s0, three steps, each
	// edit's records in it and nothing else of the zone.
	checkIXFR := func(when string) {
		t.Helper()
		r := runDig(t, "-b", bindIP, "@"+b.IP, "-p", portOf(b.dns), chainZone, fmt.Sprintf("IXFR=%d", s0), "+tcp")
		s := serials
		want := []uint32{s[3], s[0], s[1], s[1], s[2], s[2], s[3], s[3]}
		if got := soaSerials(r.Records); !slices.Equal(got, want) {
			t.Fatalf("%s: IXFR=%d from B: SOA serials %v, want the difference sequence %v\n%v", when, s0, got, want, r)
		}
		var names []string
		for _, rr := range r.Records {
			switch name := strings.TrimSuffix(rr.Header().Name, "."+chainZone); {
			case rr.Header().Rrtype == dns.TypeSOA:
			case name == "one" || name == "two":
				names = append(names, name+" "+rr.(*dns.A).A.String())
			default:
				t.Errorf("%s: IXFR=%d from B carries %s, which no edit touched: the zone, not its differences\n%v", when, s0, rr, r)
			}
		}
		// Added by edit 1, by edit 2, deleted by edit 3.
		if want := []string{"one 127.0.0.31", "two 127.0.0.32", "one 127.0.0.31"}; !slices.Equal(names, want) {
			t.Errorf("%s: IXFR=%d from B: records %v, want %v\n%v", when, s0, names, want, r)
		}
		t.Logf("%s: dig IXFR=%d from B: %d records, SOA serials %v", when, s0, len(r.Records), want)
	}
	checkIXFR("before B's restart")
	b.stop()
	b.start(chainZone)
	waitSerial(t, b.dns, chainZone, serials[3], propagationTimeout, diag)
	checkIXFR("after B's restart")
}

// chainStep runs edit e on A and checks that C and BIND serve its serial
// within chainDeadline, both having it from B by IXFR, and that B
// NOTIFYed both. It returns the new serial.
func chainStep(t *testing.T, step string, e chainEdit, a, b, c *zkNode, bind *bindServer, diag func() string) uint32 {
	t.Helper()
	bSince, cSince, mark := b.lastEventID(), c.lastEventID(), len(bind.Log())
	start := time.Now()
	res := a.edit(e.args...)
	serial := res.NewSerial
	for _, n := range []struct {
		name, addr string
		hopeless   func() string
	}{{"C", c.dns, b.notifyRefused(chainZone, c.IP, bSince)}, {"BIND", bind.Addr, b.notifyRefused(chainZone, bindIP, bSince)}} {
		waitSerialUnless(t, n.addr, chainZone, serial, time.Until(start.Add(chainDeadline)), diag, n.hopeless)
		t.Logf("%s: serial %d served by %s %v after `record %s` on A", step, serial, n.name, time.Since(start).Round(time.Millisecond), e.args[0])
		if got := lookupA(t, n.addr, e.host+"."+chainZone); !slices.Equal(got, e.want) {
			t.Errorf("%s: %s's %s A: %v, want %v", step, n.name, e.host, got, e.want)
		}
	}

	ev := c.waitEvent(chainZone, cSince, 5*time.Second, "ixfr-in", func(ev api.Event) bool {
		return ev.Kind == "ixfr-in" && ev.Outcome == api.OutcomeOK && ev.Serial == serial
	})
	if !strings.Contains(ev.Detail, "incremental") || strings.Contains(ev.Detail, "full zone") {
		t.Errorf("%s: C's ixfr-in: %q, want an incremental transfer%s", step, ev.Detail, diag())
	}
	t.Logf("%s: C: %s", step, ev.Detail)
	if m := bind.waitLog(mark, bindXfrIn(chainZone, b.dns), 5*time.Second); strings.Contains(m, "nonincremental") {
		t.Errorf("%s: BIND got the whole zone from B, not an IXFR: %q%s", step, m, diag())
	} else {
		t.Logf("%s: BIND: %q", step, m)
	}
	for _, target := range []string{c.dns, bind.Addr} {
		answered := fmt.Sprintf("NOTIFY of serial %d answered NOERROR by %s", serial, target)
		b.waitEvent(chainZone, bSince, 5*time.Second, "notify-out to "+target, func(ev api.Event) bool {
			return ev.Kind == "notify-out" && ev.Outcome == api.OutcomeOK && strings.HasPrefix(ev.Detail, answered)
		})
	}
	return serial
}
