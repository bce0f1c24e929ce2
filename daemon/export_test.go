package daemon

import (
	"context"
	"net"
	"strings"
	"testing"

	"zonekeeper/daemon/api"
)

// TestExportFragments asks the control API for each format and role and
// checks what the fragments say: the key with its secret, the zones, this
// node's address as primary, the allow and notify lists of role primary,
// the note on a zone without a key, and --zones.
func TestExportFragments(t *testing.T) {
	td := startDaemon(t, map[string]string{
		"example.org.zone": zoneText(1, ""),
		"example.net.zone": strings.ReplaceAll(zoneText(1, ""), "example.org", "example.net"),
	})
	c, ctx := td.client(), context.Background()
	k, err := c.AddKey(ctx, api.Key{Name: "xfr.example.org", Algorithm: "hmac-sha256"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetMeta(ctx, "example.org", "TSIG-ALLOW-AXFR", []string{"xfr.example.org"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMeta(ctx, "example.org", "ALSO-NOTIFY", []string{"127.0.0.9:5399"}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(td.addr)
	secret := k.Secret

	for _, tc := range []struct {
		format, role string
		zones        []string
		want, not    []string
	}{
		{api.ExportBIND, "", nil, []string{
			`key "xfr.example.org." {`, `secret "` + secret + `";`, `algorithm hmac-sha256;`,
			`zone "example.org." {`, "type secondary;", `primaries { ` + host + ` port ` + port + ` key "xfr.example.org."; };`,
			`zone "example.net." {`, `primaries { ` + host + ` port ` + port + `; };`, "// NOTE: no TSIG-ALLOW-AXFR key",
		}, nil},
		{api.ExportBIND, api.ExportRolePrimary, []string{"example.org"}, []string{
			"type primary;", `allow-transfer { key "xfr.example.org."; };`,
			`also-notify { ` + host + ` port ` + port + ` key "xfr.example.org."; 127.0.0.9 port 5399 key "xfr.example.org."; };`,
		}, []string{"example.net"}},
		{api.ExportKnot, "", nil, []string{
			"key:\n  - id: xfr.example.org.\n    algorithm: hmac-sha256\n    secret: " + secret + "\n",
			"remote:\n  - id: zonekeeper-1\n    address: " + host + "@" + port + "\n  - id: zonekeeper-2\n",
			"  - id: zonekeeper-2-notify\n    address: " + host + "\n    key: xfr.example.org.\n    action: notify\n",
			"  - domain: example.org.\n    file: example.org.zone\n    master: [zonekeeper-2]\n    acl: [zonekeeper-2-notify]\n",
			"  - domain: example.net.\n    file: example.net.zone\n    master: [zonekeeper-1]\n",
		}, nil},
		{api.ExportKnot, api.ExportRolePrimary, []string{"example.org."}, []string{
			"action: transfer", "    notify: [zonekeeper-1, zonekeeper-2]\n    acl: [zonekeeper-1-transfer, zonekeeper-2-transfer]\n", "address: 127.0.0.9@5399",
		}, []string{"master:"}},
		{api.ExportNSD, "", nil, []string{
			"key:\n\tname: \"xfr.example.org.\"\n\talgorithm: hmac-sha256\n\tsecret: \"" + secret + "\"\n",
			"zone:\n\tname: \"example.org.\"\n\tzonefile: \"example.org.zone\"\n\trequest-xfr: " + host + "@" + port + " xfr.example.org.\n\tallow-notify: " + host + " xfr.example.org.\n",
			"request-xfr: " + host + "@" + port + " NOKEY\n",
		}, nil},
		{api.ExportNSD, api.ExportRolePrimary, []string{"example.org"}, []string{
			"provide-xfr: " + host + " xfr.example.org.\n\tnotify: " + host + "@" + port + " xfr.example.org.\n",
			"notify: 127.0.0.9@5399 xfr.example.org.\n",
		}, nil},
	} {
		t.Run(tc.format+"/"+tc.role, func(t *testing.T) {
			res, err := c.Export(ctx, tc.format, tc.role, "", tc.zones)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Config, w) {
					t.Errorf("fragment lacks %q:\n%s", w, res.Config)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(res.Config, n) {
					t.Errorf("fragment has %q:\n%s", n, res.Config)
				}
			}
			if len(tc.zones) > 0 && len(res.Zones) != len(tc.zones) {
				t.Errorf("zones %v, want %v", res.Zones, tc.zones)
			}
		})
	}

	if _, err := c.Export(ctx, "powerdns", "", "", nil); apiCode(err) != api.CodeBadRequest {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := c.Export(ctx, api.ExportBIND, "tertiary", "", nil); apiCode(err) != api.CodeBadRequest {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := c.Export(ctx, api.ExportBIND, "", "", []string{"nope.example"}); apiCode(err) != api.CodeNotFound {
		t.Errorf("unknown zone: %v", err)
	}
}

// TestExportPeers checks that role primary allows and notifies the
// peers, each with its own key, instead of the zone's ALSO-NOTIFY.
func TestExportPeers(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	c, ctx := td.client(), context.Background()
	if _, err := c.AddKey(ctx, api.Key{Name: "peer-b", Algorithm: "hmac-sha512"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMeta(ctx, "example.org", "ALSO-NOTIFY", []string{"127.0.0.9"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddPeer(ctx, api.Peer{Name: "b", Addr: "127.0.0.2:5302", TSIGKey: "peer-b", Role: api.RolePeer}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddPeer(ctx, api.Peer{Name: "c", Addr: "127.0.0.3:5303", Role: api.RoleSecondary}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Export(ctx, api.ExportBIND, api.ExportRolePrimary, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(td.addr)
	for _, w := range []string{
		`key "peer-b." {`, "algorithm hmac-sha512;",
		`allow-transfer { ` + host + `; key "peer-b."; 127.0.0.3; };`,
		`also-notify { ` + host + ` port ` + port + `; 127.0.0.2 port 5302 key "peer-b."; 127.0.0.3 port 5303; };`,
	} {
		if !strings.Contains(res.Config, w) {
			t.Errorf("fragment lacks %q:\n%s", w, res.Config)
		}
	}
	if strings.Contains(res.Config, "127.0.0.9") {
		t.Errorf("ALSO-NOTIFY used although there are peers:\n%s", res.Config)
	}
}

// TestExportForPeer: the fragment for a keyed secondary peer (`export
// --peer`) carries that peer's key, signs the zones' transfers and
// NOTIFYs with it, sends from the peer's address and names no other
// peer's secret; without --peer, role secondary carries every keyed
// secondary peer's key (not the cluster's); role primary uses the key of
// the peer the fragment is for, or of the peer that is a secondary
// zone's primary, and leaves that server out of its own lists. An
// unknown peer is refused by name.
func TestExportForPeer(t *testing.T) {
	td := startDaemon(t, map[string]string{"example.org.zone": zoneText(1, "")})
	c, ctx := td.client(), context.Background()
	secrets := make(map[string]string)
	for _, k := range []string{"sec-a", "sec-b", "cluster"} {
		key, err := c.AddKey(ctx, api.Key{Name: k, Algorithm: "hmac-sha256"})
		if err != nil {
			t.Fatal(err)
		}
		secrets[k] = key.Secret
	}
	for _, p := range []api.Peer{
		{Name: "a", Addr: "127.0.0.3:5303", TSIGKey: "sec-a", Role: api.RoleSecondary},
		{Name: "b", Addr: "127.0.0.4:5304", TSIGKey: "sec-b", Role: api.RoleSecondary},
		{Name: "n", Addr: "127.0.0.5:5305", TSIGKey: "cluster", Role: api.RolePeer},
	} {
		if _, err := c.AddPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AddSecondary(ctx, api.AddSecondaryRequest{Name: "example.net.", Primaries: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(td.addr)
	org := []string{"example.org."}
	for _, tc := range []struct {
		name, format, role, peer string
		zones                    []string
		want, not                []string
	}{
		{"bind secondary --peer a", api.ExportBIND, "", "a", org, []string{
			`key "sec-a." {`, `secret "` + secrets["sec-a"] + `";`,
			`primaries { ` + host + ` port ` + port + ` key "sec-a."; };`, "\ttransfer-source 127.0.0.3;\n",
			"--peer a`", "for peer a: zonekeeper knows the server at 127.0.0.3:5303",
		}, []string{secrets["sec-b"], secrets["cluster"], "NOTE: no TSIG-ALLOW-AXFR key"}},
		{"knot secondary --peer a", api.ExportKnot, "", "a", org, []string{
			"key:\n  - id: sec-a.\n    algorithm: hmac-sha256\n    secret: " + secrets["sec-a"] + "\n",
			"remote:\n  - id: zonekeeper-1\n    address: " + host + "@" + port + "\n    via: 127.0.0.3\n    key: sec-a.\n",
			"  - id: zonekeeper-1-notify\n    address: " + host + "\n    key: sec-a.\n    action: notify\n",
			"    master: [zonekeeper-1]\n    acl: [zonekeeper-1-notify]\n",
		}, []string{secrets["sec-b"], secrets["cluster"]}},
		{"nsd secondary --peer a", api.ExportNSD, "", "a", org, []string{
			"key:\n\tname: \"sec-a.\"\n\talgorithm: hmac-sha256\n\tsecret: \"" + secrets["sec-a"] + "\"\n",
			"\toutgoing-interface: 127.0.0.3\n\trequest-xfr: " + host + "@" + port + " sec-a.\n\tallow-notify: " + host + " sec-a.\n",
		}, []string{secrets["sec-b"], secrets["cluster"], "NOKEY"}},
		{"bind secondary, every secondary peer", api.ExportBIND, "", "", org, []string{
			`key "sec-a." {`, `key "sec-b." {`,
			`primaries { ` + host + ` port ` + port + ` key "sec-a."; ` + host + ` port ` + port + ` key "sec-b."; };`,
			"keys of every keyed secondary peer (a, b)",
		}, []string{secrets["cluster"], "transfer-source", "NOTE: no TSIG-ALLOW-AXFR key"}},
		{"nsd secondary, every secondary peer", api.ExportNSD, "", "", org, []string{
			"request-xfr: " + host + "@" + port + " sec-a.\n\tallow-notify: " + host + " sec-a.\n\trequest-xfr: " + host + "@" + port + " sec-b.\n\tallow-notify: " + host + " sec-b.\n",
		}, []string{"NOKEY", "outgoing-interface"}},
		{"bind primary --peer a", api.ExportBIND, api.ExportRolePrimary, "a", org, []string{
			`allow-transfer { key "sec-a."; key "sec-b."; key "cluster."; };`,
			`also-notify { ` + host + ` port ` + port + ` key "sec-a."; 127.0.0.4 port 5304 key "sec-b."; 127.0.0.5 port 5305 key "cluster."; };`,
			"\tnotify-source 127.0.0.3;\n",
		}, []string{"127.0.0.3 port"}},
		{"knot primary, the secondary zone's primary peer", api.ExportKnot, api.ExportRolePrimary, "", []string{"example.net."}, []string{
			"address: " + host + "@" + port + "\n    key: sec-b.\n", "address: 127.0.0.3@5303\n    key: sec-a.\n", "address: 127.0.0.5@5305\n    key: cluster.\n",
		}, []string{"127.0.0.4", "via:"}},
		{"nsd primary --peer b, a secondary zone of b", api.ExportNSD, api.ExportRolePrimary, "b", []string{"example.net."}, []string{
			"\toutgoing-interface: 127.0.0.4\n", "provide-xfr: " + host + " sec-b.\n\tnotify: " + host + "@" + port + " sec-b.\n",
		}, []string{"127.0.0.4@", "not among the zone's primaries"}},
		{"bind primary --peer a, a secondary zone of b", api.ExportBIND, api.ExportRolePrimary, "a", []string{"example.net."}, []string{
			"peer a is not among the zone's primaries here (b)",
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Export(ctx, tc.format, tc.role, tc.peer, tc.zones)
			if err != nil {
				t.Fatal(err)
			}
			if res.Peer != tc.peer {
				t.Errorf("result for peer %q, want %q", res.Peer, tc.peer)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Config, w) {
					t.Errorf("fragment lacks %q:\n%s", w, res.Config)
				}
			}
			for _, n := range tc.not {
				if n != "" && strings.Contains(res.Config, n) {
					t.Errorf("fragment has %q:\n%s", n, res.Config)
				}
			}
		})
	}
	_, err := c.Export(ctx, api.ExportBIND, "", "nobody", nil)
	if apiCode(err) != api.CodeNotFound || !strings.Contains(err.Error(), `peer "nobody"`) {
		t.Errorf("unknown peer: %v", err)
	}
}
