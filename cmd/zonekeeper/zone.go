package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// zoneCommand is `zonekeeper zone VERB`.
var zoneCommand = group{name: "zone", verbs: []verb{
	{"list", "list every zone with its kind, state and serial", runZoneList},
	{"show", "show one zone: settings, metadata and records", runZoneShow},
	{"add-secondary", "register a secondary zone and its primaries", runZoneAddSecondary},
	{"set", "change a zone's kind or serial policy", runZoneSet},
	{"remove", "stop serving a zone and forget it", runZoneRemove},
	{"retrieve", "transfer a secondary zone from its primaries now", runZoneRetrieve},              // zone_xfr.go
	{"notify", "send NOTIFY of a zone to all its targets now", runZoneNotify},                      // zone_xfr.go
	{"notify-host", "send NOTIFY of a zone to one address now", runZoneNotifyHost},                 // zone_xfr.go
	{"promote", "make a secondary zone (or --all) primary on this node", runZonePromote},           // zone_failover.go
	{"demote", "make a primary zone a secondary of another node", runZoneDemote},                   // zone_failover.go
	{"health", "ask every peer for a zone's serial now: lag, in sync, split-brain", runZoneHealth}, // zone_failover.go
	{"set-serial", "set a primary zone's serial; a decrease in RFC 1982 steps", runZoneSetSerial},  // zone_serial.go
}}

func runZoneList(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone list", "zone list [--json]", "List every zone the daemon knows, with its kind, state and served serial.", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(0, 0, "no arguments"); err != nil {
		return err
	}
	var zones []api.Zone
	err := v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		zones, err = c.Zones(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		if zones == nil {
			zones = []api.Zone{}
		}
		return writeJSON(stdout, zones)
	}
	t := newTable(stdout, "ZONE", "KIND", "STATE", "SERIAL", "RECORDS", "POLICY", "SIGS", "PRIMARIES", "PEERS IN SYNC", "ERROR")
	for _, z := range zones {
		t.row(z.Name, z.Kind, z.State, serialText(z.Serial), fmt.Sprint(z.Records), z.SerialPolicy, sigsCell(z.Signatures),
			strings.Join(z.Primaries, ","), orDash(z.PeersInSync), cmp.Or(zoneErrorCell(z), z.Catalog)) // zone_failover.go
	}
	return t.flush()
}

func runZoneShow(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone show", "zone show NAME [--json]", "Show one zone: its settings, its metadata and the records it serves.", stdout)
	name, err := v.zoneArg(args)
	if err != nil {
		return err
	}
	var z *api.ZoneDetail
	err = v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		z, err = c.Zone(ctx, name)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return writeJSON(stdout, z)
	}
	t := newTable(stdout)
	t.row("zone", z.Name)
	t.row("kind", z.Kind)
	t.row("state", z.State)
	t.row("serial", serialText(z.Serial))
	t.row("digest", digestText(z.Digest))
	if s := z.Signatures; s != nil {
		t.row("signatures", sigsText(s.Expires, s.ExpiresIn)+fmt.Sprintf(", earliest %s; %d RRSIGs", s.Earliest, s.RRSIGs))
		t.row("dnskey signatures", sigsText(s.DNSKEYExpires, s.DNSKEYExpiresIn))
	}
	t.row("records", fmt.Sprint(len(z.Records)))
	t.row("serial policy", z.SerialPolicy)
	if z.File != "" {
		t.row("file", z.File)
	}
	if len(z.Primaries) > 0 || z.Kind == api.KindSecondary {
		t.row("primaries", strings.Join(z.Primaries, ", "))
		t.row("tsig key", z.TSIGKey)
		t.row("last check", timeText(z.LastCheck))
		t.row("primary serial", serialText(z.LastSerial))
	}
	if z.NotifiedSerial != 0 {
		t.row("notified serial", serialText(z.NotifiedSerial))
	}
	if z.Account != "" {
		t.row("account", z.Account)
	}
	if z.Catalog != "" {
		t.row("catalog", z.Catalog)
	}
	if z.Error != "" {
		t.row("error", z.Error)
	}
	t.row("created", timeText(z.Created))
	t.row("updated", timeText(z.Updated))
	if err := t.flush(); err != nil {
		return err
	}
	if len(z.Meta) > 0 {
		fmt.Fprintln(stdout, "\nmetadata:")
		t := newTable(stdout, "KIND", "VALUES")
		for _, k := range slices.Sorted(maps.Keys(z.Meta)) {
			t.row(k, strings.Join(z.Meta[k], ", "))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if err := showFailover(stdout, z); err != nil { // zone_failover.go
		return err
	}
	fmt.Fprintf(stdout, "\nrecords (%d):\n", len(z.Records))
	t = newTable(stdout, "NAME", "TTL", "TYPE", "DATA")
	for _, r := range z.Records {
		t.row(r.Name, fmt.Sprint(r.TTL), r.Type, r.Data)
	}
	return t.flush()
}

func runZoneAddSecondary(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone add-secondary", "zone add-secondary NAME PRIMARY[,PRIMARY...] [--tsig KEY] [--json]",
		"Register NAME as a secondary zone transferred from its primaries, tried in\norder. A PRIMARY is an IP address with an optional port (127.0.0.2,\n127.0.0.2:5300, [::1]:5300; port 53 when absent) or a peer name.\n--tsig names the key that signs the requests to the primaries.", stdout)
	tsig := v.flags.String("tsig", "", "TSIG key that signs requests to the primaries (see `zonekeeper key list`)")
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(2, 2, "NAME PRIMARY[,PRIMARY...] (comma-separated, no spaces)"); err != nil {
		return err
	}
	name, err := nameArg("zone", v.pos[0])
	if err != nil {
		return v.usageErr("%v", err)
	}
	req := api.AddSecondaryRequest{Name: name}
	for _, p := range strings.Split(v.pos[1], ",") {
		p, err := primaryArg(strings.TrimSpace(p))
		if err != nil {
			return v.usageErr("%v", err)
		}
		req.Primaries = append(req.Primaries, p)
	}
	if *tsig != "" {
		if req.TSIGKey, err = nameArg("--tsig key", *tsig); err != nil {
			return v.usageErr("%v", err)
		}
	}
	var z *api.Zone
	err = v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		z, err = c.AddSecondary(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return writeJSON(stdout, z)
	}
	how := ""
	if z.TSIGKey != "" {
		how = ", signed with key " + z.TSIGKey
	}
	fmt.Fprintf(stdout, "added secondary zone %s: primaries %s%s\n", z.Name, strings.Join(z.Primaries, ", "), how)
	return nil
}

func runZoneSet(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone set", "zone set NAME [--kind primary|native] [--serial-policy increment|date|unixtime] [--json]",
		"Change a zone's kind (primary: notifies and serves transfers; native: served,\nreplicated by something else) or the serial policy of edits made through\nzonekeeper (increment: +1; date: YYYYMMDDnn; unixtime: seconds since 1970).", stdout)
	kind := v.flags.String("kind", "", "the zone's kind: primary or native")
	policy := v.flags.String("serial-policy", "", "how edits raise the serial: increment, date or unixtime")
	name, err := v.zoneArg(args)
	if err != nil {
		return err
	}
	req := api.ZoneSetRequest{Kind: strings.ToLower(*kind), SerialPolicy: strings.ToLower(*policy)}
	switch req.Kind {
	case "", api.KindPrimary, api.KindNative:
	case api.KindSecondary:
		return v.usageErr("--kind secondary: a zone becomes a secondary with `zonekeeper zone demote`, which also names its primaries")
	default:
		return v.usageErr("--kind %q is not primary or native", *kind)
	}
	switch req.SerialPolicy {
	case "", api.SerialIncrement, api.SerialDate, api.SerialUnixtime:
	default:
		return v.usageErr("--serial-policy %q is not increment, date or unixtime", *policy)
	}
	if req.Kind == "" && req.SerialPolicy == "" {
		return v.usageErr("nothing to change: give --kind or --serial-policy")
	}
	var z *api.Zone
	err = v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		z, err = c.SetZone(ctx, name, req)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return writeJSON(stdout, z)
	}
	fmt.Fprintf(stdout, "zone %s: kind %s, serial policy %s\n", z.Name, z.Kind, z.SerialPolicy)
	return nil
}

func runZoneRemove(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone remove", "zone remove NAME [--json]",
		"Stop serving a zone and forget its settings and metadata. The daemon moves a\nzonefile it removes to DATA/backup rather than deleting it.", stdout)
	name, err := v.zoneArg(args)
	if err != nil {
		return err
	}
	err = v.call(stderr, func(ctx context.Context, c *client.Client) error {
		return c.RemoveZone(ctx, name)
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return removedJSON(stdout, "zone", name)
	}
	fmt.Fprintf(stdout, "removed zone %s\n", name)
	return nil
}
