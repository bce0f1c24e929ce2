package listen

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// reply packs an answer to name/qtype with rcode, as the responder would.
func reply(t *testing.T, name string, qtype uint16, rcode int) []byte {
	t.Helper()
	m := question(name, qtype)
	r := new(dns.Msg)
	r.SetRcode(m, rcode)
	if rcode == dns.RcodeSuccess {
		rr, _ := dns.NewRR(name + " 300 IN A 192.0.2.80")
		r.Answer = append(r.Answer, rr)
	}
	b, err := r.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRRLLimitsAndSlips(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	l := newRRL(RRLConfig{PerSecond: 10, Slip: 2}, func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.53") })
	l.now = func() time.Time { return at }
	client := netip.MustParseAddrPort("127.0.0.20:5353")
	sent, slipped, dropped := 0, 0, 0
	for range 100 {
		out := l.filter(reply(t, "www.example.org.", dns.TypeA, dns.RcodeSuccess), client)
		var m dns.Msg
		switch {
		case out == nil:
			dropped++
		case m.Unpack(out) != nil:
			t.Fatalf("a reply that does not unpack: %x", out)
		case m.Truncated && len(m.Answer) == 0 && len(m.Question) == 1:
			slipped++
		default:
			sent++
		}
	}
	if sent != 10 || slipped != 45 || dropped != 45 {
		t.Errorf("sent %d, slipped %d, dropped %d; want 10, 45, 45", sent, slipped, dropped)
	}
	if st := (&Server{rrl: l}).RRLStats(); st.Dropped != 45 || st.Slipped != 45 {
		t.Errorf("stats %+v", st)
	}
	// The same client's /24 shares the count; another /24, another
	// question and an exempt address do not.
	if out := l.filter(reply(t, "www.example.org.", dns.TypeA, dns.RcodeSuccess), netip.MustParseAddrPort("127.0.0.21:53")); out != nil && out[2]&0x02 == 0 {
		t.Error("another address of the /24 is not limited")
	}
	for _, c := range []struct {
		name string
		to   string
		qn   string
	}{{"another /24", "127.0.1.20:53", "www.example.org."}, {"another name", "127.0.0.20:53", "mail.example.org."}, {"exempt", "127.0.0.53:53", "www.example.org."}} {
		if out := l.filter(reply(t, c.qn, dns.TypeA, dns.RcodeSuccess), netip.MustParseAddrPort(c.to)); out == nil || out[2]&0x02 != 0 {
			t.Errorf("%s: limited", c.name)
		}
	}
	// NXDOMAINs for random names share one count per prefix.
	limited := 0
	for i := range 30 {
		if l.filter(reply(t, dns.Fqdn(string(rune('a'+i%26))+"x.example.org"), dns.TypeA, dns.RcodeNameError), client) == nil {
			limited++
		}
	}
	if limited == 0 {
		t.Error("NXDOMAINs for many names are not limited together")
	}
	// A second later the client is answered again.
	at = at.Add(time.Second)
	if out := l.filter(reply(t, "www.example.org.", dns.TypeA, dns.RcodeSuccess), client); out == nil || out[2]&0x02 != 0 {
		t.Error("not answered a second later")
	}
}

func TestRRLOffAndNoAllocation(t *testing.T) {
	if newRRL(RRLConfig{}, nil) != nil {
		t.Fatal("RRL on with the zero config")
	}
	var off *rrl
	b := reply(t, "www.example.org.", dns.TypeA, dns.RcodeSuccess)
	if out := off.filter(b, netip.MustParseAddrPort("127.0.0.1:1")); len(out) != len(b) {
		t.Error("RRL off changed the reply")
	}
	l := newRRL(RRLConfig{PerSecond: 1000, Slip: 2}, nil)
	to := netip.MustParseAddrPort("127.0.0.20:53")
	if n := testing.AllocsPerRun(1000, func() { l.filter(b, to) }); n != 0 {
		t.Errorf("%v allocations a response", n)
	}
}

// TestRRLOverUDP: a server with RRL answers a burst of identical queries
// from one address with at most the limit of full answers and some
// truncated ones, while another prefix is answered in full.
func TestRRLOverUDP(t *testing.T) {
	s, _ := runUDPServer(t, ServerConfig{RRL: RRLConfig{PerSecond: 5, Slip: 2}}, testZones(t))
	addr := s.Addrs()[0].String()
	count := func(from string, n int) (full, tc int) {
		raddr, _ := net.ResolveUDPAddr("udp", addr)
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)}, raddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		q, _ := question("www.example.org.", dns.TypeA).Pack()
		for range n {
			c.Write(q)
		}
		buf := make([]byte, 1500)
		for {
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			var m dns.Msg
			if m.Unpack(buf[:k]) == nil {
				if m.Truncated {
					tc++
				} else {
					full++
				}
			}
		}
	}
	full, tc := count("127.0.0.20", 40)
	if full > 10 || tc == 0 {
		t.Errorf("40 identical queries: %d full answers, %d truncated; want at most the limit (5 a second) and some truncated", full, tc)
	}
	if full2, _ := count("127.0.1.20", 3); full2 != 3 {
		t.Errorf("another prefix: %d of 3 answered", full2)
	}
	if st := s.RRLStats(); st.Dropped == 0 || st.Slipped == 0 {
		t.Errorf("stats %+v", st)
	}
}
