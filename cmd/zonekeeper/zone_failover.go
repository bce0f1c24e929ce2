package main

// The failover verbs of `zonekeeper zone`: promote (a secondary zone, or
// all of them, becomes primary on this node) and demote (a primary zone
// becomes a secondary of another node, its zonefile kept in
// DATA/backup). They are listed in zoneCommand (zone.go).

import (
	"context"
	"fmt"
	"io"
	"strings"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

func runZonePromote(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone promote", "zone promote NAME [--force] [--json] | zone promote --all [--from ADDR] [--force] [--json]",
		"Make secondary zone NAME a primary zone on this node, without a restart: its\ntransferred version is written to DATA/zones and served as a primary, edits are\naccepted, and its NOTIFY targets are told. With --all, every secondary zone;\nwith --from ADDR too, only those whose primaries include ADDR (an IP address\nwith an optional port, or a peer name).\nRefused while the zone's primary is alive (it answers this node, or a majority\nof the peers that answer say it answers them) or another node already serves\nit as primary: promoting would make two primaries. --force promotes anyway and\nsays what it overrode.", stdout)
	all := v.flags.Bool("all", false, "promote every secondary zone (see --from)")
	force := v.flags.Bool("force", false, "promote although the guard refuses (the primary is alive): two primaries")
	from := v.flags.String("from", "", "with --all: only the zones whose primaries include ADDR (IP[:port] or peer name)")
	if err := v.parse(args); err != nil {
		return err
	}
	var name string
	switch {
	case *all:
		if err := v.args(0, 0, "no NAME with --all"); err != nil {
			return err
		}
		if *from != "" {
			if _, err := primaryArg(strings.TrimSpace(*from)); err != nil {
				return v.usageErr("--from: %v", err)
			}
		}
	default:
		if *from != "" {
			return v.usageErr("--from goes with --all: `zone promote --all --from ADDR`")
		}
		if err := v.args(1, 1, "NAME (or --all)"); err != nil {
			return err
		}
		var err error
		if name, err = nameArg("zone", v.pos[0]); err != nil {
			return v.usageErr("%v", err)
		}
	}
	var res *api.PromoteResult
	err := v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		if *all {
			res, err = c.PromoteAllWith(ctx, api.PromoteRequest{From: strings.TrimSpace(*from), Force: *force})
		} else {
			res, err = c.PromoteWith(ctx, name, api.PromoteRequest{Force: *force})
		}
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		if res.Zones == nil {
			res.Zones = []api.Promoted{}
		}
		if err := writeJSON(stdout, res); err != nil {
			return err
		}
	} else {
		if len(res.Zones) == 0 {
			what := "no secondary zone here"
			if *from != "" {
				what = "no secondary zone here has " + *from + " among its primaries"
			}
			fmt.Fprintln(stdout, what+": nothing promoted")
		}
		for _, p := range res.Zones {
			if p.Error != "" {
				fmt.Fprintf(stdout, "zone %s: not promoted: %s\n", p.Zone, p.Error)
				continue
			}
			fmt.Fprintf(stdout, "promoted zone %s to primary at serial %s in %.1f ms (former primaries %s)\n",
				p.Zone, serialText(p.Serial), p.Millis, strings.Join(p.FormerPrimaries, ", "))
			if p.Overrode != "" {
				fmt.Fprintf(stdout, "  --force overrode: %s\n", p.Overrode)
			}
		}
	}
	failed := 0
	for _, p := range res.Zones {
		if p.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "zonekeeper: %d of %d zones were not promoted; see `zonekeeper events --kind promote`\n", failed, len(res.Zones))
		return exitError{1}
	}
	return nil
}

func runZoneDemote(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone demote", "zone demote NAME --primary ADDR[,ADDR...] [--tsig KEY] [--force] [--json]",
		"Make primary zone NAME a secondary of the given primaries (IP addresses with\nan optional port, or peer names, tried in order). Its zonefile is first copied\nto DATA/backup/<zone>.<serial>.<time>.zone; then the zone is transferred in\nfull from the new primary, whatever its serial, and served. If no primary\ntransfers it, nothing changes. --tsig names the key that signs the requests.\nRefused unless every new primary serves the zone as a primary (asked over DNS):\ndemoting onto a secondary would leave no primary, or a chain that loops.\n--force demotes anyway and says what it overrode.", stdout)
	primaries := v.flags.String("primary", "", "the new primaries, comma-separated: IP[:port] or peer names")
	force := v.flags.Bool("force", false, "demote although a new primary does not serve the zone as a primary")
	tsig := v.flags.String("tsig", "", "TSIG key that signs requests to the primaries (see `zonekeeper key list`)")
	name, err := v.zoneArg(args)
	if err != nil {
		return err
	}
	if *primaries == "" {
		return v.usageErr("give the new primary: --primary ADDR[,ADDR...]")
	}
	req := api.DemoteRequest{Force: *force}
	for _, p := range strings.Split(*primaries, ",") {
		p, err := primaryArg(strings.TrimSpace(p))
		if err != nil {
			return v.usageErr("--primary: %v", err)
		}
		req.Primaries = append(req.Primaries, p)
	}
	if *tsig != "" {
		if req.TSIGKey, err = nameArg("--tsig key", *tsig); err != nil {
			return v.usageErr("%v", err)
		}
	}
	var res *api.DemoteResult
	err = v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		res, err = c.Demote(ctx, name, req)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "demoted zone %s to a secondary of %s: serial %s -> %s from %s; the old zonefile is kept in %s\n",
		res.Zone.Name, strings.Join(res.Zone.Primaries, ", "), serialText(res.OldSerial), serialText(res.Zone.Serial), res.From, res.Backup)
	if res.Overrode != "" {
		fmt.Fprintf(stdout, "  --force overrode: %s\n", res.Overrode)
	}
	return nil
}

// orDash is s, or "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// showFailover prints what `zone show` adds about failover: a secondary's
// expire clock and the zone at each peer.
func showFailover(stdout io.Writer, z *api.ZoneDetail) error {
	if z.ExpireIn != nil {
		fmt.Fprintf(stdout, "\nexpires in %ds, at %s\n", *z.ExpireIn, timeText(z.ExpiresAt))
	}
	if len(z.Peers) == 0 {
		return nil
	}
	fmt.Fprintf(stdout, "\npeers (in sync %s):\n", z.PeersInSync)
	t := newTable(stdout, "PEER", "ADDR", "ROLE", "SERIAL", "LAG", "IN SYNC", "LAST IN SYNC", "DIGEST", "ERROR")
	for _, p := range z.Peers {
		serial, lag := "-", "-"
		if p.Serves {
			serial, lag = serialText(p.Serial), fmt.Sprint(p.Lag)
		}
		inSync := fmt.Sprint(p.InSync)
		if p.Diverged {
			inSync = api.StateDiverged
		}
		role := orDash(p.Role)
		if p.Primary != "" {
			role += " of " + p.Primary
		}
		t.row(p.Peer, p.Addr, role, serial, lag, inSync, timeText(p.LastSync), digestText(p.Digest), p.Error)
	}
	return t.flush()
}

func runZoneHealth(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone health", "zone health NAME [--json]",
		"Ask every server that should hold zone NAME (this node, the NS-listed servers,\nALSO-NOTIFY, also-notify and peers) for its SOA now and show, per server, its\nsource, whether it answered and answered authoritatively (AA), its serial, its\nlag behind ours (RFC 1982) and when it was last in sync; then the lint\nfindings of RFC 2182 and RFC 1912 practice (lame NS, NS without an address,\nfewer than two NS, all NS in one /24 or /48).\nExit status 1 when the zone is in split-brain (a peer serves it as primary too,\nor a server that does not say its role serves a newer serial), diverged (a\npeer serves our serial with another content digest) or a lint finding is an\nerror.", stdout)
	name, err := v.zoneArg(args)
	if err != nil {
		return err
	}
	var z *api.Zone
	err = v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		z, err = c.ZoneHealth(ctx, name)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		if err := writeJSON(stdout, z); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "zone %s: %s %s, serial %s, digest %s\n", z.Name, z.Kind, z.State, serialText(z.Serial), digestText(z.Digest))
		if err := showServers(stdout, z); err != nil {
			return err
		}
		if len(z.Peers) == 0 {
			fmt.Fprintln(stdout, "\nno peers (zonekeeper peer add NAME ADDR)")
		}
		if err := showFailover(stdout, &api.ZoneDetail{Zone: *z}); err != nil {
			return err
		}
	}
	failed := false
	if z.State == api.StateSplitBrain || z.State == api.StateDiverged {
		fmt.Fprintf(stderr, "zonekeeper: %s: %s\n", z.State, z.Error)
		failed = true
	}
	for _, f := range z.Lint {
		if f.Severity == api.LintError {
			fmt.Fprintf(stderr, "zonekeeper: lint error: %s (%s): %s\n", f.Rule, f.RFC, f.Detail)
			failed = true
		}
	}
	if failed {
		return exitError{1}
	}
	return nil
}

// showServers prints the servers that should hold a zone and the lint
// findings (`zone health`).
func showServers(stdout io.Writer, z *api.Zone) error {
	fmt.Fprintln(stdout, "\nservers:")
	t := newTable(stdout, "ADDR", "SOURCE", "STEALTH", "REACHABLE", "AA", "SERIAL", "LAG", "IN SYNC", "LAST IN SYNC", "ERROR")
	for _, s := range z.Servers {
		serial, lag, aa := "-", "-", "-"
		if s.HasSerial {
			serial, lag = serialText(s.Serial), fmt.Sprint(s.Lag)
		}
		if s.Reachable {
			aa = fmt.Sprint(s.Authoritative)
		}
		t.row(s.Addr, strings.Join(s.Sources, ", "), fmt.Sprint(s.Stealth), fmt.Sprint(s.Reachable), aa, serial, lag,
			fmt.Sprint(s.InSync), timeText(s.LastSync), s.Error)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(z.Lint) == 0 {
		fmt.Fprintln(stdout, "\nlint: no findings")
		return nil
	}
	fmt.Fprintln(stdout, "\nlint:")
	lt := newTable(stdout, "SEVERITY", "RULE", "RFC", "DETAIL")
	for _, f := range z.Lint {
		lt.row(f.Severity, f.Rule, f.RFC, f.Detail)
	}
	return lt.flush()
}

// digestText is a content digest for `zone show` and `zone health`,
// whole; "-" while unknown.
func digestText(d string) string { return orDash(d) }

// shortDigest is the first 12 hex digits of a digest, for tables; "-"
// while unknown.
func shortDigest(d string) string {
	if d == "" {
		return "-"
	}
	return d[:min(12, len(d))]
}

// zoneErrorCell is what the ERROR column of `zone list` shows of a
// zone: its error, and for a diverged zone each diverged peer with both
// digests shortened.
func zoneErrorCell(z api.Zone) string {
	if z.State != api.StateDiverged {
		return z.Error
	}
	var parts []string
	for _, p := range z.Peers {
		if p.Diverged {
			parts = append(parts, fmt.Sprintf("serial %s: digest %s here, %s at %s", serialText(p.Serial), shortDigest(z.Digest), shortDigest(p.Digest), p.Peer))
		}
	}
	return strings.Join(parts, "; ")
}
