package daemon

import (
	"fmt"
	"net"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// TestAXFRWire transfers a zone unsigned: the messages are built from
// the served wire data. Every record arrives once, the
// SOA first and last, apex records included; owner names are compressed;
// the EDNS EXPIRE option rides in the first message only; the transfer
// event counts the records.
func TestAXFRWire(t *testing.T) {
	td := startSpecialDaemon(t, nil, nil, nil)
	z := spBigZone("wire.test.", 50_000, 0)
	hdr := func(name string, typ uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET, Ttl: 3600}
	}
	z.Records = append(z.Records,
		&dns.MX{Hdr: hdr("wire.test.", dns.TypeMX), Preference: 10, Mx: "mail.wire.test."},
		&dns.TXT{Hdr: hdr("wire.test.", dns.TypeTXT), Txt: []string{"apex"}},
		&dns.A{Hdr: hdr("a.b.c.d.wire.test.", dns.TypeA), A: net.IPv4(127, 0, 0, 9).To4()},
		&dns.A{Hdr: hdr("a.b.c.d.wire.test.", dns.TypeAAAA), A: net.IPv4(127, 0, 0, 9).To4()},
	)
	z.Records[len(z.Records)-1] = &dns.AAAA{Hdr: hdr("a.b.c.d.wire.test.", dns.TypeAAAA), AAAA: net.ParseIP("::9")}
	zonefile.Sort(z.Records)
	spServeZone(t, td, z)
	spSetTestMeta(t, td, "wire.test.", store.MetaAllowAXFRFrom, "127.0.0.2")
	req := spXfrRequest("wire.test.", dns.TypeAXFR, 0)
	req.SetEdns0(1232, false)
	o := req.IsEdns0()
	o.Option = append(o.Option, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true})
	res := spTransfer(t, td, "127.0.0.2", req, nil)

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
	// Owner names are compressed; names in RDATA are not, which costs a
	// little against miekg/dns's full compression of the same messages.
	full := 0
	for _, m := range res.msgs {
		c := m.Copy()
		c.Compress = true
		b, err := c.Pack()
		if err != nil {
			t.Fatal(err)
		}
		full += len(b)
	}
	if res.bytes > full*11/10 {
		t.Errorf("%d bytes on the wire, against %d with full compression", res.bytes, full)
	}
	t.Logf("%d bytes in %d messages; %d with full compression", res.bytes, len(res.msgs), full)
	for i, m := range res.msgs {
		if !m.Response || !m.Authoritative || m.Id != req.Id || len(m.Question) != 1 || m.Question[0].Name != "wire.test." {
			t.Fatalf("message %d: header or question wrong: %v", i, m.MsgHdr)
		}
		secs, ok := spExpireOf(m)
		if m.IsEdns0() == nil {
			t.Fatalf("message %d has no OPT RR", i)
		}
		if (i == 0) != ok || (i == 0 && secs != 1209600) {
			t.Errorf("message %d: EXPIRE %d %v; want it in the first message only", i, secs, ok)
		}
	}
	spFindEvent(t, td, "axfr-out", fmt.Sprintf("%d records", len(z.Records)+1))
}

// TestAXFRWireCaseOfQuestion asks for the zone in another letter case:
// owner names point at the question, so they arrive in its case, and
// still name the zone's records.
func TestAXFRWireCaseOfQuestion(t *testing.T) {
	td := startSpecialDaemon(t, nil, nil, nil)
	z := spBigZone("case.test.", 100, 0)
	spServeZone(t, td, z)
	spSetTestMeta(t, td, "case.test.", store.MetaAllowAXFRFrom, "127.0.0.2")
	res := spTransfer(t, td, "127.0.0.2", spXfrRequest("CaSe.TeSt.", dns.TypeAXFR, 0), nil)
	if len(res.records) != len(z.Records)+1 {
		t.Fatalf("%d records, want %d", len(res.records), len(z.Records)+1)
	}
	for _, rr := range res.records {
		if !dns.IsSubDomain("case.test.", rr.Header().Name) {
			t.Fatalf("record %s is outside the zone", rr)
		}
	}
}
