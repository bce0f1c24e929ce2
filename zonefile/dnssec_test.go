package zonefile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const dnssecTestZone = `$TTL 300
@        IN SOA   ns1 hostmaster 5 3600 900 1209600 300
         IN NS    ns1
ns1      IN A     127.0.0.1
www      IN A     127.0.0.80
alias    IN CNAME www
*.wild   IN TXT   "wildcard"
secure   IN NS    ns.secure
         IN DS    12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.secure IN A    127.0.0.3
insecure IN NS    ns.insecure
ns.insecure IN A  127.0.0.4
`

// signTestZone signs dnssecTestZone as x.test. with dnssec-signzone
// (keys made here; NSEC3 with a salt when nsec3) and returns its records.
func signTestZone(t *testing.T, nsec3 bool) []dns.RR {
	t.Helper()
	for _, tool := range []string{"dnssec-keygen", "dnssec-signzone"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian bind9-dnsutils)", tool)
		}
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "x.zone"), []byte(dnssecTestZone), 0o644); err != nil {
		t.Fatal(err)
	}
	run("dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "x.test.")
	run("dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "x.test.")
	args := []string{"dnssec-signzone", "-q", "-S", "-o", "x.test.", "-f", "signed.zone"}
	if nsec3 {
		args = append(args, "-3", "aabb", "-H", "1")
	}
	run(append(args, "x.zone")...)
	z, _, err := Load(filepath.Join(dir, "signed.zone"), "x.test.")
	if err != nil {
		t.Fatal(err)
	}
	return z.Records
}

// lintLines writes rrs one a line, lints the file as x.test. and
// returns its findings as "line rule" strings.
func lintLines(t *testing.T, rrs []dns.RR) []string {
	t.Helper()
	var b strings.Builder
	for _, rr := range rrs {
		b.WriteString(rr.String() + "\n")
	}
	path := filepath.Join(t.TempDir(), "x.test.zone")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	z, findings, err := Load(path, "x.test.")
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(findings) > 0 {
		t.Fatalf("the loader warns of a signed zone: %v", findings)
	}
	lint, err := LintDNSSECFile(path, "x.test.", z)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range lint {
		if f.File != path || f.Line == 0 || f.Severity != Warning {
			t.Errorf("finding not a warning at a line of %s: %v", path, f)
		}
		out = append(out, fmt.Sprintf("%d %s", f.Line, f.Rule))
	}
	return out
}

// lineOf is the 1-based line of the first record of rrs matching match.
func lineOf(t *testing.T, rrs []dns.RR, match func(dns.RR) bool) int {
	t.Helper()
	for i, rr := range rrs {
		if match(rr) {
			return i + 1
		}
	}
	t.Fatal("no such record")
	return 0
}

// TestLintDNSSEC: a zone as dnssec-signzone made it (NSEC; NSEC3) loads
// without a warning, RRSIG and NSEC beside a CNAME and DS, NSEC and
// RRSIG at a delegation included, and lints clean; each structural fault
// a signer could leave is a warning at its line; an unsigned zone is
// not linted.
func TestLintDNSSEC(t *testing.T) {
	isType := func(name string, rtype uint16) func(dns.RR) bool {
		return func(rr dns.RR) bool {
			return strings.EqualFold(rr.Header().Name, name) && rr.Header().Rrtype == rtype
		}
	}
	without := func(rrs []dns.RR, drop func(dns.RR) bool) []dns.RR {
		var out []dns.RR
		for _, rr := range rrs {
			if !drop(rr) {
				out = append(out, rr)
			}
		}
		return out
	}
	edit := func(rrs []dns.RR, match func(dns.RR) bool, change func(dns.RR)) []dns.RR {
		out := make([]dns.RR, len(rrs))
		for i, rr := range rrs {
			out[i] = rr
			if match(rr) {
				out[i] = dns.Copy(rr)
				change(out[i])
			}
		}
		return out
	}

	t.Run("NSEC", func(t *testing.T) {
		rrs := signTestZone(t, false)
		if got := lintLines(t, rrs); len(got) != 0 {
			t.Fatalf("a zone dnssec-signzone signed: %v", got)
		}
		// www A's signature gone.
		bad := without(rrs, func(rr dns.RR) bool {
			s, ok := rr.(*dns.RRSIG)
			return ok && strings.EqualFold(s.Hdr.Name, "www.x.test.") && s.TypeCovered == dns.TypeA
		})
		want := fmt.Sprintf("%d %s", lineOf(t, bad, isType("www.x.test.", dns.TypeA)), RuleDNSSECUnsigned)
		if got := lintLines(t, bad); strings.Join(got, ",") != want {
			t.Errorf("an RRset without its RRSIG: %v, want %s", got, want)
		}
		// alias's NSEC points past www.
		bad = edit(rrs, isType("alias.x.test.", dns.TypeNSEC), func(rr dns.RR) { rr.(*dns.NSEC).NextDomain = "x.test." })
		want = fmt.Sprintf("%d %s", lineOf(t, bad, isType("alias.x.test.", dns.TypeNSEC)), RuleNSECChain)
		if got := lintLines(t, bad); strings.Join(got, ",") != want {
			t.Errorf("a broken NSEC chain: %v, want %s", got, want)
		}
		// www's NSEC gone: the chain skips it.
		bad = without(rrs, isType("www.x.test.", dns.TypeNSEC))
		got := lintLines(t, bad)
		if len(got) < 2 || !strings.Contains(strings.Join(got, ","), RuleNSECChain) {
			t.Errorf("an NSEC missing: %v", got)
		}
	})

	t.Run("NSEC3", func(t *testing.T) {
		rrs := signTestZone(t, true)
		if got := lintLines(t, rrs); len(got) != 0 {
			t.Fatalf("a zone dnssec-signzone signed with NSEC3: %v", got)
		}
		isNSEC3 := func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeNSEC3 }
		first := lineOf(t, rrs, isNSEC3)
		n := 0
		bad := edit(rrs, func(rr dns.RR) bool { n++; return isNSEC3(rr) && n == first }, func(rr dns.RR) { rr.(*dns.NSEC3).Iterations = 5 })
		want := fmt.Sprintf("%d %s", first, RuleNSEC3Params)
		if got := lintLines(t, bad); strings.Join(got, ",") != want {
			t.Errorf("NSEC3 parameters unlike NSEC3PARAM: %v, want %s", got, want)
		}
		// An NSEC3 two labels down, one not base32hex, an NSEC3PARAM below the apex.
		extra := append(append([]dns.RR{}, rrs...),
			mustRR(t, "zz.www.x.test. 300 IN NSEC3 1 0 1 AABB 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A"),
			mustRR(t, "www-not-hash.x.test. 300 IN NSEC3 1 0 1 AABB 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A"),
			mustRR(t, "www.x.test. 300 IN NSEC3PARAM 1 0 1 AABB"))
		Sort(extra)
		got := strings.Join(lintLines(t, extra), ",")
		for _, rule := range []string{RuleNSEC3Owner, RuleNSEC3PARAMPlace} {
			if !strings.Contains(got, rule) {
				t.Errorf("no %s among %s", rule, got)
			}
		}
	})

	t.Run("unsigned", func(t *testing.T) {
		z, _, err := Parse(strings.NewReader(dnssecTestZone), "x.test.", "x.test.zone")
		if err != nil {
			t.Fatal(err)
		}
		if f := LintDNSSEC(z, nil); len(f) != 0 {
			t.Errorf("an unsigned zone: %v", f)
		}
	})
}

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}
