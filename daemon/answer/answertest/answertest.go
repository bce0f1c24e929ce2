// Package answertest holds the zones and helpers shared by the tests of
// the query path (daemon/answer), the listeners (daemon/listen) and the
// rest of daemon/.
package answertest

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// Zone builds a zone from records in zonefile syntax, one per line,
// relative names completed with origin.
func Zone(t testing.TB, origin string, lines ...string) *zonefile.Zone {
	t.Helper()
	z := &zonefile.Zone{Origin: origin}
	for _, l := range lines {
		rr, err := dns.NewRR("$ORIGIN " + origin + "\n$TTL 3600\n" + l)
		if err != nil {
			t.Fatalf("record %q: %v", l, err)
		}
		z.Records = append(z.Records, rr)
	}
	return z
}

// BigText is the text of each of the three TXT records of big.example.org.
var BigText = strings.Repeat("a", 200)

// ExampleOrg is the zone most answering tests run against.
func ExampleOrg(t testing.TB) *zonefile.Zone {
	return Zone(t, "example.org.",
		"@ SOA ns1 host 2024010101 7200 3600 1209600 300",
		"@ NS ns1",
		"@ NS ns2",
		"@ MX 10 mail",
		"ns1 A 192.0.2.53",
		"ns2 A 192.0.2.54",
		"ns2 AAAA 2001:db8::54",
		"www A 192.0.2.80",
		"www AAAA 2001:db8::80",
		"mail A 192.0.2.25",
		"alias CNAME www",
		"chain1 CNAME chain2",
		"chain2 CNAME www",
		"dangling CNAME nothere",
		"ext CNAME www.example.net.",
		"outside CNAME www.elsewhere.test.",
		"loop1 CNAME loop2",
		"loop2 CNAME loop1",
		"*.wild A 192.0.2.99",
		"*.wild TXT wild",
		"sub.wild A 192.0.2.98",
		"z.y.wild A 192.0.2.97",
		"*.cw CNAME www",
		"*.cwmx MX 10 mail",
		"srv SRV 0 0 80 www",
		"deleg NS ns.deleg",
		"deleg NS ns1",
		"deleg DS 12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"ns.deleg A 192.0.2.200",
		"deleg2 NS ns.other.test.",
		"todeleg CNAME foo.deleg",
		"child NS ns1",
		"big TXT "+BigText+"1",
		"big TXT "+BigText+"2",
		"big TXT "+BigText+"3",
		"anyt TXT x",
		"anyt MX 10 mail",
		"anyt A 192.0.2.3",
		"a.b.c.ent A 192.0.2.4",
	)
}

// Zones returns the zones most answering tests serve: example.org,
// example.net and child.example.org.
func Zones(t testing.TB) []*zonefile.Zone {
	return []*zonefile.Zone{
		ExampleOrg(t),
		Zone(t, "example.net.",
			"@ 600 SOA ns1.example.org. host.example.org. 1 7200 3600 1209600 900",
			"@ 600 NS ns1.example.org.",
			"www 600 A 198.51.100.1",
		),
		Zone(t, "child.example.org.",
			"@ 600 SOA ns1.example.org. host.example.org. 1 7200 3600 1209600 60",
			"@ 600 NS ns1.example.org.",
			"www 600 A 198.51.100.3",
		),
	}
}

// MustCompile compiles z with compile (answer.Compile), failing the test
// on an error. It is generic so that the answer package's own tests can
// use it without an import cycle.
func MustCompile[S any](t testing.TB, compile func(*zonefile.Zone) (S, error), z *zonefile.Zone) S {
	t.Helper()
	s, err := compile(z)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Serve compiles Zones with compile and sets each in the zone table zs
// (answer.NewZones()), which it returns.
func Serve[Z interface{ Set(S) }, S any](t testing.TB, zs Z, compile func(*zonefile.Zone) (S, error)) Z {
	t.Helper()
	for _, z := range Zones(t) {
		zs.Set(MustCompile(t, compile, z))
	}
	return zs
}

// WWWQuestion is the question www.example.org/IN/A in wire format, in
// hex.
const WWWQuestion = "03777777076578616d706c65036f72670000010001"

// Question is a query for name and qtype without RD, as resolvers ask
// authoritative servers.
func Question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	return m
}

// RRStrings renders records one per string with single spaces.
func RRStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}

// BigZone builds a zone of n records: SOA, NS, the NS address, and a
// mix of A, AAAA, MX and TXT records (txtLen bytes of text each).
func BigZone(origin string, n, txtLen int) *zonefile.Zone {
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 3600}
	}
	z := &zonefile.Zone{Origin: origin}
	z.Records = append(z.Records,
		&dns.SOA{Hdr: hdr(origin, dns.TypeSOA), Ns: "ns1." + origin, Mbox: "host." + origin, Serial: 42, Refresh: 7200, Retry: 3600, Expire: 1209600, Minttl: 300},
		&dns.NS{Hdr: hdr(origin, dns.TypeNS), Ns: "ns1." + origin},
		&dns.A{Hdr: hdr("ns1."+origin, dns.TypeA), A: net.IPv4(127, 0, 0, 1).To4()},
	)
	text := fmt.Sprintf("%0*d", txtLen, 0)
	for i := 0; len(z.Records) < n; i++ {
		name := fmt.Sprintf("host%d.%s", i, origin)
		var rr dns.RR
		switch {
		case txtLen > 0 || i%4 == 3:
			rr = &dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: []string{fmt.Sprintf("record %d %s", i, text)}}
		case i%4 == 0:
			rr = &dns.A{Hdr: hdr(name, dns.TypeA), A: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).AsSlice()}
		case i%4 == 1:
			rr = &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)}).AsSlice()}
		default:
			rr = &dns.MX{Hdr: hdr(name, dns.TypeMX), Preference: uint16(i), Mx: fmt.Sprintf("mail%d.%s", i%100, origin)}
		}
		z.Records = append(z.Records, rr)
	}
	return z
}
