package load

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// reply packs an answer to q with the given sections, compressed.
func reply(t testing.TB, q Query, rcode int, an, ns []string, edit func(*dns.Msg)) []byte {
	t.Helper()
	req := new(dns.Msg)
	req.SetQuestion(q.Name, q.Type)
	m := new(dns.Msg)
	m.SetRcode(req, rcode)
	m.Authoritative = true
	m.Compress = true
	for _, s := range an {
		m.Answer = append(m.Answer, mustRR(t, s))
	}
	for _, s := range ns {
		m.Ns = append(m.Ns, mustRR(t, s))
	}
	if edit != nil {
		edit(m)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func mustQuery(t testing.TB, line string) Query {
	t.Helper()
	q, ok, err := ParseQuery(line)
	if err != nil || !ok {
		t.Fatalf("ParseQuery(%q): %v", line, err)
	}
	return q
}

const soa = "bench.test. 300 IN SOA ns1.bench.test. hostmaster.bench.test. 1 3600 600 86400 300"

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		rcode  int
		an, ns []string
		edit   func(*dns.Msg)
		want   verdict
	}{
		{"a", "h1.bench.test. A ; NOERROR A 10.0.0.1", 0, []string{"h1.bench.test. 60 IN A 10.0.0.1"}, nil, nil, pass},
		{"a other", "h1.bench.test. A ; NOERROR A 10.0.0.1", 0, []string{"h1.bench.test. 60 IN A 10.0.0.2"}, nil, nil, badRdata},
		{"a type only", "h1.bench.test. A ; NOERROR A", 0, []string{"h1.bench.test. 60 IN A 10.0.0.2"}, nil, nil, pass},
		{"no expectation", "h1.bench.test. A", 2, nil, nil, nil, pass},
		{"rcode only", "h1.bench.test. A ; SERVFAIL", 2, nil, nil, nil, pass},
		{"rcode differs", "h1.bench.test. A ; NOERROR A 10.0.0.1", 3, nil, []string{soa}, nil, badRcode},
		{"cname compressed", "c1.bench.test. A ; NOERROR CNAME h1.bench.test.", 0,
			[]string{"c1.bench.test. 60 IN CNAME h1.bench.test.", "h1.bench.test. 60 IN A 10.0.0.1"}, nil, nil, pass},
		{"cname case", "c1.bench.test. A ; NOERROR CNAME H1.Bench.TEST.", 0,
			[]string{"c1.bench.test. 60 IN CNAME h1.bench.test."}, nil, nil, pass},
		{"cname other", "c1.bench.test. A ; NOERROR CNAME h2.bench.test.", 0,
			[]string{"c1.bench.test. 60 IN CNAME h1.bench.test."}, nil, nil, badRdata},
		{"mx", "bench.test. MX ; NOERROR MX 10 mail.bench.test.", 0,
			[]string{"bench.test. 60 IN MX 10 mail.bench.test."}, nil, nil, pass},
		{"mx pref", "bench.test. MX ; NOERROR MX 20 mail.bench.test.", 0,
			[]string{"bench.test. 60 IN MX 10 mail.bench.test."}, nil, nil, badRdata},
		{"soa answer", "bench.test. SOA ; NOERROR SOA ns1.bench.test. hostmaster.bench.test. 1 3600 600 86400 300", 0,
			[]string{soa}, nil, nil, pass},
		{"txt", `t.bench.test. TXT ; NOERROR TXT "hello world"`, 0,
			[]string{`t.bench.test. 60 IN TXT "hello world"`}, nil, nil, pass},
		{"txt blanks", `t.bench.test. TXT ; NOERROR TXT "a  b;c"`, 0,
			[]string{`t.bench.test. 60 IN TXT "a  b;c"`}, nil, nil, pass},
		{"txt other", `t.bench.test. TXT ; NOERROR TXT "a b;c"`, 0,
			[]string{`t.bench.test. 60 IN TXT "a  b;c"`}, nil, nil, badRdata},
		{"wrong type", "h1.bench.test. A ; NOERROR A 10.0.0.1", 0,
			[]string{"h1.bench.test. 60 IN CNAME h2.bench.test."}, nil, nil, badType},
		{"empty answer", "h1.bench.test. A ; NOERROR A 10.0.0.1", 0, nil, []string{soa}, nil, noRecord},
		{"nxdomain", "nope.bench.test. A ; NXDOMAIN SOA", 3, nil, []string{soa}, nil, pass},
		{"nxdomain no soa", "nope.bench.test. A ; NXDOMAIN SOA", 3, nil, nil, nil, noRecord},
		{"nodata", "h1.bench.test. TXT ; NOERROR SOA@auth", 0, nil, []string{soa}, nil, pass},
		{"nodata with answer", "h1.bench.test. TXT ; NOERROR SOA@auth", 0,
			[]string{`h1.bench.test. 60 IN TXT "x"`}, []string{soa}, nil, answerPresent},
		{"referral", "x.sub.bench.test. A ; NOERROR NS@auth", 0, nil,
			[]string{"sub.bench.test. 60 IN NS ns.sub.bench.test."}, nil, pass},
		{"referral got soa", "x.sub.bench.test. A ; NOERROR NS@auth", 0, nil, []string{soa}, nil, badType},
		{"empty", "x.sub.bench.test. A ; NOERROR -", 0, nil, []string{soa}, nil, pass},
		{"not a response", "h1.bench.test. A", 0, nil, nil, func(m *dns.Msg) { m.Response = false }, notResponse},
		{"other question", "h1.bench.test. A ; NOERROR", 0, nil, nil,
			func(m *dns.Msg) { m.Question[0].Name = "h2.bench.test." }, badQuestion},
		{"question case", "h1.bench.test. A ; NOERROR", 0, nil, nil,
			func(m *dns.Msg) { m.Question[0].Name = "H1.bench.TEST." }, pass},
	}
	for _, tt := range tests {
		q := mustQuery(t, tt.line)
		ps, err := prepare([]Query{q}, false)
		if err != nil {
			t.Fatal(err)
		}
		m := reply(t, q, tt.rcode, tt.an, tt.ns, tt.edit)
		if got, _ := check(m, &ps[0], nil); got != tt.want {
			t.Errorf("%s: check = %s, want %s", tt.name, verdictText[got], verdictText[tt.want])
		}
		if tt.want != pass {
			if d := describe(m, q, tt.want); !strings.Contains(d, verdictText[tt.want]) {
				t.Errorf("%s: describe = %q", tt.name, d)
			}
		}
	}
}

func TestCheckTruncatedMessages(t *testing.T) {
	q := mustQuery(t, "c1.bench.test. A ; NOERROR CNAME h1.bench.test.")
	ps, _ := prepare([]Query{q}, false)
	m := reply(t, q, 0, []string{"c1.bench.test. 60 IN CNAME h1.bench.test."}, nil, nil)
	// Every prefix must be rejected without a panic.
	for n := headerLen; n < len(m); n++ {
		if v, _ := check(m[:n], &ps[0], nil); v == pass {
			t.Errorf("check of %d of %d bytes passed", n, len(m))
		}
	}
}

func TestPrepare(t *testing.T) {
	q := mustQuery(t, "h1.bench.test A")
	ps, err := prepare([]Query{q}, false)
	if err != nil {
		t.Fatal(err)
	}
	var m dns.Msg
	if err := m.Unpack(ps[0].wire); err != nil {
		t.Fatal(err)
	}
	opt := m.IsEdns0()
	if m.RecursionDesired || opt == nil || opt.UDPSize() != ednsSize || opt.Do() ||
		len(m.Question) != 1 || m.Question[0].Name != "h1.bench.test." {
		t.Errorf("prepared query = %v", &m)
	}
	if ps[0].qEnd != headerLen+len("h1.bench.test.")+1+4 {
		t.Errorf("qEnd = %d", ps[0].qEnd)
	}
}

func TestCheckAllocs(t *testing.T) {
	q := mustQuery(t, "c1.bench.test. A ; NOERROR CNAME h1.bench.test.")
	ps, _ := prepare([]Query{q}, false)
	m := reply(t, q, 0, []string{"c1.bench.test. 60 IN CNAME h1.bench.test.", "h1.bench.test. 60 IN A 10.0.0.1"}, nil, nil)
	scratch := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() {
		var v verdict
		if v, scratch = check(m, &ps[0], scratch); v != pass {
			t.Fatal(verdictText[v])
		}
	}); n != 0 {
		t.Errorf("check allocates %v times per answer", n)
	}
}

func BenchmarkCheck(b *testing.B) {
	q := mustQuery(b, "c1.bench.test. A ; NOERROR CNAME h1.bench.test.")
	ps, _ := prepare([]Query{q}, false)
	m := reply(b, q, 0, []string{"c1.bench.test. 60 IN CNAME h1.bench.test.", "h1.bench.test. 60 IN A 10.0.0.1"}, nil, nil)
	scratch := make([]byte, 0, 512)
	for b.Loop() {
		_, scratch = check(m, &ps[0], scratch)
	}
}

// FuzzCheck feeds arbitrary answers to check: it must never panic, and
// describe must cope with whatever check rejects.
func FuzzCheck(f *testing.F) {
	lines := []string{
		"c1.bench.test. A ; NOERROR CNAME h1.bench.test.",
		"bench.test. SOA ; NOERROR SOA ns1.bench.test. hostmaster.bench.test. 1 3600 600 86400 300",
		"nope.bench.test. A ; NXDOMAIN SOA",
		"bench.test. MX ; NOERROR MX 10 mail.bench.test.",
	}
	var qs []Query
	for _, l := range lines {
		qs = append(qs, mustQuery(f, l))
	}
	ps, err := prepare(qs, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), reply(f, qs[0], 0, []string{"c1.bench.test. 60 IN CNAME h1.bench.test."}, nil, nil))
	f.Add(uint8(1), reply(f, qs[1], 0, []string{soa}, nil, nil))
	f.Add(uint8(2), reply(f, qs[2], 3, nil, []string{soa}, nil))
	f.Add(uint8(3), reply(f, qs[3], 0, []string{"bench.test. 60 IN MX 10 mail.bench.test."}, nil, nil))
	f.Fuzz(func(t *testing.T, which uint8, m []byte) {
		if len(m) < headerLen {
			return
		}
		i := int(which) % len(ps)
		if v, _ := check(m, &ps[i], nil); v != pass {
			describe(m, qs[i], v)
		}
	})
}

// TestCheckSigned: with DO set, an answer that matches its expectation
// but lacks the RRSIG of the checked RRset, or a negative answer without
// NSEC/NSEC3, is wrong; the same answers pass a DO=0 query.
func TestCheckSigned(t *testing.T) {
	const (
		sigA     = "h1.bench.test. 60 IN RRSIG A 13 3 60 20300101000000 20200101000000 12345 bench.test. AAAA"
		sigAAAA  = "h1.bench.test. 60 IN RRSIG AAAA 13 3 60 20300101000000 20200101000000 12345 bench.test. AAAA"
		sigCNAME = "c1.bench.test. 60 IN RRSIG CNAME 13 3 60 20300101000000 20200101000000 12345 bench.test. AAAA"
		sigSOA   = "bench.test. 300 IN RRSIG SOA 13 2 300 20300101000000 20200101000000 12345 bench.test. AAAA"
		nsec3    = "vvvv.bench.test. 300 IN NSEC3 1 0 0 - 0000 A RRSIG"
		sigNSEC3 = "vvvv.bench.test. 300 IN RRSIG NSEC3 13 3 300 20300101000000 20200101000000 12345 bench.test. AAAA"
		nsec     = "h0.bench.test. 300 IN NSEC h2.bench.test. A RRSIG NSEC"
		wildA    = "w1.wild.bench.test. 60 IN A 127.0.9.9"
		sigWild  = "w1.wild.bench.test. 60 IN RRSIG A 13 3 60 20300101000000 20200101000000 12345 bench.test. AAAA"
	)
	a := "h1.bench.test. 60 IN A 10.0.0.1"
	tests := []struct {
		name      string
		line      string
		rcode     int
		an, ns    []string
		want, do0 verdict
	}{
		{"signed a", "h1.bench.test. A ; NOERROR A 10.0.0.1", 0, []string{a, sigA}, nil, pass, pass},
		{"unsigned a", "h1.bench.test. A ; NOERROR A 10.0.0.1", 0, []string{a}, nil, noRRSIG, pass},
		{"rrsig of another type", "h1.bench.test. A ; NOERROR A 10.0.0.1", 0, []string{a, sigAAAA}, nil, noRRSIG, pass},
		{"rrsig in authority only", "h1.bench.test. A ; NOERROR A 10.0.0.1", 0, []string{a}, []string{sigA}, noRRSIG, pass},
		{"signed cname", "c1.bench.test. A ; NOERROR CNAME h1.bench.test.", 0,
			[]string{"c1.bench.test. 60 IN CNAME h1.bench.test.", sigCNAME, a, sigA}, nil, pass, pass},
		{"cname signed target only", "c1.bench.test. A ; NOERROR CNAME h1.bench.test.", 0,
			[]string{"c1.bench.test. 60 IN CNAME h1.bench.test.", a, sigA}, nil, noRRSIG, pass},
		{"wildcard", "w1.wild.bench.test. A ; NOERROR A 127.0.9.9", 0, []string{wildA, sigWild}, []string{nsec3, sigNSEC3}, pass, pass},
		{"nxdomain nsec3", "nx1.bench.test. A ; NXDOMAIN SOA", 3, nil, []string{soa, sigSOA, nsec3, sigNSEC3}, pass, pass},
		{"nxdomain nsec", "nx1.bench.test. A ; NXDOMAIN SOA", 3, nil, []string{soa, sigSOA, nsec}, pass, pass},
		{"nxdomain proof first", "nx1.bench.test. A ; NXDOMAIN SOA", 3, nil, []string{nsec3, sigNSEC3, soa, sigSOA}, pass, badType},
		{"nxdomain no soa", "nx1.bench.test. A ; NXDOMAIN SOA", 3, nil, []string{nsec3, sigNSEC3}, badType, badType},
		{"nxdomain without proof", "nx1.bench.test. A ; NXDOMAIN SOA", 3, nil, []string{soa, sigSOA}, noProof, pass},
		{"nxdomain unsigned soa", "nx1.bench.test. A ; NXDOMAIN SOA", 3, nil, []string{soa, nsec3, sigNSEC3}, noRRSIG, pass},
		{"nodata", "h1.bench.test. TXT ; NOERROR SOA@auth", 0, nil, []string{soa, sigSOA, nsec}, pass, pass},
		{"nodata without proof", "h1.bench.test. TXT ; NOERROR SOA@auth", 0, nil, []string{soa, sigSOA}, noProof, pass},
		{"rcode only", "h1.bench.test. A ; NOERROR", 0, []string{a}, nil, pass, pass},
		{"still wrong rdata", "h1.bench.test. A ; NOERROR A 10.0.0.2", 0, []string{a, sigA}, nil, badRdata, badRdata},
	}
	for _, tt := range tests {
		q := mustQuery(t, tt.line)
		m := reply(t, q, tt.rcode, tt.an, tt.ns, nil)
		for _, do := range []bool{true, false} {
			ps, err := prepare([]Query{q}, do)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if !do {
				want = tt.do0
			}
			if got, _ := check(m, &ps[0], nil); got != want {
				t.Errorf("%s, DO=%v: check = %s, want %s", tt.name, do, verdictText[got], verdictText[want])
			}
		}
		// Every prefix of a signed answer is rejected without a panic.
		ps, _ := prepare([]Query{q}, true)
		for n := headerLen; n < len(m); n++ {
			check(m[:n], &ps[0], nil)
		}
	}
}

// TestPrepareDO: the DO bit goes out in the OPT record only when asked.
func TestPrepareDO(t *testing.T) {
	q := mustQuery(t, "h1.bench.test. A ; NOERROR A 10.0.0.1")
	for _, do := range []bool{true, false} {
		ps, err := prepare([]Query{q}, do)
		if err != nil {
			t.Fatal(err)
		}
		var m dns.Msg
		if err := m.Unpack(ps[0].wire); err != nil {
			t.Fatal(err)
		}
		if opt := m.IsEdns0(); opt == nil || opt.Do() != do {
			t.Errorf("DO=%v: OPT %v", do, opt)
		}
	}
}
