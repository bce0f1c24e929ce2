package answer

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// bigZone builds, in memory, a zone of the shape of the 1M-name test zone
// (/tmp/perf/bench1m.zone): names hosts with an A and an AAAA record each,
// MX and TXT at every tenth, a CNAME for every twentieth, a wildcard and
// a delegation with glue. Records are in canonical order, as
// zonefile.Load leaves them.
func bigZone(names int) *zonefile.Zone {
	z := &zonefile.Zone{Origin: "bench.test."}
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 3600}
	}
	a := func(name string, ip netip.Addr) dns.RR {
		if ip.Is4() {
			return &dns.A{Hdr: hdr(name, dns.TypeA), A: ip.AsSlice()}
		}
		return &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: ip.AsSlice()}
	}
	z.Records = append(z.Records,
		&dns.SOA{Hdr: hdr("bench.test.", dns.TypeSOA), Ns: "ns1.bench.test.", Mbox: "hostmaster.bench.test.", Serial: 1, Refresh: 3600, Retry: 900, Expire: 1209600, Minttl: 300},
		&dns.NS{Hdr: hdr("bench.test.", dns.TypeNS), Ns: "ns1.bench.test."},
		&dns.NS{Hdr: hdr("bench.test.", dns.TypeNS), Ns: "ns2.bench.test."},
		a("ns1.bench.test.", netip.MustParseAddr("127.0.0.1")),
		a("ns2.bench.test.", netip.MustParseAddr("127.0.0.2")),
		a("*.bench.test.", netip.MustParseAddr("127.0.9.9")),
		&dns.NS{Hdr: hdr("sub.bench.test.", dns.TypeNS), Ns: "ns.sub.bench.test."},
		a("ns.sub.bench.test.", netip.MustParseAddr("127.0.0.5")),
	)
	for i := range names {
		h := fmt.Sprintf("h%d.bench.test.", i)
		z.Records = append(z.Records,
			a(h, netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})),
			a(h, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})))
		if i%10 == 0 {
			z.Records = append(z.Records,
				&dns.MX{Hdr: hdr(h, dns.TypeMX), Preference: 10, Mx: fmt.Sprintf("h%d.bench.test.", i+1)},
				&dns.TXT{Hdr: hdr(h, dns.TypeTXT), Txt: []string{fmt.Sprintf("v=spf1 -all %d", i)}})
		}
		if i%20 == 5 {
			z.Records = append(z.Records, &dns.CNAME{Hdr: hdr(fmt.Sprintf("c%d.bench.test.", i), dns.TypeCNAME), Target: h})
		}
	}
	zonefile.Sort(z.Records)
	return z
}

// BenchmarkCompile1M compiles a zone of the 1M-name test zone's shape
// (2.25M records) and reports the live heap its snapshot keeps, per
// record. Run it with -benchtime=1x or 2x: one compile takes a while.
func BenchmarkCompile1M(b *testing.B) {
	z := bigZone(1000000)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	kept, err := Compile(z)
	if err != nil {
		b.Fatal(err)
	}
	after := heap()
	runtime.KeepAlive(kept)
	kept = nil
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Compile(z); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(after-before)/float64(len(z.Records)), "heapB/rr")
	b.ReportMetric(float64(after-before)/(1<<20), "heapMB")
}
