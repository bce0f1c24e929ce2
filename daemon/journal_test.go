package daemon

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// journalFixture is a journal over a data directory with just enough of a
// daemon around it: a registry of served zones and a queue of events that
// the test reads (nothing writes them to a store).
type journalFixture struct {
	t    testing.TB
	d    *Daemon
	j    *journal
	data string
}

func newJournalFixture(t testing.TB, data string) *journalFixture {
	t.Helper()
	d := &Daemon{cfg: Config{Data: data}, log: slog.New(slog.DiscardHandler), zones: answer.NewZones(), events: newEvents(nil, slog.New(slog.DiscardHandler))}
	j, err := newJournal(filepath.Join(d.cfg.Data, "journal"), d.log, d.events.Emit)
	if err != nil {
		t.Fatal(err)
	}
	d.journal = j
	return &journalFixture{t: t, d: d, j: j, data: data}
}

// serve swaps cur in as the loader does, then records it.
func (f *journalFixture) serve(old, cur *zonefile.Zone) {
	f.t.Helper()
	f.d.zones.Set(mustCompile(f.t, cur))
	if err := f.j.record(f.d.zones, cur); err != nil {
		f.t.Fatalf("record serial %d: %v", cur.Serial(), err)
	}
}

// events returns the kinds of the events emitted so far, and forgets them.
func (f *journalFixture) events() []string {
	var kinds []string
	for {
		select {
		case q := <-f.d.events.queue:
			kinds = append(kinds, q.ev.Kind)
		default:
			return kinds
		}
	}
}

// since returns the steps from serial as text, or fails when there are none.
func (f *journalFixture) since(serial uint32) []string {
	f.t.Helper()
	diffs, ok := f.j.since("example.org.", serial, f.d.zones.Get("example.org."))
	if !ok {
		f.t.Fatalf("since(%d): the journal does not reach it", serial)
	}
	return diffText(diffs)
}

func (f *journalFixture) miss(serial uint32) {
	f.t.Helper()
	if diffs, ok := f.j.since("example.org.", serial, f.d.zones.Get("example.org.")); ok {
		f.t.Fatalf("since(%d) = %v, want a miss", serial, diffText(diffs))
	}
}

// diffText renders steps as "1->2 -rr +rr" lines, records in the order given.
func diffText(diffs []journalDiff) []string {
	var out []string
	for _, d := range diffs {
		line := fmt.Sprintf("%d->%d", d.From.Serial, d.To.Serial)
		for _, s := range rrStrings(d.Removed) {
			line += " -" + s
		}
		for _, s := range rrStrings(d.Added) {
			line += " +" + s
		}
		out = append(out, line)
	}
	return out
}

// exampleVersion is example.org at serial with records (relative names, TTL 3600
// unless given) beside its SOA and NS.
func exampleVersion(t testing.TB, serial uint32, records ...string) *zonefile.Zone {
	lines := append([]string{
		fmt.Sprintf("@ SOA ns1 host %d 3600 900 604800 60", serial),
		"@ NS ns1",
		"ns1 A 127.0.0.1",
	}, records...)
	z := testZone(t, "example.org.", lines...)
	zonefile.Sort(z.Records)
	return z
}

func TestJournalDiff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, cur []string
		want     string
	}{
		{"add", []string{"www A 127.0.0.2"}, []string{"www A 127.0.0.2", "new A 127.0.0.9"},
			"1->2 +new.example.org. 3600 IN A 127.0.0.9"},
		{"remove", []string{"www A 127.0.0.2", "old TXT bye"}, []string{"www A 127.0.0.2"},
			`1->2 -old.example.org. 3600 IN TXT "bye"`},
		{"TTL change is remove and add", []string{"www A 127.0.0.2"}, []string{"www 600 A 127.0.0.2"},
			"1->2 -www.example.org. 3600 IN A 127.0.0.2 +www.example.org. 600 IN A 127.0.0.2"},
		{"RRset replaced", []string{"www A 127.0.0.2", "www A 127.0.0.3"}, []string{"www A 127.0.0.3", "www A 127.0.0.4", "www A 127.0.0.5"},
			"1->2 -www.example.org. 3600 IN A 127.0.0.2 +www.example.org. 3600 IN A 127.0.0.4 +www.example.org. 3600 IN A 127.0.0.5"},
		{"owner case is not a change", []string{"www A 127.0.0.2"}, []string{"WWW A 127.0.0.2"}, "1->2"},
		{"SOA only", []string{"www A 127.0.0.2"}, []string{"www A 127.0.0.2"}, "1->2"},
		{"type change at a name", []string{"mail A 127.0.0.25"}, []string{"mail AAAA ::1"},
			"1->2 -mail.example.org. 3600 IN A 127.0.0.25 +mail.example.org. 3600 IN AAAA ::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newJournalFixture(t, t.TempDir())
			v1, v2 := exampleVersion(t, 1, tc.old...), exampleVersion(t, 2, tc.cur...)
			f.serve(nil, v1)
			f.serve(v1, v2)
			got := f.since(1)
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("diff\n got %q\nwant %q", got, tc.want)
			}
			d, _ := f.j.since("example.org.", 1, f.d.zones.Get("example.org."))
			if d[0].From.Serial != 1 || d[0].To.Serial != 2 || d[0].From.Hdr.Rrtype != dns.TypeSOA {
				t.Errorf("SOAs %v -> %v", d[0].From, d[0].To)
			}
		})
	}
}

func TestJournalChain(t *testing.T) {
	f := newJournalFixture(t, t.TempDir())
	v := []*zonefile.Zone{nil,
		exampleVersion(t, 1, "a A 127.0.0.11"),
		exampleVersion(t, 2, "a A 127.0.0.11", "b A 127.0.0.12"),
		exampleVersion(t, 3, "b A 127.0.0.12"),
		exampleVersion(t, 4, "b A 127.0.0.12", "c A 127.0.0.13"),
	}
	for i := 1; i < len(v); i++ {
		f.serve(v[i-1], v[i])
	}
	want := []string{
		"1->2 +b.example.org. 3600 IN A 127.0.0.12",
		"2->3 -a.example.org. 3600 IN A 127.0.0.11",
		"3->4 +c.example.org. 3600 IN A 127.0.0.13",
	}
	if got := f.since(1); !slices.Equal(got, want) {
		t.Errorf("since(1)\n got %q\nwant %q", got, want)
	}
	if got := f.since(3); !slices.Equal(got, want[2:]) {
		t.Errorf("since(3) = %q", got)
	}
	if got := f.since(4); len(got) != 0 {
		t.Errorf("since(current) = %q, want no steps", got)
	}
	f.miss(0)
	f.miss(5)
	f.miss(1000)

	// Another snapshot of the same name (a secondary zone, a version the
	// journal never saw) is not what the chain ends at.
	f.d.zones.Set(mustCompile(t, exampleVersion(t, 4, "b A 127.0.0.12", "c A 127.0.0.13")))
	f.miss(1)
	f.miss(4)
	// Nor is a zone no longer served.
	f.d.zones.Delete("example.org.")
	f.miss(1)
	if got := f.events(); len(got) != 0 {
		t.Errorf("events %v", got)
	}
}

func TestJournalBounded(t *testing.T) {
	t.Run("versions", func(t *testing.T) {
		f := newJournalFixture(t, t.TempDir())
		f.j.maxVersions = 3
		var prev *zonefile.Zone
		for s := uint32(1); s <= 6; s++ {
			cur := exampleVersion(t, s, fmt.Sprintf("v TXT %d", s))
			f.serve(prev, cur)
			prev = cur
		}
		if got := f.since(3); len(got) != 3 {
			t.Errorf("since(3) = %q, want the last 3 steps", got)
		}
		f.miss(2)
		f.miss(1)
	})
	t.Run("records", func(t *testing.T) {
		f := newJournalFixture(t, t.TempDir())
		f.j.minRecords = 10
		var prev *zonefile.Zone
		var sizes []int64
		for s := uint32(1); s <= 50; s++ {
			// Each step replaces one record: 4 records with its SOAs,
			// so a budget of 10 holds 2 steps.
			cur := exampleVersion(t, s, fmt.Sprintf("v TXT %d", s))
			f.serve(prev, cur)
			prev = cur
			fi, err := os.Stat(f.j.path("example.org."))
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, fi.Size())
		}
		if got := f.since(48); len(got) != 2 {
			t.Errorf("since(48) = %q", got)
		}
		f.miss(47)
		if sizes[49] != sizes[19] {
			t.Errorf("the journal file keeps growing: %d bytes after 20 versions, %d after 50", sizes[19], sizes[49])
		}
	})
	t.Run("one step larger than the zone", func(t *testing.T) {
		f := newJournalFixture(t, t.TempDir())
		f.j.minRecords = 4
		v1 := exampleVersion(t, 1, "a A 127.0.0.1", "b A 127.0.0.2")
		v2 := exampleVersion(t, 2, "c A 127.0.0.3", "d A 127.0.0.4")
		f.serve(nil, v1)
		f.serve(v1, v2)
		f.miss(1) // AXFR is cheaper
		if got := f.since(2); len(got) != 0 {
			t.Errorf("since(2) = %q", got)
		}
	})
}

func TestJournalPersists(t *testing.T) {
	data := t.TempDir()
	v1 := exampleVersion(t, 1, "a A 127.0.0.11")
	v2 := exampleVersion(t, 2, "a A 127.0.0.11", "b A 127.0.0.12")
	v3 := exampleVersion(t, 3, "b 600 A 127.0.0.12")
	first := newJournalFixture(t, data)
	first.serve(nil, v1)
	first.serve(v1, v2)
	first.serve(v2, v3)
	want := first.since(1)

	t.Run("reopened, unchanged", func(t *testing.T) {
		f := newJournalFixture(t, data)
		f.serve(nil, exampleVersion(t, 3, "b 600 A 127.0.0.12"))
		if got := f.since(1); !slices.Equal(got, want) {
			t.Errorf("after a restart\n got %q\nwant %q", got, want)
		}
		if ev := f.events(); len(ev) != 0 {
			t.Errorf("events %v", ev)
		}
	})
	t.Run("changed while down", func(t *testing.T) {
		dir := t.TempDir()
		copyJournal(t, data, dir)
		f := newJournalFixture(t, dir)
		v5 := exampleVersion(t, 5, "b 600 A 127.0.0.12", "c TXT new")
		f.serve(nil, v5)
		got := f.since(1)
		wantNow := append(slices.Clone(want), `3->5 +c.example.org. 3600 IN TXT "new"`)
		if !slices.Equal(got, wantNow) {
			t.Errorf("after an edit while down\n got %q\nwant %q", got, wantNow)
		}
		// And that too survives the next restart.
		g := newJournalFixture(t, dir)
		g.serve(nil, v5)
		if got := g.since(2); !slices.Equal(got, wantNow[1:]) {
			t.Errorf("second restart: since(2) = %q", got)
		}
	})
	t.Run("serial lowered while down", func(t *testing.T) {
		dir := t.TempDir()
		copyJournal(t, data, dir)
		f := newJournalFixture(t, dir)
		f.serve(nil, exampleVersion(t, 2, "z A 127.0.0.99"))
		if ev := f.events(); !slices.Equal(ev, []string{"journal-reset"}) {
			t.Errorf("events %v, want a journal-reset", ev)
		}
		f.miss(1)
		if got := f.since(2); len(got) != 0 {
			t.Errorf("since(2) = %q: serial 2 now names other records", got)
		}
	})
	t.Run("damaged", func(t *testing.T) {
		dir := t.TempDir()
		copyJournal(t, data, dir)
		f := newJournalFixture(t, dir)
		path := f.j.path("example.org.")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f.serve(nil, exampleVersion(t, 4, "b 600 A 127.0.0.12"))
		if ev := f.events(); !slices.Equal(ev, []string{"journal-reset"}) {
			t.Errorf("events %v, want a journal-reset", ev)
		}
		f.miss(1)
		f.miss(3)
		// A fresh journal was written and is usable.
		g := newJournalFixture(t, dir)
		v5 := exampleVersion(t, 5, "b 600 A 127.0.0.12", "x A 127.0.0.5")
		g.serve(nil, v5)
		if got := g.since(4); len(got) != 1 {
			t.Errorf("since(4) = %q", got)
		}
		if ev := g.events(); len(ev) != 0 {
			t.Errorf("events %v", ev)
		}
	})
	t.Run("another zone's file", func(t *testing.T) {
		dir := t.TempDir()
		f := newJournalFixture(t, dir)
		copyJournalFile(t, first.j.path("example.org."), f.j.path("example.net."))
		z := testZone(t, "example.net.", "@ SOA ns1 host 5 1 1 1 1", "@ NS ns1", "ns1 A 127.0.0.1")
		f.d.zones.Set(mustCompile(t, z))
		if err := f.j.record(f.d.zones, z); err != nil {
			t.Fatal(err)
		}
		if ev := f.events(); !slices.Equal(ev, []string{"journal-reset"}) {
			t.Errorf("events %v, want a journal-reset", ev)
		}
		if _, ok := f.j.since("example.net.", 3, f.d.zones.Get("example.net.")); ok {
			t.Error("example.net. answers from example.org.'s journal")
		}
	})
}

// TestJournalZoneRecreated: a zone removed and created again under the
// same name never gets a chain that mixes the two.
func TestJournalZoneRecreated(t *testing.T) {
	f := newJournalFixture(t, t.TempDir())
	v1 := exampleVersion(t, 10, "a A 127.0.0.11")
	v2 := exampleVersion(t, 11, "a A 127.0.0.11", "b A 127.0.0.12")
	f.serve(nil, v1)
	f.serve(v1, v2)
	f.d.zones.Delete("example.org.")
	f.miss(10)

	// Created again with a lower serial: serial 10 would name other
	// records than the old chain says.
	n1 := exampleVersion(t, 10, "other TXT new zone")
	f.serve(nil, n1)
	if ev := f.events(); !slices.Equal(ev, []string{"journal-reset"}) {
		t.Errorf("events %v, want a journal-reset", ev)
	}
	f.miss(11)
	if got := f.since(10); len(got) != 0 {
		t.Errorf("since(10) = %q", got)
	}

	// Created again with a higher serial: the step is taken from the
	// records served last, whatever they were, so it is true.
	f.d.zones.Delete("example.org.")
	n2 := exampleVersion(t, 20, "other TXT new zone", "more TXT x")
	f.serve(nil, n2)
	if got := f.since(10); !slices.Equal(got, []string{`10->20 +more.example.org. 3600 IN TXT "x"`}) {
		t.Errorf("since(10) = %q", got)
	}
}

// TestJournalSerialNotIncreased: a change under the same serial restarts
// the chain; a reload of the same records does not.
func TestJournalSerialNotIncreased(t *testing.T) {
	f := newJournalFixture(t, t.TempDir())
	v1 := exampleVersion(t, 1, "a A 127.0.0.11")
	v2 := exampleVersion(t, 2, "a A 127.0.0.11", "b A 127.0.0.12")
	f.serve(nil, v1)
	f.serve(v1, v2)
	same := exampleVersion(t, 2, "a A 127.0.0.11", "b A 127.0.0.12")
	f.serve(v2, same)
	if got := f.since(1); len(got) != 1 {
		t.Fatalf("an identical reload broke the chain: %q", got)
	}
	changed := exampleVersion(t, 2, "a A 127.0.0.11", "b A 127.0.0.99")
	f.serve(same, changed)
	if ev := f.events(); !slices.Equal(ev, []string{"journal-reset"}) {
		t.Errorf("events %v, want a journal-reset", ev)
	}
	f.miss(1)
}

// TestJournalEvents: a reset says why, for the operator.
func TestJournalResetEvent(t *testing.T) {
	f := newJournalFixture(t, t.TempDir())
	v1 := exampleVersion(t, 7, "a A 127.0.0.11")
	f.serve(nil, v1)
	f.serve(v1, exampleVersion(t, 6, "a A 127.0.0.12"))
	select {
	case q := <-f.d.events.queue:
		if q.ev.Kind != "journal-reset" || q.ev.Outcome != api.OutcomeWarning || !strings.Contains(q.ev.Detail, "from serial 7 to 6") {
			t.Errorf("event %+v", q.ev)
		}
	default:
		t.Fatal("no event")
	}
}

func copyJournal(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to+"/journal", 0o755); err != nil {
		t.Fatal(err)
	}
	copyJournalFile(t, from+"/journal/example.org.jnl", to+"/journal/example.org.jnl")
}

func copyJournalFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkJournalRecord(b *testing.B) {
	data := b.TempDir()
	d := &Daemon{cfg: Config{Data: data}, log: slog.New(slog.DiscardHandler), zones: answer.NewZones(), events: newEvents(nil, slog.New(slog.DiscardHandler))}
	j, err := newJournal(filepath.Join(d.cfg.Data, "journal"), d.log, d.events.Emit)
	if err != nil {
		b.Fatal(err)
	}
	var lines []string
	for i := range 20000 {
		lines = append(lines, fmt.Sprintf("h%d A 127.0.%d.%d", i, i/250, i%250+1))
	}
	// As the loader does: the version is served, then recorded.
	d.zones.Set(mustCompile(b, exampleVersion(b, 1, lines...)))
	if err := j.recordServed(d.zones.Get("example.org.")); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		cur := exampleVersion(b, uint32(i+2), append(slices.Clone(lines[1:]), fmt.Sprintf("new%d A 127.0.0.1", i))...)
		d.zones.Set(mustCompile(b, cur))
		b.StartTimer()
		if err := j.recordServed(d.zones.Get("example.org.")); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeJournal: a damaged journal file is refused, never a panic.
// The checksum is recomputed so that the decoder itself is exercised.
func FuzzDecodeJournal(f *testing.F) {
	fx := newJournalFixture(f, f.TempDir())
	v1 := exampleVersion(f, 1, "a A 127.0.0.11")
	v2 := exampleVersion(f, 2, "a A 127.0.0.11", "b TXT two")
	fx.serve(nil, v1)
	fx.serve(v1, v2)
	valid, err := os.ReadFile(fx.j.path("example.org."))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid[:len(valid)-sha256.Size])
	f.Add([]byte(journalMagic))
	f.Fuzz(func(t *testing.T, body []byte) {
		sum := sha256.Sum256(body)
		z, err := decodeJournal(append(slices.Clone(body), sum[:]...), "example.org.")
		if err == nil && (z.last == nil || len(z.diffs) != len(z.blocks)) {
			t.Fatalf("accepted an inconsistent journal: %+v", z)
		}
	})
}

// TestJournalAcrossDaemonRestart: the journal a daemon kept is used by the
// next daemon over the same data directory, which also records the edit
// made to the zonefile while no daemon ran.
func TestJournalAcrossDaemonRestart(t *testing.T) {
	data := t.TempDir()
	useData := func(c *Config) { c.Data = data }
	path := filepath.Join(data, "zones", "example.org.zone")
	t.Run("first run", func(t *testing.T) {
		td := startDaemonWith(t, map[string]string{"example.org.zone": zoneText(1, "")}, useData, nil)
		if err := os.WriteFile(path, []byte(zoneText(2, "two IN A 127.0.0.22\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "serial 2 served", func() bool { return td.serial(t, "example.org.") == 2 })
		// The journal records a version just after it is served: wait
		// for it rather than race it.
		waitFor(t, "the 1->2 difference in the journal", func() bool {
			diffs, ok := td.journal.since("example.org.", 1, td.zones.Get("example.org."))
			return ok && len(diffs) == 1
		})
	})
	if err := os.WriteFile(path, []byte(zoneText(3, "two IN A 127.0.0.22\nthree IN A 127.0.0.33\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("second run", func(t *testing.T) {
		td := startDaemonWith(t, nil, useData, nil)
		diffs, ok := td.journal.since("example.org.", 1, td.zones.Get("example.org."))
		want := []string{
			"1->2 +two.example.org. 300 IN A 127.0.0.22",
			"2->3 +three.example.org. 300 IN A 127.0.0.33",
		}
		if got := diffText(diffs); !ok || !slices.Equal(got, want) {
			t.Errorf("since(1) after a restart\n got %q (%v)\nwant %q", got, ok, want)
		}
	})
}

// TestDiffPackedWindow checks that comparing only the window between the
// identical head and tail of two versions finds exactly what comparing
// every record finds, for edits at the start, middle and end of a zone.
func TestDiffPackedWindow(t *testing.T) {
	var base []string
	for i := range 300 {
		base = append(base, fmt.Sprintf("h%03d A 127.0.%d.%d", i, i/250, i%250+1))
	}
	edits := map[string]func([]string) []string{
		"middle change": func(r []string) []string { r[150] = "h150 A 127.9.9.9"; return r },
		"first removed": func(r []string) []string { return r[1:] },
		"last removed":  func(r []string) []string { return r[:len(r)-1] },
		"added at end":  func(r []string) []string { return append(r, "zzz TXT end") },
		"added first":   func(r []string) []string { return append(r, "aaa TXT first") },
		"TTL change":    func(r []string) []string { r[10] = "h010 60 A 127.0.0.11"; return r },
		"case only":     func(r []string) []string { r[200] = "H200 A 127.0.0.201"; return r },
		"two places":    func(r []string) []string { r[5], r[290] = "h005 AAAA ::5", "h290 AAAA ::290"; return r },
		"nothing":       func(r []string) []string { return r },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			v1 := exampleVersion(t, 1, base...)
			v2 := exampleVersion(t, 2, edit(slices.Clone(base))...)
			p1, err := packZone(v1)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := packZone(v2)
			if err != nil {
				t.Fatal(err)
			}
			removed, added, err := diffPacked(p1, p2)
			if err != nil {
				t.Fatal(err)
			}
			wantRemoved, wantAdded := diffEvery(t, p1, p2)
			if !slices.Equal(removed, wantRemoved) || !slices.Equal(added, wantAdded) {
				t.Fatalf("removed %v added %v, comparing every record: removed %v added %v", removed, added, wantRemoved, wantAdded)
			}
		})
	}
}

// diffEvery is diffPacked without the window: every record compared.
func diffEvery(t *testing.T, base, cur *packedZone) (removed, added []int) {
	t.Helper()
	keys := map[string]int{}
	for i := range base.len() {
		if k, typ, _ := base.key(i); typ != dns.TypeSOA {
			keys[k] = i
		}
	}
	kept := map[int]bool{}
	for i := range cur.len() {
		k, typ, _ := cur.key(i)
		if typ == dns.TypeSOA {
			continue
		}
		if b, ok := keys[k]; ok && base.ttl(b) == cur.ttl(i) {
			kept[b] = true
			continue
		}
		added = append(added, i)
	}
	for i := range base.len() {
		if base.rtype(i) != dns.TypeSOA && !kept[i] {
			removed = append(removed, i)
		}
	}
	return removed, added
}
