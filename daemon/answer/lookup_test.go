package answer

import (
	"slices"
	"strconv"
	"testing"

	"github.com/miekg/dns"
)

// ask sends one query through a responder and unpacks the reply.
func ask(t *testing.T, r *Responder, m *dns.Msg, tcp bool) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := r.Respond(b, tcp)
	if out == nil {
		t.Fatalf("no reply to %v", m.Question)
	}
	reply := new(dns.Msg)
	if err := reply.Unpack(out); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	return reply
}

const (
	soaNeg   = "example.org. 300 IN SOA ns1.example.org. host.example.org. 2024010101 7200 3600 1209600 300"
	nsDeleg1 = "deleg.example.org. 3600 IN NS ns.deleg.example.org."
	nsDeleg2 = "deleg.example.org. 3600 IN NS ns1.example.org."
	glueDlg  = "ns.deleg.example.org. 3600 IN A 192.0.2.200"
	ns1A     = "ns1.example.org. 3600 IN A 192.0.2.53"
	ns2A     = "ns2.example.org. 3600 IN A 192.0.2.54"
	ns2AAAA  = "ns2.example.org. 3600 IN AAAA 2001:db8::54"
	apexNS1  = "example.org. 3600 IN NS ns1.example.org."
	apexNS2  = "example.org. 3600 IN NS ns2.example.org."
	wwwA     = "www.example.org. 3600 IN A 192.0.2.80"
	mailA    = "mail.example.org. 3600 IN A 192.0.2.25"
)

type answerCase struct {
	name   string
	qtype  uint16
	rcode  int
	aa     bool
	answer []string
	ns     []string
	extra  []string
}

func checkAnswer(t *testing.T, r *Responder, c answerCase) {
	t.Helper()
	m := ask(t, r, question(c.name, c.qtype), false)
	if m.Rcode != c.rcode || m.Authoritative != c.aa || m.Truncated {
		t.Errorf("%s %s: rcode %s aa %v tc %v, want rcode %s aa %v", c.name, dns.TypeToString[c.qtype],
			dns.RcodeToString[m.Rcode], m.Authoritative, m.Truncated, dns.RcodeToString[c.rcode], c.aa)
	}
	for _, s := range []struct {
		what      string
		got, want []string
	}{{"answer", rrStrings(m.Answer), c.answer}, {"authority", rrStrings(m.Ns), c.ns}, {"additional", rrStrings(m.Extra), c.extra}} {
		if !slices.Equal(s.got, s.want) {
			t.Errorf("%s %s %s:\n got  %q\n want %q", c.name, dns.TypeToString[c.qtype], s.what, s.got, s.want)
		}
	}
}

func TestAnswerMinimal(t *testing.T) {
	r := newResponder(testZones(t), 1232, false)
	cases := []answerCase{
		// Exact matches.
		{name: "www.example.org.", qtype: dns.TypeA, aa: true, answer: []string{wwwA}},
		{name: "www.example.org.", qtype: dns.TypeAAAA, aa: true, answer: []string{"www.example.org. 3600 IN AAAA 2001:db8::80"}},
		{name: "example.org.", qtype: dns.TypeNS, aa: true, answer: []string{apexNS1, apexNS2}, extra: []string{ns1A, ns2A, ns2AAAA}},
		// NS, MX and SRV answers carry their in-zone targets' addresses.
		{name: "example.org.", qtype: dns.TypeMX, aa: true, answer: []string{"example.org. 3600 IN MX 10 mail.example.org."}, extra: []string{mailA}},
		{name: "srv.example.org.", qtype: dns.TypeSRV, aa: true, answer: []string{"srv.example.org. 3600 IN SRV 0 0 80 www.example.org."},
			extra: []string{wwwA, "www.example.org. 3600 IN AAAA 2001:db8::80"}},
		// NODATA and NXDOMAIN: SOA with TTL min(SOA TTL, MINIMUM).
		{name: "www.example.org.", qtype: dns.TypeMX, aa: true, ns: []string{soaNeg}},
		{name: "nothere.example.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{soaNeg}},
		{name: "deep.nothere.example.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{soaNeg}},
		// Empty non-terminals exist: NODATA, not NXDOMAIN.
		{name: "c.ent.example.org.", qtype: dns.TypeA, aa: true, ns: []string{soaNeg}},
		{name: "ent.example.org.", qtype: dns.TypeA, aa: true, ns: []string{soaNeg}},
		{name: "x.b.c.ent.example.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{soaNeg}},
		// CNAME chains, inside the zone and into another served zone.
		{name: "alias.example.org.", qtype: dns.TypeA, aa: true, answer: []string{"alias.example.org. 3600 IN CNAME www.example.org.", wwwA}},
		{name: "alias.example.org.", qtype: dns.TypeCNAME, aa: true, answer: []string{"alias.example.org. 3600 IN CNAME www.example.org."}},
		{name: "alias.example.org.", qtype: dns.TypeMX, aa: true, answer: []string{"alias.example.org. 3600 IN CNAME www.example.org."}, ns: []string{soaNeg}},
		{name: "chain1.example.org.", qtype: dns.TypeA, aa: true, answer: []string{
			"chain1.example.org. 3600 IN CNAME chain2.example.org.",
			"chain2.example.org. 3600 IN CNAME www.example.org.",
			wwwA}},
		{name: "ext.example.org.", qtype: dns.TypeA, aa: true, answer: []string{
			"ext.example.org. 3600 IN CNAME www.example.net.", "www.example.net. 600 IN A 198.51.100.1"}},
		{name: "outside.example.org.", qtype: dns.TypeA, aa: true, answer: []string{"outside.example.org. 3600 IN CNAME www.elsewhere.test."}},
		{name: "loop1.example.org.", qtype: dns.TypeA, aa: true, answer: []string{
			"loop1.example.org. 3600 IN CNAME loop2.example.org.", "loop2.example.org. 3600 IN CNAME loop1.example.org."}},
		// RFC 6604: NXDOMAIN at the end of a chain keeps the chain.
		{name: "dangling.example.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true,
			answer: []string{"dangling.example.org. 3600 IN CNAME nothere.example.org."}, ns: []string{soaNeg}},
		// Wildcards (RFC 4592), with the closest-encloser rule.
		{name: "foo.wild.example.org.", qtype: dns.TypeA, aa: true, answer: []string{"foo.wild.example.org. 3600 IN A 192.0.2.99"}},
		{name: "a.b.wild.example.org.", qtype: dns.TypeTXT, aa: true, answer: []string{`a.b.wild.example.org. 3600 IN TXT "wild"`}},
		{name: "foo.wild.example.org.", qtype: dns.TypeMX, aa: true, ns: []string{soaNeg}},
		{name: "*.wild.example.org.", qtype: dns.TypeA, aa: true, answer: []string{"*.wild.example.org. 3600 IN A 192.0.2.99"}},
		{name: "sub.wild.example.org.", qtype: dns.TypeTXT, aa: true, ns: []string{soaNeg}},
		{name: "a.sub.wild.example.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{soaNeg}},
		{name: "y.wild.example.org.", qtype: dns.TypeA, aa: true, ns: []string{soaNeg}},
		{name: "foo.y.wild.example.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{soaNeg}},
		{name: "x.cw.example.org.", qtype: dns.TypeA, aa: true, answer: []string{"x.cw.example.org. 3600 IN CNAME www.example.org.", wwwA}},
		{name: "x.cw.example.org.", qtype: dns.TypeCNAME, aa: true, answer: []string{"x.cw.example.org. 3600 IN CNAME www.example.org."}},
		// Referrals: AA clear, NS in authority, glue in additional.
		{name: "foo.deleg.example.org.", qtype: dns.TypeA, answer: nil, ns: []string{nsDeleg1, nsDeleg2}, extra: []string{glueDlg, ns1A}},
		{name: "deleg.example.org.", qtype: dns.TypeA, ns: []string{nsDeleg1, nsDeleg2}, extra: []string{glueDlg, ns1A}},
		{name: "deleg.example.org.", qtype: dns.TypeNS, ns: []string{nsDeleg1, nsDeleg2}, extra: []string{glueDlg, ns1A}},
		{name: "deleg.example.org.", qtype: dns.TypeANY, ns: []string{nsDeleg1, nsDeleg2}, extra: []string{glueDlg, ns1A}},
		{name: "ns.deleg.example.org.", qtype: dns.TypeA, ns: []string{nsDeleg1, nsDeleg2}, extra: []string{glueDlg, ns1A}},
		{name: "foo.deleg.example.org.", qtype: dns.TypeDS, ns: []string{nsDeleg1, nsDeleg2}, extra: []string{glueDlg, ns1A}},
		{name: "deleg2.example.org.", qtype: dns.TypeA, ns: []string{"deleg2.example.org. 3600 IN NS ns.other.test."}},
		// DS at the cut is the parent's data.
		{name: "deleg.example.org.", qtype: dns.TypeDS, aa: true, answer: []string{
			"deleg.example.org. 3600 IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"}},
		{name: "deleg2.example.org.", qtype: dns.TypeDS, aa: true, ns: []string{soaNeg}},
		// A chain into a delegation ends in a referral, AA from the first step.
		{name: "todeleg.example.org.", qtype: dns.TypeA, aa: true, answer: []string{"todeleg.example.org. 3600 IN CNAME foo.deleg.example.org."},
			ns: []string{nsDeleg1, nsDeleg2}, extra: []string{glueDlg, ns1A}},
		// A child zone served beside its parent wins, except for DS at its apex.
		{name: "www.child.example.org.", qtype: dns.TypeA, aa: true, answer: []string{"www.child.example.org. 600 IN A 198.51.100.3"}},
		{name: "child.example.org.", qtype: dns.TypeNS, aa: true, answer: []string{"child.example.org. 600 IN NS ns1.example.org."}},
		{name: "child.example.org.", qtype: dns.TypeDS, aa: true, ns: []string{soaNeg}},
		// ANY: one RRset (RFC 8482).
		{name: "example.org.", qtype: dns.TypeANY, aa: true, answer: []string{"example.org. 3600 IN SOA ns1.example.org. host.example.org. 2024010101 7200 3600 1209600 300"}},
		{name: "anyt.example.org.", qtype: dns.TypeANY, aa: true, answer: []string{"anyt.example.org. 3600 IN A 192.0.2.3"}},
		{name: "alias.example.org.", qtype: dns.TypeANY, aa: true, answer: []string{"alias.example.org. 3600 IN CNAME www.example.org."}},
		{name: "nothere.example.org.", qtype: dns.TypeANY, rcode: dns.RcodeNameError, aa: true, ns: []string{soaNeg}},
		// No zone of ours.
		{name: "www.example.com.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		{name: ".", qtype: dns.TypeNS, rcode: dns.RcodeRefused},
	}
	for _, c := range cases {
		checkAnswer(t, r, c)
	}
}

func TestAnswerFull(t *testing.T) {
	r := newResponder(testZones(t), 1232, true)
	cases := []answerCase{
		{name: "www.example.org.", qtype: dns.TypeA, aa: true, answer: []string{wwwA}, ns: []string{apexNS1, apexNS2}, extra: []string{ns1A, ns2A, ns2AAAA}},
		{name: "example.org.", qtype: dns.TypeNS, aa: true, answer: []string{apexNS1, apexNS2}, extra: []string{ns1A, ns2A, ns2AAAA}},
		{name: "example.org.", qtype: dns.TypeMX, aa: true, answer: []string{"example.org. 3600 IN MX 10 mail.example.org."},
			ns: []string{apexNS1, apexNS2}, extra: []string{mailA, ns1A, ns2A, ns2AAAA}},
		{name: "srv.example.org.", qtype: dns.TypeSRV, aa: true, answer: []string{"srv.example.org. 3600 IN SRV 0 0 80 www.example.org."},
			ns: []string{apexNS1, apexNS2}, extra: []string{wwwA, ns1A, ns2A, "www.example.org. 3600 IN AAAA 2001:db8::80", ns2AAAA}},
		{name: "x.cwmx.example.org.", qtype: dns.TypeMX, aa: true, answer: []string{"x.cwmx.example.org. 3600 IN MX 10 mail.example.org."},
			ns: []string{apexNS1, apexNS2}, extra: []string{mailA, ns1A, ns2A, ns2AAAA}},
		{name: "ext.example.org.", qtype: dns.TypeA, aa: true, answer: []string{
			"ext.example.org. 3600 IN CNAME www.example.net.", "www.example.net. 600 IN A 198.51.100.1"},
			ns: []string{"example.net. 600 IN NS ns1.example.org."}},
		{name: "deleg.example.org.", qtype: dns.TypeDS, aa: true, answer: []string{
			"deleg.example.org. 3600 IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"}},
		{name: "anyt.example.org.", qtype: dns.TypeANY, aa: true, answer: []string{"anyt.example.org. 3600 IN A 192.0.2.3"}},
		{name: "nothere.example.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{soaNeg}},
		{name: "foo.deleg.example.org.", qtype: dns.TypeA, ns: []string{nsDeleg1, nsDeleg2}, extra: []string{glueDlg, ns1A}},
	}
	for _, c := range cases {
		checkAnswer(t, r, c)
	}
}

func TestQuestionCaseIsKept(t *testing.T) {
	r := newResponder(testZones(t), 1232, false)
	for _, name := range []string{"WwW.ExAmPlE.oRg.", "FoO.WiLd.Example.ORG.", "AlIaS.example.org."} {
		m := ask(t, r, question(name, dns.TypeA), false)
		if len(m.Answer) == 0 || m.Answer[0].Header().Name != name || m.Question[0].Name != name {
			t.Errorf("%s: question %v answer %v: want the question's letter case", name, m.Question, m.Answer)
		}
	}
}

func TestLongCNAMEChainStops(t *testing.T) {
	lines := []string{"@ SOA ns host 1 2 3 4 5", "@ NS ns", "ns A 192.0.2.1"}
	for i := range 30 {
		lines = append(lines, "c"+strconv.Itoa(i)+" CNAME c"+strconv.Itoa(i+1))
	}
	zs := NewZones()
	zs.Set(mustCompile(t, testZone(t, "chain.test.", lines...)))
	r := newResponder(zs, 1232, false)
	m := ask(t, r, question("c0.chain.test.", dns.TypeA), false)
	if len(m.Answer) != maxChain || m.Rcode != dns.RcodeSuccess {
		t.Errorf("chain of 30: %d answers, rcode %s; want %d, NOERROR", len(m.Answer), dns.RcodeToString[m.Rcode], maxChain)
	}
}
