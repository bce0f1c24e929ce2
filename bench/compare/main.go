// Command compare runs the query path's Go benchmarks (lookup, the
// packet path full and from the ready-answer cache, reply packing, the
// UDP batch loop) in the working tree and at a baseline commit, on the
// same machine in the same run, and prints benchstat's comparison of the
// two, each column named by its commit.
//
// The baseline is checked out in a temporary git worktree (removed
// afterwards, also on failure or interrupt). Each side's test binaries
// are built once; then the rounds run interleaved, working tree first
// (here, base, here, base, …; -count 1 each), so that a noisy moment of
// the machine falls on both alike. A benchmark is found by its function
// name in whatever package holds it on each side (./daemon at b9b80a9,
// ./daemon/answer and ./daemon/listen since f67a8e0): the package lines
// of the output are made one, so that benchstat sets the same name on
// both sides beside each other.
//
// Run by `make bench-compare` (and `make bench`):
//
//	go run ./bench/compare --base b9b80a9 --benchstat bin/tools/benchstat-VERSION/benchstat
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"zonekeeper/bench/internal/worktree"
)

// queryPath are the query path's benchmark functions, without their
// Benchmark prefix: those of daemon/answer and daemon/listen but the
// zone compiles and the cache decode.
const queryPath = "Lookup,Respond,RespondSpread,UDPServe"

// options are the command's flags.
type options struct {
	Base       string
	Benchmarks string
	Rounds     int
	Benchtime  string
	Benchstat  string
	Keep       bool
}

func main() {
	o := &options{}
	flag.StringVar(&o.Base, "base", "b9b80a9", "the baseline commit (any git revision)")
	flag.StringVar(&o.Benchmarks, "benchmarks", queryPath, "benchmark functions to compare, comma-separated, without the Benchmark prefix")
	flag.IntVar(&o.Rounds, "rounds", 6, "interleaved rounds; each runs every benchmark once on each side")
	flag.StringVar(&o.Benchtime, "benchtime", "", "go test -benchtime for each run (empty: go test's default)")
	flag.StringVar(&o.Benchstat, "benchstat", "benchstat", "the benchstat binary (golang.org/x/perf/cmd/benchstat)")
	flag.BoolVar(&o.Keep, "keep", false, "keep the raw benchmark output and print where it is")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-compare: "+err.Error())
		os.Exit(1)
	}
}

// side is one of the two trees compared: its label (a commit), its
// checkout, its test binaries and the output they wrote.
type side struct {
	Label string
	Dir   string
	Bins  []testBinary
	Out   bytes.Buffer
}

// testBinary is one package's compiled tests and the benchmarks of ours
// in it.
type testBinary struct {
	Pkg   string // relative to the tree, "./daemon/answer"
	Path  string
	Bench string // its -test.bench pattern
}

func run(ctx context.Context, o *options) error {
	names := strings.Split(o.Benchmarks, ",")
	for i, n := range names {
		names[i] = strings.TrimPrefix(strings.TrimSpace(n), "Benchmark")
	}
	if o.Rounds < 1 {
		return errors.New("--rounds must be at least 1")
	}
	benchstat, err := exec.LookPath(o.Benchstat)
	if err != nil {
		return fmt.Errorf("%v (make bench-compare installs it into bin/tools)", err)
	}
	top, err := worktree.Top(ctx)
	if err != nil {
		return err
	}
	current, err := worktree.Current(ctx)
	if err != nil {
		return err
	}
	tree, err := worktree.Add(ctx, o.Base)
	if err != nil {
		return err
	}
	defer tree.Remove()
	if tree.Rev == current {
		return fmt.Errorf("the baseline %s is what the working tree holds: nothing to compare", tree.Rev)
	}
	tmp, err := os.MkdirTemp("", "zonekeeper-bench-compare-")
	if err != nil {
		return err
	}
	if o.Keep {
		fmt.Fprintln(os.Stderr, "raw output in "+tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	here := &side{Label: current, Dir: top}
	base := &side{Label: tree.Rev, Dir: tree.Dir}
	start := time.Now()
	for _, s := range []*side{here, base} {
		if err := s.build(ctx, names, filepath.Join(tmp, s.Label)); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "built the test binaries in %v\n", time.Since(start).Round(100*time.Millisecond))
	for round := range o.Rounds {
		for _, s := range []*side{here, base} {
			t := time.Now()
			if err := s.runOnce(ctx, o.Benchtime); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "round %d/%d: %s took %v\n", round+1, o.Rounds, s.Label, time.Since(t).Round(100*time.Millisecond))
		}
	}
	var args []string
	for _, s := range []*side{base, here} {
		path := filepath.Join(tmp, s.Label+".txt")
		if err := os.WriteFile(path, s.Out.Bytes(), 0o644); err != nil {
			return err
		}
		// label=path: benchstat names the column by the commit; the
		// first is the baseline the other is compared with.
		args = append(args, s.Label+"="+path)
	}

	fmt.Printf("Query path: the working tree (%s) against the baseline %s (git rev-parse --short), same machine, same run: %d interleaved rounds (%s first), -count 1 -benchmem each; %s.\n",
		here.Label, base.Label, o.Rounds, here.Label, where(here, base))
	fmt.Printf("vs base: the working tree's change from %s (sec/op: +5%% is 1.05 times as slow); ~ is no significant difference (p ≥ 0.05); allocs/op: ~ with \"all samples are equal\" is unchanged.\n\n", base.Label)
	cmd := exec.CommandContext(ctx, benchstat, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("benchstat: %v", err)
	}
	fmt.Printf("\n(took %v)\n", time.Since(start).Round(time.Second))
	return nil
}

// where says which package holds the benchmarks on each side.
func where(here, base *side) string {
	pkgs := func(s *side) string {
		var p []string
		for _, b := range s.Bins {
			p = append(p, b.Pkg)
		}
		return strings.Join(p, ", ")
	}
	return fmt.Sprintf("packages %s at %s, %s in the working tree", pkgs(base), base.Label, pkgs(here))
}

// build finds the packages of names in the side's tree and compiles
// their tests into dir.
func (s *side) build(ctx context.Context, names []string, dir string) error {
	pkgs, err := findBenchmarks(s.Dir, names)
	if err != nil {
		return fmt.Errorf("%s: %v", s.Label, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, p := range pkgs {
		bin := filepath.Join(dir, fmt.Sprintf("%d-%s.test", i, filepath.Base(p.Dir)))
		cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, "./"+p.Dir)
		cmd.Dir = s.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: go test -c ./%s: %v\n%s", s.Label, p.Dir, err, out)
		}
		s.Bins = append(s.Bins, testBinary{Pkg: "./" + p.Dir, Path: bin, Bench: benchPattern(p.Names)})
	}
	return nil
}

// runOnce runs every benchmark of the side once, each binary in its
// package's directory (as go test does), and appends the output, its
// package lines made one, to s.Out.
func (s *side) runOnce(ctx context.Context, benchtime string) error {
	for _, b := range s.Bins {
		args := []string{"-test.run", "^$", "-test.bench", b.Bench, "-test.benchmem", "-test.count", "1"}
		if benchtime != "" {
			args = append(args, "-test.benchtime", benchtime)
		}
		cmd := exec.CommandContext(ctx, b.Path, args...)
		cmd.Dir = filepath.Join(s.Dir, b.Pkg)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: benchmarks of %s: %v\n%s%s", s.Label, b.Pkg, err, tail(stdout.String(), 2000), tail(stderr.String(), 2000))
		}
		s.Out.WriteString(normalize(stdout.String()))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
