package daemon

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

func TestControlPeers(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	c, ctx := td.client(), context.Background()
	if _, err := c.AddKey(ctx, api.Key{Name: "cluster", Algorithm: "hmac-sha256", Secret: clusterSecret}); err != nil {
		t.Fatal(err)
	}
	p, err := c.AddPeer(ctx, api.Peer{Name: "Node-B", Addr: "127.0.0.2", TSIGKey: "CLUSTER"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "node-b" || p.Addr != "127.0.0.2:53" || p.TSIGKey != "cluster." || p.Role != api.RolePeer || p.Created.IsZero() {
		t.Errorf("added peer: %+v", p)
	}
	if _, ok := td.peers.byAddr(netip.MustParseAddr("127.0.0.2")); !ok {
		t.Error("the peer set was not reloaded")
	}
	for _, tc := range []struct {
		p    api.Peer
		code string
		want string
	}{
		{api.Peer{Name: "c", Addr: "127.0.0.3", TSIGKey: "nokey"}, api.CodeNotFound, "nokey. does not exist"},
		{api.Peer{Name: "c", Addr: "ns1.example.org"}, api.CodeBadRequest, "not an IP address"},
		{api.Peer{Name: "c", Addr: "127.0.0.3:99999"}, api.CodeBadRequest, "not an IP address"},
		{api.Peer{Name: "c", Addr: "0.0.0.0"}, api.CodeBadRequest, "cannot be reached"},
		{api.Peer{Name: "node-b", Addr: "127.0.0.3"}, api.CodeExists, "already exists"},
		{api.Peer{Name: "other", Addr: "127.0.0.2:53"}, api.CodeExists, "already peer node-b"},
		{api.Peer{Name: "c", Addr: "127.0.0.3", Role: "primary"}, api.CodeBadRequest, "unknown role"},
		{api.Peer{Name: "127.0.0.3", Addr: "127.0.0.3"}, api.CodeBadRequest, "is an IP address"},
		{api.Peer{Name: "a b", Addr: "127.0.0.3"}, api.CodeBadRequest, "use letters"},
		{api.Peer{Addr: "127.0.0.3"}, api.CodeBadRequest, "needs a name"},
	} {
		_, err := c.AddPeer(ctx, tc.p)
		if apiCode(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddPeer(%+v): %v (code %q), want %s containing %q", tc.p, err, apiCode(err), tc.code, tc.want)
		}
	}
	if _, err := c.AddPeer(ctx, api.Peer{Name: "bind", Addr: "[::1]:5300", Role: "secondary"}); err != nil {
		t.Fatal(err)
	}
	ps, err := c.Peers(ctx)
	if err != nil || len(ps) != 2 || ps[0].Name != "bind" || ps[0].Addr != "[::1]:5300" || ps[0].Role != api.RoleSecondary || ps[1].Name != "node-b" {
		t.Fatalf("Peers: %+v %v", ps, err)
	}
	if err := c.RemoveKey(ctx, "cluster."); apiCode(err) != api.CodeNotPermitted {
		t.Errorf("removing a peer's key: %v, want not-permitted", err)
	}
	if err := c.RemovePeer(ctx, "NODE-B"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemovePeer(ctx, "node-b"); apiCode(err) != api.CodeNotFound {
		t.Errorf("second RemovePeer: %v", err)
	}
	if _, ok := td.peers.byName("node-b"); ok {
		t.Error("the removed peer is still in the peer set")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, _ := td.store.Events().List(ctx, store.EventFilter{Kind: "peer-add"})
		rm, _ := td.store.Events().List(ctx, store.EventFilter{Kind: "peer-remove"})
		if len(evs) == 2 && len(rm) == 1 && strings.Contains(rm[0].Detail, "node-b") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("peer events: %+v %+v", evs, rm)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
