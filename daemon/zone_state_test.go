package daemon

// Tests of zone_state.go: the zone state option between peers over real
// loopback sockets, and that nobody else gets it.

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/api"
)

func TestPeerZoneState(t *testing.T) {
	t.Parallel()
	const zone = "failover.test."
	const keyName, secret = "c-key.", "c2VjcmV0IG9mIHRoZSBjIHBlZXIgb2YgYQ=="
	a := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): failoverZone(10, "")}, fastHealth)
	b := followPrimary(t, "127.0.0.2", a, fastHealth, zone)
	a.addKey(t, keyName, "hmac-sha256", secret)
	a.setPeers(peer{Name: "b", Addr: addrPort(t, b.addr), Role: rolePeer},
		peer{Name: "c", Addr: addrPort(t, "127.0.0.3:53"), Key: canonicalKeyName(keyName), Role: rolePeer})
	b.setPeers(peer{Name: "a", Addr: addrPort(t, a.addr), Role: rolePeer})
	ctx := context.Background()
	var digest []byte
	eventually(t, 10*time.Second, "a's digest", func() bool {
		digest = a.zones.Get(zone).ContentDigest()
		return len(digest) == 48
	}, nil)

	// b asks a: a primary, its serial and digest.
	pa, _ := b.peers.byName("a")
	st, err := b.peerZoneState(ctx, pa, zone)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Serves || st.Serial != 10 || st.Role != api.KindPrimary || !bytes.Equal(st.Digest, digest) || st.Primary != "" {
		t.Errorf("a as b sees it: %+v", st)
	}
	// a asks b: a secondary following a (b's name for it), with the same
	// content.
	eventually(t, 10*time.Second, "b's state as a sees it", func() bool {
		pb, _ := a.peers.byName("b")
		st, err = a.peerZoneState(ctx, pb, zone)
		return err == nil && st.Role == api.KindSecondary && st.Primary == "a" && st.Digest != nil
	}, nil)
	if st.Serial != 10 || !bytes.Equal(st.Digest, digest) {
		t.Errorf("b as a sees it: %+v", st)
	}
	// The health rounds carry it too.
	eventually(t, 10*time.Second, "the health round's view of b", func() bool {
		z, err := a.client().Zone(ctx, zone)
		return err == nil && len(z.Peers) == 2 && z.Peers[0].Peer == "b" && z.Peers[0].Role == api.KindSecondary && z.Peers[0].Primary == "a"
	}, nil)
	eventually(t, 10*time.Second, "the health round's view of a", func() bool {
		z, err := b.client().Zone(ctx, zone)
		return err == nil && len(z.Peers) == 1 && z.Peers[0].Role == api.KindPrimary && z.Peers[0].Digest == st2hex(digest)
	}, nil)

	// A peer that is down: an error naming why.
	pc, _ := a.peers.byName("c")
	pc.Addr = addrPort(t, "127.0.0.3:1")
	if _, err := a.peerZoneState(ctx, pc, zone); err == nil {
		t.Error("an unreachable peer gave no error")
	}

	// b's address, unsigned (b has no key), the option alone without EDNS
	// EXPIRE: the fast path hands it to the slow path, which adds it.
	if zs, ok := askWithOption(t, "127.0.0.2", a.addr, zone, nil); !ok || zs.Role != answer.ZoneRolePrimary || !bytes.Equal(zs.Digest, digest) {
		t.Errorf("b, unsigned, option alone: %+v %v", zs, ok)
	}
	// Not a peer: the SOA, without the option.
	if zs, ok := askWithOption(t, "127.0.0.9", a.addr, zone, nil); ok {
		t.Errorf("a non-peer got the zone state %+v", zs)
	}
	// c's address but unsigned, though c has a key: not c.
	if zs, ok := askWithOption(t, "127.0.0.3", a.addr, zone, nil); ok {
		t.Errorf("an unsigned query from c's address got the zone state %+v", zs)
	}
	// Signed with c's key from c's address: c.
	zs, ok := askWithOption(t, "127.0.0.3", a.addr, zone, map[string]string{keyName: secret})
	if !ok || zs.Role != answer.ZoneRolePrimary || zs.Serial != 10 || !bytes.Equal(zs.Digest, digest) {
		t.Errorf("c, signed: %+v %v", zs, ok)
	}
}

// st2hex is a digest in hex.
func st2hex(d []byte) string { return zoneState{Digest: d}.DigestHex() }

// askWithOption sends an SOA query with the zone state option from ip,
// signed with the one key of keys when there is one, and returns the
// option of the answer.
func askWithOption(t *testing.T, ip, addr, zone string, keys map[string]string) (answer.ZoneState, bool) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	m.SetEdns0(1232, false)
	o := m.IsEdns0()
	o.Option = append(o.Option, &dns.EDNS0_LOCAL{Code: answer.OptionZoneState})
	c := &dns.Client{Timeout: 3 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(ip)}}}
	for name := range keys {
		m.SetTsig(name, dns.HmacSHA256, 300, time.Now().Unix())
		c.TsigSecret = keys
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query from %s: %v", ip, err)
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !r.Authoritative {
		t.Fatalf("query from %s: %v", ip, r)
	}
	return zoneStateOption(r)
}
