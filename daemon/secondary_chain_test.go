package daemon

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// zonekeeper primary → zonekeeper secondary, both in this process: the
// primary on 127.0.0.1 allows transfers from 127.0.0.2 and NOTIFYs it
// (ALSO-NOTIFY), the secondary follows its edits by IXFR.

const chainZone = "chain.test."

// chainZoneText is the primary's zonefile: its NS is its own MNAME, so
// NOTIFY goes only where ALSO-NOTIFY says.
func chainZoneText(serial uint32, extra string) string {
	return fmt.Sprintf(`$TTL 300
@ IN SOA ns1 hostmaster %d 3600 600 86400 60
@ IN NS ns1
ns1 IN A 127.0.0.1
www IN A 127.0.0.10
%s`, serial, extra)
}

// startChain starts a primary with zone text and a secondary following it.
func startChain(t *testing.T, text string) (primary, secondary *secondaryNode) {
	t.Helper()
	primary = startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(chainZone): text}, func(c *Config) {
		c.AllowAXFR = []string{"127.0.0.2/32"}
	})
	secondary = startSecondaryNode(t, "", nil)
	if err := primary.store.Meta().Set(context.Background(), chainZone, store.MetaAlsoNotify, []string{secondary.addr}); err != nil {
		t.Fatal(err)
	}
	secondary.addSecondaryZone(t, chainZone, "", primary.addr)
	return primary, secondary
}

func TestSecondaryFromZonekeeperPrimary(t *testing.T) {
	t.Parallel()
	primary, n := startChain(t, chainZoneText(10, ""))
	eventually(t, 10*time.Second, "serial 10 on the secondary", func() bool { return n.servedSerial(t, chainZone) == 10 },
		func() string { return eventDump(n.events(t, chainZone, "")) })

	for i, name := range []string{"one", "two"} {
		res, err := primary.loader.edit(chainZone, api.EditRequest{Op: api.EditAdd, Name: name, Type: "A", Data: []string{"127.0.0.2" + fmt.Sprint(i)}}, api.SerialIncrement, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, fmt.Sprintf("serial %d on the secondary", res.NewSerial),
			func() bool { return n.servedSerial(t, chainZone) == int64(res.NewSerial) },
			func() string { return eventDump(n.events(t, chainZone, "")) + n.logs.String() })
		n.waitEvent(t, chainZone, "ixfr-in", fmt.Sprintf("serial %d -> %d", res.OldSerial, res.NewSerial), 5*time.Second)
		n.waitEvent(t, chainZone, "notify-in", "accepted", 5*time.Second)
		if r := n.ask(t, name+"."+chainZone, dns.TypeA); len(r.Answer) != 1 {
			t.Fatalf("%s: %v", name, r)
		}
	}
	// zone show lists a secondary's records, from its last transfer.
	detail, err := n.client().Zone(context.Background(), chainZone)
	if err != nil || len(detail.Records) != 6 {
		t.Fatalf("zone show on the secondary: %v, %d records, want 6", err, len(detail.Records))
	}
	// The secondary answers EDNS EXPIRE with its remaining time, which
	// falls as time passes without a refresh (RFC 7314 §3).
	first := askExpire(t, n.addr)
	if first > 86400 || first < 86000 {
		t.Fatalf("EXPIRE %d, want just under the SOA expire 86400", first)
	}
	time.Sleep(2100 * time.Millisecond)
	if later := askExpire(t, n.addr); later > first-2 {
		t.Errorf("EXPIRE went from %d to %d in 2.1 s without a refresh; it must fall", first, later)
	}
}

// askExpire asks for the chain zone's SOA with an empty EXPIRE option and
// returns the EXPIRE value of the answer.
func askExpire(t *testing.T, addr string) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(chainZone, dns.TypeSOA)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true})
	r := exchangeFrom(t, "127.0.0.9", addr, m)
	if opt := r.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EXPIRE); ok && !e.Empty {
				return e.Expire
			}
		}
	}
	t.Fatalf("no EXPIRE option in %v", r)
	return 0
}

func TestSecondaryLargeZoneFromZonekeeperPrimary(t *testing.T) {
	if testing.Short() {
		t.Skip("a 200 000-record transfer")
	}
	t.Parallel()
	var b strings.Builder
	for i := range 200_000 - 4 {
		fmt.Fprintf(&b, "h%d IN A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
	}
	primary, n := startChain(t, chainZoneText(1, b.String()))
	want := primary.ask(t, "h199995."+chainZone, dns.TypeA)
	// The secondary's view is updated once the commit that serves the
	// version returns.
	eventually(t, 120*time.Second, "the large zone on the secondary", func() bool {
		v, _ := n.secondaries.view(chainZone)
		return n.servedSerial(t, chainZone) == 1 && v.records > 0
	}, func() string { return eventDump(n.events(t, chainZone, "")) })
	v, _ := n.secondaries.view(chainZone)
	if v.records != 200_000 {
		t.Fatalf("%d records", v.records)
	}
	got := n.ask(t, "h199995."+chainZone, dns.TypeA)
	if len(got.Answer) != 1 || got.Answer[0].String() != want.Answer[0].String() {
		t.Fatalf("h199995: %v, want %v", got.Answer, want.Answer)
	}
	// Every record is the primary's.
	primaryRecords, err := primary.zones.Get(chainZone).Records()
	if err != nil {
		t.Fatal(err)
	}
	n.secondaries.mu.RLock()
	held, err := heldRecords(n.secondaries.zones[chainZone].snap)
	n.secondaries.mu.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	if len(primaryRecords) != len(held.Records) {
		t.Fatalf("%d records, the primary has %d", len(held.Records), len(primaryRecords))
	}
	for i := range held.Records {
		if !dns.IsDuplicate(held.Records[i], primaryRecords[i]) || held.Records[i].Header().Ttl != primaryRecords[i].Header().Ttl {
			t.Fatalf("record %d: %s, the primary has %s", i, held.Records[i], primaryRecords[i])
		}
	}
}

// A secondary that others follow passes each change on (RFC 1996 §3.11,
// RFC 1995): primary 127.0.0.1 → middle 127.0.0.2 → last 127.0.0.3, the
// middle NOTIFYing the last (ALSO-NOTIFY) and answering its IXFR from a
// journal of the versions it transferred in, before and after a restart.
// Refresh is 3600 s everywhere, so only NOTIFY can carry an edit on in
// the time the test waits.
func TestSecondaryPassesChangesOn(t *testing.T) {
	t.Parallel()
	primary := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(chainZone): chainZoneText(10, "")}, func(c *Config) {
		c.AllowAXFR = []string{"127.0.0.2/32"}
	})
	// The test asks its IXFRs from 127.0.0.1.
	feeds := func(c *Config) { c.AllowAXFR = []string{"127.0.0.3/32", "127.0.0.1/32"} }
	middle := startNode(t, "127.0.0.2", "", nil, feeds)
	last := startNode(t, "127.0.0.3", "", nil, nil)
	ctx := context.Background()
	for _, n := range []struct {
		from, to *secondaryNode
	}{{primary, middle}, {middle, last}} {
		if err := n.from.store.Meta().Set(ctx, chainZone, store.MetaAlsoNotify, []string{n.to.addr}); err != nil {
			t.Fatal(err)
		}
		n.to.addSecondaryZone(t, chainZone, "", n.from.addr)
	}
	eventually(t, 10*time.Second, "serial 10 at the end of the chain", func() bool { return last.servedSerial(t, chainZone) == 10 },
		func() string { return eventDump(last.events(t, chainZone, "")) })

	var serials []uint32
	for i, name := range []string{"one", "two", "three"} {
		res, err := primary.loader.edit(chainZone, api.EditRequest{Op: api.EditAdd, Name: name, Type: "A", Data: []string{fmt.Sprintf("127.0.0.%d", 30+i)}}, api.SerialIncrement, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, res.NewSerial)
		eventually(t, 5*time.Second, fmt.Sprintf("serial %d at the end of the chain", res.NewSerial),
			func() bool { return last.servedSerial(t, chainZone) == int64(res.NewSerial) },
			func() string {
				return "middle:\n" + eventDump(middle.events(t, chainZone, "")) + "last:\n" + eventDump(last.events(t, chainZone, ""))
			})
		ev := last.waitEvent(t, chainZone, "ixfr-in", fmt.Sprintf("serial %d -> %d", res.OldSerial, res.NewSerial), 5*time.Second)
		if !strings.Contains(ev.Detail, "; incremental") {
			t.Errorf("ixfr-in at the end of the chain: %q, want an incremental transfer", ev.Detail)
		}
		middle.waitEvent(t, chainZone, "notify-out", fmt.Sprintf("serial %d", res.NewSerial), 5*time.Second)
	}
	if r := last.ask(t, "three."+chainZone, dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("three at the end of the chain: %v", r)
	}

	// IXFR from serial 10 against the middle: three steps, not the zone.
	checkSteps := func(label string, n *secondaryNode) {
		t.Helper()
		rrs := ixfrFrom(t, n.addr, 10)
		var soas []uint32
		for _, rr := range rrs {
			if soa, ok := rr.(*dns.SOA); ok {
				soas = append(soas, soa.Serial)
			}
		}
		cur := serials[2]
		want := []uint32{cur, 10, serials[0], serials[0], serials[1], serials[1], cur, cur}
		if fmt.Sprint(soas) != fmt.Sprint(want) {
			t.Fatalf("IXFR from 10 at the %s node %s: SOA serials %v, want the difference sequence %v\n%v\nits events:\n%s",
				label, n.addr, soas, want, rrs, eventDump(n.events(t, chainZone, "")))
		}
	}
	checkSteps("middle", middle)
	middle.stopFn()
	again := startNode(t, "127.0.0.2", middle.cfg.Data, nil, feeds)
	eventually(t, 10*time.Second, "the middle serving again", func() bool { return again.servedSerial(t, chainZone) == int64(serials[2]) },
		func() string { return eventDump(again.events(t, chainZone, "")) })
	checkSteps("restarted middle", again)
}

// ixfrFrom asks addr for the chain zone's IXFR from serial (RFC 1995) over
// TCP and returns every record of the answer.
func ixfrFrom(t *testing.T, addr string, serial uint32) []dns.RR {
	t.Helper()
	m := new(dns.Msg)
	m.SetIxfr(chainZone, serial, "ns1."+chainZone, "hostmaster."+chainZone)
	tr := &dns.Transfer{DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second}
	ch, err := tr.In(m, addr)
	if err != nil {
		t.Fatalf("IXFR from %s: %v", addr, err)
	}
	var rrs []dns.RR
	for env := range ch {
		if env.Error != nil {
			t.Fatalf("IXFR from %s: %v", addr, env.Error)
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs
}
