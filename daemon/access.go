package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"zonekeeper/store"
)

// Transfer access (docs/architecture.md, "Peers, keys and access"): a
// request signed with a key named in the zone's TSIG-ALLOW-AXFR, or from
// an address in the zone's ALLOW-AXFR-FROM or in the allow-axfr setting,
// or a peer (by its key, or by its address when it has none), may
// transfer the zone. Nothing else may, loopback included. A signed
// request is allowed even from an address the IP ACL would refuse; its
// signature was verified before it gets here.

// xfrGrant is the answer to "may this client transfer this zone?".
type xfrGrant struct {
	ok  bool
	why string // by what right, or why not: for the activity log
}

// mayTransfer decides whether a client at from, whose request was signed
// with key (canonical name; "" when unsigned), may transfer zone.
func (d *Daemon) mayTransfer(zone string, from netip.Addr, key string) xfrGrant {
	ctx := context.Background()
	from = from.Unmap()
	if key != "" {
		allowed, err := d.store.Meta().Get(ctx, zone, store.MetaTSIGAllowAXFR)
		if err == nil {
			for _, k := range allowed {
				if canonicalKeyName(k) == key {
					return xfrGrant{ok: true, why: "key " + key + " is in TSIG-ALLOW-AXFR"}
				}
			}
		}
	}
	// Peers (docs/architecture.md, "Peers, keys and access"): a peer's key,
	// or a peer's address when the peer has no key, will grant access here,
	// before the address lists.
	if g, ok := d.peerTransferGrant(zone, from, key); ok {
		return g
	}
	if from.IsValid() {
		if meta, err := d.store.Meta().Get(ctx, zone, store.MetaAllowAXFRFrom); err == nil {
			if entry, ok := matchAddr(meta, from); ok {
				return xfrGrant{ok: true, why: from.String() + " matches " + entry + " in ALLOW-AXFR-FROM"}
			}
		}
		if entry, ok := matchAddr(d.cfg.AllowAXFR, from); ok {
			return xfrGrant{ok: true, why: from.String() + " matches " + entry + " in allow-axfr"}
		}
	}
	if key != "" {
		return xfrGrant{why: fmt.Sprintf("key %s is not in TSIG-ALLOW-AXFR of %s, and %s is in neither ALLOW-AXFR-FROM nor allow-axfr", key, zone, from)}
	}
	return xfrGrant{why: fmt.Sprintf("unsigned, and %s is in neither ALLOW-AXFR-FROM of %s nor allow-axfr", from, zone)}
}

// peerTransferGrant lets the peers (role peer or secondary) transfer every zone: a
// request signed with a peer's key, or from the address of a peer
// configured without a key. A peer configured with a key must sign: its
// unsigned requests are an unknown host's. ok false means "no opinion":
// the address lists decide.
func (d *Daemon) peerTransferGrant(zone string, from netip.Addr, key string) (xfrGrant, bool) {
	// A catalog producer (role catalog) is no zonekeeper node: it
	// transfers nothing of ours by being a peer.
	if p, ok := d.peers.byKey(key); ok && p.Role != roleCatalog {
		return xfrGrant{ok: true, why: "key " + key + " is the key of peer " + p.Name}, true
	}
	if p, ok := d.peers.byAddr(from); ok && p.Key == "" && p.Role != roleCatalog {
		return xfrGrant{ok: true, why: from.String() + " is peer " + p.Name}, true
	}
	return xfrGrant{}, false
}

// matchAddr returns the first entry of list (IP addresses or prefixes)
// that contains a. Entries that parse as neither are skipped: the
// control API and the config reader refuse them on the way in.
func matchAddr(list []string, a netip.Addr) (string, bool) {
	for _, entry := range list {
		entry = strings.TrimSpace(entry)
		if p, err := netip.ParsePrefix(entry); err == nil {
			if p.Masked().Contains(a) {
				return entry, true
			}
			continue
		}
		if ip, err := netip.ParseAddr(entry); err == nil && ip.Unmap() == a {
			return entry, true
		}
	}
	return "", false
}
