package daemon

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// TestTCPLimitsSpareReplicationPartners shows the listeners' per-address
// limit applying to a client and not to the servers this node
// replicates with, as the settings, the metadata and the peers added
// through the control API name them (reserved.go).
func TestTCPLimitsSpareReplicationPartners(t *testing.T) {
	td := startSpecialDaemon(t, map[string]string{"example.org.zone": spExampleZoneText}, func(c *Config) {
		c.TCPMaxPerAddr = 2
		c.AllowAXFR = []string{"127.0.0.4"}
	}, nil)
	c, ctx := td.client(), context.Background()
	if err := c.SetMeta(ctx, "example.org", store.MetaAllowAXFRFrom, []string{"127.0.0.6"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddPeer(ctx, api.Peer{Name: "stealth", Addr: "127.0.0.7:5399", Role: api.RoleSecondary}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the control API's changes to reach the reserved set", func() bool {
		return td.reserved.contains(netip.MustParseAddr("127.0.0.6")) && td.reserved.contains(netip.MustParseAddr("127.0.0.7"))
	})
	for _, ip := range []string{"127.0.0.4", "127.0.0.6", "127.0.0.7"} {
		var conns []*net.TCPConn
		for range 3 {
			conns = append(conns, spDialFrom(t, ip, td.addr))
		}
		for i, conn := range conns {
			b, _ := spSignRequest(t, spXfrRequest("example.org.", dns.TypeAXFR, 0), nil, 0)
			spWriteFrame(t, conn, b)
			if res := spReadTransfer(t, conn, nil, ""); len(res.records) != 7 {
				t.Fatalf("transfer %d of %s: %d records", i+1, ip, len(res.records))
			}
		}
	}
	var conns []*net.TCPConn
	for range 3 {
		conns = append(conns, spDialFrom(t, "127.0.0.8", td.addr))
	}
	q := new(dns.Msg)
	q.SetQuestion("www.example.org.", dns.TypeA)
	b, _ := spSignRequest(t, q, nil, 0)
	for i, conn := range conns {
		conn.Write(append([]byte{byte(len(b) >> 8), byte(len(b))}, b...))
		_, err := spReadFrame(conn, 5*time.Second)
		if ok := err == nil; ok != (i < 2) {
			t.Errorf("query on connection %d of 127.0.0.8 with a limit of 2: answered %v (%v)", i+1, ok, err)
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.TCP.RefusedPerAddr != 1 {
		t.Errorf("status TCP counts %+v; want one refused per address", st.TCP)
	}
}

// TestReservedSet reads the set from every source and leaves out what is
// not one server.
func TestReservedSet(t *testing.T) {
	td := startSpecialDaemon(t, nil, func(c *Config) {
		c.AllowAXFR = []string{"10.0.0.0/8", "192.0.2.0/24"}
		c.AlsoNotify = []string{"127.0.0.11:5300"}
	}, nil)
	ctx := context.Background()
	if err := td.store.Zones().Put(ctx, store.Zone{Name: "sec.example.", Kind: store.KindSecondary, Primaries: []string{"127.0.0.12", "[2001:db8::12]:5300"}}); err != nil {
		t.Fatal(err)
	}
	spSetTestMeta(t, td, "sec.example.", store.MetaAlsoNotify, "127.0.0.13")
	spSetTestMeta(t, td, "sec.example.", store.MetaAllowAXFRFrom, "2001:db8:1::/56", "2001:db8:2::/48")
	if err := td.store.Autoprimaries().Add(ctx, store.Autoprimary{IP: "127.0.0.14", Nameserver: "ns.example."}); err != nil {
		t.Fatal(err)
	}
	td.loadReserved(ctx)
	for addr, want := range map[string]bool{
		"127.0.0.11": true, "127.0.0.12": true, "2001:db8::12": true, "127.0.0.13": true, "127.0.0.14": true,
		"192.0.2.77": true, "2001:db8:1:ff::1": true,
		"10.1.2.3": false, "2001:db8:2::1": false, "127.0.0.15": false, "::ffff:127.0.0.12": true,
	} {
		if got := td.reserved.contains(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s reserved: %v, want %v", addr, got, want)
		}
	}
}
