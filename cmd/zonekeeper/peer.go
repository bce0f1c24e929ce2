package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"zonekeeper/daemon"
	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// The peer verbs: declaring the other nodes of a cluster (and any other
// secondary) once is all the replication set-up a node needs.

// peerCommand is `zonekeeper peer VERB`.
var peerCommand = group{name: "peer", verbs: []verb{
	{"add", "add a peer: another zonekeeper node, or any secondary", runPeerAdd},
	{"list", "list the peers", runPeerList},
	{"remove", "remove a peer", runPeerRemove},
}}

func runPeerAdd(args []string, stdout, stderr io.Writer) error {
	v := newVerb("peer add", "peer add NAME ADDR [--tsig KEY] [--role peer|secondary|catalog] [--catalog CATALOG] [--json]",
		"Add a peer at ADDR (an IP with an optional port, 53 when absent). A peer may\ntransfer every zone and is NOTIFYed of every primary zone. Role peer (the\ndefault) is another zonekeeper node of the cluster: its NOTIFYs are accepted,\nit is a candidate primary for every secondary zone, and the primary zones\nit lists in its catalog are provisioned here. Role secondary is any other\nserver (BIND, Knot, NSD). Role catalog (the default with --catalog) is a\ncatalog producer that is no zonekeeper node (Knot's catalog-role: generate,\na hand-written BIND catalog): the zones of its catalog CATALOG are\nprovisioned here as secondaries of it, and it is nothing more (no candidate\nprimary of other zones, not NOTIFYed, no transfers). A zonekeeper peer's\ncatalog name is learned from it; --catalog with --role peer sets it. With\n--tsig, all traffic with the peer is signed with KEY, and its unsigned\ntraffic is treated like any unknown host's.", stdout)
	key := v.flags.String("tsig", "", "TSIG key that signs all traffic with the peer (see `key add`)")
	role := v.flags.String("role", "", "peer (another zonekeeper node, the default), secondary (any other server) or catalog (a catalog producer, the default with --catalog)")
	catalog := v.flags.String("catalog", "", "the name of the catalog zone the peer serves (role catalog, or a zonekeeper peer's catalog-zone)")
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(2, 2, "NAME ADDR"); err != nil {
		return err
	}
	p := api.Peer{Name: strings.ToLower(v.pos[0]), Role: strings.ToLower(*role)}
	if *catalog != "" {
		c, err := nameArg("catalog zone", *catalog)
		if err != nil {
			return v.usageErr("--catalog: %v", err)
		}
		p.Catalog = c
	}
	if p.Name == "" {
		return v.usageErr("empty peer name")
	}
	ap, err := daemon.ParseAddr(v.pos[1], 53)
	if err != nil {
		return v.usageErr("peer address: %v", err)
	}
	p.Addr = ap.String()
	switch p.Role {
	case "", api.RolePeer, api.RoleSecondary, api.RoleCatalog:
	default:
		return v.usageErr("--role %q: use peer, secondary or catalog", *role)
	}
	if *key != "" {
		if p.TSIGKey, err = nameArg("key name", *key); err != nil {
			return v.usageErr("--tsig: %v", err)
		}
	}
	var added *api.Peer
	err = v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		added, err = c.AddPeer(ctx, p)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return writeJSON(stdout, added)
	}
	signed := "unsigned"
	if added.TSIGKey != "" {
		signed = "signed with " + added.TSIGKey
	}
	if added.Catalog != "" {
		signed += ", catalog " + added.Catalog
	}
	fmt.Fprintf(stdout, "added peer %s at %s (role %s, %s)\n", added.Name, added.Addr, added.Role, signed)
	return nil
}

func runPeerList(args []string, stdout, stderr io.Writer) error {
	v := newVerb("peer list", "peer list [--json]", "List the peers.", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(0, 0, "no arguments"); err != nil {
		return err
	}
	var ps []api.Peer
	err := v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		ps, err = c.Peers(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		if ps == nil {
			ps = []api.Peer{}
		}
		return writeJSON(stdout, ps)
	}
	t := newTable(stdout, "NAME", "ADDR", "ROLE", "TSIG", "CATALOG")
	for _, p := range ps {
		cat := p.Catalog
		switch {
		case p.Role == api.RoleSecondary:
			cat = "-"
		case cat == "":
			cat = "(not learned yet)"
		case p.Learned:
			cat += " (learned)"
		}
		t.row(p.Name, p.Addr, p.Role, p.TSIGKey, cat)
	}
	return t.flush()
}

func runPeerRemove(args []string, stdout, stderr io.Writer) error {
	v := newVerb("peer remove", "peer remove NAME [--json]", "Remove a peer. Zones provisioned from it stay, as secondaries of it.", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(1, 1, "NAME"); err != nil {
		return err
	}
	name := strings.ToLower(v.pos[0])
	err := v.call(stderr, func(ctx context.Context, c *client.Client) error {
		return c.RemovePeer(ctx, name)
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return removedJSON(stdout, "peer", name)
	}
	fmt.Fprintf(stdout, "removed peer %s\n", name)
	return nil
}
