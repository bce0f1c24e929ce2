package main

// The signed-zone conformance test: a zone signed during the test with
// keys made in the test is served by NSD and zonekeeper, and DO=1 and
// DO=0 answers must match as RRsets with their signatures
// (docs/architecture.md "Signed zones").

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const (
	dnssecZoneSource = "../../testdata/conformance/dnssec/signed.test.zone"
	dnssecQueries    = "../../testdata/conformance/dnssec-queries.txt"
	dnssecOrigin     = "signed.test."
)

// signTestZone signs the zonefile src for origin with a KSK and a ZSK
// made for the test (ECDSA P-256) by dnssec-keygen and dnssec-signzone,
// with NSEC or, given args such as "-3 -", NSEC3, and returns the
// directory holding ORIGIN.zone, signed.
func signTestZone(t *testing.T, src, origin string, args ...string) string {
	t.Helper()
	for _, tool := range []string{"dnssec-keygen", "dnssec-signzone"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (Debian's bind9-dnsutils / bind9 utilities; `make deps`): %v", tool, err)
		}
	}
	keys, out := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(name string, a ...string) {
		cmd := exec.CommandContext(ctx, name, a...)
		cmd.Dir = keys
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(a, " "), err, b)
		}
	}
	run("dnssec-keygen", "-q", "-K", keys, "-a", "ECDSAP256SHA256", "-f", "KSK", origin)
	run("dnssec-keygen", "-q", "-K", keys, "-a", "ECDSAP256SHA256", origin)
	abs, err := filepath.Abs(src)
	if err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(out, strings.TrimSuffix(origin, ".")+".zone")
	a := append([]string{"-q", "-S", "-K", keys, "-o", origin, "-f", signed}, args...)
	run("dnssec-signzone", append(a, abs)...)
	if _, err := os.Stat(signed); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestConformanceNSDSigned asks NSD and zonekeeper, serving the same
// signed zone, the queries of dnssec-queries.txt with DO set and clear,
// and fails on any difference not stated in conformancePolicies.
func TestConformanceNSDSigned(t *testing.T) {
	queries := parseConformanceQueries(t, dnssecQueries)
	bin := buildZonekeeper(t, t.TempDir())
	for _, v := range []struct {
		name string
		args []string
	}{
		{"nsec", nil},
		{"nsec3", []string{"-3", "-", "-H", "0"}},
		{"nsec3-salt-iterations", []string{"-3", "c0ffee", "-H", "2"}},
		{"nsec3-optout", []string{"-3", "-", "-H", "0", "-A"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			zones := peerZonesFromDir(t, signTestZone(t, dnssecZoneSource, dnssecOrigin, v.args...))
			nsdAddr := startNSD(t, nsdIP, zones)
			zk := startZonekeeper(t, bin, zonekeeperIP, zones)
			apexes := map[string]bool{dnssecOrigin: true}
			qs := slices.Clone(queries)
			// The NSEC3 owner names exist only once signed: ask for one.
			if owner := firstNSEC3Owner(t, zones[0].File); owner != "" {
				for _, typ := range []uint16{dns.TypeNSEC3, dns.TypeA, dns.TypeRRSIG} {
					qs = append(qs, conformanceQuery{Line: 999, Text: owner + " " + dns.Type(typ).String(), Comment: "an NSEC3 owner name",
						Name: owner, Type: typ, Class: dns.ClassINET, EDNS: true, BufSize: 1232})
				}
				// Not asked: a name below an NSEC3 owner, where NSD takes the
				// owner for the closest encloser and sends one NSEC3; we
				// send the full proof with the apex as closest encloser
				// (RFC 5155 §7.2.8: the owner does not exist).
			}
			for _, q := range qs {
				for _, do := range []bool{true, false} {
					q := q
					q.DO = do
					t.Run(fmt.Sprintf("%03d_%s_%s_do=%v", q.Line, q.Name, dns.Type(q.Type), do), func(t *testing.T) {
						askBoth(t, q, apexes, nsdAddr, zk.addr)
						// Again, from the ready-answer cache.
						askBoth(t, q, apexes, nsdAddr, zk.addr)
					})
				}
			}
		})
	}
}

// firstNSEC3Owner returns the owner of the first NSEC3 record of the
// zonefile path, or "" when it has none.
func firstNSEC3Owner(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, dnssecOrigin, path)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if rr.Header().Rrtype == dns.TypeNSEC3 {
			return rr.Header().Name
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return ""
}

// TestConformanceNSDSignedCorpus signs every zone of the conformance
// corpus (testdata/conformance/zones), with NSEC and with NSEC3 and
// opt-out, and asks NSD and zonekeeper the queries of queries.txt with
// DO set and clear: the corpus the unsigned answers were matched on, now
// with signatures and proofs.
func TestConformanceNSDSignedCorpus(t *testing.T) {
	queries := parseConformanceQueries(t, conformanceQueries)
	bin := buildZonekeeper(t, t.TempDir())
	for _, v := range []struct {
		name string
		args []string
	}{
		{"nsec", nil},
		{"nsec3-optout", []string{"-3", "-", "-H", "0", "-A"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			var zones []peerZone
			apexes := map[string]bool{}
			for _, z := range peerZonesFromDir(t, conformanceZones) {
				dir := signTestZone(t, z.File, z.Origin, v.args...)
				zones = append(zones, peerZone{Origin: z.Origin, File: filepath.Join(dir, strings.TrimSuffix(z.Origin, ".")+".zone")})
				apexes[strings.ToLower(z.Origin)] = true
			}
			nsdAddr := startNSD(t, nsdIP, zones)
			zk := startZonekeeper(t, bin, zonekeeperIP, zones)
			for _, q := range queries {
				for _, do := range []bool{true, false} {
					q := q
					q.DO = q.DO || do
					name := fmt.Sprintf("%03d_%s_%s_do=%v", q.Line, q.Name, dns.Type(q.Type), q.DO)
					if q.Class != dns.ClassINET {
						name += "_" + dns.Class(q.Class).String()
					}
					t.Run(name, func(t *testing.T) {
						askBoth(t, q, apexes, nsdAddr, zk.addr)
					})
				}
			}
		})
	}
}
