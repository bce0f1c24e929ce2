package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serverRun is one repetition's measurements of one server: of its run
// with the query zone under load (HasQuery) and of its start with the big
// zone (HasBig). A part that failed leaves its fields unset and its flag
// false.
type serverRun struct {
	Rep         int // which repetition, from 0
	HasQuery    bool
	HasBig      bool
	HasStartAll bool // the second start of the big zone, on all CPUs

	// The query zone under the mixed load.
	QPS        float64
	QPSPerCPU  float64 // answered queries per second of server CPU
	CPUUse     float64 // server CPU seconds per second of the measured load
	OtherCPU   float64 // the server core's busy time with other work, per second; -1 unknown
	LatAvg     time.Duration
	LatP99     time.Duration
	Sent, Lost int64
	Mismatches int64
	Drops      int64 // UDP receive-buffer drops, system-wide, during the load
	// FastShare is zonekeeper's fast-path share of the queries over the
	// run, from its counters; NaN when not known.
	FastShare float64

	// The big zone alone.
	Start       time.Duration // process start → first authoritative answer, pinned to the servers' CPU
	StartAll    time.Duration // the same on a second start, free to use all CPUs (HasStartAll)
	Settled     time.Duration // process start → idle after it (waitIdle)
	PeakRSSKB   int64         // VmHWM once serving
	CurRSSKB    int64         // VmRSS once serving
	AXFRWall    time.Duration
	AXFRCPU     time.Duration
	AXFRRecords int
}

// zkRun is one round of zonekeeper-only measurements; a negative value
// was not measured.
type zkRun struct {
	IXFRWall     time.Duration
	IXFRBytes    int64
	EditToServed time.Duration // `record add` start → new serial answered
	ReloadTime   time.Duration // rename of the edited file → new serial answered
	ReloadFailed int64         // lost + wrong answers under load during the reload
	ReloadSent   int64
	ReloadDrops  int64         // UDP receive-buffer drops during it, system-wide
	Restart      time.Duration // a second start on the same data directory
	CacheFiles   []string      // what looks like a compiled cache in it
	Errs         []string      // the steps that failed
}

// newZKRun is a zkRun with nothing measured yet.
func newZKRun() *zkRun {
	return &zkRun{IXFRWall: -1, IXFRBytes: -1, EditToServed: -1, ReloadTime: -1,
		ReloadFailed: -1, ReloadSent: -1, ReloadDrops: -1, Restart: -1}
}

// results is everything one benchmark run measured.
type results struct {
	Names    int      // names in the big zone
	Records  int      // records in the big zone
	QNames   int      // names in the query zone
	QRecords int      // records in the query zone
	Servers  []string // table order, zonekeeper first
	// Baseline is the server name of zonekeeper at the --baseline
	// commit ("zonekeeper@b9b80a9"), run under the query load only; ""
	// without one. BaseRev is that commit, Current what the repository's
	// working tree holds (worktree.Current).
	Baseline string
	BaseRev  string
	Current  string
	Versions map[string]string
	Runs     map[string][]serverRun
	Errors   map[string][]string // per server, what failed
	ZK       []zkRun
	// Counters are zonekeeper's query-path counters' increase over its
	// last load run; nil when the daemon does not report them.
	Counters map[string]int64
	// The DO=1 mix on the signed copy of the query zone (issue 17):
	// per server its runs, as Runs; DORecords its records; DOSigning
	// how it was signed; DOCounters zonekeeper's counters over its last
	// DO run; DOLoad the load line.
	DORuns     map[string][]serverRun
	DOErrors   []string
	DORecords  int
	DOSigning  string
	DOCounters map[string]int64
	DOLoad     string
	PropLat    []time.Duration // edit-to-secondary, one per edit
	PropErr    string
	PropZone   int // records in the propagation zone
	HasCache   bool
	Load       string // the load settings, one line
	AllCPUs    string // the taskset CPU list of the all-CPU start, e.g. "0-3"
	Command    string
	Began      time.Time
	Took       time.Duration
	Notes      []string
}

// stat is the median and range of one measurement over the repetitions.
type stat struct {
	Med, Min, Max float64
	N             int
}

func summarize(v []float64) stat {
	v = slices.DeleteFunc(slices.Clone(v), func(x float64) bool { return math.IsNaN(x) })
	if len(v) == 0 {
		return stat{Med: math.NaN()}
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return stat{Med: med, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// cell shows a stat as "median (min–max)" with format f per value.
func (s stat) cell(f func(float64) string) string {
	if s.N == 0 {
		return "n/a"
	}
	if s.N == 1 || s.Min == s.Max {
		return f(s.Med)
	}
	return f(s.Med) + " (" + f(s.Min) + "–" + f(s.Max) + ")"
}

func fmtPct(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

func fmtInt(x float64) string { return fmt.Sprintf("%.0f", x) }
func fmtRatio(x float64) string {
	return fmt.Sprintf("%.2f", x)
}

// fmtDur shows seconds with a unit that keeps three significant digits.
func fmtDur(sec float64) string {
	switch {
	case sec >= 0.9995:
		return fmt.Sprintf("%.2f s", sec)
	case sec >= 0.9995e-3:
		return fmt.Sprintf("%.1f ms", sec*1e3)
	default:
		return fmt.Sprintf("%.0f µs", sec*1e6)
	}
}

func fmtMB(kb float64) string { return fmt.Sprintf("%.0f MB", kb*1024/1e6) }

// metric is one column of the main tables, read from a serverRun.
type metric struct {
	Head   string
	Get    func(serverRun) float64
	Fmt    func(float64) string
	Higher bool // a higher value is better (for the ratio's direction note)
	Big    bool // measured on the big zone, else on the query zone
	// Has says whether a run measured it, when its zone's flag
	// (HasBig, HasQuery) does not.
	Has func(serverRun) bool
}

// has says whether run measured m.
func (m metric) has(run serverRun) bool {
	if m.Has != nil {
		return m.Has(run)
	}
	if m.Big {
		return run.HasBig
	}
	return run.HasQuery
}

// queryMetrics are the columns of the query zone's table.
var queryMetrics = []metric{
	{"queries/s", func(r serverRun) float64 { return r.QPS }, fmtInt, true, false, nil},
	{"queries/CPU-s", func(r serverRun) float64 { return r.QPSPerCPU }, fmtInt, true, false, nil},
	{"server CPU use", func(r serverRun) float64 { return r.CPUUse }, fmtPct, false, false, nil},
	{"avg latency", func(r serverRun) float64 { return r.LatAvg.Seconds() }, fmtDur, false, false, nil},
	{"p99 latency", func(r serverRun) float64 { return r.LatP99.Seconds() }, fmtDur, false, false, nil},
	{"lost", func(r serverRun) float64 { return float64(r.Lost) }, fmtInt, false, false, nil},
	{"wrong", func(r serverRun) float64 { return float64(r.Mismatches) }, fmtInt, false, false, nil},
	{"socket drops", func(r serverRun) float64 { return float64(r.Drops) }, fmtInt, false, false, nil},
}

// The two start columns: pinned to the servers' CPU like every other
// measurement, and the second start free to use all CPUs (the cold-start
// target's measure, as parsing in parallel needs more than one core).
const (
	startPinned = "start → serving, 1 CPU"
	startAll    = "start → serving, all CPUs"
)

// bigMetrics are the columns of the big zone's table.
var bigMetrics = []metric{
	{startPinned, func(r serverRun) float64 { return r.Start.Seconds() }, fmtDur, false, true, nil},
	{startAll, func(r serverRun) float64 { return r.StartAll.Seconds() }, fmtDur, false, true,
		func(r serverRun) bool { return r.HasStartAll }},
	{"start → idle", func(r serverRun) float64 { return r.Settled.Seconds() }, fmtDur, false, true, nil},
	{"RSS (VmRSS)", func(r serverRun) float64 { return float64(r.CurRSSKB) }, fmtMB, false, true, nil},
	{"peak RSS (VmHWM)", func(r serverRun) float64 { return float64(r.PeakRSSKB) }, fmtMB, false, true, nil},
	{"RSS bytes per record", rssPerRecord, fmtInt, false, true, nil},
	{"AXFR out time", func(r serverRun) float64 { return r.AXFRWall.Seconds() }, fmtDur, false, true, nil},
	{"AXFR out CPU", func(r serverRun) float64 { return r.AXFRCPU.Seconds() }, fmtDur, false, true, nil},
}

// rssPerRecord is the resident memory after load per record of the big
// zone (the records the AXFR out counted, less the closing SOA).
func rssPerRecord(r serverRun) float64 {
	if r.AXFRRecords < 2 || r.CurRSSKB == 0 {
		return math.NaN()
	}
	return float64(r.CurRSSKB) * 1024 / float64(r.AXFRRecords-1)
}

// ratioMetrics are the columns compared as zonekeeper ÷ peer (lost and
// wrong answers are counts, usually zero, and are not).
var ratioMetrics = []string{"queries/s", "queries/CPU-s", "avg latency", "p99 latency", startPinned, startAll, "RSS (VmRSS)", "peak RSS (VmHWM)", "AXFR out time", "AXFR out CPU"}

// metricNamed is the column with that heading.
func metricNamed(head string) metric {
	for _, m := range slices.Concat(queryMetrics, bigMetrics) {
		if m.Head == head {
			return m
		}
	}
	panic("no metric " + head)
}

func (r *results) column(server string, m metric) []float64 {
	var v []float64
	for _, run := range r.Runs[server] {
		if m.has(run) {
			v = append(v, m.Get(run))
		}
	}
	return v
}

// ratio is zonekeeper ÷ peer per repetition (the same repetition's
// pair; a repetition that failed for either has none), then summarized.
func (r *results) ratio(peer string, m metric) stat {
	var v []float64
	for _, zk := range r.Runs["zonekeeper"] {
		for _, p := range r.Runs[peer] {
			if p.Rep == zk.Rep && m.has(zk) && m.has(p) && m.Get(p) != 0 {
				v = append(v, m.Get(zk)/m.Get(p))
			}
		}
	}
	return summarize(v)
}

// hasCache says whether zonekeeper keeps a compiled cache: `serve
// --help` mentions one, or a round's data directory held one.
func (r *results) hasCache() bool {
	if r.HasCache {
		return true
	}
	for _, z := range r.ZK {
		if len(z.CacheFiles) > 0 {
			return true
		}
	}
	return false
}

// busyRuns lists the runs during which the server's core spent more than
// 15% of the measured period on anything but the server (a saturated
// server's own loopback interrupts count there too, a few per cent).
func (r *results) busyRuns() string {
	var runs []string
	for _, s := range r.Servers {
		for _, run := range r.Runs[s] {
			if run.HasQuery && run.OtherCPU > 0.15 {
				runs = append(runs, fmt.Sprintf("%s repetition %d (%.0f%%)", s, run.Rep+1, 100*run.OtherCPU))
			}
		}
		for _, run := range r.DORuns[s] {
			if run.HasQuery && run.OtherCPU > 0.15 {
				runs = append(runs, fmt.Sprintf("%s repetition %d, DO=1 (%.0f%%)", s, run.Rep+1, 100*run.OtherCPU))
			}
		}
	}
	return strings.Join(runs, ", ")
}

// note adds a line to the report's notes and says it on stderr now.
func (r *results) note(s string) {
	fmt.Fprintln(os.Stderr, s)
	r.Notes = append(r.Notes, s)
}

// zoneTag is a short name for a zone of n names in column headings:
// "100k", "1M".
func zoneTag(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// tag is the zone tag of m's zone.
func (r *results) tag(m metric) string {
	if m.Big {
		return zoneTag(r.Names)
	}
	return zoneTag(r.QNames)
}

// peers are the servers compared with zonekeeper: all but zonekeeper
// and its baseline build.
func (r *results) peers() []string {
	var ps []string
	for _, s := range r.Servers[1:] {
		if s != r.Baseline {
			ps = append(ps, s)
		}
	}
	return ps
}

// bigServers are the servers run with the big zone: all but the
// baseline build, which runs under the query load only.
func (r *results) bigServers() []string {
	return slices.DeleteFunc(slices.Clone(r.Servers), func(s string) bool { return s == r.Baseline })
}

// writeTable writes one row per server of servers and column of ms,
// with the version first.
func (r *results) writeTable(w io.Writer, ms []metric, servers []string) {
	heads := []string{"server", "version"}
	for _, m := range ms {
		heads = append(heads, m.Head+" ("+r.tag(m)+")")
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(heads, " | "), strings.Repeat("---|", len(heads)))
	for _, s := range servers {
		row := []string{s, r.Versions[s]}
		for _, m := range ms {
			row = append(row, summarize(r.column(s, m)).cell(m.Fmt))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

// writeReport writes the markdown report to w.
func (r *results) writeReport(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# zonekeeper beside NSD, Knot, BIND and PowerDNS\n\n")
	signedStart := ""
	if r.DOSigning != "" {
		signedStart = "; all but PowerDNS and the baseline once more with the signed copy of the query zone, for the DO=1 section"
	}
	p("Two zones of origin %s and one shape (A and AAAA per name, MX and TXT every 10th, a CNAME every 20th, a wildcard, a delegation with glue): the **query zone**, %d names (%d records), served under the query load; the **big zone**, %d names (%d records), served alone for start → serving, RSS and the AXFR out. Each column's heading names its zone (%s or %s). Each server alone on %s, pinned to CPU %s with one worker; the load generator on CPU %s. The one exception is the all-CPU start: each server started once more with the big zone, free to use %s, the load generator idle, for start → serving alone (the cold-start target's measure, as parsing in parallel needs more than one core). Cells: median (min–max) over %d repetitions; each repetition starts every server once with each zone, and once more with the big zone on all CPUs%s.\n\n",
		benchOrigin, r.QNames, r.QRecords, r.Names, r.Records, zoneTag(r.QNames), zoneTag(r.Names), serverIP, serverCPU, loadCPU, r.allCPUsText(), r.reps(), signedStart)

	p("## Queries: the %d-name query zone under load\n\n%s.\n\n", r.QNames, r.Load)
	r.writeTable(w, queryMetrics, r.Servers)
	if busy := r.busyRuns(); busy != "" {
		p("\n**The machine was not quiet**: the servers' core was busy with other work during %s. Queries/s and latencies of those runs understate the server; queries/CPU-s still compare. Run again on a quiet machine.\n", busy)
	}
	p("\nServer CPU use: the server's CPU time over the measured load ÷ its duration; well under 100%% means the server was not saturated (the load generator or a busy machine held it back), so its queries/s understate it, while queries/CPU-s still compare.\n")
	p("Lost: queries unanswered within the load generator's timeout; socket drops: the kernel's UDP RcvbufErrors over the load, system-wide (a server whose receive buffer overflows loses those queries).\n")
	r.writeSigned(w)

	p("\n## Start, memory, AXFR out: the %d-name big zone alone\n\n", r.Names)
	r.writeTable(w, bigMetrics, r.bigServers())
	p("\nStart → serving, 1 CPU: from the process's start, pinned to CPU %s like every other measurement, until it answers a name of the zone authoritatively (polled every 10 ms); start → serving, all CPUs: the same on a second start, in a fresh directory (zonekeeper's data directory with a fresh copy of the zone), the server free to use %s (taskset -c %s) while the load generator is idle: the cold-start target's measure, as parsing in parallel needs more than one core (a server that loads one zone on one thread shows about its 1-CPU time); start → idle: of the pinned start, until it has also settled after that (under 10 ms of CPU in 200 ms, at most 15 s more): a server that still builds something once it answers shows here. RSS: VmRSS and VmHWM (peak), read once the server answers and has settled (under 10 ms of CPU in 200 ms, at most 15 s), before the AXFR, of the largest process of the server's process group (NSD's forked server shares its parent's zone pages; a sum would count them twice); MB = 10⁶ bytes; RSS bytes per record: VmRSS ÷ the zone's records. AXFR out: a TCP client that counts messages and records without decoding them; CPU is the server's over the transfer.\n", serverCPU, r.allCPUsText(), r.cpuList())
	for _, s := range r.Servers {
		for _, e := range r.Errors[s] {
			p("\n%s: %s", s, e)
		}
	}

	p("\n\n## zonekeeper ÷ peer (per repetition, then median)\n\n")
	heads := []string{"peer"}
	for _, h := range ratioMetrics {
		m := metricNamed(h)
		heads = append(heads, h+" ("+r.tag(m)+")")
	}
	p("| %s |\n|%s\n", strings.Join(heads, " | "), strings.Repeat("---|", len(heads)))
	for _, s := range r.peers() {
		row := []string{s}
		for _, h := range ratioMetrics {
			row = append(row, r.ratio(s, metricNamed(h)).cell(fmtRatio))
		}
		p("| %s |\n", strings.Join(row, " | "))
	}
	p("\nAbove 1 is better for zonekeeper in the queries columns, worse in the others.\n")
	if r.Baseline != "" {
		r.writeBaseline(w)
	}

	r.writeZonekeeper(w)
	r.writeTargets(w)

	p("\n## Machine\n\n")
	p("- CPU: %s, %s CPUs (online: %s)\n", cpuModel(), lscpuField("CPU(s)"), allCPUs())
	p("- kernel: %s\n", strings.TrimSpace(commandOutput("uname", "-sr")))
	p("- date: %s (took %v)\n", r.Began.UTC().Format(time.RFC3339), r.Took.Round(time.Second))
	p("- command: `%s`\n", r.Command)
	for _, n := range r.Notes {
		p("- note: %s\n", n)
	}
}

// cpuList is the taskset CPU list of the all-CPU start.
func (r *results) cpuList() string {
	if r.AllCPUs == "" {
		return allCPUs()
	}
	return r.AllCPUs
}

// allCPUsText is "all 4 CPUs" for the all-CPU start's list, "all CPUs"
// when the list does not parse.
func (r *results) allCPUsText() string {
	if n := cpuCount(r.cpuList()); n > 0 {
		return fmt.Sprintf("all %d CPUs", n)
	}
	return "all CPUs"
}

// cpuCount is the number of CPUs in a taskset list such as "0-3,6,8-9";
// 0 when it does not parse.
func cpuCount(list string) int {
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0
			}
		}
		n += b - a + 1
	}
	return n
}

func (r *results) reps() int {
	n := 0
	for _, runs := range r.Runs {
		n = max(n, len(runs))
	}
	return n
}

// zkColumn summarizes one zonekeeper-only measurement.
func (r *results) zkColumn(get func(zkRun) float64) stat {
	var v []float64
	for _, z := range r.ZK {
		if x := get(z); x >= 0 {
			v = append(v, x)
		}
	}
	return summarize(v)
}

func (r *results) writeZonekeeper(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n## zonekeeper only\n\n")
	p("IXFR, `record add`, the reload and the restart on the %d-name big zone, each round on a fresh daemon; during the reload the load generator sends the big zone's own query set (%d queries, the same mix) to the zone being reloaded. Propagation: two zonekeeper nodes on 127.0.0.1 and 127.0.0.2 with a small zone of its own. Fast-path counters: the %d-name query zone's run.\n\n", r.Names, reloadQueries, r.QNames)
	secs := func(get func(zkRun) time.Duration) string {
		return r.zkColumn(func(z zkRun) float64 { return get(z).Seconds() }).cell(fmtDur)
	}
	p("| measurement | value |\n|---|---|\n")
	p("| IXFR of a one-record change to the %d-name zone: time | %s |\n", r.Names, secs(func(z zkRun) time.Duration { return z.IXFRWall }))
	p("| IXFR of a one-record change to the %d-name zone: bytes | %s |\n", r.Names, r.zkColumn(func(z zkRun) float64 { return float64(z.IXFRBytes) }).cell(fmtInt))
	p("| `record add` to the %d-name zone → new serial served | %s |\n", r.Names, secs(func(z zkRun) time.Duration { return z.EditToServed }))
	p("| reload of an edited %d-name zonefile under load: rename → new serial served | %s |\n", r.Names, secs(func(z zkRun) time.Duration { return z.ReloadTime }))
	p("| reload under load: failed (lost or wrong) queries / sent | %s / %s |\n",
		r.zkColumn(func(z zkRun) float64 { return float64(z.ReloadFailed) }).cell(fmtInt),
		r.zkColumn(func(z zkRun) float64 { return float64(z.ReloadSent) }).cell(fmtInt))
	p("| reload under load: UDP receive-buffer drops (system-wide) | %s |\n", r.zkColumn(func(z zkRun) float64 { return float64(z.ReloadDrops) }).cell(fmtInt))
	cache := "no compiled cache seen"
	if r.hasCache() {
		cache = "compiled cache: "
		if len(r.ZK) > 0 && len(r.ZK[0].CacheFiles) > 0 {
			cache += strings.Join(r.ZK[0].CacheFiles, ", ")
		} else {
			cache += "named in serve --help"
		}
	}
	p("| restart on the same data directory, %d-name zone → serving (%s) | %s |\n", r.Names, cache, secs(func(z zkRun) time.Duration { return z.Restart }))
	if len(r.PropLat) > 0 {
		p50, p95 := percentile(r.PropLat, 0.50), percentile(r.PropLat, 0.95)
		p("| edit → served by the secondary, %d edits, %d-record zone: p50 / p95 / max | %s / %s / %s |\n", len(r.PropLat), r.PropZone,
			fmtDur(p50.Seconds()), fmtDur(p95.Seconds()), fmtDur(slices.Max(r.PropLat).Seconds()))
	} else {
		p("| edit → served by the secondary | not measured: %s |\n", r.PropErr)
	}
	for i, z := range r.ZK {
		for _, e := range z.Errs {
			p("| round %d: not measured | %s |\n", i+1, strings.ReplaceAll(e, "|", "/"))
		}
	}
	fast, share := r.fastShare()
	p("| fast-path counters over the mixed load, %d-name query zone (last repetition) | %s |\n", r.QNames, fast)
	p("| fast-path share of the mixed query set, %d-name query zone | %s |\n", r.QNames, share.cell(fmtShare))
}

// fastShare returns the counters of the last repetition as text and
// the fast path's share over the repetitions, or "n/a" when the daemon
// does not report them.
func (r *results) fastShare() (string, stat) {
	return r.fastShareOf(r.Counters)
}

// fastShareOf is fastShare with the counters c.
func (r *results) fastShareOf(c map[string]int64) (string, stat) {
	var v []float64
	for _, run := range r.Runs["zonekeeper"] {
		if run.HasQuery {
			v = append(v, run.FastShare)
		}
	}
	share := summarize(v)
	if c == nil {
		return "n/a", share
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
	}
	return strings.Join(parts, ", "), share
}

// shareOf is the fast path's share of the counted queries, NaN when the
// counters do not say.
func shareOf(c map[string]int64) float64 {
	var total int64
	for _, n := range c {
		total += n
	}
	f, ok := c["fast"]
	if !ok || total <= 0 {
		return math.NaN()
	}
	return float64(f) / float64(total)
}

func fmtShare(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// percentile is the nearest-rank percentile of lat.
func percentile(lat []time.Duration, p float64) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// lscpuField is the value of one line of lscpu's output, "?" if absent.
func lscpuField(name string) string {
	for _, line := range strings.Split(commandOutput("lscpu"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// cpuModel is lscpu's model name, else /proc/cpuinfo's.
func cpuModel() string {
	if m := lscpuField("Model name"); m != "?" {
		return m
	}
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func commandOutput(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return string(out)
}
