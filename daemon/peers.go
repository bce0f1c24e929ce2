package daemon

import (
	"net/netip"
	"strings"
	"sync/atomic"
)

// STUB: replaced by the failover work (issue 5). The seam is fixed: peer,
// newPeerSet, list, byAddr, byName and reload keep these signatures.

// Peer roles (DESIGN.md, "Peers, keys and access").
const (
	rolePeer      = "peer"      // another zonekeeper node of the cluster: trusted for every zone
	roleSecondary = "secondary" // any other server: may transfer and is NOTIFYed, nothing more
)

// peer is one server this node replicates with.
type peer struct {
	Name string         // operator's name for it
	Addr netip.AddrPort // where it answers DNS
	Key  string         // TSIG key all traffic with it is signed with; "" none
	Role string         // rolePeer or roleSecondary
}

// peerSet is the current list of peers, read without locks.
type peerSet struct {
	d   *Daemon
	cur atomic.Pointer[[]peer]
}

func newPeerSet(d *Daemon) *peerSet {
	p := &peerSet{d: d}
	p.cur.Store(&[]peer{})
	return p
}

// list returns every peer.
func (p *peerSet) list() []peer { return *p.cur.Load() }

// byAddr returns the peer at that IP address (any port).
func (p *peerSet) byAddr(a netip.Addr) (peer, bool) {
	for _, x := range p.list() {
		if x.Addr.Addr() == a.Unmap() {
			return x, true
		}
	}
	return peer{}, false
}

// byName returns the peer of that name (case-insensitive).
func (p *peerSet) byName(name string) (peer, bool) {
	for _, x := range p.list() {
		if strings.EqualFold(x.Name, name) {
			return x, true
		}
	}
	return peer{}, false
}

// reload re-reads the peers after the control API changed them.
func (p *peerSet) reload() {}
