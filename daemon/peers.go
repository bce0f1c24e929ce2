package daemon

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// The peers of this node (docs/architecture.md, "Peers, keys and access"),
// read from the store into an immutable list swapped atomically, so that the
// query path (access, NOTIFY in and out) reads them without locks. The
// control API changes the store, then calls reload.

// Peer roles (docs/architecture.md, "Peers, keys and access").
const (
	rolePeer      = api.RolePeer      // another zonekeeper node of the cluster: trusted for every zone
	roleSecondary = api.RoleSecondary // any other server: may transfer and is NOTIFYed, nothing more
	roleCatalog   = api.RoleCatalog   // a foreign catalog producer: its catalog's member zones are transferred from it, nothing more
)

// peer is one server this node replicates with.
type peer struct {
	Name string         // operator's name for it
	Addr netip.AddrPort // where it answers DNS
	Key  string         // TSIG key all traffic with it is signed with (canonical); "" none
	Role string         // rolePeer, roleSecondary or roleCatalog
	// Catalog is the catalog read from it, as configured; "" learned
	// (role peer only).
	Catalog string
}

// readsCatalog reports whether the peer's catalog is read here.
func (p peer) readsCatalog() bool { return p.Role == rolePeer || p.Role == roleCatalog }

// peerSet is the current list of peers, read without locks.
type peerSet struct {
	store store.PeerStore
	log   *slog.Logger
	cur   atomic.Pointer[[]peer]
}

// newPeerSet returns the peers of st, read now and again on reload.
func newPeerSet(st store.PeerStore, log *slog.Logger) *peerSet {
	p := &peerSet{store: st, log: log}
	p.cur.Store(&[]peer{})
	p.reload()
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

// byKey returns the first peer whose key is key (canonical name).
func (p *peerSet) byKey(key string) (peer, bool) {
	if key == "" {
		return peer{}, false
	}
	for _, x := range p.list() {
		if x.Key != "" && x.Key == canonicalKeyName(key) {
			return x, true
		}
	}
	return peer{}, false
}

// trusted returns the peer a message from a, signed with key ("" when
// unsigned), comes from: the peer at that address when it has no key or
// the message is signed with its key. A peer configured with a key must
// sign; its unsigned messages are an unknown host's.
func (p *peerSet) trusted(a netip.Addr, key string) (peer, bool) {
	x, ok := p.byAddr(a)
	if !ok {
		return peer{}, false
	}
	if x.Key != "" && x.Key != canonicalKeyName(key) {
		return peer{}, false
	}
	return x, true
}

// reload re-reads the peers after the control API changed them. A peer
// whose address no longer parses is left out (the control API refuses
// such addresses on the way in).
func (p *peerSet) reload() {
	rows, err := p.store.List(context.Background())
	if err != nil {
		p.log.Error("peers: cannot read the peer table: " + err.Error())
		return
	}
	out := make([]peer, 0, len(rows))
	for _, r := range rows {
		ap, err := ParseAddr(r.Addr, 53)
		if err != nil {
			p.log.Error("peers: bad address in the peer table", "peer", r.Name, "addr", r.Addr)
			continue
		}
		key := ""
		if r.TSIGKey != "" {
			key = canonicalKeyName(r.TSIGKey)
		}
		out = append(out, peer{Name: r.Name, Addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), Key: key, Role: r.Role, Catalog: r.Catalog})
	}
	p.cur.Store(&out)
}

// peerKeyName renders a peer's key for messages.
func peerKeyName(k string) string { return strings.TrimSuffix(dns.CanonicalName(k), ".") }
