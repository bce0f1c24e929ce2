package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// apZoneText is a primary zonefile whose NS set is ns1 (127.0.0.1) and
// ns2 (127.0.0.2).
func apZoneText(zone string, serial uint32) string {
	return fmt.Sprintf(`$ORIGIN %s
$TTL 300
@ SOA ns1 hostmaster %d 3600 600 86400 60
@ NS ns1
@ NS ns2
ns1 A 127.0.0.1
ns2 A 127.0.0.2
www A 127.0.0.10
`, zone, serial)
}

// freeLoopbackPort returns a port free for UDP and TCP on ip just now.
func freeLoopbackPort(t testing.TB, ip string) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
		pc.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// apNotify sends a NOTIFY for zone from ip to the node and returns the
// answer's rcode.
func apNotify(t testing.TB, ip string, n *secondaryNode, zone string) int {
	t.Helper()
	m := new(dns.Msg)
	m.SetNotify(zone)
	return exchangeFrom(t, ip, n.addr, m).Rcode
}

// addAutoprimary registers an autoprimary on node n.
func addAutoprimary(t testing.TB, n *secondaryNode, ip, ns, account string) {
	t.Helper()
	if err := n.store.Autoprimaries().Add(context.Background(), store.Autoprimary{IP: ip, Nameserver: ns, Account: account}); err != nil {
		t.Fatal(err)
	}
}

func TestAutoprimaryProvisioning(t *testing.T) {
	zone := "example.org."
	primary := startNode(t, "127.0.0.1", "", map[string]string{"example.org.zone": apZoneText(zone, 2026010101)},
		func(c *Config) { c.AllowAXFR = []string{"127.0.0.2/32"} })
	_, portText, _ := net.SplitHostPort(primary.addr)
	port, _ := strconv.Atoi(portText)

	tests := []struct {
		name      string
		ip, ns    string // the autoprimary entry; "" none
		zone      string // notified
		rcode     int
		eventKind string
		want      string
	}{
		{name: "accepted", ip: "127.0.0.1", ns: "ns2.example.org.", zone: zone, rcode: dns.RcodeSuccess,
			eventKind: "autoprimary-provision", want: "secondary zone provisioned from autoprimary 127.0.0.1 (NS ns2.example.org., account acme)"},
		{name: "IP absent", ip: "127.0.0.3", ns: "ns2.example.org.", zone: zone, rcode: dns.RcodeNotAuth,
			eventKind: "notify-in", want: "condition (b) failed: 127.0.0.1 is not in the autoprimary table"},
		{name: "NS name not in the NS set", ip: "127.0.0.1", ns: "ns9.example.net.", zone: zone, rcode: dns.RcodeRefused,
			eventKind: "notify-in", want: "condition (c) failed: the zone's NS set at " + primary.addr + " (ns1.example.org., ns2.example.org.) does not hold ns9.example.net."},
		{name: "no SOA at the notifier", ip: "127.0.0.1", ns: "ns2.example.org.", zone: "other.test.", rcode: dns.RcodeRefused,
			eventKind: "notify-in", want: "condition (a) failed: " + primary.addr + " serves no SOA for the zone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := startSecondaryNode(t, "", func(c *Config) { c.NSPort = port })
			if tc.ip != "" {
				addAutoprimary(t, n, tc.ip, tc.ns, "acme")
			}
			if rc := apNotify(t, "127.0.0.1", n, tc.zone); rc != tc.rcode {
				t.Fatalf("NOTIFY answered %s, want %s\n%s", dns.RcodeToString[rc], dns.RcodeToString[tc.rcode], eventDump(n.events(t, tc.zone, "")))
			}
			ev := n.waitEvent(t, tc.zone, tc.eventKind, tc.want, 5*time.Second)
			t.Log(ev.Detail)
			row, err := n.store.Zones().Get(context.Background(), tc.zone)
			if tc.rcode != dns.RcodeSuccess {
				if err == nil {
					t.Fatalf("zone %s provisioned although the NOTIFY was refused", tc.zone)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if row.Kind != store.KindSecondary || row.Account != "acme" || len(row.Primaries) != 1 || row.Primaries[0] != primary.addr {
				t.Errorf("provisioned row %+v: want a secondary of %s, account acme", row, primary.addr)
			}
			eventually(t, 20*time.Second, "the provisioned zone served", func() bool { return n.servedSerial(t, zone) == 2026010101 },
				func() string { return eventDump(n.events(t, zone, "")) })
			// A second NOTIFY goes to the secondary side as usual.
			if rc := apNotify(t, "127.0.0.1", n, zone); rc != dns.RcodeSuccess {
				t.Errorf("second NOTIFY answered %s", dns.RcodeToString[rc])
			}
		})
	}
}

// TestAutoprimaryZonekeeperToZonekeeper: zonekeeper as the autoprimary
// of zonekeeper, the two not peers: a zonefile added on the primary
// appears on the secondary with no command there.
func TestAutoprimaryZonekeeperToZonekeeper(t *testing.T) {
	zone := "example.net."
	port := freeLoopbackPort(t, "127.0.0.1")
	sec := startSecondaryNode(t, "", func(c *Config) { c.NSPort = port })
	addAutoprimary(t, sec, "127.0.0.1", "ns2."+zone, "ops")
	primary := startNode(t, "127.0.0.1", "", nil, func(c *Config) {
		c.Listen = []string{fmt.Sprintf("127.0.0.1:%d", port)}
		c.AllowAXFR = []string{"127.0.0.2/32"}
		c.AlsoNotify = []string{sec.addr}
	})

	write := func(serial uint32) {
		path := filepath.Join(primary.dir, "example.net.zone")
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(apZoneText(zone, serial)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(2026020101)
	eventually(t, 30*time.Second, "the zone provisioned and served on the secondary", func() bool { return sec.servedSerial(t, zone) == 2026020101 },
		func() string {
			return eventDump(sec.events(t, zone, "")) + "primary:\n" + eventDump(primary.events(t, zone, ""))
		})
	row, err := sec.store.Zones().Get(context.Background(), zone)
	if err != nil {
		t.Fatal(err)
	}
	if row.Kind != store.KindSecondary || row.Account != "ops" {
		t.Errorf("provisioned row %+v: want a secondary with account ops", row)
	}
	sec.waitEvent(t, zone, "autoprimary-provision", "account ops", 5*time.Second)

	// Later versions follow by the ordinary NOTIFY and refresh.
	write(2026020102)
	eventually(t, 30*time.Second, "the new version on the secondary", func() bool { return sec.servedSerial(t, zone) == 2026020102 },
		func() string { return eventDump(sec.events(t, zone, "")) })
	if evs := sec.events(t, zone, "autoprimary-provision"); len(evs) != 1 {
		var b strings.Builder
		for _, e := range evs {
			b.WriteString(e.Detail + "\n")
		}
		t.Errorf("%d autoprimary-provision events, want 1:\n%s", len(evs), b.String())
	}

	// Removed on the autoprimary, the zone is not removed silently here:
	// it stays, served and stale, until the operator removes it.
	if err := os.Remove(filepath.Join(primary.dir, "example.net.zone")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the zone gone from the primary", func() bool { return primary.servedSerial(t, zone) == -1 }, nil)
	if err := sec.secondaries.retrieve(context.Background(), zone); err == nil {
		t.Fatal("retrieve succeeded from a primary that no longer serves the zone")
	}
	if v, ok := sec.secondaries.view(zone); !ok || v.state != api.StateStale {
		t.Errorf("zone state %q, want %q", v.state, api.StateStale)
	}
	if got := sec.servedSerial(t, zone); got != 2026020102 {
		t.Errorf("serial served %d, want 2026020102 still", got)
	}
}
