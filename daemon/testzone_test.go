package daemon

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// testZone builds a zone from records in zonefile syntax, one per line,
// relative names completed with origin.
func testZone(t testing.TB, origin string, lines ...string) *zonefile.Zone {
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

func mustCompile(t testing.TB, z *zonefile.Zone) *Snapshot {
	t.Helper()
	s, err := Compile(z)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var bigText = strings.Repeat("a", 200)

// exampleOrg is the zone most answering tests run against.
func exampleOrg(t testing.TB) *zonefile.Zone {
	return testZone(t, "example.org.",
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
		"big TXT "+bigText+"1",
		"big TXT "+bigText+"2",
		"big TXT "+bigText+"3",
		"anyt TXT x",
		"anyt MX 10 mail",
		"anyt A 192.0.2.3",
		"a.b.c.ent A 192.0.2.4",
	)
}

// testZones serves example.org, example.net and child.example.org.
func testZones(t testing.TB) *Zones {
	zs := NewZones()
	zs.Set(mustCompile(t, exampleOrg(t)))
	zs.Set(mustCompile(t, testZone(t, "example.net.",
		"@ 600 SOA ns1.example.org. host.example.org. 1 7200 3600 1209600 900",
		"@ 600 NS ns1.example.org.",
		"www 600 A 198.51.100.1",
	)))
	zs.Set(mustCompile(t, testZone(t, "child.example.org.",
		"@ 600 SOA ns1.example.org. host.example.org. 1 7200 3600 1209600 60",
		"@ 600 NS ns1.example.org.",
		"www 600 A 198.51.100.3",
	)))
	return zs
}

// rrStrings renders records one per string with single spaces.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}
