package daemon

// Guarded role changes (issue 16; docs/architecture.md, "Guarded role
// changes"). A promote or demote is checked against what the other
// nodes say of the zone over DNS (the zone state of zone_state.go, an
// EDNS option on SOA queries that a zonekeeper answers with its role,
// serial, digest and, for a secondary, the primary it follows):
//
//   - demote NAME --primary X: every X must serve the zone as a primary.
//     A secondary, a node that does not serve the zone, or one that does
//     not answer would leave the cluster with no primary, and a
//     secondary that follows this node makes the chain loop.
//   - promote NAME: refused while the zone's current primary is alive:
//     it answers this node as a primary, or a majority of the peers that
//     answer say it answers them; and while another node already serves
//     the zone as primary.
//
// --force (Force in the request) overrides either; the reply and the
// event say what was overridden.

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"zonekeeper/daemon/api"
)

// Roles a node gives for a zone in its zone state.
const (
	zoneRolePrimary   = api.KindPrimary
	zoneRoleSecondary = api.KindSecondary
)

// roleView is what one node said of a zone when asked now.
type roleView struct {
	node     string         // the peer's name, else its address
	addr     netip.AddrPort // where it was asked
	answered bool           // it answered the query at all
	serves   bool           // it answered authoritatively with the zone's SOA
	role     string         // zoneRolePrimary, zoneRoleSecondary, "" when it does not say (not a zonekeeper)
	serial   uint32         // its serial, when serves
	follows  string         // a secondary's primary (address), when it says
	upOK     bool           // a secondary's primary answered its last check
	err      string         // why it did not answer or does not serve the zone
}

// isPrimary reports whether the node says it serves the zone as primary.
func (v roleView) isPrimary() bool { return v.serves && v.role == zoneRolePrimary }

// describe is how a refusal names what the node serves.
func (v roleView) describe(zone string) string {
	switch {
	case !v.answered:
		return fmt.Sprintf("%s does not answer for %s (%s)", v.node, zone, v.err)
	case !v.serves:
		return fmt.Sprintf("%s does not serve %s (%s)", v.node, zone, v.err)
	case v.role == zoneRoleSecondary && v.follows != "":
		return fmt.Sprintf("%s serves %s as a secondary (following %s)", v.node, zone, v.follows)
	case v.role == zoneRoleSecondary:
		return fmt.Sprintf("%s serves %s as a secondary", v.node, zone)
	case v.role == "":
		return fmt.Sprintf("%s serves %s at serial %d but does not say its role (not a zonekeeper, or it does not count this node as its peer)", v.node, zone, v.serial)
	case v.role != zoneRolePrimary:
		return fmt.Sprintf("%s serves %s as a %s zone, which serves no transfers", v.node, zone, v.role)
	}
	return fmt.Sprintf("%s serves %s as primary at serial %d", v.node, zone, v.serial)
}

// nodeAt is the peer at ap, or a stand-in named by its address whose
// queries are signed with key (a key name, "" unsigned).
func (d *Daemon) nodeAt(ap netip.AddrPort, key string) peer {
	if p, ok := d.peers.byAddr(ap.Addr()); ok && p.Addr == ap {
		return p
	}
	return peer{Name: ap.String(), Addr: ap, Key: key, Role: roleSecondary}
}

// guardRun is what one request's guards share across its zones
// (`promote --all`): a node that did not answer for one zone is not asked
// again (a dead primary costs one timeout, not one per zone), and the
// promote guard's second look waits once.
type guardRun struct {
	mu     sync.Mutex
	down   map[netip.AddrPort]string // node -> why it did not answer
	waited bool                      // the second look's wait is over
}

// askRoles asks each node for its zone state now, in parallel; run may
// be nil.
func (d *Daemon) askRoles(ctx context.Context, run *guardRun, zone string, nodes []peer) []roleView {
	out := make([]roleView, len(nodes))
	var wg sync.WaitGroup
	for i, p := range nodes {
		if run != nil {
			run.mu.Lock()
			why, down := run.down[p.Addr]
			run.mu.Unlock()
			if down {
				out[i] = roleView{node: p.Name, addr: p.Addr, err: why + " (for another zone; not asked again)"}
				continue
			}
		}
		wg.Go(func() {
			out[i] = d.roleAt(ctx, p, zone)
			if run != nil && !out[i].answered && ctx.Err() == nil {
				run.mu.Lock()
				if run.down == nil {
					run.down = make(map[netip.AddrPort]string)
				}
				run.down[p.Addr] = out[i].err
				run.mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

// isSelfAddr reports whether s (IP[:port]) is where this node listens.
func (d *Daemon) isSelfAddr(s string) bool {
	ap, err := ParseAddr(s, 53)
	if err != nil {
		return false
	}
	return d.notifier.isSelf(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

// demoteGuard returns why demoting zone onto targets would leave the
// cluster without a primary or with a loop, or "" when every target
// serves the zone as a primary.
func (d *Daemon) demoteGuard(zone string, targets []roleView) string {
	var why []string
	for _, v := range targets {
		if v.isPrimary() {
			continue
		}
		reason := v.describe(zone)
		switch {
		case v.role == zoneRoleSecondary && d.isSelfAddr(v.follows):
			reason += fmt.Sprintf(": demoting would make the primary chain loop (here -> %s -> here) and leave no primary", v.node)
		case v.role == "" && v.serves:
			reason += ": it cannot be told to be a primary"
		default:
			reason += ": demoting would leave no primary"
		}
		why = append(why, reason)
	}
	return strings.Join(why, "; ")
}

// promoteGuard returns why promoting zone here would make two primaries,
// or "": primaries are the zone's current primaries asked from here,
// others the remaining peers.
func promoteGuard(zone string, primaries, others []roleView) string {
	for _, v := range primaries {
		// A foreign primary does not say its role: serving the zone
		// authoritatively is being alive.
		if v.isPrimary() || (v.serves && v.role == "") {
			return fmt.Sprintf("%s is alive and serves serial %d: promoting would make two primaries", v.node, v.serial)
		}
	}
	for _, v := range others {
		if v.isPrimary() {
			return fmt.Sprintf("%s already serves %s as primary at serial %d: promoting would make two primaries (follow it, or demote it first)", v.node, zone, v.serial)
		}
	}
	// Not reachable from here: is it from a majority of the peers that
	// answer? A secondary says whom it follows and whether its last
	// check of it succeeded.
	answering, sees := 0, []string{}
	for _, v := range others {
		if !v.answered {
			continue
		}
		answering++
		if v.role == zoneRoleSecondary && v.upOK && slices.ContainsFunc(primaries, func(p roleView) bool { return sameNode(p, v.follows) }) {
			sees = append(sees, v.node)
		}
	}
	if answering > 0 && 2*len(sees) > answering {
		return fmt.Sprintf(majorityRefusal+" it answers %d of the %d peers that answer (%s): it is alive; promoting would make two primaries",
			len(sees), answering, strings.Join(sees, ", "))
	}
	return ""
}

// sameNode reports whether follows (an address or a peer name) is v.
func sameNode(v roleView, follows string) bool {
	if follows == "" {
		return false
	}
	if strings.EqualFold(follows, v.node) {
		return true
	}
	ap, err := ParseAddr(follows, 53)
	if err != nil {
		return false
	}
	if ap.Port() == v.addr.Port() || !strings.Contains(follows, ":") {
		return ap.Addr().Unmap() == v.addr.Addr()
	}
	return false
}

// promoteCheck asks the zone's own primaries (ps) and the other peers
// and returns the guard's refusal of promoting zone here, or "". run is
// shared by the zones of one request.
func (d *Daemon) promoteCheck(ctx context.Context, run *guardRun, zone string, ps primarySet) string {
	var prim []peer
	for i, ap := range ps.addrs[:ps.own] {
		key := ""
		if k := ps.keyAt(i); k != nil {
			key = k.name
		}
		prim = append(prim, d.nodeAt(ap, key))
	}
	var others []peer
	for _, p := range d.peers.list() {
		if p.Role != rolePeer || slices.ContainsFunc(prim, func(q peer) bool { return q.Addr == p.Addr }) {
			continue
		}
		others = append(others, p)
	}
	ask := func() string {
		views := d.askRoles(ctx, run, zone, append(slices.Clone(prim), others...))
		return promoteGuard(zone, views[:len(prim)], views[len(prim):])
	}
	why := ask()
	if !strings.HasPrefix(why, majorityRefusal) {
		return why
	}
	// The peers' views are their last health round's, which may predate
	// the primary's loss: ask them again until each has had a round
	// since this node found the primary silent (once per request), and
	// go ahead as soon as they no longer say it answers them.
	run.mu.Lock()
	waited := run.waited
	run.waited = true
	run.mu.Unlock()
	if waited {
		return why
	}
	end := time.NewTimer(min(d.cfg.HealthInterval+2*healthQueryTimeout, guardSecondLookMax))
	defer end.Stop()
	tick := time.NewTicker(guardLookEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return why
		case <-end.C:
			return ask()
		case <-tick.C:
			if why = ask(); !strings.HasPrefix(why, majorityRefusal) {
				return why
			}
		}
	}
}

// guardLookEvery is how often the promote guard asks the peers again
// while it waits for their next health round.
const guardLookEvery = 500 * time.Millisecond

// guardSecondLookMax bounds the promote guard's wait for the peers'
// next health round.
const guardSecondLookMax = 40 * time.Second

// majorityRefusal begins the promote guard's refusal when the primary
// answers a majority of the peers but not this node.
const majorityRefusal = "the primary does not answer this node, but"

// demoteCheck asks each new primary of ps for its zone state and returns
// the guard's refusal of demoting zone onto them, or "".
func (d *Daemon) demoteCheck(ctx context.Context, zone string, ps primarySet) string {
	nodes := make([]peer, len(ps.addrs))
	for i, ap := range ps.addrs {
		key := ""
		if k := ps.keyAt(i); k != nil {
			key = k.name
		}
		nodes[i] = d.nodeAt(ap, key)
	}
	views := d.askRoles(ctx, nil, zone, nodes)
	// A peer that does not answer now: what its health data last said.
	for i, v := range views {
		if v.answered || d.health == nil {
			continue
		}
		if _, isPeer := d.peers.byName(nodes[i].Name); !isPeer {
			continue
		}
		if st, ok := d.health.peerState(zone, nodes[i].Name); ok && st.Reachable {
			last := viewOf(nodes[i], &st)
			views[i].err += fmt.Sprintf("; at the last health round, %s", strings.TrimPrefix(last.describe(zone), nodes[i].Name+" "))
		}
	}
	return d.demoteGuard(zone, views)
}

// overrideHint ends every refusal of the guard.
const overrideHint = "(--force overrides)"

// refusal is the API error of a guard's refusal.
func refusal(what, zone, why string) error {
	return api.Errorf(api.CodeNotPermitted, "zone %s not %s: %s %s", zone, what, why, overrideHint)
}

// isRefusal reports whether err is a refusal of the guard.
func isRefusal(err error) bool {
	var ae *api.Error
	return errors.As(err, &ae) && ae.Code == api.CodeNotPermitted && strings.HasSuffix(ae.Message, overrideHint)
}
