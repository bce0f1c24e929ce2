package main

import (
	"strings"
	"testing"
)

// TestReportSigned: the DO=1 section lists the servers that ran the
// signed zone with their own numbers, zonekeeper ÷ peer and DO=1 ÷
// DO=0 from the same repetitions, the wrong answers; the targets show
// the DO ratio and hold zero wrong answers; a busy core during a DO run
// flags the run; no signing, no section.
func TestReportSigned(t *testing.T) {
	q := func(rep int, cpu float64, wrong int64) serverRun {
		return serverRun{Rep: rep, HasQuery: true, QPS: cpu, QPSPerCPU: cpu, Mismatches: wrong, FastShare: 0.9}
	}
	r := &results{
		Names: 1_000_000, QNames: 100_000,
		Servers:  []string{"zonekeeper", "zonekeeper@base", "NSD", "PowerDNS"},
		Baseline: "zonekeeper@base",
		Versions: map[string]string{"zonekeeper": "dev", "NSD": "4.6.1"},
		Runs: map[string][]serverRun{
			"zonekeeper": {q(0, 400, 0), q(1, 400, 0)},
			"NSD":        {q(0, 200, 0), q(1, 200, 0)},
		},
		DORuns: map[string][]serverRun{
			"zonekeeper": {q(0, 300, 0), q(1, 360, 0)},
			"NSD":        {q(0, 150, 0), q(1, 180, 7)},
		},
		DOErrors:   []string{"NSD, repetition 3, signed 100000-name query zone: exited"},
		DORecords:  660_000,
		DOSigning:  signNSEC3 + ", test",
		DOCounters: map[string]int64{"fast": 90, "full": 10},
		Errors:     map[string][]string{},
		Load:       "Load: test",
		DOLoad:     "Load: DO test",
	}
	var b strings.Builder
	r.writeReport(&b)
	out := b.String()
	i := strings.Index(out, "## DO=1 queries: the signed 100000-name query zone under load")
	if i < 0 {
		t.Fatalf("no DO section:\n%s", out)
	}
	section := out[i:]
	section = section[:strings.Index(section, "\n## Start")]
	for _, want := range []string{
		"660000 records", "NSEC3 (SHA-1, 0 extra iterations, no salt, no opt-out)", "Load: DO test.",
		"| zonekeeper | dev | 330 (300–360) | 330 (300–360) |",
		"| NSD | 4.6.1 | 165 (150–180) | 165 (150–180) |",
		"| 4 (0–7) | 0 |", // NSD's wrong answers, then socket drops
		"| zonekeeper | — | 0.82 (0.75–0.90) |",
		"| NSD | 2.00 | 0.82 (0.75–0.90) |",
		"fast 90, full 10", "fast-path share: 90.0%",
		"NSD, repetition 3, signed 100000-name query zone: exited",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("DO section lacks %q:\n%s", want, section)
		}
	}
	for _, absent := range []string{"| zonekeeper@base |", "| PowerDNS |"} {
		if strings.Contains(section, absent) {
			t.Errorf("DO section has %q, which did not run it", absent)
		}
	}
	for _, want := range []string{"| zonekeeper ÷ NSD = 2.00 | shown |", "| 0 wrong | held |"} {
		if !strings.Contains(out, want) {
			t.Errorf("targets lack %q", want)
		}
	}
	if strings.Contains(out, "not quiet") {
		t.Error("flagged a quiet run")
	}

	busy := q(1, 360, 3)
	busy.OtherCPU = 0.4
	r.DORuns["zonekeeper"][1] = busy
	b.Reset()
	r.writeReport(&b)
	out = b.String()
	if !strings.Contains(out, "zonekeeper repetition 2, DO=1 (40%)") {
		t.Error("a busy core during a DO=1 run is not flagged")
	}
	if !strings.Contains(out, "(0–3) wrong | missed |") {
		t.Error("wrong DO=1 answers from zonekeeper do not miss the target")
	}

	r.DOSigning, r.DORuns = "", nil
	b.Reset()
	r.writeReport(&b)
	if strings.Contains(b.String(), "DO=1") {
		t.Error("a run without the signed zone shows a DO section or target")
	}
}
