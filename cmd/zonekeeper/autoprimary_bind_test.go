package main

// BIND 9 as the notifying autoprimary of zonekeeper: a zone unknown to
// zonekeeper is provisioned from one NOTIFY when the notifier's IP and
// the zone's NS name match the autoprimary table, and refused, with an
// event saying which condition failed, otherwise.

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// autoprimaryBINDZone is a BIND primary zone whose NS set is ns1 of the
// zone and nsname.
func autoprimaryBINDZone(origin, nsname string, serial uint32) string {
	return fmt.Sprintf(`$ORIGIN %s
$TTL 300
@ SOA ns1 hostmaster %d 3600 600 86400 60
@ NS ns1
@ NS %s
ns1 A 127.0.0.1
www A 127.0.0.10
`, origin, serial, nsname)
}

func TestAutoprimaryBIND(t *testing.T) {
	const (
		okZone   = "ap-ok.test."
		noNSZone = "ap-nons.test."
		noSOA    = "ap-nosoa.test."
		nsName   = "sec.zk.test."
	)
	key := newTSIGKey(t, "ap.key", "hmac-sha256")
	bindPort := freeLoopbackPort(t, bindIP)
	bin := buildZonekeeper(t, t.TempDir())
	// zonekeeper asks the notifier at --ns-port: BIND's port.
	zk := startZKNode(t, bin, zkOptions{IP: zkIP, Flags: []string{"--ns-port", strconv.Itoa(bindPort)}})
	zk.addKey(key)
	zk.ok("autoprimary", "add", "127.0.0.3", nsName, "elsewhere")
	since := zk.lastEventID()

	dir := t.TempDir()
	okFile, noNSFile := filepath.Join(dir, "ok.zone"), filepath.Join(dir, "nons.zone")
	writeTestFile(t, okFile, autoprimaryBINDZone(okZone, nsName, 2026030101))
	writeTestFile(t, noNSFile, autoprimaryBINDZone(noNSZone, "other.zk.test.", 2026030101))
	bind := startBIND(t, bindOptions{Port: bindPort, Keys: []tsigKey{key}, Zones: []bindZone{
		{Origin: okZone, File: okFile, Key: key.Name, AlsoNotify: []string{zk.dns}},
		{Origin: noNSZone, File: noNSFile, Key: key.Name, AlsoNotify: []string{zk.dns}},
	}})

	refused := func(zone, text string) {
		t.Helper()
		zk.waitEvent(zone, since, 20*time.Second, "notify-in saying "+text, func(ev api.Event) bool {
			return ev.Kind == "notify-in" && strings.Contains(ev.Detail, text)
		})
		if _, ok := zk.zones()[zone]; ok {
			t.Errorf("%s provisioned although its NOTIFY was refused", zone)
		}
	}

	// (b) fails: BIND's 127.0.0.1 is not in the table (only 127.0.0.3).
	refused(okZone, "condition (b) failed: 127.0.0.1 is not in the autoprimary table")

	// All hold: one NOTIFY provisions the zone, signed with BIND's key.
	zk.ok("autoprimary", "add", "127.0.0.1", nsName, "acme")
	since = zk.lastEventID()
	bind.rndc("notify", strings.TrimSuffix(okZone, "."))
	zk.waitEvent(okZone, since, 20*time.Second, "autoprimary-provision", func(ev api.Event) bool {
		return ev.Kind == "autoprimary-provision" && strings.Contains(ev.Detail, "account acme")
	})
	zk.eventually("the provisioned zone served at BIND's serial", func() bool { return zk.serial(okZone) == 2026030101 })
	z := zk.zones()[okZone]
	if z.Kind != api.KindSecondary || z.Account != "acme" {
		t.Errorf("zone list: %s is %s, account %q; want a secondary, account acme", okZone, z.Kind, z.Account)
	}

	// (c) fails: the zone's NS set does not hold sec.zk.test.
	bind.rndc("notify", strings.TrimSuffix(noNSZone, "."))
	refused(noNSZone, "condition (c) failed")

	// (a) fails: a NOTIFY from BIND's address for a zone BIND lacks.
	m := new(dns.Msg)
	m.SetNotify(noSOA)
	c := &dns.Client{Timeout: 10 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(bindIP)}}}
	r, _, err := c.Exchange(m, zk.dns)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeRefused {
		t.Errorf("NOTIFY for %s answered %s, want REFUSED", noSOA, dns.RcodeToString[r.Rcode])
	}
	refused(noSOA, "condition (a) failed: "+bind.Addr+" serves no SOA for the zone")
}
