package answer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// truncZones serves a zone whose answers and referrals overflow 512 bytes
// in different sections.
func truncZones(t *testing.T) *Zones {
	long := strings.Repeat("x", 40)
	lines := []string{
		"@ SOA ns1 host 1 7200 3600 1209600 300",
		"@ NS ns1",
		"ns1 A 192.0.2.53",
		"big TXT " + bigText + "1",
		"big TXT " + bigText + "2",
		"big TXT " + bigText + "3",
	}
	for i := range 8 {
		// MX hosts: the answer fits in 512 bytes, their addresses do not.
		lines = append(lines, fmt.Sprintf("manymx MX 10 m%d", i),
			fmt.Sprintf("m%d A 192.0.2.%d", i, i), fmt.Sprintf("m%d AAAA 2001:db8::%d", i, i))
		// In-domain glue: required, and too big for 512 bytes.
		lines = append(lines, fmt.Sprintf("indom NS %s%d.indom", long, i),
			fmt.Sprintf("%s%d.indom A 192.0.2.%d", long, i, i), fmt.Sprintf("%s%d.indom AAAA 2001:db8::%d", long, i, i))
		// Sibling glue: optional.
		lines = append(lines, fmt.Sprintf("sibling NS %s%d.hosts", long, i),
			fmt.Sprintf("%s%d.hosts A 192.0.2.%d", long, i, i), fmt.Sprintf("%s%d.hosts AAAA 2001:db8::%d", long, i, i))
	}
	zs := NewZones()
	zs.Set(mustCompile(t, testZone(t, "trunc.test.", lines...)))
	return zs
}

func TestTruncation(t *testing.T) {
	r := newResponder(truncZones(t), 1232, true)
	cases := []struct {
		name    string
		qtype   uint16
		edns    uint16 // 0: no EDNS
		tcp     bool
		tc      bool
		answers int
		ns      int
		extra   int // without OPT
	}{
		{"big.trunc.test.", dns.TypeTXT, 0, false, true, 0, 0, 0},
		{"big.trunc.test.", dns.TypeTXT, 100, false, true, 0, 0, 0}, // below 512 counts as 512
		{"big.trunc.test.", dns.TypeTXT, 1232, false, false, 3, 1, 1},
		{"big.trunc.test.", dns.TypeTXT, 0, true, false, 3, 1, 1},
		// Optional additional data is dropped without TC.
		{"manymx.trunc.test.", dns.TypeMX, 0, false, false, 8, 1, 14},
		{"manymx.trunc.test.", dns.TypeMX, 4096, false, false, 8, 1, 17},
		{"sibling.trunc.test.", dns.TypeA, 0, false, false, 0, 8, 1},
		{"sibling.trunc.test.", dns.TypeA, 4096, false, false, 0, 8, 16},
		// Required glue that does not fit sets TC (RFC 9471).
		{"indom.trunc.test.", dns.TypeA, 0, false, true, 0, 0, 0},
		{"indom.trunc.test.", dns.TypeA, 1232, false, false, 0, 8, 16},
		{"www.indom.trunc.test.", dns.TypeA, 0, true, false, 0, 8, 16},
	}
	for _, c := range cases {
		q := question(c.name, c.qtype)
		if c.edns != 0 {
			q.SetEdns0(c.edns, false)
		}
		b, _ := q.Pack()
		out := r.Respond(b, c.tcp)
		m := new(dns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		limit := 512
		if c.edns > 512 {
			limit = int(c.edns)
		}
		if !c.tcp && len(out) > limit {
			t.Errorf("%s edns %d: %d bytes, over %d", c.name, c.edns, len(out), limit)
		}
		extra := len(m.Extra)
		if m.IsEdns0() != nil {
			extra--
		}
		if m.Truncated != c.tc || len(m.Answer) != c.answers || len(m.Ns) != c.ns || extra != c.extra || len(m.Question) != 1 {
			t.Errorf("%s edns %d tcp %v: tc %v, %d/%d/%d records; want tc %v, %d/%d/%d",
				c.name, c.edns, c.tcp, m.Truncated, len(m.Answer), len(m.Ns), extra, c.tc, c.answers, c.ns, c.extra)
		}
		if (m.IsEdns0() != nil) != (c.edns != 0) {
			t.Errorf("%s edns %d: OPT in reply %v", c.name, c.edns, m.IsEdns0())
		}
	}
}

func TestEDNS(t *testing.T) {
	r := newResponder(testZones(t), 1400, false)
	for _, do := range []bool{false, true} {
		q := question("www.example.org.", dns.TypeA)
		q.SetEdns0(4096, do)
		m := ask(t, r, q, false)
		opt := m.IsEdns0()
		if opt == nil || opt.UDPSize() != 1400 || opt.Do() != do || opt.Version() != 0 || len(opt.Option) != 0 {
			t.Errorf("do=%v: reply OPT %v; want udp 1400, DO copied, no options", do, opt)
		}
	}

	q := question("www.example.org.", dns.TypeA)
	q.SetEdns0(4096, true)
	q.IsEdns0().SetVersion(1)
	m := ask(t, r, q, false)
	if m.Rcode != dns.RcodeBadVers || m.IsEdns0() == nil || m.IsEdns0().Version() != 0 || len(m.Answer) != 0 || m.Authoritative {
		t.Errorf("EDNS version 1: %v; want BADVERS with our OPT", m)
	}

	m = ask(t, r, question("www.example.org.", dns.TypeA), false)
	if m.IsEdns0() != nil {
		t.Errorf("no OPT in the query, one in the reply: %v", m)
	}
}

// TestCompression checks that names are compressed and still decode to
// the same records.
func TestCompression(t *testing.T) {
	r := newResponder(testZones(t), 1232, true)
	q := question("chain1.example.org.", dns.TypeA)
	b, _ := q.Pack()
	out := r.Respond(b, false)
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatal(err)
	}
	m.Compress = true
	ref, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > len(ref) {
		t.Errorf("reply is %d bytes, miekg/dns compresses it to %d", len(out), len(ref))
	}
}
