package zonefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const head = `$TTL 3600
@ IN SOA ns1 hostmaster 1 3600 900 604800 300
@ IN NS ns1
ns1 IN A 127.0.0.1
`

// writeZone writes files into a fresh directory and returns the path of
// the first one.
func writeZone(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	var first string
	for i := 0; i < len(files); i += 2 {
		p := filepath.Join(dir, files[i])
		if err := os.WriteFile(p, []byte(files[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = p
		}
	}
	return first
}

func TestValidationRules(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		rule     string // expected rule of a finding; "" for none
		severity Severity
		line     int
	}{
		{"valid", head + "www IN A 127.0.0.2\n", "", 0, 0},
		{"syntax", head + "www IN A not-an-address\n", RuleSyntax, Error, 5},
		{"no soa", "$TTL 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\n", RuleSOAMissing, Error, 0},
		{"two soa", head + "@ IN SOA ns2 hostmaster 2 3600 900 604800 300\n", RuleSOAMultiple, Error, 5},
		{"soa below apex", head + "x IN SOA ns1 hostmaster 1 3600 900 604800 300\n", RuleSOANotApex, Error, 5},
		{"no ns", "$TTL 60\n@ IN SOA ns1 hostmaster 1 3600 900 604800 300\nns1 IN A 127.0.0.1\n", RuleNSMissing, Error, 2},
		{"cname beside a", head + "www IN CNAME ns1\nwww IN A 127.0.0.2\n", RuleCNAMEConflict, Error, 6},
		{"cname beside mx", head + "www IN MX 10 ns1\nwww IN CNAME ns1\n", RuleCNAMEConflict, Error, 5},
		{"cname at apex", head + "@ IN CNAME ns1\n", RuleCNAMEConflict, Error, 2},
		{"two cnames", head + "www IN CNAME ns1\nwww IN CNAME ns2\n", RuleCNAMEMultiple, Error, 6},
		{"cname beside dnssec", head + "www IN CNAME ns1\nwww IN NSEC ns1 CNAME RRSIG NSEC\n", "", 0, 0},
		{"duplicate", head + "www IN A 127.0.0.2\nWWW 60 IN A 127.0.0.2\n", RuleDuplicate, Warning, 6},
		{"ttl too large", head + "www 2147483648 IN A 127.0.0.2\n", RuleTTLRange, Error, 5},
		{"ttl max ok", head + "www 2147483647 IN A 127.0.0.2\n", "", 0, 0},
		{"ttl mismatch", head + "www 60 IN A 127.0.0.2\nwww 30 IN A 127.0.0.3\n", RuleTTLMismatch, Warning, 5},
		{"out of zone", head + "www.example.com. IN A 127.0.0.2\n", RuleOutOfZone, Warning, 5},
		{"below delegation", head + "sub IN NS ns.sub\nns.sub IN A 127.0.0.3\nx.sub IN TXT \"hidden\"\n", RuleBelowDelegation, Warning, 7},
		{"occluded at cut", head + "sub IN NS ns.sub\nsub IN MX 10 ns1\n", RuleBelowDelegation, Warning, 6},
		{"glue and ds at cut", head + "sub IN NS ns.sub\nns.sub IN A 127.0.0.3\nns.sub IN AAAA ::1\nsub IN DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE7C2B9B8A7C3F8F0EFA3A0C0E\n", "", 0, 0},
		{"nul label beside a cut", head + "sub IN NS ns1\nsub\\000 IN TXT \"not below sub\"\nx.sub\\000 IN TXT \"nor this\"\n", "", 0, 0},
		{"class", head + "www CH TXT \"x\"\n", RuleClass, Error, 5},
		{"multi-line soa", "$TTL 60\n@ IN SOA ns1 hostmaster (\n 1 ; serial\n 3600 900 604800 300 )\n@ IN NS ns1\nns1 IN A 127.0.0.1\n@ IN SOA ns1 h 2 1 1 1 1\n", RuleSOAMultiple, Error, 7},
		{"unknown type rfc3597", head + "x IN TYPE65534 \\# 3 010203\n", "", 0, 0},
		{"generate", head + "$GENERATE 1-5 host$ A 127.0.0.$\n", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeZone(t, "example.org.zone", tt.text)
			z, fs, err := Load(path, "")
			if tt.rule == "" {
				if err != nil || len(fs) != 0 {
					t.Fatalf("want no findings, got err=%v findings=%v", err, fs)
				}
				if z == nil || z.SOA() == nil {
					t.Fatal("zone not returned")
				}
				return
			}
			var got *Finding
			for i := range fs {
				if fs[i].Rule == tt.rule {
					got = &fs[i]
					break
				}
			}
			if got == nil {
				t.Fatalf("no %s finding; got %v (err %v)", tt.rule, fs, err)
			}
			if got.Severity != tt.severity {
				t.Errorf("severity %v, want %v", got.Severity, tt.severity)
			}
			if got.Line != tt.line {
				t.Errorf("line %d, want %d (%v)", got.Line, tt.line, got)
			}
			if got.File != path {
				t.Errorf("file %q, want %q", got.File, path)
			}
			if !strings.HasPrefix(strings.TrimPrefix(got.String(), "warning: "), path) {
				t.Errorf("finding %q does not start with the file name", got)
			}
			if tt.severity == Error {
				if err == nil || z != nil {
					t.Fatalf("error finding but err=%v z=%v", err, z)
				}
			} else if err != nil || z == nil {
				t.Fatalf("warning only, but err=%v", err)
			}
		})
	}
}

func TestWarningsDropData(t *testing.T) {
	path := writeZone(t, "example.org.zone", head+
		"www.example.com. IN A 127.0.0.9\n"+
		"sub IN NS ns.sub\nns.sub IN A 127.0.0.3\nx.sub IN TXT \"hidden\"\n"+
		"dup IN A 127.0.0.4\ndup IN A 127.0.0.4\n"+
		"ttl 60 IN A 127.0.0.5\nttl 30 IN A 127.0.0.6\n")
	z, _, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := Write(&text, z); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, absent := range []string{"example.com", "hidden"} {
		if strings.Contains(out, absent) {
			t.Errorf("%q should not be served:\n%s", absent, out)
		}
	}
	if strings.Count(out, "127.0.0.4") != 1 {
		t.Errorf("duplicate not collapsed:\n%s", out)
	}
	if !strings.Contains(out, "ttl\t30\tIN\tA\t127.0.0.5") {
		t.Errorf("lowest TTL did not win:\n%s", out)
	}
	if !strings.Contains(out, "ns.sub\t3600\tIN\tA\t127.0.0.3") {
		t.Errorf("glue dropped:\n%s", out)
	}
}

func TestInclude(t *testing.T) {
	path := writeZone(t,
		"example.org.zone", head+"$INCLUDE hosts.inc\nafter IN A 127.0.0.3\n",
		"hosts.inc", "\n\ninc IN A 127.0.0.2\nbad IN A 127.0.0.1\nbad IN CNAME ns1\n")
	_, fs, err := Load(path, "")
	if err == nil {
		t.Fatal("CNAME conflict in the included file not reported")
	}
	want := filepath.Join(filepath.Dir(path), "hosts.inc")
	if len(fs.Errors()) != 1 || fs.Errors()[0].File != want || fs.Errors()[0].Line != 4 {
		t.Fatalf("want one error at %s:4, got %v", want, fs)
	}

	path = writeZone(t, "example.org.zone", head+"$INCLUDE ../../../../etc/passwd\n")
	_, fs, err = Load(path, "")
	if err == nil || fs[0].Rule != RuleInclude || fs[0].Line != 5 || !strings.Contains(fs[0].Detail, "outside") {
		t.Fatalf("include escaping the directory: err=%v findings=%v", err, fs)
	}

	if _, _, err := Parse(strings.NewReader(head+"$INCLUDE x\n"), "example.org.", "stdin"); err == nil {
		t.Fatal("Parse must refuse $INCLUDE")
	}
}

func TestOriginFromPath(t *testing.T) {
	for in, want := range map[string]string{
		"/d/example.org.zone":       "example.org.",
		"Example.ORG":               "example.org.",
		"2.0.192.in-addr.arpa.zone": "2.0.192.in-addr.arpa.",
	} {
		if got := OriginFromPath(in); got != want {
			t.Errorf("OriginFromPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestIncludeAbsolute: an absolute $INCLUDE path means what it says. One
// outside the zonefile's directory is refused under the name written
// (miekg/dns opens it without its leading slash, which once showed as
// "failed to open `/etc/passwd' as `etc/passwd'" and read DIR/etc/passwd
// when there was one); one inside the directory is read.
func TestIncludeAbsolute(t *testing.T) {
	path := writeZone(t, "example.org.zone", head+"$INCLUDE /etc/passwd\n",
		"hosts.inc", "inc IN A 127.0.0.2\n")
	dir := filepath.Dir(path)
	// Where the leading slash, cut, would have led.
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "etc", "passwd"), "passwd IN A 127.0.0.9\n")
	_, fs, err := Load(path, "")
	want := "$INCLUDE /etc/passwd is outside the zonefile's directory " + dir + "; only files beside the zonefile may be included"
	if err == nil || len(fs) != 1 || fs[0].Rule != RuleInclude || fs[0].Line != 5 || fs[0].Detail != want {
		t.Fatalf("err %v, findings %v; want %q", err, fs, want)
	}

	abs, err := filepath.Abs(filepath.Join(dir, "hosts.inc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range []string{abs, "./hosts.inc", "etc/../hosts.inc"} {
		writeFile(t, path, head+"$INCLUDE "+inc+"\n")
		z, fs, err := Load(path, "")
		if err != nil || len(fs) != 0 || len(z.Includes) != 1 || z.Includes[0] != "hosts.inc" || len(z.Records) != 4 {
			t.Errorf("$INCLUDE %s: err %v, findings %v, zone %v", inc, err, fs, z)
		}
	}

	// A relative path in an included file is relative to that file.
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub", "a.inc"), "$INCLUDE b.inc\n")
	writeFile(t, filepath.Join(dir, "sub", "b.inc"), "\nbad IN A 1.2.3\n")
	writeFile(t, path, head+"$INCLUDE sub/a.inc\n")
	_, fs, err = Load(path, "")
	if err == nil || len(fs) != 1 || fs[0].File != filepath.Join(dir, "sub", "b.inc") || fs[0].Line != 2 {
		t.Errorf("error in a nested include: err %v, findings %v", err, fs)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
