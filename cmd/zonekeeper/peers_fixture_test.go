package main

// What the replication and interoperability tests share: finding the
// reference servers' binaries, TSIG keys as every server and client of a
// test must agree on them, and the zone of testdata/replication rendered
// with a chosen serial.

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// peerBinary finds a program of a Debian package the tests start (in
// PATH, else /usr/sbin or /usr/bin); the test fails, never skips, without
// it, since the interoperability tests are part of the suite.
func peerBinary(t testing.TB, name, debPackage string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	t.Fatalf("%s not found (neither in PATH nor /usr/sbin, /usr/bin): run `make deps` to install the Debian package %s", name, debPackage)
	return ""
}

// replicationZoneFile is the zone template of the replication tests.
const replicationZoneFile = "../../testdata/replication/base.zone"

// testTSIGAlgorithms are the six HMAC algorithms of RFC 8945 that zonekeeper
// supports, as `key add --algorithm` names them, with the digest size
// used as the length of a generated secret.
var testTSIGAlgorithms = []struct {
	Name string
	Size int
}{
	{"hmac-md5", 16}, {"hmac-sha1", 20}, {"hmac-sha224", 28},
	{"hmac-sha256", 32}, {"hmac-sha384", 48}, {"hmac-sha512", 64},
}

// tsigKey is a TSIG key: Name fully qualified, Algorithm as zonekeeper,
// BIND, Knot and dig spell it (hmac-sha256), Secret in base64.
type tsigKey struct {
	Name      string
	Algorithm string
	Secret    string
}

// newTSIGKey returns a key with a random secret as long as the
// algorithm's digest.
func newTSIGKey(t testing.TB, name, algorithm string) tsigKey {
	t.Helper()
	size := 0
	for _, a := range testTSIGAlgorithms {
		if a.Name == algorithm {
			size = a.Size
		}
	}
	if size == 0 {
		t.Fatalf("newTSIGKey: unknown algorithm %q", algorithm)
	}
	return tsigKey{Name: dns.Fqdn(strings.ToLower(name)), Algorithm: algorithm, Secret: randomSecret(size)}
}

// randomSecret returns n random bytes in base64.
func randomSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// withSecret returns the key with another secret: the same name and
// algorithm, so that a peer holding it fails with BADSIG.
func (k tsigKey) withSecret(secret string) tsigKey {
	k.Secret = secret
	return k
}

// digY is the key as dig's -y option takes it.
func (k tsigKey) digY() string {
	return k.Algorithm + ":" + k.Name + ":" + k.Secret
}

// miekgAlgorithm is the key's algorithm as miekg/dns names it.
func (k tsigKey) miekgAlgorithm() string {
	if k.Algorithm == "hmac-md5" {
		return dns.HmacMD5
	}
	return dns.Fqdn(k.Algorithm)
}

// replicationZone returns the zone of testdata/replication with serial
// and, after it, the records of extra (zonefile lines, names relative to
// the origin).
func replicationZone(t testing.TB, serial uint32, extra ...string) string {
	t.Helper()
	b, err := os.ReadFile(replicationZoneFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if strings.Count(text, " SERIAL ") != 1 {
		t.Fatalf("%s: want exactly one SERIAL placeholder", replicationZoneFile)
	}
	text = strings.Replace(text, " SERIAL ", fmt.Sprintf(" %d ", serial), 1)
	for _, line := range extra {
		text += line + "\n"
	}
	return text
}

// bumpZonefile edits a zonefile as an operator would: the SOA serial
// plus one and the record extra (presentation form, relative to origin)
// added. It returns the new serial.
func bumpZonefile(t testing.TB, path, origin, extra string) uint32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zp := dns.NewZoneParser(strings.NewReader(string(b)), origin, path)
	var out strings.Builder
	var serial uint32
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if soa, isSOA := rr.(*dns.SOA); isSOA {
			soa.Serial++
			serial = soa.Serial
		}
		out.WriteString(rr.String() + "\n")
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if serial == 0 {
		t.Fatalf("%s: no SOA", path)
	}
	out.WriteString("$ORIGIN " + origin + "\n" + extra + "\n")
	writeTestFile(t, path, out.String())
	return serial
}

// writeTestFile writes text to path, failing the test on error.
func writeTestFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
