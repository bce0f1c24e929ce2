package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// defaultEventLimit is how many past events `events` shows by default.
const defaultEventLimit = 50

// runEvents implements `zonekeeper events`: the activity log, and with
// --follow the events as they happen until interrupted.
func runEvents(args []string, stdout, stderr io.Writer) error {
	v := newVerb("events", "events [--follow] [--zone NAME] [--kind KIND] [--limit N] [--json]",
		"Show the activity log, oldest first: NOTIFYs, transfers, reloads, edits and\nerrors. --follow then keeps printing new events until interrupted (Ctrl-C).\n--json prints one JSON object per line.", stdout)
	follow := v.flags.Bool("follow", false, "after the past events, print new ones as they happen")
	zone := v.flags.String("zone", "", "only events of this zone")
	kind := v.flags.String("kind", "", "only events of this kind (reload, edit, key-add, ...)")
	limit := v.flags.String("limit", strconv.Itoa(defaultEventLimit), "show at most the last N past events")
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(0, 0, "no arguments"); err != nil {
		return err
	}
	q := client.EventQuery{Follow: *follow, Kind: *kind}
	n, err := strconv.Atoi(*limit)
	if err != nil || n < 1 {
		return v.usageErr("--limit %q is not a positive number", *limit)
	}
	q.Limit = n
	if *zone != "" {
		if q.Zone, err = nameArg("--zone", *zone); err != nil {
			return v.usageErr("%v", err)
		}
	}
	if strings.ContainsFunc(*kind, func(r rune) bool { return r <= ' ' }) {
		return v.usageErr("--kind %q is not an event kind", *kind)
	}
	c, err := v.client()
	if err != nil {
		return err
	}
	// Interrupting a follow is its normal end: the stream stops and the
	// command succeeds.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var print func(api.Event) error
	if v.cf.json {
		enc := json.NewEncoder(stdout)
		print = func(ev api.Event) error { return enc.Encode(ev) }
	} else {
		printEventHeader(stdout)
		print = func(ev api.Event) error { return printEvent(stdout, ev) }
	}
	err = c.Events(ctx, q, print)
	switch {
	case ctx.Err() != nil:
		return nil
	case err == nil && *follow:
		fmt.Fprintf(stderr, "zonekeeper: the daemon at %s closed the event stream: has it stopped?\n", c.Socket())
		return exitError{1}
	case err == nil:
		return nil
	}
	return failed(stderr, c, err)
}

// eventFormat lays out an event line; fixed widths keep a followed
// stream aligned with the lines printed before it.
const eventFormat = "%-19s  %-24s  %-18s  %-21s  %10s  %-7s  %s\n"

func printEventHeader(w io.Writer) {
	fmt.Fprintf(w, eventFormat, "TIME", "ZONE", "KIND", "PEER", "SERIAL", "OUTCOME", "DETAIL")
}

// printEvent prints one event line, or the notice that events were lost.
func printEvent(w io.Writer, ev api.Event) error {
	if ev.Kind == api.EventKindDropped {
		_, err := fmt.Fprintf(w, "%-19s  !! %d events not shown: this client read too slowly; see `zonekeeper events` for the full log\n", timeText(ev.Time), ev.Dropped)
		return err
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return oneLine(s)
	}
	_, err := fmt.Fprintf(w, eventFormat, timeText(ev.Time), dash(ev.Zone), dash(ev.Kind), dash(ev.Peer),
		serialText(ev.Serial), dash(ev.Outcome), dash(ev.Detail))
	return err
}
