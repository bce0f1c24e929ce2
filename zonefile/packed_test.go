package zonefile

import (
	"path/filepath"
	"testing"

	"github.com/miekg/dns"
)

// TestPackedMatchesZone checks that the packed form of every valid test
// zone holds the records of the rich one: same order, same wire data,
// the same digest.
func TestPackedMatchesZone(t *testing.T) {
	big := filepath.Join(t.TempDir(), "bench.test.zone")
	writeBenchZone(t, big, 3000)
	paths, _ := filepath.Glob("../testdata/conformance/zones/*.zone")
	paths = append(paths, "../testdata/demo/example.com.zone", "../testdata/check/valid.zone",
		"../testdata/check/include-ok.zone", "../testdata/check/ttl-mismatch.zone",
		"../testdata/check/duplicate-rr.zone", "../testdata/check/below-delegation.zone", big)
	for _, path := range paths {
		z, _, err := Load(path, "")
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		p, findings, err := LoadPacked(path, "")
		if err != nil {
			t.Fatalf("%s: packed: %v %v", path, err, findings)
		}
		if p.Len() != len(z.Records) {
			t.Fatalf("%s: %d packed records, %d rich", path, p.Len(), len(z.Records))
		}
		if p.Origin != z.Origin || p.FileSum != z.FileSum || p.Serial() != z.Serial() {
			t.Errorf("%s: origin/sum/serial differ", path)
		}
		for i, rr := range z.Records {
			got, err := p.RR(i)
			if err != nil {
				t.Fatalf("%s: record %d: %v", path, i, err)
			}
			if wire(t, got) != wire(t, rr) || got.Header().Name != rr.Header().Name {
				t.Fatalf("%s: record %d is %v, want %v", path, i, got, rr)
			}
		}
		if p.Digest() != Digest(z) {
			t.Errorf("%s: packed digest differs", path)
		}
	}
}

// wire returns rr packed, without compression.
func wire(t *testing.T, rr dns.RR) string {
	t.Helper()
	buf := make([]byte, maxPacked)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		t.Fatalf("%v: %v", rr, err)
	}
	return string(buf[:n])
}
