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

// exportBuilder holds what every zone of one export shares.
type exportBuilder struct {
	d      *Daemon
	ctx    context.Context
	own    []netip.AddrPort // this node's DNS addresses
	peers  []peer
	target *peer                // the peer the fragment is for; nil any server
	keys   map[string]store.Key // every key a zone uses, by canonical name
	// peerKeys are, without a target, the keys of every keyed secondary
	// peer, named in role secondary after the zone's own.
	peerKeys []string
}

// exportPlan gathers what the fragment for names says: the keys, and for
// each zone the servers it names. target is the peer the fragment is
// for (`export --peer`), nil for any server (docs/architecture.md,
// "Peers, keys and access": the key a peer's traffic is signed with).
func (d *Daemon) exportPlan(ctx context.Context, format, role string, names []string, target *peer) exportPlan {
	plan := exportPlan{Format: format, Role: role}
	b := &exportBuilder{d: d, ctx: ctx, own: d.ownAddrs(), peers: d.peers.list(), target: target, keys: make(map[string]store.Key)}
	for _, a := range b.own {
		if a.Addr().IsUnspecified() {
			plan.Notes = append(plan.Notes, fmt.Sprintf("zonekeeper listens on %s (every address): replace it below with an address of this host that the server can reach", a))
		}
	}
	if target != nil {
		plan.Peer, plan.Source = target.Name, target.Addr.Addr()
		plan.Notes = append(plan.Notes, fmt.Sprintf("for peer %s: zonekeeper knows the server at %s, so it must answer there, and its requests and NOTIFYs leave from %s", target.Name, target.Addr, target.Addr.Addr()))
	}
	// Without --peer, role secondary names every keyed secondary peer's
	// key: the fragment then works on whichever of them it is used.
	if target == nil && role == api.ExportRoleSecondary {
		var named []string
		for _, p := range b.peers {
			if p.Role == roleSecondary && p.Key != "" && !slices.Contains(b.peerKeys, p.Key) {
				b.peerKeys = append(b.peerKeys, p.Key)
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
			b.secondaryZone(&z)
		} else {
			b.primaryZone(&z)
		}
		plan.Zones = append(plan.Zones, z)
	}
	for _, k := range b.keys {
		plan.Keys = append(plan.Keys, k)
	}
	slices.SortFunc(plan.Keys, func(a, b store.Key) int { return strings.Compare(a.Name, b.Name) })
	return plan
}

// useKey records the key of that name for the fragment and returns its
// canonical name; "" for no name, or a key that does not exist (noted
// on z and left out).
func (b *exportBuilder) useKey(z *exportZone, name string) string {
	if name == "" {
		return ""
	}
	k, ok := b.d.keys.lookup(name)
	if !ok {
		sk, err := b.d.store.Keys().Get(b.ctx, name)
		if err != nil {
			z.Notes = append(z.Notes, fmt.Sprintf("TSIG key %s is named by the zone but does not exist here: left out", canonicalKeyName(name)))
			return ""
		}
		k = sk
	}
	k.Name = canonicalKeyName(k.Name)
	b.keys[k.Name] = k
	return k.Name
}

// firstMeta returns the first value of the zone's metadata kind; "" none.
func (b *exportBuilder) firstMeta(zone, kind string) string {
	v, _ := b.d.store.Meta().Get(b.ctx, zone, kind)
	if len(v) == 0 {
		return ""
	}
	return strings.TrimSpace(v[0])
}

// secondaryZone fills z for role secondary: this node's addresses as its
// primaries, once per key the server may sign with: the target's key,
// else the zone's TSIG-ALLOW-AXFR key and every keyed secondary peer's.
func (b *exportBuilder) secondaryZone(z *exportZone) {
	var names []string
	if b.target != nil && b.target.Key != "" {
		names = []string{b.target.Key} // what the peer's traffic is signed with
	} else {
		names = append([]string{b.firstMeta(z.Name, store.MetaTSIGAllowAXFR)}, b.peerKeys...)
	}
	var used []string
	for _, k := range names {
		if k = b.useKey(z, k); k != "" && !slices.Contains(used, k) {
			used = append(used, k)
		}
	}
	switch {
	case len(used) == 0 && b.target != nil:
		z.Notes = append(z.Notes, fmt.Sprintf("peer %s has no key, nor the zone a TSIG-ALLOW-AXFR key: transfers go unsigned, allowed by the peer's address %s", b.target.Name, b.target.Addr.Addr()))
	case len(used) == 0:
		z.Notes = append(z.Notes, "no TSIG-ALLOW-AXFR key: transfers go unsigned; allow this server by address on zonekeeper's side (`zonekeeper peer add NAME ADDR --role secondary`, ALLOW-AXFR-FROM or allow-axfr)")
	}
	if len(used) == 0 {
		used = []string{""}
	}
	for _, a := range b.own {
		for _, k := range used {
			z.Servers = append(z.Servers, exportServer{Addr: a, Key: k})
		}
	}
}

// primaryZone fills z for role primary: this node's addresses with the
// key it transfers the zone with, and every peer with its own key, but
// the server itself (the target, or the peer that is the zone's
// primary); the zone's ALSO-NOTIFY targets when there are no peers.
func (b *exportBuilder) primaryZone(z *exportZone) {
	upstream := b.d.primaryPeers(b.ctx, z.Name)
	isUpstream := func(p peer) bool {
		return slices.ContainsFunc(upstream, func(u peer) bool { return u.Name == p.Name })
	}
	row, rowErr := b.d.store.Zones().Get(b.ctx, z.Name)
	zoneKey := b.firstMeta(z.Name, store.MetaAXFRMasterTSIG)
	if zoneKey == "" && rowErr == nil {
		zoneKey = row.TSIGKey // a secondary's key for its primaries
	}
	if zoneKey == "" {
		zoneKey = b.firstMeta(z.Name, store.MetaTSIGAllowAXFR)
	}
	// A zone without a key of its own transfers from a primary that is
	// a keyed peer with the peer's key (primariesOf).
	if zoneKey == "" && b.target != nil {
		zoneKey = b.target.Key
	}
	for _, p := range upstream {
		if zoneKey == "" && b.target == nil {
			zoneKey = p.Key // the first keyed one
		}
	}
	if b.target != nil && !isUpstream(*b.target) && rowErr == nil && row.Kind == store.KindSecondary {
		z.Notes = append(z.Notes, fmt.Sprintf("peer %s is not among the zone's primaries here (%s): zonekeeper transfers from it once it is (`zonekeeper zone add-secondary %s %s`, or `zone demote %s --primary %s`)",
			b.target.Name, strings.Join(row.Primaries, ", "), z.Name, b.target.Name, z.Name, b.target.Name))
	}
	key := b.useKey(z, zoneKey)
	if key == "" {
		z.Notes = append(z.Notes, "no TSIG key for this zone (AXFR-MASTER-TSIG, the secondary zone's key, TSIG-ALLOW-AXFR, or the key of the peer that is its primary): zonekeeper transfers unsigned, allowed by address")
	}
	for _, a := range b.own {
		z.Servers = append(z.Servers, exportServer{Addr: a, Key: key})
	}
	for _, p := range b.peers {
		// The server itself is not told of its own zone.
		if (b.target != nil && p.Name == b.target.Name) || isUpstream(p) {
			continue
		}
		z.Servers = appendServer(z.Servers, exportServer{Addr: p.Addr, Key: b.useKey(z, p.Key)})
	}
	if len(b.peers) == 0 {
		v, _ := b.d.store.Meta().Get(b.ctx, z.Name, store.MetaAlsoNotify)
		for _, s := range v {
			if ap, err := ParseAddr(strings.TrimSpace(s), 53); err == nil {
				z.Servers = appendServer(z.Servers, exportServer{Addr: ap, Key: key})
			}
		}
	}
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
