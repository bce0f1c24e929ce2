package zonefile

// ZONEMD against a real tool: Knot DNS (knotd, zonemd-generate) computes
// the ZONEMD of a zone with every case RFC 8976 §3.3.1 cares about, and
// our digest of the records it transfers must be the one it put in the
// zone. knotd runs on loopback only, with its own configuration under a
// temp dir.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// knotZONEMDZone holds mixed case, names in data of several types,
// RRsets given out of order, a duplicate, occluded data below a
// delegation, a wildcard, a non-apex ZONEMD and multi-string TXT.
const knotZONEMDZone = `$ORIGIN digest.test.
$TTL 300
@        IN SOA  NS1.Digest.Test. Hostmaster.digest.test. 7 3600 600 86400 60
@        IN NS   ns2
@        IN NS   NS1
@        IN MX   20 Mail.Digest.test.
@        IN MX   10 mail
ns1      IN A    127.0.0.1
NS2      IN A    127.0.0.2
mail     IN A    127.0.0.3
mail     IN A    127.0.0.4
www      IN CNAME Mail
_sip._udp IN SRV 0 5 5060 MAIL.digest.test.
*.wild   IN TXT  "a" "b c"
Sub      IN NS   ns.sub
ns.sub   IN A    127.0.0.5
occluded.sub IN TXT "below a delegation: digested all the same"
deep     IN ZONEMD 7 1 1 616c6c6f776564206275742069676e6f7265642e20616c6c6f776564206275742069676e6f7265642e20616c6c6f7765
ptr      IN PTR  Host.Example.
txt      IN TXT  "zeta"
txt      IN TXT  "alpha"
`

func TestZONEMDMatchesKnot(t *testing.T) {
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/knotd", "/usr/local/sbin/knotd"} {
			if _, e := os.Stat(p); e == nil {
				knotd, err = p, nil
			}
		}
	}
	if err != nil {
		t.Skip("knotd not installed (make deps)")
	}
	dir := t.TempDir()
	port := freePort(t)
	if err := os.WriteFile(filepath.Join(dir, "digest.test.zone"), []byte(knotZONEMDZone), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`server:
    rundir: %q
    listen: 127.0.0.1@%d
log:
  - target: stderr
    any: info
database:
    storage: %q
acl:
  - id: test
    address: 127.0.0.1
    action: transfer
zone:
  - domain: digest.test.
    file: %q
    zonemd-generate: zonemd-sha384
    zonefile-sync: -1
    acl: [test]
`, dir, port, dir, filepath.Join(dir, "digest.test.zone"))
	confPath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(knotd, "-c", confPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	var rrs []dns.RR
	for deadline := time.Now().Add(15 * time.Second); ; {
		rrs = axfrOf(addr, "digest.test.")
		if len(rrs) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(rrs) == 0 {
		t.Fatalf("no AXFR from knotd:\n%s", logs.String())
	}
	var knot *dns.ZONEMD
	for _, rr := range rrs {
		if z, ok := rr.(*dns.ZONEMD); ok && z.Hdr.Name == "digest.test." {
			knot = z
		}
	}
	if knot == nil || knot.Scheme != ZONEMDScheme || knot.Hash != ZONEMDHashAlg {
		t.Fatalf("knotd's zone has no apex SIMPLE SHA-384 ZONEMD: %v\n%s", knot, logs.String())
	}
	got, err := ZONEMD("digest.test.", rrs[:len(rrs)-1]) // the AXFR's closing SOA is a repeat
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != knot.Digest {
		t.Errorf("our digest %x, knotd's %s", got, knot.Digest)
	}
	// The zone as written, without Knot's ZONEMD and with the SOA serial
	// Knot serves, gets the same digest: what a node computes of its own
	// file equals what a foreign tool computes of the transferred copy.
	own := parseRRs(t, "digest.test.", knotZONEMDZone)
	own[0].(*dns.SOA).Serial = knot.Serial
	mine, err := ZONEMD("digest.test.", own)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mine, got) {
		t.Errorf("digest of the file %x, of knotd's transfer %x", mine, got)
	}
}

// axfrOf transfers zone from addr; nil when it fails.
func axfrOf(addr, zone string) []dns.RR {
	m := new(dns.Msg)
	m.SetAxfr(zone)
	tr := &dns.Transfer{DialTimeout: time.Second, ReadTimeout: 3 * time.Second}
	ch, err := tr.In(m, addr)
	if err != nil {
		return nil
	}
	var out []dns.RR
	for env := range ch {
		if env.Error != nil {
			return nil
		}
		out = append(out, env.RR...)
	}
	return out
}

// freePort returns a port free on 127.0.0.1 for both UDP and TCP.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port on 127.0.0.1")
	return 0
}
