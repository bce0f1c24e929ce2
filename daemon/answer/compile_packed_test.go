package answer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// packedTestZone is a zonefile with the usual types, a wildcard, a
// delegation with glue, names in upper and mixed case and its records
// out of canonical order.
const packedTestZone = `$ORIGIN Packed.TEST.
$TTL 3600
WWW     A     192.0.2.10
@       SOA   NS1 Hostmaster 2024010101 7200 3600 1209600 300
@       NS    NS1
@       NS    ns2.packed.test.
@       MX    10 MAIL
@       TXT   "v=spf1 -all" "second string"
NS1     A     192.0.2.1
ns2     AAAA  2001:db8::2
ns2     A     192.0.2.2
MAIL    A     192.0.2.3
mail    AAAA  2001:db8::3
www     AAAA  2001:db8::10
www     TXT   "hello world"
Alias   CNAME WWW
ext     CNAME www.example.net.
*       A     192.0.2.99
*.Sub2  MX    5 MAIL
_sip._tcp SRV 10 20 5060 WWW
a.b.c.Deep TXT "empty non-terminals above"
Child   NS    NS.Child
Child   NS    ns.example.net.
NS.Child A    192.0.2.53
ns.CHILD AAAA 2001:db8::53
Child   DS    12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
Esc\.aped A   192.0.2.77
`

// TestCompilePacked: a zone read packed (zonefile.LoadPacked) compiles
// to exactly what the same zone read whole (zonefile.Load) compiles to,
// and the packed zone tells the loader the same serial, record count,
// digest and file sum as the zone.
func TestCompilePacked(t *testing.T) {
	files, err := filepath.Glob("../../testdata/conformance/zones/*.zone")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance zones: %v", err)
	}
	gen := filepath.Join(t.TempDir(), "packed.test.zone")
	if err := os.WriteFile(gen, []byte(packedTestZone), 0o644); err != nil {
		t.Fatal(err)
	}
	files = append(files, gen)
	for _, path := range files {
		origin := zonefile.OriginFromPath(filepath.Base(path))
		z, _, err := zonefile.Load(path, origin)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		p, _, err := zonefile.LoadPacked(path, origin)
		if err != nil {
			t.Fatalf("%s: LoadPacked: %v", path, err)
		}
		if p.Len() != len(z.Records) || p.Serial() != z.Serial() || p.Digest() != zonefile.Digest(z) ||
			p.FileSum != z.FileSum || !slices.Equal(p.Includes, z.Includes) {
			t.Errorf("%s: the packed zone's records, serial, digest or file differ from the zone's", origin)
		}
		want := mustCompile(t, z)
		got, err := CompilePacked(p)
		if err != nil {
			t.Fatalf("%s: CompilePacked: %v", origin, err)
		}
		sameSnapshot(t, origin, got, want)
	}
}

// TestCompilePackedZone: the generated zone is compiled as meant: its
// wildcard, delegation, glue and mixed-case names are served.
func TestCompilePackedZone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "packed.test.zone")
	if err := os.WriteFile(path, []byte(packedTestZone), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _, err := zonefile.LoadPacked(path, "packed.test.")
	if err != nil {
		t.Fatal(err)
	}
	s, err := CompilePacked(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin() != "packed.test." || s.Serial() != 2024010101 || s.SOA() == nil || s.SOA().Minttl != 300 {
		t.Fatalf("origin %q serial %d SOA %v", s.Origin(), s.Serial(), s.SOA())
	}
	zs := NewZones()
	zs.Set(s)
	r := newResponder(zs, 1232, false)
	for _, c := range []struct {
		qname string
		qtype uint16
		want  string // in the answer, or the authority section of a referral
	}{
		{"www.packed.test.", dns.TypeA, "www.packed.test. 3600 IN A 192.0.2.10"},
		{"nowhere.packed.test.", dns.TypeA, "nowhere.packed.test. 3600 IN A 192.0.2.99"},
		{"alias.packed.test.", dns.TypeA, "alias.packed.test. 3600 IN CNAME WWW.packed.test."},
		{"host.child.packed.test.", dns.TypeA, "child.packed.test. 3600 IN NS NS.child.packed.test."},
		{"x.sub2.packed.test.", dns.TypeMX, "x.sub2.packed.test. 3600 IN MX 5 MAIL.packed.test."},
		{"esc\\.aped.packed.test.", dns.TypeA, "esc\\.aped.packed.test. 3600 IN A 192.0.2.77"},
	} {
		m := ask(t, r, question(c.qname, c.qtype), false)
		all := slices.Concat(m.Answer, m.Ns)
		if !slices.Contains(rrStrings(all), c.want) {
			t.Errorf("%s %s: %v, want %q among them", c.qname, dns.TypeToString[c.qtype], rrStrings(all), c.want)
		}
	}
	// The referral carries the glue.
	m := ask(t, r, question("host.child.packed.test.", dns.TypeA), false)
	if !strings.Contains(strings.Join(rrStrings(m.Extra), "\n"), "192.0.2.53") {
		t.Errorf("referral without glue: %v", m)
	}
}

// sameSnapshot fails t unless got and want serve the same records, in
// the same order and letter case, from the same compiled form.
func sameSnapshot(t *testing.T, what string, got, want *Snapshot) {
	t.Helper()
	if got.origin != want.origin || got.serial != want.serial || got.soa.String() != want.soa.String() {
		t.Errorf("%s: origin, serial or SOA %s %d %v, want %s %d %v", what, got.origin, got.serial, got.soa, want.origin, want.serial, want.soa)
	}
	if g, w := served(got), served(want); !slices.Equal(g, w) {
		t.Errorf("%s: %d records served, want %d, or they differ", what, len(g), len(w))
	}
	if string(got.names) != string(want.names) || string(got.data) != string(want.data) ||
		!slices.Equal(got.nodes, want.nodes) || !slices.Equal(got.sets, want.sets) || !slices.Equal(got.targets, want.targets) ||
		string(got.apexOwner) != string(want.apexOwner) || got.soaNeg != want.soaNeg || got.ns != want.ns {
		t.Errorf("%s: compiled forms differ", what)
	}
	if string(recordWire(got)) != string(recordWire(want)) {
		t.Errorf("%s: the wire form of the records differs", what)
	}
}

// recordWire returns every record s serves in uncompressed wire form, in
// EachRecord's order.
func recordWire(s *Snapshot) []byte {
	var b []byte
	s.EachRecord(func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool {
		b = AppendWireRR(b, owner, rtype, class, ttl, rdata)
		return true
	})
	return b
}
