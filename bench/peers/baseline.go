package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"zonekeeper/bench/internal/worktree"
)

// baselineKind builds zonekeeper at rev, in a git worktree removed once
// the binary is in the work directory, and returns it as the server
// zonekeeper@REV: configured as zonekeeper is, run under the query
// load only. It records the commits compared in res.
func (b *bench) baselineKind(res *results, rev string) (serverKind, error) {
	ctx := context.Background()
	start := time.Now()
	current, err := worktree.Current(ctx)
	if err != nil {
		return serverKind{}, err
	}
	tree, err := worktree.Add(ctx, rev)
	if err != nil {
		return serverKind{}, err
	}
	defer func() {
		if err := tree.Remove(); err != nil {
			fmt.Fprintf(os.Stderr, "removing the worktree of %s at %s: %v\n", tree.Rev, tree.Dir, err)
		}
	}()
	bin := filepath.Join(b.work, "zonekeeper-"+tree.Rev)
	if err := tree.Build(ctx, bin); err != nil {
		return serverKind{}, err
	}
	k := zonekeeperKind
	k.Name = "zonekeeper@" + tree.Rev
	k.Binary = bin
	k.QueryOnly = true
	k.Flags, _ = serveFlags(bin)
	res.Baseline, res.BaseRev, res.Current = k.Name, tree.Rev, current
	fmt.Fprintf(os.Stderr, "built zonekeeper at %s (the baseline; the working tree is at %s) in %v\n",
		tree.Rev, current, time.Since(start).Round(100*time.Millisecond))
	return k, nil
}

// baselineMetrics are the columns of the baseline comparison: the query
// zone's load, and the fast path's share of it.
var baselineMetrics = []metric{
	metricNamed("queries/s"),
	metricNamed("queries/CPU-s"),
	metricNamed("server CPU use"),
	{"fast-path share", func(r serverRun) float64 { return r.FastShare }, fmtShare, true, false, nil},
	metricNamed("lost"),
	metricNamed("wrong"),
}

// writeBaseline writes the section that sets zonekeeper beside its
// build of the baseline commit: both under the query load, and the
// ratio of their queries per CPU-second.
func (r *results) writeBaseline(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	zk := "zonekeeper"
	p("\n## %s ÷ %s: the query path against commit %s\n\n", zk, r.Baseline, r.BaseRev)
	p("%s is the binary under test (its version: %s; the repository's working tree is at %s); %s is commit %s, built by the benchmark from a git worktree (go build -trimpath, CGO_ENABLED=0). Both ran with the same configuration on the same machine in the same repetitions, %s right after %s, under the same load on the %d-name query zone (the big zone's rows are %s's alone).\n\n",
		zk, r.Versions[zk], r.Current, r.Baseline, r.BaseRev, r.Baseline, zk, r.QNames, zk)
	heads := []string{"server", "commit"}
	for _, m := range baselineMetrics {
		heads = append(heads, m.Head+" ("+r.tag(m)+")")
	}
	p("| %s |\n|%s\n", strings.Join(heads, " | "), strings.Repeat("---|", len(heads)))
	for _, s := range []string{zk, r.Baseline} {
		row := []string{s, r.Versions[s]}
		for _, m := range baselineMetrics {
			row = append(row, summarize(r.column(s, m)).cell(m.Fmt))
		}
		p("| %s |\n", strings.Join(row, " | "))
	}
	ratio := r.ratio(r.Baseline, metricNamed("queries/CPU-s"))
	p("\nQueries per server-CPU-second, %s (%s) ÷ %s (%s), per repetition, then median: **%s**",
		zk, r.Versions[zk], r.Baseline, r.BaseRev, ratio.cell(fmtRatio))
	if ratio.N > 0 {
		p(" (%s)", fasterOrSlower(ratio.Med))
	}
	p(".\n")
}

// fasterOrSlower says in words what a ratio of queries per CPU-second,
// current ÷ baseline, means.
func fasterOrSlower(x float64) string {
	switch {
	case x > 1:
		return fmt.Sprintf("%.1f%% more queries per CPU-second than the baseline", 100*(x-1))
	case x < 1:
		return fmt.Sprintf("%.1f%% fewer queries per CPU-second than the baseline", 100*(1-x))
	}
	return "as many queries per CPU-second as the baseline"
}
