package zonefile

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
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

// TestMaxRecords: a Loader's record limit stops a zonefile whose
// $GENERATE lines would amplify it (30 lines of 65,535 records each, a
// file of 1.2 KB) at the line that goes past the limit, in LoadPacked
// and Load, and counts the records of $INCLUDE files and of a file
// parsed in chunks alike.
func TestMaxRecords(t *testing.T) {
	gen := strings.Repeat("$GENERATE 0-65534 h$ A 127.0.0.1\n", 30)
	path := writeZone(t, "example.org.zone", head+gen)
	want := "zonefile: " + path + ":6: too-many-records: more than 100000 records (zone-max-records): refused"
	lim := Loader{MaxRecords: 100_000}
	start := time.Now()
	if _, _, err := lim.LoadPacked(path, ""); err == nil || err.Error() != want {
		t.Errorf("LoadPacked: %v, want %q", err, want)
	}
	if _, _, err := lim.Load(path, ""); err == nil || err.Error() != want {
		t.Errorf("Load: %v, want %q", err, want)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("refusing took %v: the parse did not stop at the limit", d)
	}

	// At the limit the zone loads; one record more is refused at its line.
	one := head + "$GENERATE 0-65534 h$ A 127.0.0.1\n"
	path = writeZone(t, "example.org.zone", one)
	if p, _, err := (Loader{MaxRecords: 3 + 65535}).LoadPacked(path, ""); err != nil || p.Len() != 3+65535 {
		t.Errorf("at the limit: %v", err)
	}
	if _, fs, err := (Loader{MaxRecords: 3 + 65534}).LoadPacked(path, ""); err == nil || len(fs) != 1 || fs[0].Line != 5 || fs[0].Rule != RuleTooManyRecords {
		t.Errorf("one over the limit: %v %v", err, fs)
	}

	path = writeZone(t, "example.org.zone", head+"$INCLUDE hosts.inc\n", "hosts.inc", "a A 127.0.0.2\nb A 127.0.0.3\n")
	if _, fs, err := (Loader{MaxRecords: 4}).Load(path, ""); err == nil || len(fs) != 1 || fs[0].File != filepath.Join(filepath.Dir(path), "hosts.inc") || fs[0].Line != 2 {
		t.Errorf("included records: %v %v", err, fs)
	}

	defer func(p, c int) { parallelMin, chunkMin = p, c }(parallelMin, chunkMin)
	parallelMin, chunkMin = 1, 1<<10
	var b strings.Builder
	b.WriteString(head)
	for i := range 1000 {
		fmt.Fprintf(&b, "h%d A 127.0.0.1\n", i)
	}
	if _, ok := parseChunks([]byte(b.String()), "example.org.", "t.zone", false); !ok && runtime.GOMAXPROCS(0) > 1 {
		t.Fatal("not parsed in chunks")
	}
	if _, fs, err := (Loader{MaxRecords: 500}).Parse(strings.NewReader(b.String()), "example.org.", "t.zone"); err == nil || len(fs) != 1 || fs[0].Line != 502 { // the 501st record: head has 3 on lines 2-4
		t.Errorf("in chunks: %v %v", err, fs)
	}
}

func TestClip(t *testing.T) {
	if got := Clip("short", 10); got != "short" {
		t.Errorf("Clip of a short text: %q", got)
	}
	// Never inside a character: "é" is two bytes.
	if got := Clip("aé"+strings.Repeat("x", 20), 2); got != "a… [22 bytes cut]" {
		t.Errorf("Clip: %q", got)
	}
}
