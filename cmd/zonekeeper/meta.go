package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"zonekeeper/daemon/client"
)

// metaCommand is `zonekeeper meta VERB`.
var metaCommand = group{name: "meta", verbs: []verb{
	{"set", "set (or with no value, remove) one metadata kind of a zone", runMetaSet},
}}

func runMetaSet(args []string, stdout, stderr io.Writer) error {
	v := newVerb("meta set", "meta set NAME KIND VALUE... [--json]",
		"Replace the values of one metadata KIND of zone NAME; with no VALUE the kind\nis removed. Kinds are upper case (a lower case kind is raised): TSIG-ALLOW-AXFR\n(keys that may transfer the zone), AXFR-MASTER-TSIG (key signing requests to\nthe primaries), ALSO-NOTIFY, ALLOW-AXFR-FROM, LUA-AXFR-SCRIPT, SOA-EDIT, ...", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(2, -1, "NAME KIND VALUE..."); err != nil {
		return err
	}
	zone, err := nameArg("zone", v.pos[0])
	if err != nil {
		return v.usageErr("%v", err)
	}
	kind := strings.ToUpper(v.pos[1])
	if !metaKind.MatchString(kind) {
		return v.usageErr("metadata kind %q is not letters, digits and dashes (such as ALSO-NOTIFY)", v.pos[1])
	}
	values := v.pos[2:]
	for _, val := range values {
		if val == "" || strings.ContainsAny(val, "\n\r") {
			return v.usageErr("metadata value %q is empty or spans lines", val)
		}
	}
	err = v.call(stderr, func(ctx context.Context, c *client.Client) error {
		return c.SetMeta(ctx, zone, kind, values)
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		if values == nil {
			values = []string{}
		}
		return writeJSON(stdout, map[string]any{"zone": zone, "kind": kind, "values": values})
	}
	if len(values) == 0 {
		fmt.Fprintf(stdout, "removed %s of zone %s\n", kind, zone)
		return nil
	}
	fmt.Fprintf(stdout, "set %s of zone %s to %s\n", kind, zone, strings.Join(values, ", "))
	return nil
}
