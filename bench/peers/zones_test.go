package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/bench/peers/load"
)

// TestZoneAndQueries generates a small zone and query file, checks the
// mix of the query set, and checks every expectation against the zone as
// miekg's parser reads it, resolved the way an authoritative server
// answers (exact match, CNAME, wildcard, name error).
func TestZoneAndQueries(t *testing.T) {
	const names, count = 2000, 4000
	dir := t.TempDir()
	spec := zoneSpec{Origin: benchOrigin, Names: names, Serial: 7, Extra: []string{"reload-marker A 127.0.0.77"}}
	zf := filepath.Join(dir, "bench.test.zone")
	if err := writeZone(zf, spec); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(zf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rrs := map[string][]dns.RR{} // by owner and type: "name/TYPE"
	owners := map[string]bool{}
	zp := dns.NewZoneParser(f, benchOrigin, zf)
	n := 0
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		n++
		h := rr.Header()
		key := strings.ToLower(h.Name) + "/" + dns.TypeToString[h.Rrtype]
		rrs[key] = append(rrs[key], rr)
		owners[strings.ToLower(h.Name)] = true
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	if n != spec.records() {
		t.Errorf("zone has %d records, records() says %d", n, spec.records())
	}
	if soa := rrs[benchOrigin+"/SOA"]; len(soa) != 1 || soa[0].(*dns.SOA).Serial != 7 {
		t.Errorf("SOA: %v", soa)
	}
	for _, name := range []string{"ns1." + benchOrigin, "ns2." + benchOrigin, "ns.sub." + benchOrigin} {
		a := rrs[name+"/A"]
		if len(a) != 1 || !strings.HasPrefix(a[0].(*dns.A).A.String(), "127.0.0.") {
			t.Errorf("NS address %s: %v, want one loopback A", name, a)
		}
	}

	qs := genQueries(benchOrigin, names, count)
	qf := filepath.Join(dir, "queries.txt")
	if err := writeQueries(qf, qs); err != nil {
		t.Fatal(err)
	}
	parsed, err := load.ReadQueries(qf)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed) != count {
		t.Fatalf("load.ReadQueries: %d queries, want %d", len(parsed), count)
	}

	// The mix: 70% A/AAAA hits, 10% MX/TXT, 10% NXDOMAIN, 5% CNAME, 5%
	// names under the wildcard, exactly.
	want := map[int]int{catHit: 70, catMXTXT: 10, catNX: 10, catCNAME: 5, catWild: 5}
	got := map[int]int{}
	for _, q := range qs {
		got[q.Cat]++
	}
	for cat, pct := range want {
		if got[cat]*100 != pct*count {
			t.Errorf("category %d: %d of %d queries, want %d%%", cat, got[cat], count, pct)
		}
	}

	for i, q := range qs {
		if exp := answer(rrs, owners, q.Name, q.Type); exp != q.Expect {
			t.Fatalf("query %d %s %s: expectation %q, the zone answers %q", i, q.Name, q.Type, q.Expect, exp)
		}
		// The parser spells the NXDOMAIN shorthand out.
		line := q.Name + " " + q.Type + " ; " + strings.Replace(q.Expect, "NXDOMAIN SOA", "NXDOMAIN SOA@auth", 1)
		if p := parsed[i].String(); !strings.EqualFold(p, line) {
			t.Fatalf("query %d read back as %q", i, p)
		}
	}
}

// answer is the expectation an authoritative server's answer meets:
// RCODE, then the first answer record's type and rdata.
func answer(rrs map[string][]dns.RR, owners map[string]bool, name, typ string) string {
	name = strings.ToLower(name)
	first := func(rr dns.RR) string {
		return dns.TypeToString[rr.Header().Rrtype] + " " + strings.TrimPrefix(rr.String(), rr.Header().String())
	}
	if owners[name] {
		if c := rrs[name+"/CNAME"]; len(c) > 0 {
			return "NOERROR " + first(c[0])
		}
		if a := rrs[name+"/"+typ]; len(a) > 0 {
			return "NOERROR " + first(a[0])
		}
		return "NOERROR SOA@auth"
	}
	// Wildcard: the closest encloser's * (no deeper name exists here).
	labels := dns.SplitDomainName(name)
	parent := dns.Fqdn(strings.Join(labels[1:], "."))
	if a := rrs["*."+parent+"/"+typ]; len(a) > 0 {
		return "NOERROR " + first(a[0])
	}
	return "NXDOMAIN SOA"
}
