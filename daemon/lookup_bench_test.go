package daemon

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

const benchNames = 100000

// benchZones serves one zone of benchNames hosts with an A record each,
// a wildcard and a few delegations.
func benchZones(b *testing.B) *Zones {
	b.Helper()
	z := &zonefile.Zone{Origin: "bench.test."}
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 3600}
	}
	z.Records = append(z.Records,
		&dns.SOA{Hdr: hdr("bench.test.", dns.TypeSOA), Ns: "ns1.bench.test.", Mbox: "host.bench.test.", Serial: 1, Refresh: 7200, Retry: 3600, Expire: 1209600, Minttl: 300},
		&dns.NS{Hdr: hdr("bench.test.", dns.TypeNS), Ns: "ns1.bench.test."},
		&dns.A{Hdr: hdr("ns1.bench.test.", dns.TypeA), A: netip.MustParseAddr("192.0.2.53").AsSlice()},
		&dns.A{Hdr: hdr("*.wild.bench.test.", dns.TypeA), A: netip.MustParseAddr("192.0.2.99").AsSlice()},
	)
	for i := range benchNames {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		z.Records = append(z.Records, &dns.A{Hdr: hdr(fmt.Sprintf("host%d.bench.test.", i), dns.TypeA), A: ip.AsSlice()})
	}
	s, err := Compile(z)
	if err != nil {
		b.Fatal(err)
	}
	zs := NewZones()
	zs.Set(s)
	return zs
}

var benchQueries = []struct {
	label string
	name  string
	qtype uint16
}{
	{"exact", "host54321.bench.test.", dns.TypeA},
	{"wildcard", "anything.wild.bench.test.", dns.TypeA},
	{"nxdomain", "nohost54321.bench.test.", dns.TypeA},
}

// BenchmarkLookup measures finding the answer, without the wire format.
func BenchmarkLookup(b *testing.B) {
	zs := benchZones(b)
	for _, c := range benchQueries {
		b.Run(c.label, func(b *testing.B) {
			qname, _ := wireName(c.name)
			var r result
			t := zs.cur.Load()
			b.ReportAllocs()
			for b.Loop() {
				r.resolve(t, qname, qname, c.qtype, false)
			}
			if len(r.answer)+len(r.authority) == 0 {
				b.Fatal("empty answer")
			}
		})
	}
}

// BenchmarkRespond measures the whole packet path: parse the query,
// answer it, pack the reply.
func BenchmarkRespond(b *testing.B) {
	zs := benchZones(b)
	for _, c := range benchQueries {
		b.Run(c.label, func(b *testing.B) {
			q := new(dns.Msg)
			q.SetQuestion(c.name, c.qtype)
			q.SetEdns0(1232, false)
			in, _ := q.Pack()
			r := newResponder(zs, 1232, false)
			b.ReportAllocs()
			for b.Loop() {
				if r.respond(in, false) == nil {
					b.Fatal("no reply")
				}
			}
		})
	}
}

// BenchmarkCompile measures compiling the 100 000-name zone.
func BenchmarkCompile(b *testing.B) {
	z := &zonefile.Zone{Origin: "bench.test."}
	z.Records = append(z.Records,
		&dns.SOA{Hdr: dns.RR_Header{Name: "bench.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600}, Ns: "ns1.bench.test.", Mbox: "h.bench.test."},
		&dns.NS{Hdr: dns.RR_Header{Name: "bench.test.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 3600}, Ns: "ns1.bench.test."})
	for i := range benchNames {
		z.Records = append(z.Records, &dns.A{Hdr: dns.RR_Header{Name: fmt.Sprintf("host%d.bench.test.", i), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
			A: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).AsSlice()})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(z); err != nil {
			b.Fatal(err)
		}
	}
}
