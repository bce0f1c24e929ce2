package main

import (
	"strings"
	"testing"
	"time"
)

// TestReportZones checks that every column of the report names the zone
// it was measured on, that a failed part of a repetition leaves its
// columns (and ratios) without that repetition, and that the targets
// name their zones.
func TestReportZones(t *testing.T) {
	run := func(rep int, qps float64, start time.Duration, query, big bool) serverRun {
		return serverRun{Rep: rep, HasQuery: query, HasBig: big, QPS: qps, QPSPerCPU: qps, FastShare: 0.95,
			Start: start, Settled: start, PeakRSSKB: 300_000, CurRSSKB: 290_000, AXFRRecords: 2_250_009}
	}
	r := &results{
		Names: 1_000_000, Records: 2_250_008, QNames: 100_000, QRecords: 225_008,
		Servers:  []string{"zonekeeper", "NSD"},
		Versions: map[string]string{"zonekeeper": "dev", "NSD": "4.6.1"},
		Runs: map[string][]serverRun{
			"zonekeeper": {run(0, 200, time.Second, true, true), run(1, 100, 3*time.Second, true, false)},
			// NSD's second repetition failed on the query zone; its big
			// zone's numbers still count.
			"NSD": {run(0, 100, 2*time.Second, true, true), run(1, 0, 2*time.Second, false, true)},
		},
		Errors:   map[string][]string{},
		Counters: map[string]int64{"fast": 95, "full": 5},
		Load:     "Load: test",
	}
	// Ratios pair repetitions, and only measured parts.
	if s := r.ratio("NSD", metricNamed("queries/s")); s.N != 1 || s.Med != 2 {
		t.Errorf("queries/s ratio %+v, want 2 from repetition 1 only", s)
	}
	if s := r.ratio("NSD", metricNamed("start → serving")); s.N != 1 || s.Med != 0.5 {
		t.Errorf("start ratio %+v, want 0.5 from repetition 1 only", s)
	}
	if s := summarize(r.column("NSD", metricNamed("queries/s"))); s.N != 1 {
		t.Errorf("NSD queries/s over %d runs, want 1", s.N)
	}

	var b strings.Builder
	r.writeReport(&b)
	out := b.String()
	for _, want := range []string{
		"| queries/s (100k) |", "| queries/CPU-s (100k) |", "| start → serving (1M) |",
		"| peak RSS (VmHWM) (1M) |", "| AXFR out CPU (1M) |",
		"queries per server-CPU-second ≥ 0.9 × NSD's (100000-name query zone) | zonekeeper ÷ NSD = 2.00 | held",
		"fast-path share of the mixed query set ≥ 90% (100000-name query zone) | 95.0% | held",
		"1000000-name zone cold start ≤ 2.0 s | 1.00 s | held",
		"resident memory after load (VmRSS) ≤ 415 MB (1000000-name zone) | 297 MB (132 bytes per record) | held",
		"peak RSS while loading (VmHWM) ≤ 415 MB (1000000-name zone) | 307 MB | held",
		"| RSS bytes per record (1M) |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Every table row has as many cells as its heading.
	var cols int
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(line, "|")
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row with %d bars under a heading with %d: %s", n, cols, line)
		}
	}
}
