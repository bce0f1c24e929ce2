package main

// Catalog names against real consumers and producers: one BIND consumes
// the catalogs of two zonekeeper nodes at once (catalog-zones), each
// under the node's own catalog-zone name; a zonekeeper node consumes a
// catalog Knot generates, through `peer add … --catalog`, and Knot is
// made no primary of the node's other zones.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// catalogMemberZone is a primary zone whose NS is ns1 of the zone on ip.
func catalogMemberZone(origin, ip string, serial uint32) string {
	return fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster %d 3600 600 86400 60\n@ NS ns1\nns1 A %s\nwww A %s\n",
		origin, serial, ip, ip)
}

// catalogName returns the catalog-zone a node serves (`status`).
func catalogName(n *zkNode) string {
	n.t.Helper()
	var st api.Status
	n.json(&st, "status")
	if st.Catalog == "" || !strings.HasSuffix(st.Catalog, ".catalog.zonekeeper.invalid.") {
		n.t.Fatalf("zonekeeper@%s: status says catalog %q", n.IP, st.Catalog)
	}
	return st.Catalog
}

func TestCatalogTwoNodesOneBIND(t *testing.T) {
	key := newTSIGKey(t, "catz.key", "hmac-sha256")
	bin := buildZonekeeper(t, t.TempDir())
	a := startZKNode(t, bin, zkOptions{IP: "127.0.0.2", Zones: map[string]string{"a1.catz.test.": catalogMemberZone("a1.catz.test.", "127.0.0.2", 11)}})
	b := startZKNode(t, bin, zkOptions{IP: "127.0.0.3", Zones: map[string]string{"b1.catz.test.": catalogMemberZone("b1.catz.test.", "127.0.0.3", 21)}})
	catA, catB := catalogName(a), catalogName(b)
	if catA == catB {
		t.Fatalf("both nodes serve the catalog %s", catA)
	}
	bindPort := freeLoopbackPort(t, bindIP)
	bindAddr := net.JoinHostPort(bindIP, strconv.Itoa(bindPort))
	// BIND is a keyed secondary of each node: it may transfer every zone
	// with the key and is NOTIFYed of every change, the catalog's too.
	for _, n := range []*zkNode{a, b} {
		n.addKey(key)
		n.ok("peer", "add", "bind", bindAddr, "--role", "secondary", "--tsig", key.Name)
	}
	var opts strings.Builder
	opts.WriteString("\tallow-new-zones yes;\n\tcatalog-zones {\n")
	for _, c := range []struct{ cat, addr string }{{catA, a.dns}, {catB, b.dns}} {
		fmt.Fprintf(&opts, "\t\tzone %q default-primaries { %s key %q; } in-memory yes;\n", c.cat, bindRemote(t, c.addr), key.Name)
	}
	opts.WriteString("\t};\n")
	bind := startBIND(t, bindOptions{Port: bindPort, Keys: []tsigKey{key}, Options: opts.String(), Zones: []bindZone{
		{Origin: catA, Primaries: []string{a.dns}, Key: key.Name},
		{Origin: catB, Primaries: []string{b.dns}, Key: key.Name},
	}})
	diag := func() string {
		return "named log:\n" + logLines(bind.Log(), 80, "catz", "catalog") + "\nnode a:\n" + a.eventsText("") + "\nnode b:\n" + b.eventsText("")
	}
	// BIND serves the members of both catalogs, each from its node.
	waitSerial(t, bind.Addr, "a1.catz.test.", 11, propagationTimeout, diag)
	waitSerial(t, bind.Addr, "b1.catz.test.", 21, propagationTimeout, diag)
	if got := lookupA(t, bind.Addr, "www.b1.catz.test."); len(got) != 1 || got[0] != "127.0.0.3" {
		t.Errorf("BIND's www.b1.catz.test. A: %v", got)
	}

	// A zone added on a reaches BIND through a's catalog (its NOTIFY),
	// while b's members stay.
	writeTestFile(t, filepath.Join(a.data, "zones", "a2.catz.test.zone"), catalogMemberZone("a2.catz.test.", "127.0.0.2", 12))
	waitSerial(t, bind.Addr, "a2.catz.test.", 12, propagationTimeout, diag)
	waitSerial(t, bind.Addr, "b1.catz.test.", 21, propagationTimeout, diag)
	if !strings.Contains(bind.Log(), "catz: adding zone 'a2.catz.test'") {
		t.Errorf("named did not log adding a2.catz.test from the catalog:\n%s", diag())
	}
}

func TestCatalogFromKnot(t *testing.T) {
	const knotCat = "catalog.knot.test."
	members := []string{"k1.knot.test.", "k2.knot.test."}
	dir := t.TempDir()
	bin := buildZonekeeper(t, t.TempDir())
	// y is another zonekeeper node, z consumes both y and Knot.
	y := startZKNode(t, bin, zkOptions{IP: "127.0.0.3", Zones: map[string]string{"y.catz.test.": catalogMemberZone("y.catz.test.", "127.0.0.3", 5)}})
	z := startZKNode(t, bin, zkOptions{IP: "127.0.0.2", Zones: map[string]string{"own.catz.test.": catalogMemberZone("own.catz.test.", "127.0.0.2", 7)}})
	knotPort := freeLoopbackPort(t, bindIP)
	knotAddr := net.JoinHostPort(bindIP, strconv.Itoa(knotPort))
	zones := []knotZone{{Origin: knotCat, Generate: true, Notify: []string{z.dns}}}
	for i, m := range members {
		file := filepath.Join(dir, strings.TrimSuffix(m, ".")+".zone")
		writeTestFile(t, file, catalogMemberZone(m, "127.0.0.1", uint32(100+i)))
		zones = append(zones, knotZone{Origin: m, File: file, Catalog: knotCat, Notify: []string{z.dns}})
	}
	knot := startKnot(t, knotOptions{IP: bindIP, Port: knotPort, Zones: zones})
	diag := func() string { return "knotd log:\n" + knot.Log() + "\nnode z:\n" + z.eventsText("") }

	z.ok("peer", "add", "y", y.dns)
	y.ok("peer", "add", "z", z.dns)
	out := z.ok("peer", "add", "knot", knotAddr, "--catalog", knotCat)
	if !strings.Contains(out, "role catalog") || !strings.Contains(out, "catalog "+knotCat) {
		t.Errorf("peer add --catalog: %q", out)
	}
	for i, m := range members {
		waitSerial(t, z.dns, m, uint32(100+i), propagationTimeout, diag)
	}
	waitSerial(t, z.dns, "y.catz.test.", 5, propagationTimeout, diag)
	if got := lookupA(t, z.dns, "www.k2.knot.test."); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Errorf("z's www.k2.knot.test. A: %v", got)
	}
	zs := z.zones()
	for _, m := range members {
		if zm := zs[m]; zm.Kind != api.KindSecondary || zm.Account != "peer:knot" || strings.Join(zm.Primaries, ",") != knotAddr {
			t.Errorf("%s on z: %+v", m, zm)
		}
	}
	if _, ok := zs[knotCat]; ok {
		t.Errorf("z provisioned Knot's catalog %s as a zone", knotCat)
	}
	var ps []api.Peer
	z.json(&ps, "peer", "list")
	for _, p := range ps {
		if p.Name == "knot" && (p.Role != api.RoleCatalog || p.Catalog != knotCat || p.Learned) {
			t.Errorf("peer list: %+v", p)
		}
		if p.Name == "y" && (p.Catalog != catalogName(y) || !p.Learned) {
			t.Errorf("peer list: y's catalog %+v, want %s learned", p, catalogName(y))
		}
	}

	// Knot is no primary of y's zone here: a NOTIFY from its address
	// for that zone is refused (a peer of role peer without a key would
	// be a candidate primary, and its NOTIFY accepted).
	m := new(dns.Msg)
	m.SetNotify("y.catz.test.")
	c := &dns.Client{Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(bindIP)}}}
	r, _, err := c.Exchange(m, z.dns)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeRefused {
		t.Errorf("NOTIFY from Knot's address for y.catz.test.: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
	// Nor may it transfer z's own zone.
	tr := &dns.Transfer{DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second}
	ax := new(dns.Msg)
	ax.SetAxfr("own.catz.test.")
	env, err := tr.In(ax, z.dns)
	if err == nil {
		for e := range env {
			if e.Error == nil && len(e.RR) > 0 {
				t.Errorf("an unsigned AXFR from Knot's address got own.catz.test.")
			}
		}
	}

	// A member added on Knot appears here through the catalog's NOTIFY.
	mark := z.lastEventID()
	k3 := filepath.Join(dir, "k3.knot.test.zone")
	writeTestFile(t, k3, catalogMemberZone("k3.knot.test.", "127.0.0.1", 300))
	addKnotMember(t, knot, "k3.knot.test.", k3, knotCat)
	waitSerial(t, z.dns, "k3.knot.test.", 300, propagationTimeout, diag)
	z.waitEvent("k3.knot.test.", mark, 5*time.Second, "zone-add from peer knot", func(ev api.Event) bool {
		return ev.Kind == "zone-add" && strings.Contains(ev.Detail, "peer knot")
	})
}

// addKnotMember adds a member zone to Knot's generated catalog at run
// time: a zone entry at the end of its configuration (the zone section
// is the last), then `knotc reload`.
func addKnotMember(t *testing.T, k *knotServer, zone, file, catalog string) {
	t.Helper()
	b, err := os.ReadFile(k.conf)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b) + fmt.Sprintf("  - domain: %s\n    catalog-role: member\n    catalog-zone: %s\n    file: %q\n    acl: [z0_transfer]\n",
		zone, catalog, file)
	writeTestFile(t, k.conf, text)
	k.knotc("reload")
}
