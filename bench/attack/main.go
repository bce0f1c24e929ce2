// Command attack runs a hostile suite against the real zonekeeper binary
// on loopback (issue 21) and prints a table of case → held, with
// figures: mutated UDP, broken TCP framing, slowloris, a NOTIFY flood, a
// hostile primary, kill -9 in the middle of transfers, a full disk. Each
// case starts its own daemon in a temporary directory; a well-behaved
// client on 127.0.0.99 probes it throughout, and a case holds when the
// daemon kept answering it and kept its promises (nothing half-written,
// the log intact, memory bounded).
//
// Run by `make attack`:
//
//	go run ./bench/attack --bin bin/zonekeeper [--short] [--cases udp,tcp,...]
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// result is how one case went.
type result struct {
	name    string
	held    bool
	skipped string // why the case did not run
	figures string
}

// scale sizes the cases: the full suite, or --short for make test.
type scale struct {
	datagrams   int // mutated UDP datagrams
	conns       int // idle TCP connections of the slowloris
	notifies    int // NOTIFYs of the flood
	xfrRecords  int // records the hostile primary sends
	kills       int // kill -9 during transfers
	loadSeconds int // how long the slow attacks last
}

var (
	full  = scale{datagrams: 500_000, conns: 1100, notifies: 20_000, xfrRecords: 5_000_000, kills: 9, loadSeconds: 10}
	short = scale{datagrams: 20_000, conns: 300, notifies: 5_000, xfrRecords: 200_000, kills: 2, loadSeconds: 3}
)

// attackCase is one case of the suite.
type attackCase struct {
	name string
	run  func(bin, dir string, sc scale) result
}

var cases = []attackCase{
	{"udp", mutatedUDP},
	{"tcp-framing", tcpFraming},
	{"slowloris", slowloris},
	{"notify-flood", notifyFlood},
	{"hostile-primary", hostilePrimary},
	{"kill-mid-transfer", killMidTransfer},
	{"full-disk", fullDisk},
}

func main() {
	bin := flag.String("bin", "bin/zonekeeper", "the zonekeeper binary")
	isShort := flag.Bool("short", false, "small sizes, for make test")
	only := flag.String("cases", "", "comma-separated cases to run (default: all): "+caseNames())
	flag.Parse()
	sc := full
	if *isShort {
		sc = short
	}
	results, err := runSuite(*bin, sc, *only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "attack: "+err.Error())
		os.Exit(2)
	}
	printTable(os.Stdout, results)
	for _, r := range results {
		if !r.held && r.skipped == "" {
			os.Exit(1)
		}
	}
}

func caseNames() string {
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
	}
	return strings.Join(names, ",")
}

// runSuite runs the selected cases one after the other.
func runSuite(bin string, sc scale, only string) ([]result, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("the binary: %w (run make build)", err)
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []result
	for _, c := range cases {
		if len(want) > 0 && !want[c.name] {
			continue
		}
		dir, err := os.MkdirTemp("", "zk-attack-"+c.name+"-")
		if err != nil {
			return nil, err
		}
		start := time.Now()
		fmt.Fprintf(os.Stderr, "%s ...", c.name)
		r := c.run(bin, dir, sc)
		r.name = c.name
		fmt.Fprintf(os.Stderr, " %s (%s)\n", verdict(r), time.Since(start).Round(100*time.Millisecond))
		if (r.held || r.skipped != "") && os.Getenv("ZK_ATTACK_KEEP") == "" {
			os.RemoveAll(dir)
		} else {
			r.figures += "; kept " + dir
		}
		out = append(out, r)
	}
	return out, nil
}

func verdict(r result) string {
	switch {
	case r.skipped != "":
		return "skipped"
	case r.held:
		return "held"
	}
	return "NOT HELD"
}

// printTable prints the results as a markdown table.
func printTable(w *os.File, results []result) {
	fmt.Fprintln(w, "| case | result | figures |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, r := range results {
		fig := r.figures
		if r.skipped != "" {
			fig = r.skipped
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.name, verdict(r), strings.ReplaceAll(fig, "|", "/"))
	}
}

// failed is a result that did not hold because of err.
func failed(err error) result { return result{figures: err.Error()} }
