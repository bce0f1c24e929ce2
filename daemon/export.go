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
	Keys   []store.Key // every key the zones name, once, by name
	Zones  []exportZone
	Notes  []string // comments at the top
}

// exportPlan gathers what the fragment for names says: the keys, and for
// each zone the servers it names.
func (d *Daemon) exportPlan(ctx context.Context, format, role string, names []string) exportPlan {
	plan := exportPlan{Format: format, Role: role}
	own := d.ownAddrs()
	for _, a := range own {
		if a.Addr().IsUnspecified() {
			plan.Notes = append(plan.Notes, fmt.Sprintf("zonekeeper listens on %s (every address): replace it below with an address of this host that the server can reach", a))
		}
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
	for _, name := range names {
		z := exportZone{Name: name}
		if role == api.ExportRoleSecondary {
			key := useKey(&z, first(meta(name, store.MetaTSIGAllowAXFR)))
			if key == "" {
				z.Notes = append(z.Notes, "no TSIG-ALLOW-AXFR key: transfers go unsigned; allow this server by address on zonekeeper's side (`zonekeeper peer add NAME ADDR --role secondary`, ALLOW-AXFR-FROM or allow-axfr)")
			}
			for _, a := range own {
				z.Servers = append(z.Servers, exportServer{Addr: a, Key: key})
			}
		} else {
			zoneKey := first(meta(name, store.MetaAXFRMasterTSIG))
			if zoneKey == "" {
				if sz, err := d.store.Zones().Get(ctx, name); err == nil {
					zoneKey = sz.TSIGKey // a secondary's key for its primaries
				}
			}
			if zoneKey == "" {
				zoneKey = first(meta(name, store.MetaTSIGAllowAXFR))
			}
			key := useKey(&z, zoneKey)
			if key == "" {
				z.Notes = append(z.Notes, "no TSIG key for this zone (AXFR-MASTER-TSIG, the secondary zone's key, or TSIG-ALLOW-AXFR): zonekeeper transfers unsigned, allowed by address")
			}
			for _, a := range own {
				z.Servers = append(z.Servers, exportServer{Addr: a, Key: key})
			}
			peers := d.peers.list()
			for _, p := range peers {
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

// exportRenderers turns a plan into each format's text.
var exportRenderers = map[string]func(exportPlan) string{
	api.ExportBIND: renderBIND,
	api.ExportKnot: renderKnot,
	api.ExportNSD:  renderNSD,
}

// exportHeader writes the fragment's opening comments with prefix.
func exportHeader(b *strings.Builder, p exportPlan, prefix, server string) {
	fmt.Fprintf(b, "%s Generated by `zonekeeper export %s --role %s`: %d zone(s).\n", prefix, p.Format, p.Role, len(p.Zones))
	if p.Role == api.ExportRoleSecondary {
		fmt.Fprintf(b, "%s Makes %s a secondary of zonekeeper for these zones.\n", prefix, server)
	} else {
		fmt.Fprintf(b, "%s Makes %s the primary of these zones, serving zonekeeper and its peers;\n%s copy each zone's data to the file named below.\n", prefix, server, prefix)
	}
	if len(p.Keys) > 0 {
		fmt.Fprintf(b, "%s It holds TSIG secrets: keep it readable by the server only.\n", prefix)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(b, "%s NOTE: %s\n", prefix, n)
	}
	b.WriteString("\n")
}

// zoneFileName is the file a fragment gives a zone, relative to the
// server's working directory.
func zoneFileName(zone string) string {
	if zone == "." {
		return "root.zone"
	}
	return strings.TrimSuffix(zone, ".") + ".zone"
}

// renderBIND writes a named.conf fragment (BIND 9.16 and later).
func renderBIND(p exportPlan) string {
	var b strings.Builder
	exportHeader(&b, p, "//", "named")
	for _, k := range p.Keys {
		fmt.Fprintf(&b, "key %q {\n\talgorithm %s;\n\tsecret %q;\n};\n\n", k.Name, k.Algorithm, k.Secret)
	}
	remote := func(s exportServer) string {
		out := fmt.Sprintf("%s port %d", s.Addr.Addr(), s.Addr.Port())
		if s.Key != "" {
			out += fmt.Sprintf(" key %q", s.Key)
		}
		return out + ";"
	}
	for _, z := range p.Zones {
		for _, n := range z.Notes {
			fmt.Fprintf(&b, "// NOTE: %s\n", n)
		}
		fmt.Fprintf(&b, "zone %q {\n", z.Name)
		if p.Role == api.ExportRoleSecondary {
			fmt.Fprintf(&b, "\ttype secondary;\n\tfile %q;\n\tprimaries {", zoneFileName(z.Name))
			for _, s := range z.Servers {
				b.WriteString(" " + remote(s))
			}
			b.WriteString(" };\n")
		} else {
			fmt.Fprintf(&b, "\ttype primary;\n\tfile %q;\n\tallow-transfer {", zoneFileName(z.Name))
			seen := make(map[string]bool)
			for _, s := range z.Servers {
				e := s.Addr.Addr().String() + ";"
				if s.Key != "" {
					e = fmt.Sprintf("key %q;", s.Key)
				}
				if !seen[e] {
					seen[e] = true
					b.WriteString(" " + e)
				}
			}
			if len(z.Servers) == 0 {
				b.WriteString(" none;")
			}
			b.WriteString(" };\n")
			if len(z.Servers) > 0 {
				b.WriteString("\talso-notify {")
				for _, s := range z.Servers {
					b.WriteString(" " + remote(s))
				}
				b.WriteString(" };\n")
			}
		}
		b.WriteString("};\n\n")
	}
	return b.String()
}

// knotRemote names the (address, key) pairs of a plan for Knot's remote
// and acl sections, in order of appearance.
type knotRemote struct {
	id string
	s  exportServer
}

// renderKnot writes a knot.conf fragment (Knot DNS 3.2): key, remote,
// acl and zone sections, each once.
func renderKnot(p exportPlan) string {
	var b strings.Builder
	exportHeader(&b, p, "#", "knotd")
	var remotes []knotRemote
	idOf := func(s exportServer) string {
		for _, r := range remotes {
			if r.s == s {
				return r.id
			}
		}
		id := fmt.Sprintf("zonekeeper-%d", len(remotes)+1)
		remotes = append(remotes, knotRemote{id, s})
		return id
	}
	for _, z := range p.Zones {
		for _, s := range z.Servers {
			idOf(s)
		}
	}
	action, list := "notify", "master"
	if p.Role == api.ExportRolePrimary {
		action, list = "transfer", "notify"
	}
	if len(p.Keys) > 0 {
		b.WriteString("key:\n")
		for _, k := range p.Keys {
			fmt.Fprintf(&b, "  - id: %s\n    algorithm: %s\n    secret: %s\n", k.Name, k.Algorithm, k.Secret)
		}
		b.WriteString("\n")
	}
	if len(remotes) > 0 {
		b.WriteString("remote:\n")
		for _, r := range remotes {
			fmt.Fprintf(&b, "  - id: %s\n    address: %s@%d\n", r.id, r.s.Addr.Addr(), r.s.Addr.Port())
			if r.s.Key != "" {
				fmt.Fprintf(&b, "    key: %s\n", r.s.Key)
			}
		}
		b.WriteString("\nacl:\n")
		for _, r := range remotes {
			fmt.Fprintf(&b, "  - id: %s-%s\n    address: %s\n", r.id, action, r.s.Addr.Addr())
			if r.s.Key != "" {
				fmt.Fprintf(&b, "    key: %s\n", r.s.Key)
			}
			fmt.Fprintf(&b, "    action: %s\n", action)
		}
		b.WriteString("\n")
	}
	if len(p.Zones) > 0 {
		b.WriteString("zone:\n")
	}
	for _, z := range p.Zones {
		for _, n := range z.Notes {
			fmt.Fprintf(&b, "  # NOTE: %s\n", n)
		}
		fmt.Fprintf(&b, "  - domain: %s\n    file: %s\n", z.Name, zoneFileName(z.Name))
		if len(z.Servers) > 0 {
			var ids, acls []string
			for _, s := range z.Servers {
				ids = append(ids, idOf(s))
				acls = append(acls, idOf(s)+"-"+action)
			}
			fmt.Fprintf(&b, "    %s: [%s]\n    acl: [%s]\n", list, strings.Join(ids, ", "), strings.Join(acls, ", "))
		}
	}
	return b.String()
}

// renderNSD writes an nsd.conf fragment (NSD 4.6).
func renderNSD(p exportPlan) string {
	var b strings.Builder
	exportHeader(&b, p, "#", "nsd")
	for _, k := range p.Keys {
		fmt.Fprintf(&b, "key:\n\tname: %q\n\talgorithm: %s\n\tsecret: %q\n\n", k.Name, k.Algorithm, k.Secret)
	}
	keyOr := func(s exportServer) string {
		if s.Key == "" {
			return "NOKEY"
		}
		return s.Key
	}
	for _, z := range p.Zones {
		for _, n := range z.Notes {
			fmt.Fprintf(&b, "# NOTE: %s\n", n)
		}
		fmt.Fprintf(&b, "zone:\n\tname: %q\n\tzonefile: %q\n", z.Name, zoneFileName(z.Name))
		for _, s := range z.Servers {
			if p.Role == api.ExportRoleSecondary {
				fmt.Fprintf(&b, "\trequest-xfr: %s@%d %s\n\tallow-notify: %s %s\n", s.Addr.Addr(), s.Addr.Port(), keyOr(s), s.Addr.Addr(), keyOr(s))
			} else {
				fmt.Fprintf(&b, "\tprovide-xfr: %s %s\n\tnotify: %s@%d %s\n", s.Addr.Addr(), keyOr(s), s.Addr.Addr(), s.Addr.Port(), keyOr(s))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
