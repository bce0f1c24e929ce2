package zonefile

import (
	"crypto/sha256"
	"os"
	"strings"
	"testing"
)

// TestLoadFileSum: Load gives the SHA-256 of the bytes it parsed.
func TestLoadFileSum(t *testing.T) {
	text := "$TTL 300\n@ SOA ns1 host 1 3600 900 604800 60\n@ NS ns1\nns1 A 127.0.0.1\n"
	path := t.TempDir() + "/sum.test.zone"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	z, _, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if z.FileSum != sha256.Sum256([]byte(text)) {
		t.Errorf("FileSum %x is not the file's SHA-256", z.FileSum)
	}
}

// TestOwnerless: a record whose owner field is blank with no owner
// before it is refused, as BIND refuses it ("no current owner name"),
// at its line, whether the file is parsed whole or in chunks, and by
// ParseRecord. miekg/dns gives such a record the empty name.
func TestOwnerless(t *testing.T) {
	defer func(p, c int) { parallelMin, chunkMin = p, c }(parallelMin, chunkMin)
	parallelMin, chunkMin = 1, 1
	for _, tc := range []struct {
		text string
		line int
	}{
		{"$TTL 0\n AAAA ::0\n00", 2},
		{"$TTL 00\n$ORIGIN 00000000000000\nA\n", 3},
		{" TYPE070 ", 1},
		{" DS 0 0 0 0", 1},
		{"$TTL 60\n; comment\n\n  IN A 127.0.0.1\n@ IN SOA ns1 h 1 1 1 1 1\n", 4},
	} {
		_, fs, err := Parse(strings.NewReader(tc.text), "example.org.", "t.zone")
		if err == nil || len(fs) != 1 || fs[0].Rule != RuleSyntax || fs[0].Line != tc.line || !strings.Contains(fs[0].Detail, "no current owner name") {
			t.Errorf("%q: err %v, findings %v; want one syntax error at line %d", tc.text, err, fs, tc.line)
		}
	}
	if rr, err := ParseRecord("example.org.", " 300 IN A 127.0.0.1"); err == nil {
		t.Errorf("ParseRecord took a record without owner: %v", rr)
	}
}
