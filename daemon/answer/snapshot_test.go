package answer

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

func TestCompile(t *testing.T) {
	s := mustCompile(t, exampleOrg(t))
	if s.Origin() != "example.org." || s.Serial() != 2024010101 {
		t.Errorf("origin %q serial %d", s.Origin(), s.Serial())
	}
	if s.sets[s.soaNeg].ttl != 300 {
		t.Errorf("negative SOA TTL %d, want min(3600, 300)", s.sets[s.soaNeg].ttl)
	}
	node := func(name string) int32 {
		w, _ := WireName(name)
		return s.lookup(w)
	}
	for _, ent := range []string{"ent.example.org.", "c.ent.example.org.", "b.c.ent.example.org.", "y.wild.example.org."} {
		if n := node(ent); n < 0 || s.nodes[n].nsets != 0 {
			t.Errorf("%s: want an empty non-terminal, got node %d", ent, n)
		}
	}
	deleg := node("deleg.example.org.")
	if s.nodes[deleg].cut != deleg || s.nodes[node("ns.deleg.example.org.")].cut != deleg || s.nodes[node("www.example.org.")].cut != -1 || s.nodes[0].cut != -1 {
		t.Error("delegation points are wrong")
	}
	if s.nodes[node("wild.example.org.")].wild != node("*.wild.example.org.") {
		t.Error("wildcard child not linked")
	}
	ns := s.get(deleg, dns.TypeNS)
	var hosts []string
	var inDomain []bool
	for tg := s.firstTarget(ns); tg >= 0; tg++ {
		name, _, _ := dns.UnpackDomainName(s.targetName(tg), 0)
		hosts, inDomain = append(hosts, name), append(inDomain, s.targets[tg].inDomain)
		if s.targets[tg].last {
			break
		}
	}
	if len(hosts) != 2 || !inDomain[0] || inDomain[1] {
		t.Errorf("deleg glue targets %v %v: want ns.deleg (in-domain) and ns1", hosts, inDomain)
	}
}

func TestCompileMixedCase(t *testing.T) {
	s := mustCompile(t, testZone(t, "Example.COM.",
		"@ SOA ns host 7 1 1 1 1",
		"@ NS ns",
		"WWW A 192.0.2.1",
	))
	if s.Origin() != "example.com." {
		t.Errorf("origin %q", s.Origin())
	}
	zs := NewZones()
	zs.Set(s)
	m := ask(t, newResponder(zs, 1232, false), question("www.EXAMPLE.com.", dns.TypeA), false)
	if len(m.Answer) != 1 || m.Answer[0].Header().Name != "www.EXAMPLE.com." {
		t.Errorf("mixed-case zone data: %v", m)
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name string
		zone *zonefile.Zone
		want string
	}{
		{"nil", nil, "nil zone"},
		{"no SOA", testZone(t, "example.org.", "@ NS ns", "ns A 192.0.2.1"), "no SOA"},
		{"no NS", testZone(t, "example.org.", "@ SOA ns host 1 1 1 1 1"), "no NS"},
		{"outside", testZone(t, "example.org.", "@ SOA ns host 1 1 1 1 1", "@ NS ns", "www.example.net. A 192.0.2.1"), "outside the zone"},
	}
	for _, c := range cases {
		_, err := Compile(c.zone)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}
