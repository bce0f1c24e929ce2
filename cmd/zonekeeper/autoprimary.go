package main

import (
	"context"
	"fmt"
	"io"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// autoprimaryCommand is `zonekeeper autoprimary VERB`.
var autoprimaryCommand = group{name: "autoprimary", verbs: []verb{
	{"add", "trust an IP's NOTIFYs to provision secondary zones", runAutoprimaryAdd},
	{"list", "list the autoprimary table", runAutoprimaryList},
	{"remove", "remove an IP from the autoprimary table", runAutoprimaryRemove},
}}

func runAutoprimaryAdd(args []string, stdout, stderr io.Writer) error {
	v := newVerb("autoprimary add", "autoprimary add IP NSNAME [ACCOUNT] [--json]",
		"Add IP to the autoprimary table: a NOTIFY from IP for a zone this server does\nnot have provisions it as a secondary, when IP serves the zone's SOA and the\nzone's NS set contains NSNAME. ACCOUNT is recorded with the zones provisioned.", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(2, 3, "IP NSNAME [ACCOUNT]"); err != nil {
		return err
	}
	var a api.Autoprimary
	var err error
	if a.IP, err = ipArg("autoprimary", v.pos[0]); err != nil {
		return v.usageErr("%v", err)
	}
	if a.Nameserver, err = nameArg("name server", v.pos[1]); err != nil {
		return v.usageErr("%v", err)
	}
	if len(v.pos) == 3 {
		a.Account = v.pos[2]
	}
	err = v.call(stderr, func(ctx context.Context, c *client.Client) error {
		return c.AddAutoprimary(ctx, a)
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return writeJSON(stdout, a)
	}
	account := ""
	if a.Account != "" {
		account = ", account " + a.Account
	}
	fmt.Fprintf(stdout, "added autoprimary %s (name server %s%s)\n", a.IP, a.Nameserver, account)
	return nil
}

func runAutoprimaryList(args []string, stdout, stderr io.Writer) error {
	v := newVerb("autoprimary list", "autoprimary list [--json]", "List the autoprimary table.", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(0, 0, "no arguments"); err != nil {
		return err
	}
	var as []api.Autoprimary
	err := v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		as, err = c.Autoprimaries(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		if as == nil {
			as = []api.Autoprimary{}
		}
		return writeJSON(stdout, as)
	}
	t := newTable(stdout, "IP", "NAMESERVER", "ACCOUNT")
	for _, a := range as {
		t.row(a.IP, a.Nameserver, a.Account)
	}
	return t.flush()
}

func runAutoprimaryRemove(args []string, stdout, stderr io.Writer) error {
	v := newVerb("autoprimary remove", "autoprimary remove IP [--json]", "Remove IP from the autoprimary table; zones it provisioned stay.", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(1, 1, "IP"); err != nil {
		return err
	}
	ip, err := ipArg("autoprimary", v.pos[0])
	if err != nil {
		return v.usageErr("%v", err)
	}
	err = v.call(stderr, func(ctx context.Context, c *client.Client) error {
		return c.RemoveAutoprimary(ctx, ip)
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return removedJSON(stdout, "autoprimary", ip)
	}
	fmt.Fprintf(stdout, "removed autoprimary %s\n", ip)
	return nil
}
