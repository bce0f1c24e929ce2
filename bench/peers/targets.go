package main

import (
	"fmt"
	"io"
	"math"
	"time"
)

// target is one line of the targets section.
type target struct {
	What  string
	Value string
	Held  string // "held", "missed" or "n/a"
}

func heldIf(ok bool, valid bool) string {
	switch {
	case !valid:
		return "n/a"
	case ok:
		return "held"
	default:
		return "missed"
	}
}

func (r *results) writeTargets(w io.Writer) {
	zkMed := func(head string) float64 { return summarize(r.column("zonekeeper", metricNamed(head))).Med }
	var ts []target
	cpuRatio := r.ratio("NSD", metricNamed("queries/CPU-s"))
	ts = append(ts, target{fmt.Sprintf("queries per server-CPU-second ≥ 0.9 × NSD's (%d-name query zone)", r.QNames),
		"zonekeeper ÷ NSD = " + cpuRatio.cell(fmtRatio), heldIf(cpuRatio.Med >= 0.9, cpuRatio.N > 0)})
	// The cold start on all CPUs, as parsing in parallel needs; the
	// pinned start beside it.
	start, start1 := zkMed(startAll), zkMed(startPinned)
	ts = append(ts, target{fmt.Sprintf("%d-name zone cold start ≤ 2.0 s (server free to use %s, as parsing in parallel needs)", r.Names, r.allCPUsText()),
		fmtDurNaN(start) + " (one CPU: " + fmtDurNaN(start1) + ")", heldIf(start <= 2.0, !math.IsNaN(start))})
	restart := r.zkColumn(func(z zkRun) float64 { return z.Restart.Seconds() })
	if r.hasCache() {
		ts = append(ts, target{"restart from compiled cache ≤ 1.0 s", restart.cell(fmtDur), heldIf(restart.Med <= 1.0, restart.N > 0)})
	} else {
		ts = append(ts, target{"restart from compiled cache ≤ 1.0 s", "n/a (no compiled cache seen; a plain restart took " + restart.cell(fmtDur) + ")", "n/a"})
	}
	// Resident memory once loaded, as the anchors (NSD, Knot)
	// are. The peak while loading is shown beside the peers' peaks, for
	// an operator sizing a machine; the issue sets no target for it.
	rss, cur := zkMed("peak RSS (VmHWM)"), zkMed("RSS (VmRSS)")
	ts = append(ts, target{fmt.Sprintf("resident memory after load (VmRSS) ≤ 415 MB (%d-name zone)", r.Names), fmtMBNaN(cur) + fmt.Sprintf(" (%.0f bytes per record)", zkMed("RSS bytes per record")), heldIf(cur*1024/1e6 <= 415, !math.IsNaN(cur))})
	peers := ""
	for _, peer := range []string{"NSD", "Knot"} {
		if v := summarize(r.column(peer, metricNamed("peak RSS (VmHWM)"))).Med; !math.IsNaN(v) {
			peers += fmt.Sprintf("; %s %s", peer, fmtMB(v))
		}
	}
	ts = append(ts, target{fmt.Sprintf("peak RSS while loading (VmHWM), not a target: the issue's memory target is the resident size after load, the row above (%d-name zone)", r.Names),
		fmtMBNaN(rss) + peers, "shown"})
	axfrCPU := zkMed("AXFR out CPU")
	ts = append(ts, target{fmt.Sprintf("AXFR out ≤ 0.25 s server CPU (%d-name zone)", r.Names), fmtDurNaN(axfrCPU), heldIf(axfrCPU <= 0.25, !math.IsNaN(axfrCPU))})
	it := r.zkColumn(func(z zkRun) float64 { return z.IXFRWall.Seconds() })
	ib := r.zkColumn(func(z zkRun) float64 { return float64(z.IXFRBytes) })
	ts = append(ts, target{fmt.Sprintf("IXFR of a one-record change < 50 ms and < 1 KB (%d-name zone)", r.Names), it.cell(fmtDur) + ", " + ib.cell(fmtInt) + " bytes",
		heldIf(it.Med < 0.050 && ib.Med < 1024, it.N > 0 && ib.N > 0)})
	if len(r.PropLat) > 0 {
		p95 := percentile(r.PropLat, 0.95)
		ts = append(ts, target{fmt.Sprintf("edit-to-secondary p95 < 100 ms (%d-record zone)", r.PropZone), fmtDur(p95.Seconds()), heldIf(p95 < 100*time.Millisecond, true)})
	} else {
		ts = append(ts, target{"edit-to-secondary p95 < 100 ms", "not measured", "n/a"})
	}
	failed := r.zkColumn(func(z zkRun) float64 { return float64(z.ReloadFailed) })
	ts = append(ts, target{fmt.Sprintf("zero failed queries during the reload of the %d-name zone under load", r.Names), failed.cell(fmtInt) + " failed", heldIf(failed.Max == 0, failed.N > 0)})
	if r.DOSigning != "" {
		d := r.doView()
		doRatio := d.ratio("NSD", metricNamed("queries/CPU-s"))
		ts = append(ts, target{fmt.Sprintf("DO=1 queries per server-CPU-second beside NSD's, not a target: the issue asks for it measured (signed %d-name query zone)", r.QNames),
			"zonekeeper ÷ NSD = " + doRatio.cell(fmtRatio), "shown"})
		wrong := summarize(d.column("zonekeeper", metricNamed("wrong")))
		ts = append(ts, target{fmt.Sprintf("zero wrong DO=1 answers: every answer carries its RRSIG, every negative answer its NSEC3 (signed %d-name query zone)", r.QNames),
			wrong.cell(fmtInt) + " wrong", heldIf(wrong.Max == 0, wrong.N > 0)})
	}
	_, share := r.fastShare()
	ts = append(ts, target{fmt.Sprintf("fast-path share of the mixed query set ≥ 90%% (%d-name query zone)", r.QNames), share.cell(fmtShare), heldIf(share.Med >= 0.9, share.N > 0)})

	fmt.Fprintf(w, "\n## Targets\n\n| target | zonekeeper | |\n|---|---|---|\n")
	for _, t := range ts {
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.What, t.Value, t.Held)
	}
}

func fmtDurNaN(sec float64) string {
	if math.IsNaN(sec) {
		return "n/a"
	}
	return fmtDur(sec)
}

func fmtMBNaN(kb float64) string {
	if math.IsNaN(kb) {
		return "n/a"
	}
	return fmtMB(kb)
}
