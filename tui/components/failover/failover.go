// Package failover says what a promotion or a demotion will do, for the
// confirmation dialogs of the zone and cluster views, and what it did:
// the plans are built from the zones and peers the control API reports,
// the outcomes from its PromoteResult and DemoteResult.
package failover

import (
	"fmt"
	"strings"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
)

// Unavailable is why a promote or demote cannot be confirmed when the
// daemon given to the TUI has no failover API (a test's fake).
const Unavailable = "not available: this daemon connection has no promote/demote calls"

// maxListed bounds the zones a dialog lists one by one.
const maxListed = 6

// PromotePlan is one promotion: one zone, or every zone whose primary is
// From.
type PromotePlan struct {
	Zones []api.Zone // the secondary zones to promote
	From  string     // the unreachable primary, for "promote every zone from PRIMARY"
	Peers []api.Peer // the peers of this node: they are NOTIFYed
	// PeersErr is why the peers could not be listed, if they could not.
	PeersErr error
}

// Title is the dialog's title.
func (p PromotePlan) Title() string {
	if p.From != "" {
		return fmt.Sprintf("Promote every zone from %s (%d)", p.From, len(p.Zones))
	}
	if len(p.Zones) == 1 {
		return "Promote " + p.Zones[0].Name + " to primary"
	}
	return fmt.Sprintf("Promote %d zones to primary", len(p.Zones))
}

// Lines says exactly what will happen.
func (p PromotePlan) Lines() []string {
	var out []string
	out = append(out, "Each zone stops transferring from its primaries and is served from DATA/zones as a primary, at the serial it serves now:")
	for i, z := range p.Zones {
		if i == maxListed {
			out = append(out, fmt.Sprintf("  … and %d more", len(p.Zones)-maxListed))
			break
		}
		serial := "not transferred yet: nothing to serve"
		if z.Serial != 0 {
			serial = fmt.Sprintf("serial %d", z.Serial)
		}
		from := common.None
		if len(z.Primaries) > 0 {
			from = strings.Join(z.Primaries, ", ")
		}
		out = append(out, fmt.Sprintf("  • %s  %s, primaries %s", z.Name, serial, from))
	}
	out = append(out,
		"Peers to be notified (NOTIFY at the same serial): "+peerList(p.Peers, p.PeersErr),
		"The transferred file of each zone moves to DATA/backup/<zone>.<serial>.<time>.zone; the primaries it came from are kept as FORMER-PRIMARIES.",
	)
	return out
}

// peerList names the peers, "none" when there are none.
func peerList(peers []api.Peer, err error) string {
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	if len(peers) == 0 {
		return "none (no peers configured; other NOTIFY targets of the zone still are)"
	}
	names := make([]string, len(peers))
	for i, p := range peers {
		names[i] = p.Name + " " + p.Addr
	}
	return strings.Join(names, ", ")
}

// PromoteOutcome summarises a promotion's result for the status line,
// and returns the first error among its zones.
func PromoteOutcome(r *api.PromoteResult) (string, error) {
	var ok []string
	var failed []string
	var backup string
	for _, z := range r.Zones {
		if z.Error != "" {
			failed = append(failed, z.Zone+": "+z.Error)
			continue
		}
		ok = append(ok, fmt.Sprintf("%s (serial %d)", z.Zone, z.Serial))
		if backup == "" {
			backup = z.Backup
		}
	}
	text := "promoted to primary: " + common.None
	if len(ok) > 0 {
		text = "promoted to primary: " + strings.Join(ok, ", ")
		if backup != "" {
			text += "; backup " + backup
		}
	}
	if len(failed) > 0 {
		return text, fmt.Errorf("%d failed: %s", len(failed), strings.Join(failed, "; "))
	}
	if len(r.Zones) == 0 {
		return "no secondary zone to promote", nil
	}
	return text, nil
}

// DemotePlan is one demotion of a primary zone to a secondary of
// Primaries.
type DemotePlan struct {
	Zone      api.Zone
	Primaries []string
	Peers     []api.Peer
	PeersErr  error
}

// Title is the dialog's title.
func (p DemotePlan) Title() string { return "Demote " + p.Zone.Name + " to secondary" }

// Lines says exactly what will happen.
func (p DemotePlan) Lines() []string {
	prim := "the addresses you will give here"
	if len(p.Primaries) > 0 {
		prim = strings.Join(p.Primaries, ", ")
	}
	return []string{
		fmt.Sprintf("%s (serial %d) stops being edited here and transfers from %s from then on.", p.Zone.Name, p.Zone.Serial, prim),
		"Its zonefile is first copied to DATA/backup/<zone>.<serial>.<time>.zone, then the zone is transferred in full; a failed transfer changes nothing.",
		"Peers of this node (as a secondary it sends no NOTIFY; the new primary does): " + peerList(p.Peers, p.PeersErr),
	}
}

// Groups returns the secondary zones by their first primary, for the
// cluster view's "promote every zone from PRIMARY".
func Groups(zones []api.Zone) (primaries []string, byPrimary map[string][]api.Zone) {
	byPrimary = make(map[string][]api.Zone)
	for _, z := range zones {
		if z.Kind != api.KindSecondary || len(z.Primaries) == 0 {
			continue
		}
		p := z.Primaries[0]
		if _, ok := byPrimary[p]; !ok {
			primaries = append(primaries, p)
		}
		byPrimary[p] = append(byPrimary[p], z)
	}
	return primaries, byPrimary
}
