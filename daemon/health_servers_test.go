package daemon

// Tests of health_servers.go: the servers of a zone checked by the
// health rounds (self, NS-listed, peers) and the live lint, each rule
// with the findings it must and must not produce.

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

func TestLintServers(t *testing.T) {
	t.Parallel()
	a := netip.MustParseAddr
	ok := func(addr string) api.ServerState {
		return api.ServerState{Addr: addr, Reachable: true, Authoritative: true, HasSerial: true, Serial: 5}
	}
	tests := []struct {
		name     string
		zone     string
		ns       map[string][]netip.Addr
		resolved bool
		states   []api.ServerState
		want     []string // "severity rule rfc" of each finding, in order
		detail   string   // a substring of some finding's detail
	}{
		{
			name:   "healthy three NS in two networks",
			zone:   "ok.test.",
			ns:     map[string][]netip.Addr{"ns1.ok.test.": {a("127.0.0.1")}, "ns2.ok.test.": {a("127.0.1.1")}, "ns3.ok.test.": {a("127.0.0.3")}},
			states: []api.ServerState{ok("127.0.0.1:53"), ok("127.0.1.1:53"), ok("127.0.0.3:53")},
		},
		{
			name:   "one NS",
			zone:   "one.test.",
			ns:     map[string][]netip.Addr{"ns1.one.test.": {a("127.0.0.1")}},
			states: []api.ServerState{ok("127.0.0.1:53")},
			want:   []string{"error too-few-ns RFC 2182 §5"},
			detail: "has 1 NS record(s)",
		},
		{
			name:   "two NS in one /24",
			zone:   "two.test.",
			ns:     map[string][]netip.Addr{"ns1.two.test.": {a("127.0.0.1")}, "ns2.two.test.": {a("127.0.0.2")}},
			states: []api.ServerState{ok("127.0.0.1:53"), ok("127.0.0.2:53")},
			want:   []string{"warning few-ns RFC 2182 §5", "warning ns-one-network RFC 2182 §3.1"},
			detail: "one IPv4 /24 or IPv6 /48",
		},
		{
			name:   "two NS in one /48, reverse zone",
			zone:   "0.0.127.in-addr.arpa.",
			ns:     map[string][]netip.Addr{"ns1.example.": {a("2001:db8:1:1::1")}, "ns2.example.": {a("2001:db8:1:2::1")}},
			states: []api.ServerState{ok("[2001:db8:1:1::1]:53"), ok("[2001:db8:1:2::1]:53")},
			want:   []string{"warning ns-one-network RFC 2182 §3.1"},
		},
		{
			name:   "lame NS: not authoritative, and not answering",
			zone:   "lame.test.",
			ns:     map[string][]netip.Addr{"ns1.lame.test.": {a("127.0.0.1")}, "ns2.lame.test.": {a("127.0.1.2")}, "ns3.lame.test.": {a("127.0.2.3")}},
			states: []api.ServerState{ok("127.0.0.1:53"), {Addr: "127.0.1.2:53", Reachable: true, Rcode: "REFUSED", Error: "does not serve the zone: answered REFUSED"}, {Addr: "127.0.2.3:53", Error: "i/o timeout"}},
			want:   []string{"error lame-ns RFC 1912 §2.8", "error lame-ns RFC 1912 §2.8"},
			detail: "NS ns2.lame.test. (127.0.1.2:53) is lame: it does not answer authoritatively",
		},
		{
			name:   "NS without an address",
			zone:   "noaddr.test.",
			ns:     map[string][]netip.Addr{"ns1.noaddr.test.": {a("127.0.0.1")}, "ns2.noaddr.test.": {a("127.0.1.1")}, "ns.elsewhere.": nil},
			states: []api.ServerState{ok("127.0.0.1:53"), ok("127.0.1.1:53")},
			want:   []string{"error ns-no-address RFC 1912 §2.3"},
			detail: "NS ns.elsewhere. has no address anywhere",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lintServers(tc.zone, 53, tc.ns, tc.resolved, tc.states)
			var rules []string
			details := ""
			for _, f := range got {
				rules = append(rules, f.Severity+" "+f.Rule+" "+f.RFC)
				details += f.Detail + "\n"
			}
			if strings.Join(rules, "|") != strings.Join(tc.want, "|") {
				t.Errorf("findings %q, want %q\n%s", rules, tc.want, details)
			}
			if tc.detail != "" && !strings.Contains(details, tc.detail) {
				t.Errorf("no finding says %q:\n%s", tc.detail, details)
			}
			if lintFailed(got) != strings.Contains(strings.Join(tc.want, " "), "error") {
				t.Errorf("lintFailed %v", lintFailed(got))
			}
		})
	}
}

// TestHealthServers: node a serves a zone at serial 10 whose three NS
// answer nowhere (ns-port where nothing listens), with peer b serving it
// at serial 7. The health rounds list a itself, b (stealth, lag 3) and
// the three NS (unreachable, lame), and `zone health` says the same.
func TestHealthServers(t *testing.T) {
	t.Parallel()
	const zone = "failover.test."
	port := freeLoopbackPort(t, "127.0.0.3")
	tune := func(c *Config) { fastHealth(c); c.NSPort = port }
	a := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): failoverZone(10, "")}, tune)
	b := startNode(t, "127.0.0.2", "", map[string]string{fileNameOf(zone): failoverZone(7, "")}, tune)
	a.setPeers(peer{Name: "b", Addr: addrPort(t, b.addr), Role: rolePeer})

	find := func(z *api.Zone, addr string) *api.ServerState {
		for i := range z.Servers {
			if z.Servers[i].Addr == addr {
				return &z.Servers[i]
			}
		}
		return nil
	}
	eventually(t, 15*time.Second, "the health rounds check b", func() bool {
		zd, err := a.client().Zone(context.Background(), zone)
		if err != nil {
			return false
		}
		s := find(&zd.Zone, b.addr)
		return s != nil && s.Reachable
	}, nil)
	z, err := a.client().ZoneHealth(context.Background(), zone)
	if err != nil {
		t.Fatal(err)
	}
	if s := find(z, a.addr); s == nil || s.Sources[0] != "self" || !s.Authoritative || !s.InSync || s.Serial != 10 || s.Lag != 0 {
		t.Errorf("a itself: %+v", s)
	}
	if s := find(z, b.addr); s == nil || s.Sources[0] != "peer b" || !s.Stealth || !s.Authoritative || s.InSync || s.Serial != 7 || s.Lag != 3 || !s.LastSync.IsZero() {
		t.Errorf("peer b: %+v", s)
	}
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		ap := netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port)).String()
		if s := find(z, ap); s == nil || s.Stealth || s.Reachable || s.HasSerial {
			t.Errorf("NS at %s: %+v", ap, s)
		}
	}
	lame := 0
	for _, f := range z.Lint {
		if f.Rule == "lame-ns" && f.Severity == api.LintError && f.RFC == "RFC 1912 §2.8" {
			lame++
		}
	}
	if lame != 3 || !lintFailed(z.Lint) {
		t.Errorf("want 3 lame-ns errors: %+v", z.Lint)
	}
}
