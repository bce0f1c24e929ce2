package zone

import (
	"testing"

	"zonekeeper/daemon/api"
)

func TestTUIZonePeersLineAndExpiry(t *testing.T) {
	z := api.Zone{Name: "p.example.", PeersInSync: "1/3", Peers: []api.PeerState{
		{Peer: "nb", Reachable: true, Serves: true, Serial: 100, InSync: true},
		{Peer: "nc", Reachable: true, Serves: true, Serial: 97, Lag: 3},
		{Peer: "nd"},
	}}
	if got, want := PeersLine(z), "peers 1/3 in sync: nb ✓ 100 · nc 97 lag 3 · nd unreachable"; got != want {
		t.Errorf("PeersLine: %q, want %q", got, want)
	}
	if got := PeersLine(api.Zone{}); got != "peers: — (no peer checked for this zone)" {
		t.Errorf("PeersLine without peers: %q", got)
	}
	n := int64(3*3600 + 12*60)
	zero := int64(0)
	for _, c := range []struct {
		in   *int64
		want string
	}{{nil, "—"}, {&n, "in 3h12m"}, {&zero, "expired"}} {
		if got := ExpireText(api.Zone{ExpireIn: c.in}); got != c.want {
			t.Errorf("ExpireText(%v): %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTUIZonePeerDiverged(t *testing.T) {
	p := api.PeerState{Peer: "nb", Reachable: true, Serves: true, Serial: 10, Digest: "0123456789abcdef0123", Diverged: true}
	if got, want := PeerText(p), "nb ≠ 10 DIVERGED, digest 0123456789ab"; got != want {
		t.Errorf("PeerText: %q, want %q", got, want)
	}
}
