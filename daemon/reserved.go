package daemon

import (
	"context"
	"net/netip"
	"sync/atomic"
	"time"

	"zonekeeper/store"
)

// The servers this node replicates with, whose TCP connections the
// listeners let take the reserved slots and exempt from the per-client
// limits (daemon/listen, ServerConfig.Reserved), so that a crowd of
// clients cannot stop a transfer: the peers, the primaries of the
// secondary zones and the autoprimaries, the ALSO-NOTIFY and also-notify
// targets, and the ALLOW-AXFR-FROM and allow-axfr entries. Of the
// prefixes only those no wider than a /24 (IPv4) or /56 (IPv6) count:
// a wider one holds whole networks of clients, which would take the
// reserve. A secondary known only by its TSIG key is not known by
// address when it connects: make it a peer of role secondary, or list
// it in ALSO-NOTIFY.
//
// The listeners ask for every new connection, so the set is read from
// the store into an immutable value swapped atomically: after each
// change through the control API, and every reservedRefresh for what
// changes without one (zones a catalog or an autoprimary provisions,
// whose primaries are peers or autoprimaries already).

// reservedRefresh is how often the set is read again without a change
// through the control API.
const reservedRefresh = 30 * time.Second

// Narrowest prefix lengths that may still hold a single organisation's
// servers; the per-prefix limit of the listeners counts the same.
const (
	reservedMinBits4 = 24
	reservedMinBits6 = 56
)

// reservedAddrs is one reading of the set.
type reservedAddrs struct {
	addrs    map[netip.Addr]struct{}
	prefixes []netip.Prefix
}

// reservedSet is the current reading, for the listeners.
type reservedSet struct {
	cur  atomic.Pointer[reservedAddrs]
	poke chan struct{} // a pending change: read the set again
}

func newReservedSet() *reservedSet {
	r := &reservedSet{poke: make(chan struct{}, 1)}
	r.cur.Store(&reservedAddrs{})
	return r
}

// contains is the listeners' Reserved predicate.
func (r *reservedSet) contains(a netip.Addr) bool {
	cur := r.cur.Load()
	a = a.Unmap()
	if _, ok := cur.addrs[a]; ok {
		return true
	}
	for _, p := range cur.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// changed asks for the set to be read again soon.
func (r *reservedSet) changed() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

// runReserved reads the set again after each change and every
// reservedRefresh, until ctx ends.
func (d *Daemon) runReserved(ctx context.Context) error {
	t := time.NewTicker(reservedRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.reserved.poke:
		}
		d.loadReserved(ctx)
	}
}

// loadReserved reads the set from the peers, the settings and the
// store. When the store cannot be read the previous reading stays.
func (d *Daemon) loadReserved(ctx context.Context) {
	entries, err := d.reservedEntries(ctx)
	if err != nil {
		d.log.Warn("reserved TCP slots: cannot read the servers replicated with, the previous list stays: " + err.Error())
		return
	}
	ra := &reservedAddrs{addrs: make(map[netip.Addr]struct{})}
	for _, s := range entries {
		if ap, err := ParseAddr(s, 53); err == nil {
			ra.addrs[ap.Addr().Unmap()] = struct{}{}
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			continue // a peer's name (its address is in already), or what the control API refused
		}
		p = p.Masked()
		if p.Addr().Is4() && p.Bits() < reservedMinBits4 || p.Addr().Is6() && p.Bits() < reservedMinBits6 {
			continue
		}
		ra.prefixes = append(ra.prefixes, p)
	}
	d.reserved.cur.Store(ra)
}

// reservedEntries returns the addresses, ADDRs, prefixes and peer names
// that make the set, as configured.
func (d *Daemon) reservedEntries(ctx context.Context) ([]string, error) {
	var out []string
	for _, p := range d.peers.list() {
		out = append(out, p.Addr.String())
	}
	out = append(out, d.cfg.AlsoNotify...)
	out = append(out, d.cfg.AllowAXFR...)
	zones, err := d.store.Zones().List(ctx)
	if err != nil {
		return nil, err
	}
	for _, z := range zones {
		out = append(out, z.Primaries...)
	}
	aps, err := d.store.Autoprimaries().List(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range aps {
		out = append(out, a.IP)
	}
	for _, kind := range []string{store.MetaAlsoNotify, store.MetaAllowAXFRFrom} {
		values, err := d.store.Meta().Values(ctx, kind)
		if err != nil {
			return nil, err
		}
		out = append(out, values...)
	}
	return out, nil
}
