package daemon

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/store"
)

// TestTransferAccess shows who may transfer: distinct loopback addresses
// stand for distinct hosts.
func TestTransferAccess(t *testing.T) {
	td := startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText},
		func(c *Config) { c.AllowAXFR = []string{"127.0.0.4/32"} }, nil)
	allowed := spAddTestKey(t, td, "allowed.example.", "hmac-sha256")
	other := spAddTestKey(t, td, "other.example.", "hmac-sha256")
	spSetTestMeta(t, td, "example.org.", store.MetaAllowAXFRFrom, "127.0.0.2")
	spSetTestMeta(t, td, "example.org.", store.MetaTSIGAllowAXFR, allowed.Name)
	cases := []struct {
		name string
		from string
		key  *store.Key
		ok   bool
	}{
		{"unsigned from an ALLOW-AXFR-FROM address", "127.0.0.2", nil, true},
		{"unsigned from another address", "127.0.0.3", nil, false},
		{"unsigned from loopback, not trusted by default", "127.0.0.1", nil, false},
		{"unsigned from an allow-axfr prefix", "127.0.0.4", nil, true},
		{"signed with a TSIG-ALLOW-AXFR key from a refused address", "127.0.0.3", &allowed, true},
		{"signed with another valid key from a refused address", "127.0.0.3", &other, false},
		{"signed with another valid key from an allowed address", "127.0.0.2", &other, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, qtype := range []uint16{dns.TypeAXFR, dns.TypeIXFR} {
				req := spXfrRequest("example.org.", qtype, 1)
				req.SetEdns0(1232, false)
				res := spTransfer(t, td, c.from, req, c.key)
				m := res.msgs[0]
				if c.ok {
					if m.Rcode != dns.RcodeSuccess || len(res.records) != 7 {
						t.Fatalf("%s: %v; want the zone", dns.TypeToString[qtype], m)
					}
					continue
				}
				ede := false
				for _, o := range m.IsEdns0().Option {
					if e, ok := o.(*dns.EDNS0_EDE); ok && e.InfoCode == answer.EDEProhibited {
						ede = true
					}
				}
				if m.Rcode != dns.RcodeRefused || !ede || len(m.Answer) != 0 || m.Authoritative {
					t.Fatalf("%s: %v; want REFUSED with EDE 18", dns.TypeToString[qtype], m)
				}
			}
			if !c.ok {
				ev := spFindEvent(t, td, "xfr-refused", "from "+c.from)
				if ev.Peer != c.from || ev.Zone != "example.org." || !strings.Contains(ev.Detail, "neither") {
					t.Errorf("event %+v", ev)
				}
			}
		})
	}
}

func TestMatchAddr(t *testing.T) {
	list := []string{"192.0.2.0/24", "2001:db8::1", "junk", " 10.0.0.1 "}
	for _, c := range []struct {
		addr string
		want string
	}{
		{"192.0.2.77", "192.0.2.0/24"},
		{"192.0.3.1", ""},
		{"2001:db8::1", "2001:db8::1"},
		{"10.0.0.1", "10.0.0.1"},
		{"127.0.0.1", ""},
	} {
		got, ok := matchAddr(list, netip.MustParseAddr(c.addr))
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: %q %v; want %q", c.addr, got, ok, c.want)
		}
	}
}
