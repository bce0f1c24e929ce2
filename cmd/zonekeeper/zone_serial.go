package main

// `zonekeeper zone set-serial`: the serial reset procedure of RFC 2182
// §7. It is listed in zoneCommand (zone.go).

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

func runZoneSetSerial(args []string, stdout, stderr io.Writer) error {
	v := newVerb("zone set-serial", "zone set-serial NAME SERIAL [--dry-run] [--timeout D] [--json]",
		"Set the SOA serial of primary zone NAME to SERIAL (RFC 2182 §7, RFC 1982).\nAn increase is applied at once. A decrease is planned as the fewest serial\nincrements (each less than 2^31) that reach SERIAL, printed, then carried out\nstep by step: after each step every server that should hold the zone (its\nNOTIFY targets: NS addresses, ALSO-NOTIFY, also-notify, peers) must serve the\nstep's serial within --timeout before the next. The first server that does\nnot stops the procedure: the zone stays at the serial of the last step and\nthe error names the server; run set-serial again once it follows.\n--dry-run prints the plan only.", stdout)
	dryRun := v.flags.Bool("dry-run", false, "print the plan and change nothing")
	timeout := v.flags.Duration("timeout", 60*time.Second, "how long every server may take to follow one step")
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(2, 2, "NAME SERIAL"); err != nil {
		return err
	}
	name, err := nameArg("zone", v.pos[0])
	if err != nil {
		return v.usageErr("%v", err)
	}
	serial, err := strconv.ParseUint(v.pos[1], 10, 32)
	if err != nil {
		return v.usageErr("SERIAL %q is not a number from 0 to 4294967295", v.pos[1])
	}
	if *timeout <= 0 {
		return v.usageErr("--timeout %v is not positive", *timeout)
	}
	c, err := v.client()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	req := api.SetSerialRequest{Serial: uint32(serial), DryRun: true, TimeoutSeconds: timeout.Seconds()}

	// The plan first: printed before anything changes, and it bounds the
	// wait for the whole procedure.
	plan, err := setSerialCall(ctx, c, name, req, requestTimeout)
	if err != nil {
		return failed(stderr, c, err)
	}
	if *dryRun {
		if v.cf.json {
			return writeJSON(stdout, plan)
		}
		return printLog(stdout, plan.Log)
	}
	if !v.cf.json && len(plan.Log) > 0 && len(plan.Plan) > 0 {
		fmt.Fprintln(stdout, plan.Log[0])
	}
	if len(plan.Plan) == 0 {
		if v.cf.json {
			return writeJSON(stdout, plan)
		}
		return printLog(stdout, plan.Log)
	}
	req.DryRun = false
	res, err := setSerialCall(ctx, c, name, req, requestTimeout+time.Duration(len(plan.Plan))*(*timeout))
	if err != nil {
		return failed(stderr, c, err)
	}
	if v.cf.json {
		return writeJSON(stdout, res)
	}
	return printLog(stdout, res.Log[1:]) // the plan is printed already
}

// setSerialCall runs one set-serial request bounded by limit.
func setSerialCall(ctx context.Context, c *client.Client, name string, req api.SetSerialRequest, limit time.Duration) (*api.SetSerialResult, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return c.SetSerial(ctx, name, req)
}

// printLog prints progress lines.
func printLog(w io.Writer, lines []string) error {
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}
