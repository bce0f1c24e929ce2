// Command zkload sends a query file to a DNS server over UDP as fast as
// the server answers (or at -qps), checks every answer and prints the
// result; it is the load generator of the peer benchmark, for manual use.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"

	"zonekeeper/bench/peers/load"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "zkload:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg load.Config
	server := flag.String("server", "127.0.0.1:53", "server `addr:port`")
	queries := flag.String("queries", "", "query `file` (dnsperf format with expectations, see package load)")
	flag.DurationVar(&cfg.Duration, "duration", 15e9, "measured `period`")
	flag.DurationVar(&cfg.Warmup, "warmup", 0, "unmeasured load before the measured period")
	flag.IntVar(&cfg.Sockets, "sockets", 2, "UDP sockets")
	flag.IntVar(&cfg.Window, "window", 64, "queries in flight per socket")
	flag.DurationVar(&cfg.Timeout, "timeout", 1e9, "a query unanswered this long is lost")
	flag.IntVar(&cfg.QPS, "qps", 0, "send rate limit, queries per second (0: unlimited)")
	flag.IntVar(&cfg.Batch, "batch", 64, "messages per sendmmsg/recvmmsg")
	flag.IntVar(&cfg.ServerPID, "server-pid", 0, "server `pid` whose CPU time to sample over the measured period (Linux /proc)")
	flag.BoolVar(&cfg.DO, "D", false, "set the DNSSEC OK bit in every query (as dnsperf -D); answers must then carry their RRSIGs and negative answers their NSEC/NSEC3 proof")
	flag.BoolVar(&cfg.Spin, "spin", false, "busy-poll instead of sleeping (pin zkload to a core of its own)")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of zkload itself to `file`")
	flag.Parse()
	if *queries == "" || flag.NArg() > 0 {
		flag.Usage()
		return fmt.Errorf("need -queries and no arguments")
	}
	target, err := netip.ParseAddrPort(*server)
	if err != nil {
		return fmt.Errorf("-server: %w", err)
	}
	cfg.Target = target
	if cfg.Queries, err = load.ReadQueries(*queries); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := load.Run(ctx, cfg)
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Println(res)
	}
	return err
}
