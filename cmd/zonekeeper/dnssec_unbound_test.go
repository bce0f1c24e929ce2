package main

// Validation by a real validating resolver: unbound, with a stub zone
// pointing at zonekeeper and the signed test zone's KSK as its trust
// anchor, must set AD on zonekeeper's answers, and answer SERVFAIL when
// a record was altered after signing (docs/architecture.md "Signed
// zones").

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// startUnbound starts unbound on 127.0.0.1, validating with the trust
// anchor anchor (a DNSKEY record) for origin, whose servers it reaches
// through a stub zone at stubAddr. Its root hints name only a loopback
// address, so it never asks the real root servers, and "test." is not
// answered locally. It returns the address to ask.
func startUnbound(t *testing.T, origin, anchor, stubAddr string) string {
	t.Helper()
	bin := peerBinary(t, "unbound", "unbound")
	dir := t.TempDir()
	port := freeLoopbackPort(t, "127.0.0.1")
	hints := filepath.Join(dir, "root.hints")
	if err := os.WriteFile(hints, []byte(".  3600 IN NS root.invalid.\nroot.invalid. 3600 IN A 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stubHost, stubPort, err := net.SplitHostPort(stubAddr)
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`server:
	interface: 127.0.0.1
	port: %d
	do-ip4: yes
	do-ip6: no
	username: ""
	chroot: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: ""
	verbosity: 1
	val-log-level: 2
	num-threads: 1
	so-reuseport: no
	root-hints: %q
	do-not-query-localhost: no
	qname-minimisation: no
	module-config: "validator iterator"
	local-zone: "test." nodefault
	trust-anchor: %q
	access-control: 127.0.0.0/8 allow
remote-control:
	control-enable: no
stub-zone:
	name: %q
	stub-addr: %s@%s
`, port, dir, filepath.Join(dir, "unbound.pid"), hints, anchor, origin, stubHost, stubPort)
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startPeerProcess(t, "unbound", bin, "-d", "-c", path)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := &dns.Client{Timeout: 500 * time.Millisecond}
	for range 40 {
		m := new(dns.Msg)
		m.SetQuestion("localhost.", dns.TypeA)
		if _, _, err := c.Exchange(m, addr); err == nil {
			return addr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("unbound did not answer on %s", addr)
	return ""
}

// ksk returns the presentation form of the KSK in the signed zonefile
// path: the trust anchor.
func ksk(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, dnssecOrigin, path)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.SEP != 0 {
			k.Hdr.Ttl = 3600
			return strings.Join(strings.Fields(k.String()), " ")
		}
	}
	t.Fatalf("%s: no KSK", path)
	return ""
}

// resolve asks the resolver at addr name/qtype with RD and DO set.
func resolve(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

// TestUnboundValidates serves the signed test zone from zonekeeper (as a
// primary) to a validating unbound: positive answers, NXDOMAIN, NODATA
// and wildcard answers come back with AD for NSEC and NSEC3 without
// opt-out; under opt-out the positive answers do (an NXDOMAIN there is
// insecure by design). A zone with a record altered after signing gets
// SERVFAIL, which an unsigned-answering server would not cause.
func TestUnboundValidates(t *testing.T) {
	bin := buildZonekeeper(t, t.TempDir())
	type check struct {
		name  string
		qtype uint16
		rcode int
	}
	positive := []check{
		{"www." + dnssecOrigin, dns.TypeA, dns.RcodeSuccess},
		{"signed.test.", dns.TypeMX, dns.RcodeSuccess},
		{"alias." + dnssecOrigin, dns.TypeA, dns.RcodeSuccess},
	}
	denials := []check{
		{"nothere." + dnssecOrigin, dns.TypeA, dns.RcodeNameError},
		{"a.nothere." + dnssecOrigin, dns.TypeTXT, dns.RcodeNameError},
		{"www." + dnssecOrigin, dns.TypeMX, dns.RcodeSuccess},
		{"b.ent." + dnssecOrigin, dns.TypeA, dns.RcodeSuccess},
		{"foo.wild." + dnssecOrigin, dns.TypeA, dns.RcodeSuccess},
		{"foo.wild." + dnssecOrigin, dns.TypeMX, dns.RcodeSuccess},
		{"x.wcname." + dnssecOrigin, dns.TypeA, dns.RcodeSuccess},
	}
	for _, v := range []struct {
		name   string
		args   []string
		checks []check
	}{
		{"nsec", nil, append(positive, denials...)},
		{"nsec3", []string{"-3", "ab12", "-H", "1"}, append(positive, denials...)},
		{"nsec3-optout", []string{"-3", "-", "-H", "0", "-A"}, positive},
	} {
		t.Run(v.name, func(t *testing.T) {
			zones := peerZonesFromDir(t, signTestZone(t, dnssecZoneSource, dnssecOrigin, v.args...))
			zk := startZonekeeper(t, bin, zonekeeperIP, zones)
			ub := startUnbound(t, dnssecOrigin, ksk(t, zones[0].File), zk.addr)
			for _, c := range v.checks {
				r := resolve(t, ub, c.name, c.qtype)
				if r.Rcode != c.rcode || !r.AuthenticatedData {
					t.Errorf("%s %s: %s, AD %v; want %s with AD\n%v", c.name, dns.TypeToString[c.qtype],
						dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[c.rcode], r)
				}
			}
		})
	}
	t.Run("altered", func(t *testing.T) {
		dir := signTestZone(t, dnssecZoneSource, dnssecOrigin)
		zones := peerZonesFromDir(t, dir)
		b, err := os.ReadFile(zones[0].File)
		if err != nil {
			t.Fatal(err)
		}
		// www's address, changed after signing.
		altered := strings.Replace(string(b), "127.0.0.4\n", "127.0.0.44\n", 1)
		if altered == string(b) {
			t.Fatal("www's A record not found in the signed zone")
		}
		if err := os.WriteFile(zones[0].File, []byte(altered), 0o644); err != nil {
			t.Fatal(err)
		}
		zk := startZonekeeper(t, bin, zonekeeperIP, zones)
		ub := startUnbound(t, dnssecOrigin, ksk(t, zones[0].File), zk.addr)
		if r := resolve(t, ub, "www."+dnssecOrigin, dns.TypeA); r.Rcode != dns.RcodeServerFailure {
			t.Errorf("altered www A: %s, want SERVFAIL\n%v", dns.RcodeToString[r.Rcode], r)
		}
		// The records left as signed still validate.
		if r := resolve(t, ub, "signed.test.", dns.TypeMX); r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData {
			t.Errorf("MX beside the altered record: %s, AD %v; want NOERROR with AD", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
		}
	})
}

// TestUnboundValidatesSecondary: zonekeeper as a secondary of BIND,
// which serves a zone signed in the test, answers so that a validating
// unbound sets AD on its positive, NXDOMAIN, NODATA and wildcard
// answers.
func TestUnboundValidatesSecondary(t *testing.T) {
	bin := buildZonekeeper(t, t.TempDir())
	for _, v := range []struct {
		name string
		args []string
	}{{"nsec", nil}, {"nsec3", []string{"-3", "-", "-H", "0"}}} {
		t.Run(v.name, func(t *testing.T) {
			signed := peerZonesFromDir(t, signTestZone(t, dnssecZoneSource, dnssecOrigin, v.args...))[0].File
			key := newTSIGKey(t, "xfer.key", "hmac-sha256")
			bind := startBIND(t, bindOptions{Keys: []tsigKey{key}, Zones: []bindZone{{Origin: dnssecOrigin, File: signed, Key: key.Name}}})
			zk := startZKNode(t, bin, zkOptions{IP: zkIP})
			zk.addKey(key)
			zk.ok("zone", "add-secondary", dnssecOrigin, bind.Addr, "--tsig", key.Name)
			waitSerial(t, zk.dns, dnssecOrigin, 2026120801, propagationTimeout, func() string { return zk.proc.Output() })
			ub := startUnbound(t, dnssecOrigin, ksk(t, signed), zk.dns)
			for _, c := range []struct {
				name  string
				qtype uint16
				rcode int
			}{
				{"www." + dnssecOrigin, dns.TypeA, dns.RcodeSuccess},
				{"nothere." + dnssecOrigin, dns.TypeA, dns.RcodeNameError},
				{"www." + dnssecOrigin, dns.TypeMX, dns.RcodeSuccess},
				{"foo.wild." + dnssecOrigin, dns.TypeA, dns.RcodeSuccess},
			} {
				r := resolve(t, ub, c.name, c.qtype)
				if r.Rcode != c.rcode || !r.AuthenticatedData {
					t.Errorf("%s %s: %s, AD %v; want %s with AD\n%v", c.name, dns.TypeToString[c.qtype],
						dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[c.rcode], r)
				}
			}
		})
	}
}
