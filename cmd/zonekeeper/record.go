package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// recordCommand is `zonekeeper record VERB`.
var recordCommand = group{name: "record", verbs: []verb{
	{"add", "add one record to a primary zone", recordVerb(api.EditAdd)},
	{"set", "replace an RRset of a primary zone with one record", recordVerb(api.EditSet)},
	{"delete", "delete one record, or a whole RRset, of a primary zone", recordVerb(api.EditDelete)},
}}

// recordAbout says what each record verb does.
var recordAbout = map[string]struct{ synopsis, about string }{
	api.EditAdd: {"record add ZONE NAME TYPE RDATA... [--ttl N] [--if-serial N] [--json]",
		"Add one record to ZONE, a primary (or native) zone."},
	api.EditSet: {"record set ZONE NAME TYPE RDATA... [--ttl N] [--if-serial N] [--json]",
		"Replace the whole RRset NAME/TYPE of ZONE, a primary (or native) zone, with\nthe one record given."},
	api.EditDelete: {"record delete ZONE NAME TYPE [RDATA...] [--if-serial N] [--json]",
		"Delete one record of ZONE, a primary (or native) zone, or the whole RRset\nNAME/TYPE when no RDATA is given."},
}

// recordSyntax is the part of every record verb's help about arguments.
const recordSyntax = `
NAME is absolute (trailing dot) or relative to ZONE (@ is ZONE itself). RDATA
is the rest of the arguments, in zonefile syntax with $ORIGIN ZONE:
  zonekeeper record add example.org. @ MX 10 mail
  zonekeeper record set example.org. www A 192.0.2.7 --ttl 300
  zonekeeper record add example.org. info TXT '"two words"'
The daemon validates the whole zone as a reload would, writes the zonefile,
raises the serial by the zone's policy and reloads; the TTL is the RRset's
existing TTL, else the zone's default, unless --ttl says. --if-serial N refuses
the edit unless the zone is still at serial N.`

// recordVerb returns the command of `record add`, `record set` or
// `record delete`.
func recordVerb(op string) func(args []string, stdout, stderr io.Writer) error {
	return func(args []string, stdout, stderr io.Writer) error {
		about := recordAbout[op]
		v := newVerb("record "+op, about.synopsis, about.about+"\n"+recordSyntax, stdout)
		ttl := &uint32Flag{max: math.MaxInt32} // RFC 2181: TTLs are 0..2^31-1
		if op != api.EditDelete {
			v.flags.Var(ttl, "ttl", "TTL of the record in seconds")
		}
		ifSerial := &uint32Flag{max: math.MaxUint32}
		v.flags.Var(ifSerial, "if-serial", "refuse the edit unless the zone is at this serial")
		if err := v.parse(args); err != nil {
			return err
		}
		req := api.EditRequest{TTL: ttl.v, IfSerial: ifSerial.v}
		if op == api.EditDelete {
			if err := v.args(3, -1, "ZONE NAME TYPE [RDATA...]"); err != nil {
				return err
			}
		} else if err := v.args(4, -1, "ZONE NAME TYPE RDATA..."); err != nil {
			return err
		}
		zone, err := nameArg("zone", v.pos[0])
		if err != nil {
			return v.usageErr("%v", err)
		}
		owner, err := ownerArg(zone, v.pos[1])
		if err != nil {
			return v.usageErr("%v", err)
		}
		req.Op, req.Name = op, v.pos[1]
		if req.Type, err = typeArg(v.pos[2]); err != nil {
			return v.usageErr("%v", err)
		}
		if rdata := v.pos[3:]; len(rdata) > 0 {
			data := strings.Join(rdata, " ")
			if err := checkRecord(zone, owner, req.Type, data); err != nil {
				return v.usageErr("%v", err)
			}
			req.Data = []string{data}
		}
		var res *api.EditResult
		err = v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
			res, err = c.Edit(ctx, zone, req)
			return err
		})
		if err != nil {
			return err
		}
		if v.cf.json {
			return writeJSON(stdout, res)
		}
		fmt.Fprintln(stdout, editSummary(op, owner, req.Type, res))
		return nil
	}
}

// ownerArg checks a record's NAME and returns it absolute: @, a name
// relative to zone, or an absolute name inside zone.
func ownerArg(zone, name string) (string, error) {
	owner := name
	switch {
	case name == "@":
		return zone, nil
	case !strings.HasSuffix(name, "."):
		owner = name + "." + zone
	}
	abs, err := nameArg("record name", owner)
	if err != nil {
		return "", fmt.Errorf("record name %q is not a domain name", name)
	}
	if !dns.IsSubDomain(zone, abs) {
		return "", fmt.Errorf("record name %s is not in zone %s; give it relative to the zone or absolute inside it", name, zone)
	}
	return abs, nil
}

// checkRecord parses the record as the daemon will, so that malformed
// data is reported before anything is sent.
func checkRecord(zone, owner, typ, data string) error {
	rr, err := dns.NewRR(fmt.Sprintf("$ORIGIN %s\n%s 3600 IN %s %s", zone, owner, typ, data))
	if err == nil && rr == nil {
		err = fmt.Errorf("no record data")
	}
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "dns: ")
		if i := strings.Index(msg, " at line: "); i >= 0 {
			msg = msg[:i]
		}
		return fmt.Errorf("%s record data %q is not valid: %s", typ, data, msg)
	}
	if got := dns.TypeToString[rr.Header().Rrtype]; got != typ && !strings.HasPrefix(typ, "TYPE") {
		return fmt.Errorf("%s record data %q parses as %s", typ, data, got)
	}
	return nil
}

// editSummary is the one-line confirmation of an edit.
func editSummary(op, owner, typ string, res *api.EditResult) string {
	serial := fmt.Sprintf("serial %d -> %d", res.OldSerial, res.NewSerial)
	rrs := func(rs []api.Record) string {
		if len(rs) == 1 {
			return recordText(rs[0])
		}
		return fmt.Sprintf("%d records (%s %s)", len(rs), owner, typ)
	}
	switch {
	case len(res.Added) == 0 && len(res.Removed) == 0:
		return fmt.Sprintf("no change to %s: serial %d", res.Zone, res.NewSerial)
	case op == api.EditAdd || len(res.Removed) == 0:
		return fmt.Sprintf("added %s to %s: %s", rrs(res.Added), res.Zone, serial)
	case op == api.EditDelete || len(res.Added) == 0:
		return fmt.Sprintf("deleted %s from %s: %s", rrs(res.Removed), res.Zone, serial)
	}
	return fmt.Sprintf("set %s in %s, replacing %s: %s", rrs(res.Added), res.Zone, rrs(res.Removed), serial)
}
