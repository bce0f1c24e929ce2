package main

// Signed test zones (docs/architecture.md, "Signed zones"): keys made by
// dnssec-keygen and zones signed by dnssec-signzone (Debian's
// bind9-dnsutils) during the test, so no signature in the repository
// ever expires.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// signedZone is a zone's keys in a temp dir, ready to sign versions of it.
type signedZone struct {
	t      *testing.T
	origin string
	dir    string // the keys, the unsigned and signed files
	nsec3  bool
}

// newSignedZone makes a KSK and a ZSK for origin (ECDSA P-256). With
// nsec3 the versions it signs carry NSEC3 (one iteration, a salt) rather
// than NSEC.
func newSignedZone(t *testing.T, origin string, nsec3 bool) *signedZone {
	t.Helper()
	for _, tool := range []string{"dnssec-keygen", "dnssec-signzone"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian bind9-dnsutils; `make deps`)", tool)
		}
	}
	z := &signedZone{t: t, origin: origin, dir: t.TempDir(), nsec3: nsec3}
	z.tool("dnssec-keygen", "-q", "-K", z.dir, "-a", "ECDSAP256SHA256", "-f", "KSK", origin)
	z.tool("dnssec-keygen", "-q", "-K", z.dir, "-a", "ECDSAP256SHA256", origin)
	return z
}

// tool runs one of the BIND tools in the zone's dir.
func (z *signedZone) tool(args ...string) string {
	z.t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = z.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		z.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// sign returns text (an unsigned zonefile of the zone) signed with the
// zone's keys, its serial kept, its signatures valid from start to end
// (dnssec-signzone's -s and -e: "now-3600", "+172800", YYYYMMDDHHMMSS).
func (z *signedZone) sign(text, start, end string) string {
	z.t.Helper()
	in := filepath.Join(z.dir, "unsigned.zone")
	out := filepath.Join(z.dir, "signed.zone")
	if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
		z.t.Fatal(err)
	}
	args := []string{"dnssec-signzone", "-q", "-K", z.dir, "-S", "-N", "keep", "-o", z.origin, "-s", start, "-e", end, "-f", out}
	if z.nsec3 {
		args = append(args, "-3", "aabbccdd", "-H", "1")
	}
	z.tool(append(args, in)...)
	b, err := os.ReadFile(out)
	if err != nil {
		z.t.Fatal(err)
	}
	return string(b)
}

// TestCheckSignedZone: `zonekeeper check` passes a zone as
// dnssec-signzone signed it, and reports an RRset whose RRSIG was
// removed as a warning at its file:line, the zone still loading.
func TestCheckSignedZone(t *testing.T) {
	sz := newSignedZone(t, "check.test.", false)
	signed := sz.sign(sigwatchZone, "now-3600", "now+864000")
	path := filepath.Join(t.TempDir(), "check.test.zone")
	writeTestFile(t, path, signed)
	var stdout, stderr strings.Builder
	if err := run([]string{"check", path}, &stdout, &stderr); err != nil || strings.Contains(stdout.String(), "warning:") {
		t.Fatalf("check of a signed zone: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	// Drop the RRSIG of www's A (dnssec-signzone writes each record on
	// its own lines, the RRSIG after the RRset it signs).
	lines := strings.Split(signed, "\n")
	var kept []string
	wwwLine, skip := 0, false
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case skip:
			skip = !strings.Contains(l, ")")
			continue
		case len(f) > 3 && f[0] == "www.check.test." && f[3] == "A":
			wwwLine = len(kept) + 1
		case wwwLine > 0 && len(f) > 3 && f[1] == "RRSIG" && f[2] == "A" && len(kept) == wwwLine:
			skip = !strings.Contains(l, ")")
			continue
		}
		kept = append(kept, l)
	}
	writeTestFile(t, path, strings.Join(kept, "\n"))
	stdout.Reset()
	if err := run([]string{"check", path}, &stdout, &stderr); err != nil {
		t.Fatalf("check: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	want := fmt.Sprintf("warning: %s:%d: dnssec-unsigned: www.check.test. A has no RRSIG", path, wwwLine)
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("check output lacks %q:\n%s", want, stdout.String())
	}
}
