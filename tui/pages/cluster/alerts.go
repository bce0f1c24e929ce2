package cluster

import (
	"fmt"
	"strings"

	"zonekeeper/daemon/api"
)

// maxAlertLines bounds the list of zones in split-brain or diverged.
const maxAlertLines = 4

// alertLines lists the zones whose peers hold other data: split-brain
// (a peer ahead of this primary) and diverged (a peer at our serial
// with another content digest, both digests shortened). Nothing when
// there are none.
func (m *Model) alertLines() []string {
	var out []string
	for _, z := range m.zones {
		switch z.State {
		case api.StateSplitBrain:
			out = append(out, fmt.Sprintf("  %s SPLIT-BRAIN · %s", z.Name, z.Error))
		case api.StateDiverged:
			var with []string
			for _, ps := range z.Peers {
				if ps.Diverged {
					with = append(with, fmt.Sprintf("%s has %s", ps.Peer, ShortDigest(ps.Digest)))
				}
			}
			out = append(out, fmt.Sprintf("  %s DIVERGED · serial %d · digest %s here, %s · zonekeeper zone health %s",
				z.Name, z.Serial, ShortDigest(z.Digest), strings.Join(with, ", "), z.Name))
		}
	}
	if len(out) == 0 {
		return nil
	}
	if len(out) > maxAlertLines {
		out = append(out[:maxAlertLines], fmt.Sprintf("  … and %d more zones", len(out)-maxAlertLines))
	}
	return append([]string{"Peers with other data (same zone, different content):"}, out...)
}

// ShortDigest is the first 12 hex digits of a content digest, for one
// line; "—" while unknown.
func ShortDigest(d string) string {
	if d == "" {
		return "—"
	}
	return d[:min(12, len(d))]
}
