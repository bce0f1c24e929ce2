// Package failover says what a promotion or a demotion will do, for the
// confirmation dialogs of the zone and cluster views. It is ready for the
// failover API: the plans are built from what the API reports today, and
// every fact the API cannot give yet is named as "not available yet".
package failover

import (
	"fmt"
	"strings"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
)

// Unavailable is why a promote or demote cannot be confirmed with the
// current daemon.
const Unavailable = "not available yet: the control API has no promote/demote endpoint; it comes with the failover work"

// maxListed bounds the zones a dialog lists one by one.
const maxListed = 6

// PromotePlan is one promotion: one zone, or every zone whose primary is
// From.
type PromotePlan struct {
	Zones []api.Zone // the secondary zones to promote
	From  string     // the unreachable primary, for "promote every zone from PRIMARY"
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
		"Peers to be notified: "+common.NotAvailable+" (the API does not list peers)",
		"Backup of each secondary file: "+common.NotAvailable,
	)
	return out
}

// DemotePlan is one demotion of a primary zone to a secondary of
// Primaries.
type DemotePlan struct {
	Zone      api.Zone
	Primaries []string
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
		"Its zonefile leaves DATA/zones; backup: " + common.NotAvailable,
		"Peers to be notified: " + common.NotAvailable,
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
