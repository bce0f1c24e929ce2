package main

// Output of the client verbs: aligned tables with a header row for
// people, one JSON document for scripts.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"zonekeeper/daemon/api"
)

// table writes aligned columns; Flush writes them out.
type table struct{ tw *tabwriter.Writer }

// newTable starts a table with its header row.
func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row adds one row; an empty cell is shown as "-" so columns stay
// readable and splittable.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		c = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
		if c == "" {
			c = "-"
		}
		if i > 0 {
			io.WriteString(t.tw, "\t")
		}
		io.WriteString(t.tw, c)
	}
	io.WriteString(t.tw, "\n")
}

func (t *table) flush() error { return t.tw.Flush() }

// writeJSON prints v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// removedJSON is what a removal prints with --json: the API answers it
// with no body.
func removedJSON(w io.Writer, what, name string) error {
	return writeJSON(w, map[string]string{"removed": what, "name": name})
}

// recordText is a record in zonefile form: NAME TTL IN TYPE DATA.
func recordText(r api.Record) string {
	return fmt.Sprintf("%s %d IN %s %s", r.Name, r.TTL, r.Type, r.Data)
}

// timeText shows a time in the local zone to the second, "-" when unset.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// serialText shows a serial, "-" when zero (not served, never seen).
func serialText(s uint32) string {
	if s == 0 {
		return "-"
	}
	return fmt.Sprint(s)
}

// sigsCell is a zone's signature watch in `zone list`: the days left
// before its earliest RRSIG expires ("6d", "<1d", "expired"), "-" when
// it is not signed.
func sigsCell(s *api.Signatures) string {
	switch {
	case s == nil:
		return "-"
	case s.ExpiresIn <= 0:
		return "expired"
	case s.ExpiresIn < 86400:
		return "<1d"
	}
	return fmt.Sprintf("%dd", s.ExpiresIn/86400)
}

// sigsText is when signatures expire: "in 1d23h59m (2026-12-10 00:12:01)",
// "expired 2026-12-10 00:12:01", "-" when none.
func sigsText(at time.Time, in int64) string {
	switch {
	case at.IsZero():
		return "-"
	case in <= 0:
		return "expired " + timeText(at)
	}
	return fmt.Sprintf("in %s (%s)", (time.Duration(in) * time.Second).String(), timeText(at))
}
