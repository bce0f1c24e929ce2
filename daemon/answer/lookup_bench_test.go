package answer

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

const benchNames = 100000

// benchZones serves one zone of benchNames hosts with an A record each,
// a wildcard, a CNAME and an MX RRset.
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
		&dns.CNAME{Hdr: hdr("alias.bench.test.", dns.TypeCNAME), Target: "host54321.bench.test."},
		&dns.MX{Hdr: hdr("bench.test.", dns.TypeMX), Preference: 10, Mx: "host1.bench.test."},
		&dns.MX{Hdr: hdr("bench.test.", dns.TypeMX), Preference: 20, Mx: "host2.bench.test."},
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
	{"cname", "alias.bench.test.", dns.TypeA},
	{"mx", "bench.test.", dns.TypeMX},
}

// BenchmarkLookup measures finding the answer, without the wire format.
func BenchmarkLookup(b *testing.B) {
	zs := benchZones(b)
	for _, c := range benchQueries {
		b.Run(c.label, func(b *testing.B) {
			qname, _ := WireName(c.name)
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
// answer it, pack the reply. Under full the fast path is off: lookup and
// packing every time. Under fast the ready-answer cache is warm: the
// query is parsed and its reply copied and patched; the query's name is
// in mixed case, so the question is patched as for a 0x20 resolver.
func BenchmarkRespond(b *testing.B) {
	zs := benchZones(b)
	for _, mode := range []string{"full", "fast"} {
		for _, c := range benchQueries {
			b.Run(mode+"/"+c.label, func(b *testing.B) {
				q := new(dns.Msg)
				q.SetQuestion(c.name, c.qtype)
				q.SetEdns0(1232, false)
				in, _ := q.Pack()
				r := newResponder(zs, 1232, false)
				if mode == "fast" {
					r.ready = -1         // sized by the zones
					r.Respond(in, false) // fills the cache
					q.Question[0].Name = strings.ToUpper(c.name[:3]) + c.name[3:]
					in, _ = q.Pack()
				}
				before := r.statsNow()
				b.ReportAllocs()
				for b.Loop() {
					if r.Respond(in, false) == nil {
						b.Fatal("no reply")
					}
				}
				if st := r.statsNow(); mode == "fast" && st.Full != before.Full {
					b.Fatalf("%+v: the cache missed", st)
				}
			})
		}
	}
}

// BenchmarkRespondSpread asks for the hosts of the zone at random (a
// working set of benchNames names, in a cache sized by the zones):
// uniform picks every host alike, the worst case; zipf picks a few hosts often and most rarely, as real
// traffic does. hit-% is the share of replies copied from the cache;
// full is the fast path off; miss is a cache of one slot, so that nearly
// every query pays for the lookup in the cache and the store after the
// full path.
func BenchmarkRespondSpread(b *testing.B) {
	zs := benchZones(b)
	ins := make([][]byte, benchNames)
	for i := range ins {
		q := new(dns.Msg)
		q.SetQuestion(fmt.Sprintf("host%d.bench.test.", i), dns.TypeA)
		q.SetEdns0(1232, false)
		ins[i], _ = q.Pack()
	}
	for _, dist := range []string{"uniform", "zipf"} {
		for _, mode := range []string{"full", "fast", "miss"} {
			b.Run(dist+"/"+mode, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 1))
				pick := func() int { return rng.IntN(benchNames) }
				if dist == "zipf" {
					z := rand.NewZipf(rng, 1.1, 1, benchNames-1)
					pick = func() int { return int(z.Uint64()) }
				}
				r := newResponder(zs, 1232, false)
				switch mode {
				case "fast":
					r.ready = -1 // sized by the zones
					for range benchNames {
						r.Respond(ins[pick()], false)
					}
				case "miss":
					// A table of its own, whose cache the responder makes
					// with one slot.
					own := NewZones()
					for _, s := range zs.List() {
						own.Set(s)
					}
					r = newResponder(own, 1232, false)
					r.ready = 1
				}
				before := r.statsNow()
				b.ReportAllocs()
				for b.Loop() {
					if r.Respond(ins[pick()], false) == nil {
						b.Fatal("no reply")
					}
				}
				st := r.statsNow()
				fast, full := st.Fast-before.Fast, st.Full-before.Full
				b.ReportMetric(100*float64(fast)/float64(max(1, fast+full)), "hit-%")
			})
		}
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
