package answer

import (
	"bytes"
	"net"
	"testing"

	"github.com/miekg/dns"
)

// TestCompileRdata: the snapshot serves each record's rdata exactly as
// dns.PackRR packs it, whatever path zonefile.PackZone took for it.
func TestCompileRdata(t *testing.T) {
	hdr := func(name string, rtype uint16) dns.RR_Header {
		return dns.RR_Header{Name: name + ".example.org.", Rrtype: rtype, Class: dns.ClassINET, Ttl: 300}
	}
	rrs := []dns.RR{
		&dns.A{Hdr: hdr("a1", dns.TypeA), A: net.IPv4(192, 0, 2, 1)}, // 16-byte form
		&dns.A{Hdr: hdr("a2", dns.TypeA), A: net.IP{192, 0, 2, 2}},   // 4-byte form
		&dns.AAAA{Hdr: hdr("aaaa", dns.TypeAAAA), AAAA: net.ParseIP("2001:db8::1")},
		&dns.CNAME{Hdr: hdr("c1", dns.TypeCNAME), Target: "Www.Example.org."},
		&dns.CNAME{Hdr: hdr("c2", dns.TypeCNAME), Target: "w\\.x.example.org."},
		&dns.NS{Hdr: hdr("d", dns.TypeNS), Ns: "ns1.example.net."},
		&dns.PTR{Hdr: hdr("p", dns.TypePTR), Ptr: "host.example."},
		&dns.MX{Hdr: hdr("m1", dns.TypeMX), Preference: 10, Mx: "mail.example."},
		&dns.MX{Hdr: hdr("m2", dns.TypeMX), Preference: 20, Mx: "m\\032x.example."},
		&dns.TXT{Hdr: hdr("t", dns.TypeTXT), Txt: []string{"v=spf1 -all", "x"}},
		&dns.SRV{Hdr: hdr("s", dns.TypeSRV), Priority: 1, Weight: 2, Port: 3, Target: "www.example."},
	}
	z := testZone(t, "example.org.", "@ SOA ns host 1 1 1 1 1", "@ NS ns.example.net.")
	z.Records = append(z.Records, rrs...)
	s := mustCompile(t, z)
	buf := make([]byte, MaxMsgLen)
	for _, rr := range rrs {
		end, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		want := buf[NameLen(buf)+10 : end]
		key, _ := WireName(rr.Header().Name)
		n := s.lookup(key)
		set := s.get(n, rr.Header().Rrtype)
		if n < 0 || set < 0 || s.count(set) != 1 {
			t.Errorf("%v: not served", rr)
			continue
		}
		it := s.rdatas(set)
		if got, _, _ := it.next(); !bytes.Equal(got, want) {
			t.Errorf("%v: served %x, want %x", rr, got, want)
		}
	}
}

// TestCompileBadName: a record PackZone cannot put in wire form fails
// the compile, naming the zone.
func TestCompileBadName(t *testing.T) {
	z := testZone(t, "example.org.", "@ SOA ns host 1 1 1 1 1", "@ NS ns")
	z.Records = append(z.Records, &dns.CNAME{Hdr: dns.RR_Header{Name: "x.example.org.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET}, Target: "a..b."})
	if _, err := Compile(z); err == nil {
		t.Error("compiled a CNAME to an empty label")
	}
	if _, err := CompilePacked(nil); err == nil {
		t.Error("compiled a nil zone")
	}
}
