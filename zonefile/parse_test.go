package zonefile

import (
	"crypto/sha256"
	"os"
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
