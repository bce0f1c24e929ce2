package zonefile

import (
	"os"
	"strings"
	"testing"
)

// TestLintOps runs the operational lint over small zones, one case per
// rule and the cases each rule must leave alone.
func TestLintOps(t *testing.T) {
	const soa = "@ IN SOA ns1 h 1 3600 900 1209600 300\n"
	const three = "@ IN NS ns1\n@ IN NS ns2\n@ IN NS ns3.other.test.\nns1 IN A 127.0.0.1\nns2 IN A 127.0.1.2\n"
	for _, tc := range []struct {
		name, origin, text string
		want               []string // "severity rule", in order
	}{
		{"clean", "example.test", soa + three, nil},
		{"one NS", "example.test", soa + "@ IN NS ns1\nns1 IN A 127.0.0.1\n", []string{"error ns-count"}},
		{"two NS", "example.test", soa + "@ IN NS ns1\n@ IN NS ns2.other.test.\nns1 IN A 127.0.0.1\n", []string{"warning ns-count"}},
		{"two NS reverse v4", "0.127.in-addr.arpa", soa + "@ IN NS a.test.\n@ IN NS b.test.\n", nil},
		{"two NS reverse v6", "8.b.d.0.1.0.0.2.ip6.arpa", soa + "@ IN NS a.test.\n@ IN NS b.test.\n", nil},
		{"one /24", "example.test", soa + "@ IN NS ns1\n@ IN NS ns2\n@ IN NS ns3\nns1 IN A 127.0.0.1\nns2 IN A 127.0.0.2\nns3 IN A 127.0.0.3\n", []string{"warning ns-diversity"}},
		{"one /48", "example.test", soa + "@ IN NS ns1\n@ IN NS ns2\n@ IN NS ns3.other.test.\nns1 IN AAAA 2001:db8::1\nns2 IN AAAA 2001:db8:0:1::2\n", []string{"warning ns-diversity"}},
		{"v4 and v6", "example.test", soa + "@ IN NS ns1\n@ IN NS ns2\n@ IN NS ns3.other.test.\nns1 IN A 127.0.0.1\nns2 IN AAAA 2001:db8::2\n", nil},
		{"one address known", "example.test", soa + "@ IN NS ns1\n@ IN NS a.other.test.\n@ IN NS b.other.test.\nns1 IN A 127.0.0.1\n", nil},
		{"in-zone NS without address", "example.test", soa + three + "@ IN NS ns4\n", []string{"warning ns-address"}},
		{"retry = refresh", "example.test", "@ IN SOA ns1 h 1 900 900 1209600 300\n" + three, []string{"warning soa-retry"}},
		{"expire = refresh+retry", "example.test", "@ IN SOA ns1 h 1 3600 900 4500 300\n" + three, []string{"error soa-expire"}},
		{"expire 6 days", "example.test", "@ IN SOA ns1 h 1 3600 900 518400 300\n" + three, []string{"warning soa-expire-short"}},
		{"expire a week", "example.test", "@ IN SOA ns1 h 1 3600 900 604800 300\n" + three, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, _, err := Parse(strings.NewReader("$TTL 60\n"+tc.text), tc.origin, "t.zone")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range LintOps(z, nil) {
				got = append(got, f.Severity.String()+" "+f.Rule)
				if !strings.Contains(f.Detail, "(RFC ") {
					t.Errorf("no RFC section in %q", f.Detail)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLintOpsFileLocates checks that findings name the line of the
// record they are about, also inside an $INCLUDE file.
func TestLintOpsFileLocates(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/example.test.zone"
	if err := os.WriteFile(dir+"/ns.inc", []byte("@ IN NS ns1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("$TTL 60\n@ IN SOA ns1 h 1 3600 3600 1209600 300\n\n$INCLUDE ns.inc\nns1 IN A 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	z, _, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := LintOpsFile(path, "", z)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range fs {
		lines = append(lines, f.String())
	}
	text := strings.Join(lines, "\n")
	for _, w := range []string{"warning: " + path + ":2: soa-retry", dir + "/ns.inc:1: ns-count"} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in\n%s", w, text)
		}
	}
}
