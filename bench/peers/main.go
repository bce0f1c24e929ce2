// Command peers runs zonekeeper beside NSD, Knot, BIND and PowerDNS on
// loopback (issue 10), one server at a time with one worker, pinned to
// CPU 0 while the project's own load generator
// (zonekeeper/bench/peers/load) runs on CPU 1, and prints one markdown
// report: per server its version, queries/s, queries per server-CPU
// second, average and p99 latency, lost and wrong answers, time from
// start to serving the big zone (pinned to CPU 0, and again free to use
// every CPU: the cold-start target's measure, as parsing in parallel
// needs more than one core), RSS, and time and server CPU to AXFR it
// out; zonekeeper ÷ peer ratios from the same repetitions; zonekeeper's
// IXFR of a one-record change, reload of an edited zonefile under load,
// edit-to-secondary propagation between two nodes and query-path
// counters; the targets held or missed; the machine.
//
// As the issue measured them, the queries go to the query zone (100 000
// names; --query-names) and the rest to the big zone (1 000 000 names;
// --names): each repetition starts every server three times, once with
// the query zone under the load generator, once with the big zone alone
// for start to serving, RSS, and the AXFR out, and once more with a fresh
// copy of the big zone under `taskset` over all CPUs for start to serving
// alone (the load generator is idle then).
//
// It generates what it serves in a temporary directory: both zones, of
// one shape (A and AAAA per name, MX and TXT every 10th, a CNAME every
// 20th, a wildcard, a delegation with glue, every NS address on
// loopback), an edited copy of the big one for the reload, and dnsperf
// query files whose comments carry each answer's expectation. The load
// generator replays its query file round robin, so a run replays the
// query set several times. Repetitions (--reps) stop early when the next
// would overrun --budget.
//
// The query zone is also signed, during the run, with dnssec-keygen and
// dnssec-signzone (NSEC3, ECDSA P-256; signed.go), and every server that
// serves a pre-signed zone as it is (all but PowerDNS and the baseline)
// runs once more per repetition under the same query set with DO=1,
// each answer then checked for its RRSIG and negative answers for their
// NSEC3 proof (issue 17: DO answers benchmarked like the rest).
//
// With --baseline REV it also builds zonekeeper at commit REV (in a git
// worktree, removed once built) and runs it as the server zonekeeper@REV
// with zonekeeper's configuration, right after zonekeeper in every
// repetition, under the query zone's load only; the report sets the
// two beside each other with the ratio of their queries per CPU-second
// (the query path before and after a change, same run, same machine).
//
// Run by `make bench-peers` (which builds zonekeeper and installs the
// Debian packages of the peers first):
//
//	go run ./bench/peers --bin bin/zonekeeper --out bench/results/latest.md --baseline b9b80a9
//	go run ./bench/peers --bin bin/zonekeeper --quick --baseline b9b80a9
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"zonekeeper/bench/internal/ports"
	"zonekeeper/bench/internal/worktree"

	"zonekeeper/bench/peers/load"
)

func main() {
	if err := run(); err != nil {
		stopAll()
		fmt.Fprintln(os.Stderr, "bench-peers: "+err.Error())
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	Bin      string
	Out      string
	Reps     int
	Duration time.Duration
	Warmup   time.Duration
	Names    int // the big zone: start, RSS, AXFR, IXFR, reload
	QNames   int // the query zone: the mixed load
	Queries  int
	Sockets  int
	Window   int
	Edits    int
	Servers  string
	Budget   time.Duration
	Quick    bool
	Keep     bool
	NoPin    bool
	Baseline string // a commit to build and run as zonekeeper@REV; "" for none
}

func parseFlags() *options {
	o := &options{}
	flag.StringVar(&o.Bin, "bin", "bin/zonekeeper", "the zonekeeper binary")
	flag.StringVar(&o.Out, "out", "", "also write the markdown report to this file")
	flag.IntVar(&o.Reps, "reps", 3, "repetitions of each server's run (medians, min–max shown)")
	flag.DurationVar(&o.Duration, "duration", 10*time.Second, "measured load per server and repetition")
	flag.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured load before it")
	flag.IntVar(&o.Names, "names", 1_000_000, "names in the big zone (start to serving, RSS, AXFR out, IXFR, reload)")
	flag.IntVar(&o.QNames, "query-names", 100_000, "names in the query zone (the mixed query load)")
	// Small enough that a 10 s run replays it several times (the load
	// generator goes round robin), large enough to spread over the zone.
	flag.IntVar(&o.Queries, "queries", 50_000, "queries in the query file of the query zone")
	flag.IntVar(&o.Sockets, "sockets", 0, "load generator sockets (0: its default)")
	flag.IntVar(&o.Window, "window", 0, "load generator queries in flight per socket (0: its default)")
	flag.IntVar(&o.Edits, "edits", 100, "edits measured for edit-to-secondary propagation")
	flag.StringVar(&o.Servers, "servers", "zonekeeper,NSD,Knot,BIND,PowerDNS", "servers to run, comma-separated, zonekeeper first")
	flag.DurationVar(&o.Budget, "budget", 9*time.Minute, "stop starting repetitions when the next would end the run after this (the issue allows 10 minutes, building included)")
	flag.BoolVar(&o.Quick, "quick", false, "a short trial: 100k-name big zone, 10k-name query zone, 1 repetition, 2 s of load, 20 edits")
	flag.BoolVar(&o.Keep, "keep", false, "keep the work directory (configs, logs) and print where it is")
	flag.BoolVar(&o.NoPin, "no-pin", false, "do not pin the servers and the load generator to CPUs 0 and 1")
	flag.StringVar(&o.Baseline, "baseline", "", "also build zonekeeper at this commit (a git worktree) and run it as zonekeeper@REV under the query load, right after zonekeeper in each repetition, with the same configuration (\"\": none)")
	flag.Parse()
	if o.Quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("names", func() { o.Names = 100_000 })
		def("reps", func() { o.Reps = 1 })
		def("duration", func() { o.Duration = 2 * time.Second })
		def("warmup", func() { o.Warmup = 500 * time.Millisecond })
		def("query-names", func() { o.QNames = 10_000 })
		def("queries", func() { o.Queries = 20_000 })
		def("edits", func() { o.Edits = 20 })
	}
	return o
}

// pinEnv marks the process as already re-executed under taskset.
const pinEnv = "ZONEKEEPER_BENCH_PEERS_PINNED"

// pinSelf replaces the process with itself under `taskset -c 1`, so that
// the load generator and every goroutine of this process stay off the
// server's core (Go's threads cannot all be pinned from inside).
func pinSelf() error {
	if os.Getenv(pinEnv) != "" {
		return nil
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return fmt.Errorf("taskset not found (util-linux): %v; or run with --no-pin", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	argv := append([]string{"taskset", "-c", loadCPU, exe}, os.Args[1:]...)
	return syscall.Exec(taskset, argv, append(os.Environ(), pinEnv+"=1"))
}

func run() error {
	o := parseFlags()
	began := time.Now()
	// NumCPU follows the affinity mask: 1 once re-executed under taskset.
	if runtime.NumCPU() < 2 && !o.NoPin && os.Getenv(pinEnv) == "" {
		return errors.New("pinning needs 2 CPUs: run with --no-pin on this machine")
	}
	if !o.NoPin {
		if err := pinSelf(); err != nil {
			return err
		}
	}
	bin, err := filepath.Abs(o.Bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%v: build it first (make build)", err)
	}
	work, err := os.MkdirTemp("", "zonekeeper-bench-peers-")
	if err != nil {
		return err
	}
	if o.Keep {
		fmt.Fprintln(os.Stderr, "work directory: "+work)
	} else {
		defer os.RemoveAll(work)
	}
	defer stopAll()
	// Interrupted, the servers go too; a closed stdout (| head) makes
	// writes fail instead of killing the run before it cleans up.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGPIPE {
				stopAll()
				worktree.RemoveLive()
				if !o.Keep {
					os.RemoveAll(work)
				}
				os.Exit(1)
			}
		}
	}()

	b := &bench{o: o, work: work, bin: bin, cpu: serverCPU}
	if o.NoPin {
		b.cpu = allCPUs()
	}
	res := &results{
		Versions: map[string]string{}, Runs: map[string][]serverRun{},
		Errors: map[string][]string{}, Began: began, AllCPUs: allCPUs(),
		Command: "go run ./bench/peers " + strings.Join(os.Args[1:], " "),
	}
	if os.Getenv("MAKELEVEL") != "" {
		res.Command = "make bench-peers: " + res.Command
	}
	if err := b.prepare(res); err != nil {
		return err
	}
	res.Load = fmt.Sprintf("Load: %d UDP queries from the query file, replayed round robin (70%% A/AAAA hits, 10%% MX/TXT, 10%% NXDOMAIN, 5%% CNAME, 5%% wildcard), %v measured after %v of warmup, every answer checked",
		len(b.small.Queries), o.Duration, o.Warmup)
	if b.signed != nil {
		res.DOLoad = fmt.Sprintf("Load: the same %d queries with the DO bit set (EDNS0 size %d), replayed round robin, %v measured after %v of warmup; an answer is wrong unless, besides its expectation, it carries the RRSIG of the checked RRset, and a negative answer an NSEC or NSEC3 record",
			len(b.signed.Queries), 1232, o.Duration, o.Warmup)
	}
	b.measure(res, began)
	res.Took = time.Since(began)

	var w io.Writer = os.Stdout
	var f *os.File
	if o.Out != "" {
		if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
			return err
		}
		if f, err = os.Create(o.Out); err != nil {
			return err
		}
		w = io.MultiWriter(os.Stdout, f)
	}
	res.writeReport(w)
	if f != nil {
		return f.Close()
	}
	return nil
}

// allCPUs is the taskset list of every CPU of the machine (NumCPU would
// say only the ones this pinned process may use).
func allCPUs() string {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return "0-" + strconv.Itoa(runtime.NumCPU()-1)
	}
	return strings.TrimSpace(string(b))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// bench holds what every server's run shares.
type bench struct {
	o       *options
	work    string
	bin     string // zonekeeper, absolute
	cpu     string // the servers' CPU list for taskset
	kinds   []serverKind
	bins    map[string]string
	small   *benchZone // the query zone, under the mixed load
	signed  *benchZone // its signed copy, under the same mix with DO=1; nil if signing failed
	big     *benchZone // start, RSS, transfers, reload
	edited  string     // the big zonefile with a higher serial and one more record
	zkFlags []string   // zonekeeper's extra serve flags (serveFlags)
}

// benchZone is one generated zone of origin benchOrigin and its query set.
type benchZone struct {
	Names   int
	Records int
	File    string
	Probe   string // its last name: the start-to-serving probe
	Queries []load.Query
}

// reloadQueries is the size of the big zone's query set, which the load
// during the reload sends: each one-second load packs its queries first,
// and a small set keeps the gaps between them short.
const reloadQueries = 20_000

// genZone writes a zone of names names and its query file of count
// queries into the work directory, as name.zone and name.queries.
func (b *bench) genZone(name string, names, count int) (*benchZone, error) {
	spec := zoneSpec{Origin: benchOrigin, Names: names, Serial: 1}
	z := &benchZone{Names: names, Records: spec.records(),
		File: filepath.Join(b.work, name+".zone"), Probe: "h" + strconv.Itoa(names-1) + "." + benchOrigin}
	if err := writeZone(z.File, spec); err != nil {
		return nil, err
	}
	qpath := filepath.Join(b.work, name+".queries")
	if err := writeQueries(qpath, genQueries(benchOrigin, names, count)); err != nil {
		return nil, err
	}
	// Read back through the load package's parser: the file is the
	// contract, and dnsperf can read the same one.
	qs, err := load.ReadQueries(qpath)
	if err != nil {
		return nil, err
	}
	z.Queries = qs
	return z, nil
}

// prepare finds the servers, generates the zones and the query file.
func (b *bench) prepare(res *results) error {
	b.bins = map[string]string{}
	wanted := map[string]bool{}
	for _, s := range strings.Split(b.o.Servers, ",") {
		wanted[strings.ToLower(strings.TrimSpace(s))] = true
	}
	zk := zonekeeperKind
	zk.Binary = b.bin
	b.zkFlags, res.HasCache = serveFlags(b.bin)
	zk.Flags = b.zkFlags
	for _, k := range append([]serverKind{zk}, peerKinds...) {
		if !wanted[strings.ToLower(k.Name)] {
			continue
		}
		path := k.Binary
		if k.Name != "zonekeeper" {
			p, err := lookBinary(k.Binary)
			if err != nil {
				res.Notes = append(res.Notes, k.Name+" skipped: "+err.Error())
				continue
			}
			path = p
		}
		b.add(res, k, path)
		if k.Name == "zonekeeper" && b.o.Baseline != "" {
			base, err := b.baselineKind(res, b.o.Baseline)
			if err != nil {
				return fmt.Errorf("--baseline %s: %v (--baseline \"\" runs without it)", b.o.Baseline, err)
			}
			b.add(res, base, base.Binary)
		}
	}
	if len(b.kinds) == 0 || b.kinds[0].Name != "zonekeeper" {
		return errors.New("--servers must start with zonekeeper: every ratio is zonekeeper ÷ peer")
	}

	t := time.Now()
	var err error
	if b.small, err = b.genZone("query", b.o.QNames, b.o.Queries); err != nil {
		return err
	}
	if b.big, err = b.genZone("big", b.o.Names, reloadQueries); err != nil {
		return err
	}
	res.QNames, res.QRecords = b.small.Names, b.small.Records
	res.Names, res.Records = b.big.Names, b.big.Records
	// The reload's edit: a higher serial than any `record add` of a
	// repetition reaches, and one record no query asks for, so every
	// expectation holds before, during and after the reload.
	edited := zoneSpec{Origin: benchOrigin, Names: b.o.Names, Serial: 1000}
	edited.Extra = []string{"reload-marker A 127.0.0.77"}
	b.edited = filepath.Join(b.work, "bench.test.edited")
	if err := writeZone(b.edited, edited); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "generated a %d-name query zone (%d records, %d queries) and a %d-name big zone (%d records, %d queries) in %v\n",
		b.small.Names, b.small.Records, len(b.small.Queries), b.big.Names, b.big.Records, len(b.big.Queries), time.Since(t).Round(time.Millisecond))
	if err := b.prepareSigned(res); err != nil {
		res.note("DO=1 queries not measured: " + firstLine(err.Error()))
	}
	return nil
}

// add makes k, its binary at path, one of the servers run.
func (b *bench) add(res *results, k serverKind, path string) {
	b.bins[k.Name] = path
	b.kinds = append(b.kinds, k)
	res.Servers = append(res.Servers, k.Name)
	res.Versions[k.Name] = k.version(path)
}

// serveFlags are the extra `serve` flags the benchmark passes to the
// zonekeeper binary bin, as far as its `serve --help` offers them (one
// UDP worker), and whether that help mentions a compiled cache.
func serveFlags(bin string) ([]string, bool) {
	help, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	var flags []string
	if strings.Contains(string(help), "--udp-workers") {
		flags = append(flags, "--udp-workers", "1")
	}
	return flags, strings.Contains(string(help), "cache")
}

// loadConfig is the load generator's configuration: qs against addr.
func (b *bench) loadConfig(addr netip.AddrPort, qs []load.Query, d, warmup time.Duration) load.Config {
	return load.Config{Target: addr, Queries: qs, Duration: d, Warmup: warmup,
		Sockets: b.o.Sockets, Window: b.o.Window}
}

// startTimeout bounds a server's start with the big zone: BIND and
// PowerDNS take tens of seconds for a million names on a slow core.
const startTimeout = 3 * time.Minute

// start configures and starts kind in dir serving z, pinned to the
// servers' CPU list (b.cpu), and waits until it answers z's probe name.
func (b *bench) start(k serverKind, dir string, z *benchZone) (*process, netip.AddrPort, time.Duration, error) {
	return b.startOn(k, dir, z, b.cpu)
}

// startOn is start with the server under `taskset -c cpus`: the all-CPU
// cold start of the big zone passes allCPUs().
func (b *bench) startOn(k serverKind, dir string, z *benchZone, cpus string) (*process, netip.AddrPort, time.Duration, error) {
	var addr netip.AddrPort
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, addr, 0, err
	}
	port, err := ports.Free(serverIP)
	if err != nil {
		return nil, addr, 0, err
	}
	dead, err := ports.Free(serverIP)
	if err != nil {
		return nil, addr, 0, err
	}
	addr = netip.AddrPortFrom(netip.MustParseAddr(serverIP), uint16(port))
	s := &serverSetup{Dir: dir, Port: port, Origin: benchOrigin, ZoneFile: z.File,
		Bin: b.bins[k.Name], DeadPort: dead, ZKFlags: k.Flags}
	argv, err := k.argv(s)
	if err != nil {
		return nil, addr, 0, err
	}
	p, err := startProcess(k.Name, cpus, filepath.Join(dir, "server.log"), argv)
	if err != nil {
		return nil, addr, 0, err
	}
	took, err := waitServing(p, addr.String(), z.Probe, startTimeout)
	if err != nil {
		p.Stop()
		return nil, addr, 0, err
	}
	return p, addr, took, nil
}
