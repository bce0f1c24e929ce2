package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// runStatus implements `zonekeeper status`: the daemon at a glance.
func runStatus(args []string, stdout, stderr io.Writer) error {
	v := newVerb("status", "status [--json]",
		"Show the running daemon: version, uptime, listen addresses, control socket,\ndata directory, zones by kind and by state, query and TCP connection counts,\nand the last errors.", stdout)
	if err := v.parse(args); err != nil {
		return err
	}
	if err := v.args(0, 0, "no arguments"); err != nil {
		return err
	}
	var st *api.Status
	err := v.call(stderr, func(ctx context.Context, c *client.Client) (err error) {
		st, err = c.Status(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if v.cf.json {
		return writeJSON(stdout, st)
	}
	t := newTable(stdout)
	ver := st.Version
	if ver != version {
		ver += " (this client: " + version + ")"
	}
	t.row("version", ver)
	t.row("uptime", fmt.Sprintf("%s (since %s)", st.Uptime, timeText(st.Started)))
	t.row("listen", strings.Join(st.Listen, ", "))
	t.row("control", st.Control)
	t.row("data", st.Data)
	if st.Catalog != "" {
		t.row("catalog", st.Catalog)
	}
	t.row("zones", fmt.Sprint(st.Zones))
	t.row("  by kind", counts(st.ByKind))
	t.row("  by state", counts(st.ByState))
	t.row("queries", queryCounts(st.Queries))
	t.row("tcp", tcpCounts(st.TCP))
	if st.Signed > 0 {
		t.row("signed zones", fmt.Sprint(st.Signed))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(st.Alerts) > 0 {
		fmt.Fprintln(stdout, "zones that need you:")
		for _, a := range st.Alerts {
			fmt.Fprintf(stdout, "  %s %s: %s\n", a.Zone, a.State, a.Detail)
		}
	}
	if len(st.LastErrors) == 0 {
		fmt.Fprintln(stdout, "last errors: none")
		return nil
	}
	fmt.Fprintln(stdout, "last errors:")
	printEventHeader(stdout)
	for _, ev := range st.LastErrors {
		printEvent(stdout, ev)
	}
	return nil
}

// queryCounts shows the queries answered and the share of each path:
// "1234567 (fast 95.1%, full 4.6%, slow path 0.3%)".
func queryCounts(q api.QueryCounts) string {
	total := q.Fast + q.Full + q.Special
	if total == 0 {
		return "0"
	}
	pct := func(n uint64) float64 { return 100 * float64(n) / float64(total) }
	s := fmt.Sprintf("%d (fast %.1f%%, full %.1f%%, slow path %.1f%%)", total, pct(q.Fast), pct(q.Full), pct(q.Special))
	if q.RRLDropped+q.RRLSlipped > 0 {
		s += fmt.Sprintf("; rate-limited: %d dropped, %d sent truncated", q.RRLDropped, q.RRLSlipped)
	}
	return s
}

// tcpCounts shows the open TCP connections and what the limits did:
// "12 open; refused 40 (full 0, per address 40, per prefix 0); idle
// closed 3 for room, 0 early".
func tcpCounts(c api.TCPCounts) string {
	refused := c.RefusedFull + c.RefusedPerAddr + c.RefusedPerPrefix
	return fmt.Sprintf("%d open; refused %d (full %d, per address %d, per prefix %d); idle closed %d for room, %d early",
		c.Open, refused, c.RefusedFull, c.RefusedPerAddr, c.RefusedPerPrefix, c.Evicted, c.PressureClosed)
}

// counts shows a count per name, sorted by name: "primary 2, secondary 1".
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
