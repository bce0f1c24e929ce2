package main

import (
	"strings"
	"testing"

	"zonekeeper/daemon/api"
)

func TestCLIPeers(t *testing.T) {
	d := startCLIDaemon(t)
	d.ok("key", "add", "cluster.", "--algorithm", "hmac-sha256")
	out := d.ok("peer", "add", "node-b", "127.0.0.2:5300", "--tsig", "cluster.")
	if !strings.Contains(out, "added peer node-b at 127.0.0.2:5300 (role peer, signed with cluster.)") {
		t.Errorf("peer add: %q", out)
	}
	var added api.Peer
	d.json(&added, "peer", "add", "bind", "127.0.0.3", "--role", "secondary", "--json")
	if added.Name != "bind" || added.Addr != "127.0.0.3:53" || added.Role != api.RoleSecondary || added.TSIGKey != "" {
		t.Errorf("peer add --json: %+v", added)
	}
	for _, tc := range []struct {
		code int
		want string
		args string
	}{
		{2, "missing arguments", "peer add node-c"},
		{2, "not an IP address", "peer add node-c ns1.example.org"},
		{2, "not an IP address", "peer add node-c 127.0.0.300"},
		{2, "use peer, secondary or catalog", "peer add node-c 127.0.0.4 --role primary"},
		{2, "--catalog: catalog zone", "peer add node-c 127.0.0.4 --catalog bad..name"},
		{1, "needs the name of the catalog zone", "peer add node-c 127.0.0.4 --role catalog"},
		{1, "a peer of role secondary has no catalog", "peer add node-c 127.0.0.4 --role secondary --catalog cat.example."},
		{2, "not a domain name", "peer add node-c 127.0.0.4 --tsig bad..key"},
		{1, "does not exist", "peer add node-c 127.0.0.4 --tsig missing.key."},
		{1, "already exists", "peer add node-b 127.0.0.4"},
		{1, "already peer node-b", "peer add node-c 127.0.0.2:5300"},
		{1, "is an IP address", "peer add 127.0.0.4 127.0.0.4"},
		{1, "does not exist", "peer remove nobody"},
		{2, "unknown verb", "peer rename node-b node-c"},
	} {
		d.refused(tc.code, tc.want, strings.Fields(tc.args)...)
	}
	out = d.ok("peer", "add", "knot", "127.0.0.5:5301", "--catalog", "Catalog.Knot")
	if !strings.Contains(out, "added peer knot at 127.0.0.5:5301 (role catalog, unsigned, catalog catalog.knot.)") {
		t.Errorf("peer add --catalog: %q", out)
	}
	list := d.ok("peer", "list")
	if !strings.Contains(list, "CATALOG") || !strings.Contains(list, "catalog.knot.") || !strings.Contains(list, "(not learned yet)") {
		t.Errorf("peer list with catalogs:\n%s", list)
	}
	d.ok("peer", "remove", "knot")
	if !strings.Contains(list, "node-b") || !strings.Contains(list, "127.0.0.3:53") || strings.Contains(list, "node-c") {
		t.Errorf("peer list:\n%s", list)
	}
	d.ok("peer", "remove", "node-b")
	var ps []api.Peer
	d.json(&ps, "peer", "list", "--json")
	if len(ps) != 1 || ps[0].Name != "bind" {
		t.Errorf("peer list --json after remove: %+v", ps)
	}
}
