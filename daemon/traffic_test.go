package daemon

import (
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// trafficRecorder collects what a trafficEvents emits, on a clock the
// test moves.
type trafficRecorder struct {
	mu  sync.Mutex
	evs []api.Event
	now time.Time
}

func newTestTraffic() (*trafficEvents, *trafficRecorder) {
	r := &trafficRecorder{now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	t := newTrafficEvents(slog.New(slog.DiscardHandler), func(ev api.Event) {
		r.mu.Lock()
		r.evs = append(r.evs, ev)
		r.mu.Unlock()
	})
	t.now = func() time.Time { return r.now }
	return t, r
}

func TestTrafficEventsLimitAndFold(t *testing.T) {
	tr, rec := newTestTraffic()
	from := netip.MustParseAddr("127.0.0.12")
	for i := range 1000 {
		tr.report(from, "NOTIFYs for zones not served here", slog.LevelInfo, api.Event{Kind: "notify-in", Detail: "NOTIFY " + string(rune('a'+i%26))})
	}
	// Another source, and another kind from the same one, have their own share.
	tr.report(netip.MustParseAddr("127.0.1.1"), "NOTIFYs for zones not served here", slog.LevelInfo, api.Event{Kind: "notify-in"})
	tr.report(netip.MustParseAddr("127.0.0.13"), "refused transfer requests", slog.LevelInfo, api.Event{Kind: "xfr-refused"})
	if len(rec.evs) != trafficBurst+2 {
		t.Fatalf("%d events recorded of 1002, want %d", len(rec.evs), trafficBurst+2)
	}
	for _, ev := range rec.evs {
		if !ev.Traffic {
			t.Fatalf("%+v not marked traffic", ev)
		}
	}
	rec.now = rec.now.Add(30 * time.Second)
	tr.fold()
	if len(rec.evs) != trafficBurst+3 {
		t.Fatalf("after the fold: %d events, want one folded more", len(rec.evs))
	}
	f := rec.evs[len(rec.evs)-1]
	if want := "990 NOTIFYs for zones not served here from 127.0.0.0/24 not recorded in the last 30s"; !strings.HasPrefix(f.Detail, want) || !f.Traffic {
		t.Errorf("folded event %+v, want detail starting %q", f, want)
	}
	// The share comes back over the period.
	rec.now = rec.now.Add(trafficPeriod)
	tr.report(from, "NOTIFYs for zones not served here", slog.LevelInfo, api.Event{Kind: "notify-in"})
	if len(rec.evs) != trafficBurst+4 {
		t.Errorf("a minute later the source is not recorded again")
	}
	// Quiet sources are forgotten.
	rec.now = rec.now.Add(2 * trafficPeriod)
	tr.fold()
	if n := len(tr.counts); n != 0 {
		t.Errorf("%d sources still followed after two quiet periods", n)
	}
}

func TestTrafficEventsBoundedSources(t *testing.T) {
	tr, rec := newTestTraffic()
	// Spoofed from many sources: the map stays bounded, the rest share
	// one count, and what they did is still told.
	for i := range trafficSources + 5000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		tr.report(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}), "unsigned NOTIFYs", slog.LevelInfo, api.Event{Kind: "notify-in", Peer: a.String()})
	}
	if n := len(tr.counts); n > trafficSources+1 {
		t.Fatalf("%d sources followed, bound %d", n, trafficSources)
	}
	tr.fold()
	last := rec.evs[len(rec.evs)-1]
	if !strings.Contains(last.Detail, "from other sources") {
		t.Errorf("the sources beyond the bound are not folded together: %q", last.Detail)
	}
	if len(rec.evs) > trafficSources+trafficBurst+1 {
		t.Errorf("%d events for a spoofed flood", len(rec.evs))
	}
}

func TestNotifyAllowance(t *testing.T) {
	tr, rec := newTestTraffic()
	from := netip.MustParseAddr("127.0.0.12")
	ok := 0
	for range 3 * notifyBurst {
		if tr.notifyAllowed(from) {
			ok++
		}
	}
	if ok != notifyBurst {
		t.Errorf("%d of %d NOTIFYs allowed at once, want %d", ok, 3*notifyBurst, notifyBurst)
	}
	if !tr.notifyAllowed(netip.MustParseAddr("127.0.1.12")) {
		t.Error("another prefix is refused too")
	}
	rec.now = rec.now.Add(time.Second)
	ok = 0
	for range notifyBurst {
		if tr.notifyAllowed(from) {
			ok++
		}
	}
	if ok != notifyRate {
		t.Errorf("%d allowed a second later, want %d", ok, notifyRate)
	}
}

// TestSecondaryNotifyFloodSpaced sends a flood of NOTIFYs from the
// primary's own address (anyone can spoof it over UDP): the zone's
// primaries are asked about once a second, not once a NOTIFY, and a
// NOTIFY for the serial already held starts no check.
func TestSecondaryNotifyFloodSpaced(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	time.Sleep(200 * time.Millisecond)
	from := netip.MustParseAddrPort("127.0.0.1:53")
	before := p.soas.Load()
	for range 50 {
		n.secondaries.notifySOA(testSecZone, from, "", &dns.SOA{Serial: 1})
	}
	n.waitEvent(t, testSecZone, "notify-in", "serial 1 is not newer than ours (1): nothing to fetch", 5*time.Second)
	time.Sleep(1500 * time.Millisecond)
	if got := p.soas.Load() - before; got != 0 {
		t.Errorf("%d SOA queries for NOTIFYs of the serial held", got)
	}

	before = p.soas.Load()
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		n.secondaries.notify(testSecZone, from, "")
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // the last one spaced out
	if got := p.soas.Load() - before; got < 1 || got > 4 {
		t.Errorf("%d SOA queries for a 2 s NOTIFY flood, want 1 to 4 (one a second)", got)
	}
}

// TestSecondaryNotifyDuringCheckHinted: NOTIFYs that come during a check
// and announce the serial the check brings start no second check (peers
// NOTIFY each other of the version they all fetch), and do not make the
// next real NOTIFY wait.
func TestSecondaryNotifyDuringCheckHinted(t *testing.T) {
	t.Parallel()
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	n := startSecondaryNode(t, "", nil)
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	eventually(t, 10*time.Second, "serial 1", func() bool { return n.servedSerial(t, testSecZone) == 1 }, n.logs.String)
	z := n.secondaries.zone(testSecZone)
	z.busy <- struct{}{}
	n.secondaries.mu.Lock()
	z.retrieving = true
	n.secondaries.mu.Unlock()
	from := netip.MustParseAddrPort("127.0.0.1:53")
	for range 3 {
		n.secondaries.notifySOA(testSecZone, from, "", &dns.SOA{Serial: 2})
	}
	// The check under way brought serial 2.
	v2, _, err := zonefile.Parse(strings.NewReader("$TTL 60\n"+strings.Join(secZoneLines(2, 3600, 600, 86400), "\n")+"\n"), testSecZone, "v2")
	if err != nil {
		t.Fatal(err)
	}
	snap2, err := answer.Compile(v2)
	if err != nil {
		t.Fatal(err)
	}
	n.secondaries.mu.Lock()
	z.retrieving, z.snap = false, snap2
	n.secondaries.mu.Unlock()
	<-z.busy
	before := p.soas.Load()
	n.secondaries.settle(z, checkResult{ok: true, serial: 2}, false)
	time.Sleep(500 * time.Millisecond)
	if got := p.soas.Load() - before; got != 0 {
		t.Errorf("%d checks after the check that brought the announced serial, want 0", got)
	}
	// A NOTIFY of serial 3 is acted on at once.
	n.secondaries.notifySOA(testSecZone, from, "", &dns.SOA{Serial: 3})
	eventually(t, 500*time.Millisecond, "the next NOTIFY checked at once", func() bool { return p.soas.Load() > before }, nil)
}
