package main

// The replication verbs of `zonekeeper zone`: retrieve (transfer a
// secondary zone now), notify and notify-host (send NOTIFY now). They
// are listed in zoneCommand (zone.go).

import (
	"context"
	"fmt"
	"io"

	"zonekeeper/daemon"
	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

func runZoneRetrieve(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone retrieve", "zone retrieve NAME [--json]",
		"Transfer secondary zone NAME from its primaries now, whatever the serials\n(the primaries are tried in order), and print the serial it then serves.", stdout)
	name, err := v.zoneArg(args)
	if err != nil {
		return err
	}
	var z *api.Zone
	err = v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		z, err = c.Retrieve(ctx, name)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return writeJSON(stdout, z)
	}
	fmt.Fprintf(stdout, "retrieved zone %s: serial %s\n", z.Name, serialText(z.Serial))
	return nil
}

func runZoneNotify(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone notify", "zone notify NAME [--json]",
		"Send NOTIFY of zone NAME now to each of its targets: the addresses of its NS\nnames other than the SOA MNAME (on the ns-port setting's port), its ALSO-NOTIFY\nmetadata and the also-notify setting. Waits a few seconds for the answers and\nprints one line per target; exit status 1 when a target did not acknowledge.", stdout)
	name, err := v.zoneArg(args)
	if err != nil {
		return err
	}
	return sendNotify(v, name, "", stdout, stderr)
}

func runZoneNotifyHost(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone notify-host", "zone notify-host NAME ADDR [--json]",
		"Send NOTIFY of zone NAME now to ADDR only: an IP address with an optional\nport (127.0.0.2, 127.0.0.2:5300, [::1]:5300; port 53 when absent). Waits a\nfew seconds for the answer; exit status 1 when it did not acknowledge.", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(2, 2, "NAME ADDR"); err != nil {
		return err
	}
	name, err := nameArg("zone", v.pos[0])
	if err != nil {
		return v.usageErr("%v", err)
	}
	ap, err := daemon.ParseAddr(v.pos[1], 53)
	if err != nil {
		return v.usageErr("ADDR: %v", err)
	}
	return sendNotify(v, name, ap.String(), stdout, stderr)
}

// sendNotify asks the daemon to NOTIFY addr ("" for every target) and
// prints one line per target.
func sendNotify(v *verbLine, zone, addr string, stdout, stderr io.Writer) error {
	var res *api.NotifyResult
	err := v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		res, err = c.Notify(ctx, zone, addr)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		if res.Targets == nil {
			res.Targets = []api.NotifyTarget{}
		}
		if err := writeJSON(stdout, res); err != nil {
			return err
		}
	} else if len(res.Targets) == 0 {
		fmt.Fprintf(stdout, "zone %s (serial %s) has no NOTIFY targets: its NS names are its SOA MNAME only, and neither ALSO-NOTIFY nor also-notify is set\n",
			res.Zone, serialText(res.Serial))
	} else {
		t := newTable(stdout, "ADDR", "SOURCE", "RESULT")
		for _, tg := range res.Targets {
			t.row(tg.Addr, tg.Source, notifyResultText(tg))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	failed := 0
	for _, tg := range res.Targets {
		if !notifyAcknowledged(tg) {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "zonekeeper: %d of %d NOTIFY targets of zone %s (serial %d) did not acknowledge; see the activity log (`zonekeeper events --zone %s`)\n",
			failed, len(res.Targets), res.Zone, res.Serial, res.Zone)
		return exitError{1}
	}
	return nil
}

// notifyAcknowledged reports whether a target answered NOERROR.
func notifyAcknowledged(tg api.NotifyTarget) bool {
	return tg.Rcode == "NOERROR" && tg.Error == ""
}

// notifyResultText is the RESULT column: the answer's RCODE, or why there
// was none, or both.
func notifyResultText(tg api.NotifyTarget) string {
	switch {
	case tg.Rcode != "" && tg.Error != "":
		return tg.Rcode + ": " + tg.Error
	case tg.Rcode != "":
		return tg.Rcode
	}
	return tg.Error
}
