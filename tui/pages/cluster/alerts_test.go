package cluster

import (
	"strings"
	"testing"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/styles"
)

// A diverged zone is listed in the cluster view with both digests
// shortened, and its peer line says so, as split-brain is shown.
func TestTUIClusterDiverged(t *testing.T) {
	ours, theirs := strings.Repeat("ab", 48), strings.Repeat("cd", 48)
	m := newModel(&fakeDaemon{peers: []api.Peer{{Name: "nb", Addr: "127.0.0.2:53"}}})
	run(m, m.Update(common.ZonesMsg{Zones: []api.Zone{
		{Name: "d.example.", Kind: api.KindPrimary, State: api.StateDiverged, Serial: 10, Digest: ours, PeersInSync: "0/1",
			Peers: []api.PeerState{{Peer: "nb", Addr: "127.0.0.2:53", Reachable: true, Serves: true, Serial: 10, Role: api.KindPrimary, Digest: theirs, Diverged: true}}},
		{Name: "s.example.", Kind: api.KindPrimary, State: api.StateSplitBrain, Serial: 5, Error: "peer nb (127.0.0.2:53) serves serial 6, newer than ours (5)"},
	}}))
	v := m.View()
	for _, want := range []string{
		"Peers with other data",
		"d.example. DIVERGED · serial 10 · digest abababababab here, nb has cdcdcdcdcdcd",
		"s.example. SPLIT-BRAIN · peer nb",
		"d.example. diverged",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the cluster view lacks %q:\n%s", want, v)
		}
	}
	if common.StateSeverity(api.StateDiverged) != styles.Critical {
		t.Error("diverged is not shown as critical, as split-brain is")
	}
}
