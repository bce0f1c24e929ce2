package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestSignZone signs a generated zone with dnssec-signzone as the
// benchmark does and checks that the file is signed with NSEC3 (no
// salt, no extra iterations, no opt-out) by ECDSA P-256 keys, that
// every name of the zone got an NSEC3 and every RRset its RRSIG, and
// that the query set covers names spread over the whole zone.
func TestSignZone(t *testing.T) {
	if _, err := lookBinary("dnssec-signzone"); err != nil {
		t.Skip(err)
	}
	const names = 300
	dir := t.TempDir()
	src := filepath.Join(dir, "q.zone")
	spec := zoneSpec{Origin: benchOrigin, Names: names, Serial: 1}
	if err := writeZone(src, spec); err != nil {
		t.Fatal(err)
	}
	sz, err := signZone(dir, src, filepath.Join(dir, "q.signed"), benchOrigin)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sz.File)
	if err != nil {
		t.Fatal(err)
	}
	zp := dns.NewZoneParser(bytes.NewReader(b), benchOrigin, sz.File)
	sigs := map[string]bool{} // owner/covered type
	types := map[string]bool{}
	var nsec3s, params, keys int
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		switch x := rr.(type) {
		case *dns.RRSIG:
			if x.Algorithm != dns.ECDSAP256SHA256 {
				t.Errorf("RRSIG algorithm %d: %s", x.Algorithm, rr)
			}
			sigs[strings.ToLower(h.Name)+"/"+dns.TypeToString[x.TypeCovered]] = true
		case *dns.NSEC3:
			nsec3s++
			if x.Iterations != 0 || x.Salt != "" || x.Flags&1 != 0 {
				t.Errorf("NSEC3 parameters: %s", rr)
			}
		case *dns.NSEC3PARAM:
			params++
		case *dns.NSEC:
			t.Errorf("NSEC in an NSEC3 zone: %s", rr)
		case *dns.DNSKEY:
			keys++
		}
		if h.Rrtype != dns.TypeRRSIG {
			types[strings.ToLower(h.Name)+"/"+dns.TypeToString[h.Rrtype]] = true
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	if params != 1 || keys != 2 {
		t.Errorf("%d NSEC3PARAM, %d DNSKEY: want 1 and 2 (KSK, ZSK)", params, keys)
	}
	if nsec3s != sz.NSEC3s || sz.RRSIGs != len(sigs) || sz.Records <= spec.records() {
		t.Errorf("counted %+v; parsed %d NSEC3, %d RRSIGs", sz, nsec3s, len(sigs))
	}
	// Every authoritative RRset is signed: the delegation's NS and glue
	// are not (RFC 4035 §2.2).
	for key := range types {
		if strings.HasSuffix(key, "sub."+benchOrigin+"/NS") || strings.HasPrefix(key, "ns.sub.") {
			continue
		}
		if !sigs[key] {
			t.Errorf("%s has no RRSIG", key)
		}
	}
	// Names h0..h299, c<i>, *.wild, ns1, ns2, sub, apex: one NSEC3 each
	// at least (empty non-terminal wild. too).
	if nsec3s < names+names/20 {
		t.Errorf("%d NSEC3 records for %d names", nsec3s, names)
	}
}

// TestSignArgs: the signing is NSEC3 without salt or extra iterations,
// ECDSA P-256, DNSKEY signed by the KSK, far from expiry.
func TestSignArgs(t *testing.T) {
	ksk, zsk, sign := signArgs("/k", "/in", "/out", "bench.test.")
	if got := strings.Join(ksk, " "); !strings.HasSuffix(got, "-a ECDSAP256SHA256 -f KSK bench.test") {
		t.Errorf("KSK: %q", got)
	}
	if got := strings.Join(zsk, " "); !strings.HasSuffix(got, "-a ECDSAP256SHA256 bench.test") {
		t.Errorf("ZSK: %q", got)
	}
	s := strings.Join(sign, " ")
	for _, want := range []string{" -3 - -H 0 ", " -S -K /k ", " -x ", " -e +30d ", " -o bench.test -f /out /in"} {
		if !strings.Contains(s+" ", want) {
			t.Errorf("dnssec-signzone %q lacks %q", s, want)
		}
	}
	if strings.Contains(s, " -A") {
		t.Errorf("dnssec-signzone %q: opt-out", s)
	}
}

// TestServesPresigned: PowerDNS and the baseline build sit the DO mix out.
func TestServesPresigned(t *testing.T) {
	for _, k := range peerKinds {
		if got := servesPresigned(k); got != (k.Name != "PowerDNS") {
			t.Errorf("%s: servesPresigned = %v", k.Name, got)
		}
	}
	if !servesPresigned(zonekeeperKind) || servesPresigned(serverKind{Name: "zonekeeper@x", Zonekeeper: true, QueryOnly: true}) {
		t.Error("zonekeeper runs the DO mix, its baseline does not")
	}
}
