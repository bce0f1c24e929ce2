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
			res, err := c.Export(ctx, tc.format, tc.role, tc.zones)
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

	if _, err := c.Export(ctx, "powerdns", "", nil); apiCode(err) != api.CodeBadRequest {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := c.Export(ctx, api.ExportBIND, "tertiary", nil); apiCode(err) != api.CodeBadRequest {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := c.Export(ctx, api.ExportBIND, "", []string{"nope.example"}); apiCode(err) != api.CodeNotFound {
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
	res, err := c.Export(ctx, api.ExportBIND, api.ExportRolePrimary, nil)
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
