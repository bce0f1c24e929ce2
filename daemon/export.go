package daemon

// Configuration export (`zonekeeper export`): a ready fragment that makes
// a BIND, Knot or NSD server a secondary of this node's zones (role
// secondary) or their primary, serving this node and its peers (role
// primary). The fragment carries the TSIG secrets, which the control
// API lists nowhere else: it is built here, behind the control socket
// (root and the service group only), and the export is logged.

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// exportServer is one server named in a zone of the fragment: a primary
// to transfer from (role secondary) or a secondary to allow and notify
// (role primary).
type exportServer struct {
	Addr netip.AddrPort
	Key  string // TSIG key name, fully qualified; "" unsigned
}

// exportZone is one zone of the fragment.
type exportZone struct {
	Name    string // fully qualified, lower case
	Servers []exportServer
	Notes   []string // comments placed above the zone
}

// exportPlan is everything a fragment says, whatever its format.
type exportPlan struct {
	Format string
	Role   string
	Peer   string      // the peer the fragment is for (`--peer`); "" any server
	Source netip.Addr  // that peer's address: its requests and NOTIFYs leave from it; invalid none
	Keys   []store.Key // every key the zones name, once, by name
	Zones  []exportZone
	Notes  []string // comments at the top
}

// exportPlan gathers what the fragment for names says: the keys, and for
// each zone the servers it names. target is the peer the fragment is
// for (`export --peer`), nil for any server (docs/architecture.md,
// "Peers, keys and access": the key a peer's traffic is signed with).
func (d *Daemon) exportPlan(ctx context.Context, format, role string, names []string, target *peer) exportPlan {
	plan := exportPlan{Format: format, Role: role}
	own := d.ownAddrs()
	for _, a := range own {
		if a.Addr().IsUnspecified() {
			plan.Notes = append(plan.Notes, fmt.Sprintf("zonekeeper listens on %s (every address): replace it below with an address of this host that the server can reach", a))
		}
	}
	peers := d.peers.list()
	if target != nil {
		plan.Peer, plan.Source = target.Name, target.Addr.Addr()
		plan.Notes = append(plan.Notes, fmt.Sprintf("for peer %s: zonekeeper knows the server at %s, so it must answer there, and its requests and NOTIFYs leave from %s", target.Name, target.Addr, target.Addr.Addr()))
	}
	keys := make(map[string]store.Key)
	useKey := func(z *exportZone, name string) string {
		if name == "" {
			return ""
		}
		k, ok := d.keys.lookup(name)
		if !ok {
			sk, err := d.store.Keys().Get(ctx, name)
			if err != nil {
				z.Notes = append(z.Notes, fmt.Sprintf("TSIG key %s is named by the zone but does not exist here: left out", canonicalKeyName(name)))
				return ""
			}
			k = sk
		}
		k.Name = canonicalKeyName(k.Name)
		keys[k.Name] = k
		return k.Name
	}
	meta := func(zone, kind string) []string {
		v, _ := d.store.Meta().Get(ctx, zone, kind)
		return v
	}
	first := func(v []string) string {
		if len(v) == 0 {
			return ""
		}
		return strings.TrimSpace(v[0])
	}
	// Without --peer, role secondary names every keyed secondary peer's
	// key: the fragment then works on whichever of them it is used.
	var peerKeys []string
	if target == nil && role == api.ExportRoleSecondary {
		var named []string
		for _, p := range peers {
			if p.Role == roleSecondary && p.Key != "" && !slices.Contains(peerKeys, p.Key) {
				peerKeys = append(peerKeys, p.Key)
				named = append(named, p.Name)
			}
		}
		if len(named) > 1 {
			plan.Notes = append(plan.Notes, fmt.Sprintf("it holds the keys of every keyed secondary peer (%s): `--peer NAME` gives one server's fragment, with its key alone", strings.Join(named, ", ")))
		}
	}
	for _, name := range names {
		z := exportZone{Name: name}
		if role == api.ExportRoleSecondary {
			var zkeys []string
			switch {
			case target != nil && target.Key != "":
				zkeys = []string{target.Key} // what the peer's traffic is signed with
			default:
				zkeys = append(zkeys, first(meta(name, store.MetaTSIGAllowAXFR)))
				zkeys = append(zkeys, peerKeys...)
			}
			var used []string
			for _, k := range zkeys {
				if k = useKey(&z, k); k != "" && !slices.Contains(used, k) {
					used = append(used, k)
				}
			}
			switch {
			case len(used) == 0 && target != nil:
				z.Notes = append(z.Notes, fmt.Sprintf("peer %s has no key, nor the zone a TSIG-ALLOW-AXFR key: transfers go unsigned, allowed by the peer's address %s", target.Name, target.Addr.Addr()))
			case len(used) == 0:
				z.Notes = append(z.Notes, "no TSIG-ALLOW-AXFR key: transfers go unsigned; allow this server by address on zonekeeper's side (`zonekeeper peer add NAME ADDR --role secondary`, ALLOW-AXFR-FROM or allow-axfr)")
			}
			if len(used) == 0 {
				used = []string{""}
			}
			for _, a := range own {
				for _, k := range used {
					z.Servers = append(z.Servers, exportServer{Addr: a, Key: k})
				}
			}
		} else {
			upstream := d.primaryPeers(ctx, name)
			zoneKey := first(meta(name, store.MetaAXFRMasterTSIG))
			if zoneKey == "" {
				if sz, err := d.store.Zones().Get(ctx, name); err == nil {
					zoneKey = sz.TSIGKey // a secondary's key for its primaries
				}
			}
			if zoneKey == "" {
				zoneKey = first(meta(name, store.MetaTSIGAllowAXFR))
			}
			// A zone without a key of its own transfers from a primary
			// that is a keyed peer with the peer's key (primariesOf).
			if zoneKey == "" && target != nil {
				zoneKey = target.Key
			}
			for _, p := range upstream {
				if zoneKey == "" && target == nil {
					zoneKey = p.Key
				}
			}
			if target != nil && !slices.ContainsFunc(upstream, func(p peer) bool { return p.Name == target.Name }) {
				if sz, err := d.store.Zones().Get(ctx, name); err == nil && sz.Kind == store.KindSecondary {
					z.Notes = append(z.Notes, fmt.Sprintf("peer %s is not among the zone's primaries here (%s): zonekeeper transfers from it once it is (`zonekeeper zone add-secondary %s %s`, or `zone demote %s --primary %s`)", target.Name, strings.Join(sz.Primaries, ", "), name, target.Name, name, target.Name))
				}
			}
			key := useKey(&z, zoneKey)
			if key == "" {
				z.Notes = append(z.Notes, "no TSIG key for this zone (AXFR-MASTER-TSIG, the secondary zone's key, TSIG-ALLOW-AXFR, or the key of the peer that is its primary): zonekeeper transfers unsigned, allowed by address")
			}
			for _, a := range own {
				z.Servers = append(z.Servers, exportServer{Addr: a, Key: key})
			}
			for _, p := range peers {
				// The server itself, the peer the fragment is for or the
				// zone's own primary, is not told of its own zone.
				if (target != nil && p.Name == target.Name) || slices.ContainsFunc(upstream, func(u peer) bool { return u.Name == p.Name }) {
					continue
				}
				z.Servers = appendServer(z.Servers, exportServer{Addr: p.Addr, Key: useKey(&z, p.Key)})
			}
			if len(peers) == 0 {
				for _, v := range meta(name, store.MetaAlsoNotify) {
					if ap, err := ParseAddr(strings.TrimSpace(v), 53); err == nil {
						z.Servers = appendServer(z.Servers, exportServer{Addr: ap, Key: key})
					}
				}
			}
		}
		plan.Zones = append(plan.Zones, z)
	}
	for _, k := range keys {
		plan.Keys = append(plan.Keys, k)
	}
	slices.SortFunc(plan.Keys, func(a, b store.Key) int { return strings.Compare(a.Name, b.Name) })
	return plan
}

// primaryPeers returns the peers that are zone's own primaries here
// (named by address and port, or by name), as primariesOf reads them.
func (d *Daemon) primaryPeers(ctx context.Context, zone string) []peer {
	row, err := d.store.Zones().Get(ctx, zone)
	if err != nil {
		return nil
	}
	var out []peer
	for _, v := range row.Primaries {
		p, ok := d.peers.byName(v)
		if !ok {
			ap, err := ParseAddr(v, 53)
			if err != nil {
				continue
			}
			if p, ok = d.peers.byAddr(ap.Addr()); !ok || p.Addr != netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()) {
				continue
			}
		}
		if !slices.ContainsFunc(out, func(x peer) bool { return x.Name == p.Name }) {
			out = append(out, p)
		}
	}
	return out
}

// appendServer adds s unless a server at the same address is listed.
func appendServer(list []exportServer, s exportServer) []exportServer {
	for _, x := range list {
		if x.Addr == s.Addr {
			return list
		}
	}
	return append(list, s)
}

// ownAddrs returns the addresses this node serves DNS on, once each.
func (d *Daemon) ownAddrs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, a := range d.server.Addrs() {
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			continue
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if !slices.Contains(out, ap) {
			out = append(out, ap)
		}
	}
	return out
}
