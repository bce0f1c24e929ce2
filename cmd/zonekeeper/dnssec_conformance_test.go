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
	} {
		t.Run(v.name, func(t *testing.T) {
			zones := peerZonesFromDir(t, signTestZone(t, dnssecZoneSource, dnssecOrigin, v.args...))
			nsdAddr := startNSD(t, nsdIP, zones)
			zk := startZonekeeper(t, bin, zonekeeperIP, zones)
			apexes := map[string]bool{dnssecOrigin: true}
			for _, q := range queries {
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
