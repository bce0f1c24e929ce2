package daemon

import (
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strings"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// The peers endpoints: GET /v1/peers, POST /v1/peers, DELETE
// /v1/peers/{name}. Adding a peer takes effect at once: it may transfer
// every zone, is NOTIFYed of every primary zone now (catalog.go), and a
// peer of role peer has its catalog read and its zones provisioned here.

// peerNameRE is what a peer name may be: it is also accepted where an
// ADDR is (docs/architecture.md, "ADDR syntax"), so it must never look
// like an address.
var peerNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*$`)

// peerName validates and normalises a peer name.
func peerName(s string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	if n == "" {
		return "", api.Errorf(api.CodeBadRequest, "a peer needs a name")
	}
	if len(n) > 63 || !peerNameRE.MatchString(n) {
		return "", api.Errorf(api.CodeBadRequest, "peer name %q: use letters, digits, '-', '_' and '.' (at most 63), such as node-b", s)
	}
	if _, err := netip.ParseAddr(n); err == nil {
		return "", api.Errorf(api.CodeBadRequest, "peer name %q is an IP address: give the peer a name, and its address as ADDR", s)
	}
	return n, nil
}

// apiPeer is a store peer in its API form.
func apiPeer(p store.Peer) api.Peer {
	return api.Peer{Name: p.Name, Addr: p.Addr, TSIGKey: p.TSIGKey, Role: p.Role, Catalog: p.Catalog, Created: p.Created}
}

func (d *Daemon) handlePeerList(r *http.Request) (any, error) {
	ps, err := d.store.Peers().List(r.Context())
	if err != nil {
		return nil, err
	}
	out := []api.Peer{}
	for _, p := range ps {
		ap := apiPeer(p)
		if ap.Catalog == "" && ap.Role == api.RolePeer {
			ap.Catalog, ap.Learned = d.catalog.learnedName(p.Name), true
		}
		out = append(out, ap)
	}
	return out, nil
}

func (d *Daemon) handlePeerAdd(r *http.Request) (any, error) {
	var req api.Peer
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	name, err := peerName(req.Name)
	if err != nil {
		return nil, err
	}
	ap, err := ParseAddr(strings.TrimSpace(req.Addr), 53)
	if err != nil || ap.Addr().Zone() != "" {
		return nil, api.Errorf(api.CodeBadRequest, "peer %s: address %q is not an IP address with an optional port (127.0.0.2, 127.0.0.2:5300, [::1]:5300)", name, req.Addr)
	}
	if !ap.Addr().IsValid() || ap.Addr().IsUnspecified() || ap.Port() == 0 {
		return nil, api.Errorf(api.CodeBadRequest, "peer %s: address %s cannot be reached: give the address and port it answers DNS on", name, ap)
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	cat, err := catalogZoneSetting(strings.TrimSpace(req.Catalog))
	if err != nil {
		return nil, api.Errorf(api.CodeBadRequest, "peer %s: --catalog: %v", name, err)
	}
	role := strings.ToLower(req.Role)
	switch {
	case role == "" && cat != "":
		role = api.RoleCatalog
	case role == "":
		role = api.RolePeer
	case role == api.RoleSecondary && cat != "":
		return nil, api.Errorf(api.CodeBadRequest, "peer %s: a peer of role secondary has no catalog read here: use --role catalog (a catalog producer such as Knot) or --role peer (a zonekeeper node)", name)
	case role == api.RoleCatalog && cat == "":
		return nil, api.Errorf(api.CodeBadRequest, "peer %s: role catalog needs the name of the catalog zone it serves (--catalog NAME)", name)
	case role == api.RolePeer, role == api.RoleSecondary, role == api.RoleCatalog:
	default:
		return nil, api.Errorf(api.CodeBadRequest, "peer %s: unknown role %q: use peer (another zonekeeper node), secondary (any other server) or catalog (a catalog producer)", name, req.Role)
	}
	key := ""
	if req.TSIGKey != "" {
		if key, err = d.existingKey(r, req.TSIGKey); err != nil {
			return nil, err
		}
	}
	for _, p := range d.peers.list() {
		switch {
		case p.Name == name:
			return nil, api.Errorf(api.CodeExists, "peer %s already exists (at %s); remove it first to change it", name, p.Addr)
		case p.Addr == ap:
			return nil, api.Errorf(api.CodeExists, "address %s is already peer %s", ap, p.Name)
		}
	}
	row := store.Peer{Name: name, Addr: ap.String(), TSIGKey: key, Role: role, Catalog: cat}
	if err := storeError(d.store.Peers().Add(r.Context(), row), fmt.Sprintf("peer %s or address %s", name, ap)); err != nil {
		return nil, err
	}
	d.peers.reload()
	detail := fmt.Sprintf("peer %s at %s, role %s", name, ap, role)
	if cat != "" {
		detail += ", catalog " + cat
	}
	if key != "" {
		detail += ", signed with " + key
	} else {
		detail += ", unsigned"
	}
	d.events.EmitWait(r.Context(), api.Event{Kind: "peer-add", Peer: ap.Addr().String(), Outcome: api.OutcomeOK, Detail: detail})
	if p, ok := d.peers.byName(name); ok {
		d.catalog.peerAdded(p)
	}
	stored, err := d.store.Peers().Get(r.Context(), name)
	if err != nil {
		return nil, err
	}
	return apiPeer(stored), nil
}

func (d *Daemon) handlePeerRemove(r *http.Request) (any, error) {
	name := strings.ToLower(r.PathValue("name"))
	p, err := d.store.Peers().Get(r.Context(), name)
	if err != nil {
		return nil, storeError(err, "peer "+name)
	}
	if err := storeError(d.store.Peers().Delete(r.Context(), name), "peer "+name); err != nil {
		return nil, err
	}
	d.peers.reload()
	addr := p.Addr
	if ap, err := netip.ParseAddrPort(p.Addr); err == nil {
		addr = ap.Addr().String()
	}
	d.events.EmitWait(r.Context(), api.Event{Kind: "peer-remove", Peer: addr, Outcome: api.OutcomeOK,
		Detail: fmt.Sprintf("peer %s at %s (%s) removed; zones provisioned from it stay, as secondaries of it", p.Name, p.Addr, p.Role)})
	return nil, nil
}
