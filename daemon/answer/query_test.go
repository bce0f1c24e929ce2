package answer

import (
	"encoding/hex"
	"testing"

	"github.com/miekg/dns"
)

// rawReply sends hex-encoded bytes through a responder.
func rawReply(t *testing.T, r *Responder, h string, tcp bool) []byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return r.Respond(b, tcp)
}

func TestMalformedQueries(t *testing.T) {
	r := newResponder(testZones(t), 1232, false)
	const opt = "0000290200" + "00000000" + "0000"
	const aRR = "c00c000100010000003c0004c0000201"
	cases := []struct {
		name string
		in   string
		want string // hex reply; "" for no reply
	}{
		{"too short", "1234", ""},
		{"header only, no question", "123401000000000000000000", "123481010000000000000000"},
		{"response bit set", "123481000001000000000000" + wwwQuestion, ""},
		{"two questions", "123401000002000000000000" + wwwQuestion + wwwQuestion, "123480010000000000000000"},
		{"question cut short", "12340100000100000000000003777777", "123481010000000000000000"},
		{"no qtype", "123401000001000000000000" + wwwQuestion[:len(wwwQuestion)-4], "123481010000000000000000"},
		{"label too long", "123401000001000000000000" + "40" + "00000100", "123481010000000000000000"},
		{"compressed question", "123401000001000000000000" + "c00c00010001", "123481010000000000000000"},
		{"answer record", "123401000001000100000000" + wwwQuestion + aRR, "123481010000000000000000"},
		{"authority record", "123401000001000000010000" + wwwQuestion + aRR, "123481010000000000000000"},
		{"address in additional", "123401000001000000000001" + wwwQuestion + aRR, "123481010000000000000000"},
		{"two OPT records", "123401000001000000000002" + wwwQuestion + opt + opt, "123481010000000000000000"},
		{"OPT not at the root", "123401000001000000000001" + wwwQuestion + "c00c" + opt[2:], "123481010000000000000000"},
		{"OPT option overruns", "123401000001000000000001" + wwwQuestion + "0000290200000000000004000a0008", "123481010000000000000000"},
		{"OPT cut short", "123401000001000000000001" + wwwQuestion + "00002902", "123481010000000000000000"},
		{"IQUERY", "123409000001000000000000" + wwwQuestion, "123489040000000000000000"},
		{"STATUS", "123410000001000000000000" + wwwQuestion, "123490040000000000000000"},
		{"opcode 3", "123418000001000000000000" + wwwQuestion, "123498040000000000000000"},
		{"NOTIFY", "123420000001000000000000" + wwwQuestion, "1234a0040000000000000000"},
		{"UPDATE", "123428000001000000000000" + wwwQuestion, "1234a8040000000000000000"},
	}
	for _, c := range cases {
		got := hex.EncodeToString(rawReply(t, r, c.in, false))
		if got != c.want {
			t.Errorf("%s: reply %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTrailingBytesIgnored(t *testing.T) {
	r := newResponder(testZones(t), 1232, false)
	out := rawReply(t, r, "123400000001000000000000"+wwwQuestion+"ffff", false)
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Fatalf("reply %v (%v): want the answer", m, err)
	}
}

func TestRefusals(t *testing.T) {
	r := newResponder(testZones(t), 1232, false)
	cases := []struct {
		name         string
		qname        string
		qtype, class uint16
		tcp          bool
		rcode        int
		ede          uint16 // 0: none expected
		question     bool
	}{
		{"unknown zone", "www.example.com.", dns.TypeA, dns.ClassINET, false, dns.RcodeRefused, EDENotAuth, true},
		{"class CH", "version.bind.", dns.TypeTXT, dns.ClassCHAOS, false, dns.RcodeRefused, EDENotSupported, true},
		{"class HS", "www.example.org.", dns.TypeA, dns.ClassHESIOD, false, dns.RcodeRefused, EDENotSupported, false},
		{"AXFR over UDP", "example.org.", dns.TypeAXFR, dns.ClassINET, false, dns.RcodeNotImplemented, 0, true},
		{"AXFR over TCP", "example.org.", dns.TypeAXFR, dns.ClassINET, true, dns.RcodeRefused, EDEProhibited, true},
		{"IXFR over UDP", "example.org.", dns.TypeIXFR, dns.ClassINET, false, dns.RcodeRefused, EDEProhibited, true},
		{"IXFR over TCP", "example.org.", dns.TypeIXFR, dns.ClassINET, true, dns.RcodeRefused, EDEProhibited, true},
	}
	for _, c := range cases {
		for _, edns := range []bool{false, true} {
			q := question(c.qname, c.qtype)
			q.Question[0].Qclass = c.class
			q.RecursionDesired = true
			if edns {
				q.SetEdns0(4096, false)
			}
			m := ask(t, r, q, c.tcp)
			if m.Rcode != c.rcode || m.Authoritative || !m.RecursionDesired || m.RecursionAvailable ||
				len(m.Answer)+len(m.Ns) != 0 || (len(m.Question) == 1) != c.question {
				t.Errorf("%s (edns %v): got %v", c.name, edns, m)
				continue
			}
			opt := m.IsEdns0()
			if (opt != nil) != edns {
				t.Errorf("%s (edns %v): OPT in reply: %v", c.name, edns, opt)
				continue
			}
			var ede uint16
			if opt != nil {
				for _, o := range opt.Option {
					if e, ok := o.(*dns.EDNS0_EDE); ok {
						ede = e.InfoCode
					}
				}
			}
			if edns && ede != c.ede {
				t.Errorf("%s: EDE %d, want %d", c.name, ede, c.ede)
			}
		}
	}
}

func TestClassANY(t *testing.T) {
	r := newResponder(testZones(t), 1232, true)
	q := question("www.example.org.", dns.TypeA)
	q.Question[0].Qclass = dns.ClassANY
	m := ask(t, r, q, false)
	if m.Authoritative || len(m.Answer) != 1 || len(m.Ns) != 0 || len(m.Extra) != 0 {
		t.Errorf("class ANY: %v; want the answer alone, AA clear", m)
	}
	q = question("foo.deleg.example.org.", dns.TypeA)
	q.Question[0].Qclass = dns.ClassANY
	m = ask(t, r, q, false)
	if m.Authoritative || len(m.Ns) != 2 || len(m.Extra) != 2 {
		t.Errorf("class ANY below a cut: %v; want the referral", m)
	}
}

func TestTSIGNotAuthorised(t *testing.T) {
	r := newResponder(testZones(t), 1232, false)
	q := question("www.example.org.", dns.TypeA)
	q.SetTsig("key.", dns.HmacSHA256, 300, 0)
	q.Extra[0].(*dns.TSIG).MAC = ""
	m := ask(t, r, q, false)
	if m.Rcode != dns.RcodeNotAuth {
		t.Errorf("signed query: %v; want NOTAUTH", m)
	}
}

// FuzzRespond feeds arbitrary messages to the responder: it must not
// panic, and every reply must parse and carry the query's ID.
func FuzzRespond(f *testing.F) {
	for _, h := range []string{
		"123400000001000000000000" + wwwQuestion,
		"123401000001000000000001" + wwwQuestion + "00002904d0000080000000",
		"123401000001000000000001" + "04666f6f6f0477696c64076578616d706c65036f72670000ff0001" + "00002900000000000000",
		"123401000001000000000000" + "0764616e676c696e67076578616d706c65036f72670000010001",
	} {
		b, _ := hex.DecodeString(h)
		f.Add(b, false)
	}
	zs := testZones(f)
	f.Fuzz(func(t *testing.T, in []byte, tcp bool) {
		r := newResponder(zs, 1232, tcp)
		out := r.Respond(in, tcp)
		if out == nil {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("reply to %x does not parse: %v", in, err)
		}
		if len(in) < 2 || m.Id != uint16(in[0])<<8|uint16(in[1]) {
			t.Fatalf("reply ID %d for query %x", m.Id, in)
		}
		if !tcp && len(out) > 1232 {
			t.Fatalf("UDP reply of %d bytes", len(out))
		}
	})
}
