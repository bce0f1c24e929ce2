package daemon

import (
	"bytes"
	"net"
	"testing"

	"github.com/miekg/dns"
)

// TestAppendPlainName: the quick conversion agrees with miekg/dns where
// it answers, and leaves the rest to it.
func TestAppendPlainName(t *testing.T) {
	for _, c := range []struct {
		name  string
		plain bool
	}{
		{".", true}, {"a.", true}, {"A.b-c.D.", true}, {"x.y.z.example.org.", true},
		{"a..b.", false}, {"..", false}, {"a", false}, {"a\\.b.", false}, {"\\065.b.", false},
		{string(bytes.Repeat([]byte("a"), 64)) + ".", false},
	} {
		got, ok := appendPlainName([]byte{9}, c.name)
		if ok != c.plain {
			t.Errorf("%q: plain %v, want %v", c.name, ok, c.plain)
		}
		if !ok {
			if len(got) != 1 {
				t.Errorf("%q: the buffer was not restored: %x", c.name, got)
			}
			continue
		}
		if want, err := wireName(c.name); err != nil || !bytes.Equal(got[1:], want) {
			t.Errorf("%q: %x, want %x (%v)", c.name, got[1:], want, err)
		}
	}
}

// TestPackRdata: rdata packed without dns.PackRR is what dns.PackRR
// packs, fast path or not.
func TestPackRdata(t *testing.T) {
	rrs := []dns.RR{
		&dns.A{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(192, 0, 2, 1)}, // 16-byte form
		&dns.A{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IP{192, 0, 2, 2}},   // 4-byte form
		&dns.AAAA{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeAAAA, Class: dns.ClassINET}, AAAA: net.ParseIP("2001:db8::1")},
		&dns.CNAME{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET}, Target: "Www.Example.org."},
		&dns.CNAME{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET}, Target: "w\\.x.example.org."},
		&dns.NS{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeNS, Class: dns.ClassINET}, Ns: "ns1.example.org."},
		&dns.PTR{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: "host.example."},
		&dns.MX{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeMX, Class: dns.ClassINET}, Preference: 10, Mx: "mail.example."},
		&dns.MX{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeMX, Class: dns.ClassINET}, Preference: 20, Mx: "m\\032x.example."},
		&dns.TXT{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{"v=spf1 -all", "x"}},
		&dns.SRV{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeSRV, Class: dns.ClassINET}, Priority: 1, Weight: 2, Port: 3, Target: "www.example."},
	}
	c := &compiler{s: &Snapshot{}, buf: make([]byte, maxMsgLen)}
	buf := make([]byte, maxMsgLen)
	for _, rr := range rrs {
		c.s.data = c.s.data[:0]
		if err := c.packRdata(rr); err != nil {
			t.Errorf("%v: %v", rr, err)
			continue
		}
		end, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		want := buf[nameLen(buf)+10 : end]
		l := int(c.s.data[0])<<8 | int(c.s.data[1])
		if got := c.s.data[2:]; l != len(got) || !bytes.Equal(got, want) {
			t.Errorf("%v: packed %x (length %d), want %x", rr, got, l, want)
		}
	}
}
