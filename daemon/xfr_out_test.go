package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// spServeZone serves z as a primary zone of td, registered in the store.
func spServeZone(t testing.TB, td *testDaemon, z *zonefile.Zone) {
	t.Helper()
	td.zones.Set(mustCompile(t, z))
	if err := td.store.Zones().Put(context.Background(), store.Zone{Name: z.Origin, Kind: store.KindPrimary}); err != nil {
		t.Fatal(err)
	}
}

// spRecordStrings returns the presentation form of rrs, sorted.
func spRecordStrings(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	slices.Sort(out)
	return out
}

// TestAXFRBigZone transfers a 200 000-record zone signed: every record
// arrives once, over many messages each signed, SOA first and last.
func TestAXFRBigZone(t *testing.T) {
	td := startSpecialDaemon(t, nil, nil, nil)
	z := spBigZone("big.test.", 200_000, 0)
	spServeZone(t, td, z)
	k := spAddTestKey(t, td, "big.key.", "hmac-sha256")
	spSetTestMeta(t, td, "big.test.", store.MetaTSIGAllowAXFR, k.Name)

	start := time.Now()
	res := spTransfer(t, td, "127.0.0.3", spXfrRequest("big.test.", dns.TypeAXFR, 0), &k)
	elapsed := time.Since(start)
	if len(res.msgs) < 100 || res.signed != len(res.msgs) {
		t.Fatalf("%d messages, %d signed; want many, all signed", len(res.msgs), res.signed)
	}
	soa := z.SOA().String()
	if res.records[0].String() != soa || res.records[len(res.records)-1].String() != soa {
		t.Fatalf("transfer is not bracketed by the SOA")
	}
	got := spRecordStrings(res.records[:len(res.records)-1])
	want := spRecordStrings(z.Records)
	if len(got) != len(want) {
		t.Fatalf("%d records transferred, zone has %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %q, want %q", i, got[i], want[i])
		}
	}
	t.Logf("200 000 records in %d messages (%d bytes on average) in %s", len(res.msgs), res.bytes/len(res.msgs), elapsed)
	spFindEvent(t, td, "axfr-out", "200001 records")
}

// TestXFRConnectionReuse sends two transfers, then a query, on one
// connection: each is answered in turn.
func TestXFRConnectionReuse(t *testing.T) {
	td := startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText}, nil, nil)
	spSetTestMeta(t, td, "example.org.", store.MetaAllowAXFRFrom, "127.0.0.2")
	c := spDialFrom(t, "127.0.0.2", td.addr)
	for i := range 2 {
		b, _ := spSignRequest(t, spXfrRequest("example.org.", dns.TypeAXFR, 0), nil, 0)
		spWriteFrame(t, c, b)
		if res := spReadTransfer(t, c, nil, ""); len(res.records) != 7 {
			t.Fatalf("transfer %d: %d records", i, len(res.records))
		}
	}
	q := new(dns.Msg)
	q.SetQuestion("www.example.org.", dns.TypeA)
	b, _ := q.Pack()
	spWriteFrame(t, c, b)
	reply, err := spReadFrame(c, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m := spUnpack(t, reply); m.Id != q.Id || len(m.Answer) != 1 {
		t.Fatalf("query after transfers: %v", m)
	}
}

// TestAXFRSlowReaderCutOff starts a large transfer and never reads it:
// the write deadline cuts the client off and the transfer is logged as
// failed.
func TestAXFRSlowReaderCutOff(t *testing.T) {
	td := startSpecialDaemon(t, nil, func(c *Config) { c.tcpWriteTimeout = time.Second }, nil)
	spServeZone(t, td, spBigZone("slow.test.", 60_000, 200)) // some 13 MB, more than socket buffers hold
	spSetTestMeta(t, td, "slow.test.", store.MetaAllowAXFRFrom, "127.0.0.2")

	dialer := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)},
		Control: func(_, _ string, rc syscall.RawConn) error {
			// A small receive window, set before the handshake.
			return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
	c, err := dialer.Dial("tcp", td.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, _ := spSignRequest(t, spXfrRequest("slow.test.", dns.TypeAXFR, 0), nil, 0)
	spWriteFrame(t, c, b)

	ev := spFindEventWithin(t, td, "axfr-out", "cut off", 30*time.Second)
	if ev.Outcome != store.OutcomeError || ev.Peer != "127.0.0.2" {
		t.Errorf("event %+v", ev)
	}
	// The server closed its side: reading what is left ends early.
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after the cut-off (%d bytes read)", n)
	}
	if n >= 13_000_000 {
		t.Fatalf("the whole zone arrived (%d bytes)", n)
	}
}

// spFindEventWithin is spFindEvent with its own deadline.
func spFindEventWithin(t testing.TB, td *testDaemon, kind, text string, within time.Duration) store.Event {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		evs, err := td.store.Events().List(context.Background(), store.EventFilter{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if strings.Contains(e.Detail, text) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event with %q within %s", kind, text, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIXFRWithoutJournal: a zone the journal does not reach is sent
// whole over TCP, as one SOA over UDP; an up-to-date client gets one SOA.
func TestIXFRWithoutJournal(t *testing.T) {
	td := startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText}, nil, nil)
	spSetTestMeta(t, td, "example.org.", store.MetaAllowAXFRFrom, "127.0.0.1", "127.0.0.2")
	for _, c := range []struct {
		name   string
		serial uint32
		tcp    bool
		want   int // records
	}{
		{"old serial over TCP: whole zone", 3, true, 7},
		{"old serial over UDP: one SOA", 3, false, 1},
		{"current serial over TCP: one SOA", 7, true, 1},
		{"newer serial over UDP: one SOA", 9, false, 1},
		{"newer serial over TCP: one SOA", 9, true, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := spXfrRequest("example.org.", dns.TypeIXFR, c.serial)
			var records []dns.RR
			if c.tcp {
				records = spTransfer(t, td, "127.0.0.2", req, nil).records
			} else {
				b, _ := req.Pack()
				m := spUnpack(t, spExchangeUDP(t, td.addr, b))
				if !m.Authoritative || m.Rcode != dns.RcodeSuccess {
					t.Fatalf("reply %v", m)
				}
				records = m.Answer
			}
			if len(records) != c.want {
				t.Fatalf("%d records; want %d: %v", len(records), c.want, records)
			}
			if soa, ok := records[0].(*dns.SOA); !ok || soa.Serial != 7 {
				t.Fatalf("first record %v; want our SOA", records[0])
			}
		})
	}
	t.Run("no SOA in the request", func(t *testing.T) {
		req := new(dns.Msg)
		req.SetQuestion("example.org.", dns.TypeIXFR)
		b, _ := req.Pack()
		if m := spUnpack(t, spExchangeUDP(t, td.addr, b)); m.Rcode != dns.RcodeFormatError {
			t.Fatalf("reply %v; want FORMERR", m)
		}
	})
}

// TestXFRRefusals: AXFR over UDP, a zone not served, a name below a
// zone's apex, a secondary not transferred yet, an expired zone.
func TestXFRRefusals(t *testing.T) {
	td := startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText}, nil, nil)
	spSetTestMeta(t, td, "example.org.", store.MetaAllowAXFRFrom, "127.0.0.2")
	if err := td.store.Zones().Put(context.Background(), store.Zone{Name: "pending.test.", Kind: store.KindSecondary, Primaries: []string{"127.0.0.9:53"}}); err != nil {
		t.Fatal(err)
	}

	b, _ := spXfrRequest("example.org.", dns.TypeAXFR, 0).Pack()
	if m := spUnpack(t, spExchangeUDP(t, td.addr, b)); m.Rcode != dns.RcodeNotImplemented {
		t.Errorf("AXFR over UDP: %v; want NOTIMP", m)
	}
	for _, c := range []struct {
		zone string
		want int
	}{
		{"example.com.", dns.RcodeNotAuth},
		{"www.example.org.", dns.RcodeNotAuth},
		{"pending.test.", dns.RcodeServerFailure},
	} {
		res := spTransfer(t, td, "127.0.0.2", spXfrRequest(c.zone, dns.TypeAXFR, 0), nil)
		if m := res.msgs[0]; m.Rcode != c.want || len(m.Answer) != 0 {
			t.Errorf("AXFR %s: %v; want %s", c.zone, m, dns.RcodeToString[c.want])
		}
	}

	snap := td.zones.Get("example.org.")
	td.zones.Set(snap.WithExpired(true))
	res := spTransfer(t, td, "127.0.0.2", spXfrRequest("example.org.", dns.TypeAXFR, 0), nil)
	if m := res.msgs[0]; m.Rcode != dns.RcodeServerFailure {
		t.Errorf("AXFR of an expired zone: %v; want SERVFAIL", m)
	}
	td.zones.Set(snap)
	spFindEvent(t, td, "xfr-refused", "expired")
}

// TestAXFRExpireOption: the EDNS EXPIRE option comes back in the first
// message of a transfer only, with the SOA EXPIRE of a primary zone.
func TestAXFRExpireOption(t *testing.T) {
	td := startSpecialDaemon(t, nil, nil, nil)
	spServeZone(t, td, spBigZone("exp.test.", 5000, 0))
	spSetTestMeta(t, td, "exp.test.", store.MetaAllowAXFRFrom, "127.0.0.2")
	req := spXfrRequest("exp.test.", dns.TypeAXFR, 0)
	req.SetEdns0(1232, false)
	o := req.IsEdns0()
	o.Option = append(o.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true})
	res := spTransfer(t, td, "127.0.0.2", req, nil)
	if len(res.msgs) < 2 {
		t.Fatalf("%d messages; want several", len(res.msgs))
	}
	for i, m := range res.msgs {
		secs, ok := spExpireOf(m)
		if m.IsEdns0() == nil {
			t.Fatalf("message %d has no OPT RR", i)
		}
		if i == 0 && (!ok || secs != 1209600) {
			t.Errorf("first message: EXPIRE %d %v; want 1209600", secs, ok)
		}
		if i > 0 && ok {
			t.Errorf("message %d carries EXPIRE too", i)
		}
	}
}

// spExpireOf returns the EDNS EXPIRE option of m.
func spExpireOf(m *dns.Msg) (uint32, bool) {
	if o := m.IsEdns0(); o != nil {
		for _, e := range o.Option {
			if x, ok := e.(*dns.EDNS0_EXPIRE); ok && !x.Empty {
				return x.Expire, true
			}
		}
	}
	return 0, false
}

// spDiscard is a SpecialWriter that counts what it is given.
type spDiscard struct{ msgs, bytes int }

func (w *spDiscard) Write(b []byte) error { w.msgs++; w.bytes += len(b); return nil }

// BenchmarkAXFROut measures packing (and signing) a 200 000-record zone
// for transfer, without the network: unsigned from the journal's wire
// form (xfr_wire.go), signed through dns.Msg.
func BenchmarkAXFROut(b *testing.B) {
	td := startSpecialDaemon(b, nil, nil, nil)
	z := spBigZone("big.test.", 200_000, 0)
	spServeZone(b, td, z)
	if err := td.journal.record(td.zones, z); err != nil {
		b.Fatal(err)
	}
	k := spAddTestKey(b, td, "big.key.", "hmac-sha256")
	spSetTestMeta(b, td, "big.test.", store.MetaTSIGAllowAXFR, k.Name)
	spSetTestMeta(b, td, "big.test.", store.MetaAllowAXFRFrom, "127.0.0.4")
	from := netip.MustParseAddrPort("127.0.0.3:5353")
	for _, signed := range []bool{false, true} {
		b.Run(fmt.Sprintf("signed=%v", signed), func(b *testing.B) {
			var w spDiscard
			for b.Loop() {
				req := spXfrRequest("big.test.", dns.TypeAXFR, 0)
				var raw []byte
				from := from
				if signed {
					raw, _ = spSignRequest(b, req, &k, 0)
				} else {
					raw, _ = req.Pack()
					from = netip.MustParseAddrPort("127.0.0.4:5353")
				}
				m := new(dns.Msg)
				if err := m.Unpack(raw); err != nil {
					b.Fatal(err)
				}
				w = spDiscard{}
				td.ServeSpecial(&w, m, raw, from, true)
				if w.msgs < 100 {
					b.Fatalf("%d messages", w.msgs)
				}
			}
			b.ReportMetric(float64(w.msgs), "msgs/op")
			b.ReportMetric(float64(w.bytes), "wire-bytes/op")
		})
	}
}

// TestIXFRFromJournal edits a zonefile twice and asks for the changes
// since the first version: over TCP and over UDP they come as
// differences (RFC 1995 §4), not as the whole zone; dig agrees.
func TestIXFRFromJournal(t *testing.T) {
	td := spStartExample(t)
	spSetTestMeta(t, td, "example.org.", store.MetaAllowAXFRFrom, "127.0.0.1", "127.0.0.2")
	path := filepath.Join(td.dir, "example.org.zone")
	v8 := strings.Replace(spExampleZoneText, " 7 3600", " 8 3600", 1) + "new IN A 127.0.0.9\n"
	v9 := strings.Replace(strings.Replace(v8, " 8 3600", " 9 3600", 1), "www IN A 127.0.0.2\n", "", 1)
	for _, text := range []string{v8, v9} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		want := int64(8)
		if text == v9 {
			want = 9
		}
		waitFor(t, "the new serial", func() bool { return td.serial(t, "example.org.") == want })
	}
	// The journal records the version after it is served.
	waitFor(t, "the journal", func() bool {
		diffs, ok := td.journal.since("example.org.", 7, td.zones.Get("example.org."))
		return ok && len(diffs) == 2
	})
	want := []string{
		"SOA 9", "SOA 7", "SOA 8", "A new.example.org.",
		"SOA 8", "A www.example.org.", "SOA 9", "SOA 9",
	}
	check := func(how string, records []dns.RR) {
		t.Helper()
		var got []string
		for _, rr := range records {
			if soa, ok := rr.(*dns.SOA); ok {
				got = append(got, fmt.Sprintf("SOA %d", soa.Serial))
			} else {
				got = append(got, dns.TypeToString[rr.Header().Rrtype]+" "+rr.Header().Name)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v; want %v", how, got, want)
		}
	}
	check("TCP", spTransfer(t, td, "127.0.0.2", spXfrRequest("example.org.", dns.TypeIXFR, 7), nil).records)
	b, _ := spXfrRequest("example.org.", dns.TypeIXFR, 7).Pack()
	check("UDP", spUnpack(t, spExchangeUDP(t, td.addr, b)).Answer)
	spFindEvent(t, td, "ixfr-out", "incremental, serial 7 to 9 in 2 steps")

	if _, err := exec.LookPath("dig"); err == nil {
		host, port := spSplitHostPort(t, td.addr)
		out := spRunTool(t, "dig", "-b", "127.0.0.2", "-p", port, "@"+host, "example.org.", "IXFR=7", "+tcp")
		if !strings.Contains(out, "new.example.org.") || strings.Contains(out, "ns1.example.org.\t") || !strings.Contains(out, "XFR size: 8 records") {
			t.Errorf("dig IXFR=7:\n%s", out)
		}
	}
}
