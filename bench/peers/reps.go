package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"zonekeeper/bench/peers/load"
)

// measure runs the repetitions of every server, zonekeeper's own rounds
// and the propagation, within the time budget, into res.
func (b *bench) measure(res *results, began time.Time) {
	o := b.o
	// The propagation runs last; what it takes is reserved from the
	// budget, and so is one round of zonekeeper's own measurements (an
	// edit and a reload of the big zone: about a minute for a million
	// names on this machine kind).
	reserve := 15*time.Second + time.Duration(o.Edits)*500*time.Millisecond
	roundReserve := 10*time.Second + time.Duration(o.Names)*60*time.Microsecond
	overrun := func(last, reserve time.Duration) bool {
		return time.Since(began)+last+reserve > o.Budget
	}
	var lastRep time.Duration
	for rep := range o.Reps {
		if rep > 0 && overrun(lastRep, reserve+roundReserve) {
			res.note(fmt.Sprintf("%d of %d repetitions: one more (%v) would have overrun the %v budget", rep, o.Reps, lastRep.Round(time.Second), o.Budget))
			break
		}
		repStart := time.Now()
		for _, k := range b.kinds {
			run := serverRun{Rep: rep, FastShare: math.NaN()}
			failed := func(zone string, err error) {
				fmt.Fprintf(os.Stderr, "  %s: %v\n", k.Name, err)
				res.Errors[k.Name] = append(res.Errors[k.Name], fmt.Sprintf("repetition %d, %s: %v", rep+1, zone, firstLine(err.Error())))
			}
			fmt.Fprintf(os.Stderr, "rep %d/%d: %s, %d-name query zone under load\n", rep+1, o.Reps, k.Name, b.small.Names)
			t := time.Now()
			if counters, err := b.runQueries(k, rep, b.small, false, &run); err != nil {
				failed(fmt.Sprintf("%d-name query zone", b.small.Names), err)
			} else {
				run.HasQuery = true
				if k.Zonekeeper {
					run.FastShare = shareOf(counters)
				}
				if k.Name == "zonekeeper" {
					res.Counters = counters
				}
			}
			fmt.Fprintf(os.Stderr, "  (took %v)\n", time.Since(t).Round(100*time.Millisecond))
			if b.signed != nil && servesPresigned(k) {
				b.runSigned(res, k, rep)
			}
			if k.QueryOnly {
				if run.HasQuery {
					res.Runs[k.Name] = append(res.Runs[k.Name], run)
				}
				continue
			}
			fmt.Fprintf(os.Stderr, "rep %d/%d: %s, %d-name big zone\n", rep+1, o.Reps, k.Name, b.big.Names)
			t = time.Now()
			if err := b.runBig(k, rep, &run); err != nil {
				failed(fmt.Sprintf("%d-name big zone", b.big.Names), err)
			} else {
				run.HasBig = true
			}
			fmt.Fprintf(os.Stderr, "  (took %v)\nrep %d/%d: %s, %d-name big zone, start on all CPUs (%s)\n", time.Since(t).Round(100*time.Millisecond), rep+1, o.Reps, k.Name, b.big.Names, allCPUs())
			t = time.Now()
			if err := b.runStartAll(k, rep, &run); err != nil {
				failed(fmt.Sprintf("%d-name big zone, start on all CPUs", b.big.Names), err)
			} else {
				run.HasStartAll = true
			}
			fmt.Fprintf(os.Stderr, "  (took %v)\n", time.Since(t).Round(100*time.Millisecond))
			if run.HasQuery || run.HasBig || run.HasStartAll {
				res.Runs[k.Name] = append(res.Runs[k.Name], run)
			}
		}
		lastRep = time.Since(repStart)
		fmt.Fprintf(os.Stderr, "rep %d took %v (%v so far)\n", rep+1, lastRep.Round(time.Second), time.Since(began).Round(time.Second))
	}

	// zonekeeper's own measurements, each round on a fresh daemon, as
	// many rounds as repetitions while the budget allows.
	var lastRound time.Duration
	for round := range o.Reps {
		if round > 0 && overrun(lastRound, reserve) {
			res.note(fmt.Sprintf("%d of %d rounds of zonekeeper's IXFR and reload: one more (%v) would have overrun the %v budget", round, o.Reps, lastRound.Round(time.Second), o.Budget))
			break
		}
		fmt.Fprintf(os.Stderr, "round %d/%d: zonekeeper IXFR and reload\n", round+1, o.Reps)
		roundStart := time.Now()
		zr, err := b.zonekeeperRound(round)
		lastRound = time.Since(roundStart)
		fmt.Fprintf(os.Stderr, "round %d took %v (%v so far)\n", round+1, lastRound.Round(time.Second), time.Since(began).Round(time.Second))
		if err != nil {
			fmt.Fprintf(os.Stderr, "  %v\n", err)
			res.Errors["zonekeeper"] = append(res.Errors["zonekeeper"], fmt.Sprintf("round %d: %v", round+1, firstLine(err.Error())))
			continue
		}
		res.ZK = append(res.ZK, *zr)
	}

	if o.Edits > 0 {
		fmt.Fprintf(os.Stderr, "zonekeeper: edit-to-secondary propagation, %d edits\n", o.Edits)
		lat, records, err := b.propagation()
		if err != nil {
			fmt.Fprintf(os.Stderr, "  propagation: %v\n", err)
			res.PropErr = firstLine(err.Error())
			if len(lat) > 0 {
				res.note(fmt.Sprintf("propagation stopped after %d edits: %s", len(lat), res.PropErr))
			}
		}
		res.PropLat, res.PropZone = lat, records
	}
}

// serverDir is a fresh directory for one start of a server; unless
// --keep, the caller removes it once the server has stopped (a copy of
// the big zone in each would add up).
func (b *bench) serverDir(k serverKind, what string, rep int) string {
	return filepath.Join(b.work, fmt.Sprintf("%s-%s-%d", strings.ToLower(k.Name), what, rep+1))
}

// cleanup removes a server's directory unless --keep.
func (b *bench) cleanup(dir string) {
	if !b.o.Keep {
		os.RemoveAll(dir)
	}
}

// runSigned is one repetition of kind k under the DO=1 mix on the
// signed query zone, into res.DORuns.
func (b *bench) runSigned(res *results, k serverKind, rep int) {
	fmt.Fprintf(os.Stderr, "rep %d/%d: %s, signed %d-name query zone under DO=1 load\n", rep+1, b.o.Reps, k.Name, b.signed.Names)
	t := time.Now()
	run := serverRun{Rep: rep, FastShare: math.NaN()}
	counters, err := b.runQueries(k, rep, b.signed, true, &run)
	fmt.Fprintf(os.Stderr, "  (took %v)\n", time.Since(t).Round(100*time.Millisecond))
	if err != nil {
		fmt.Fprintf(os.Stderr, "  %s: %v\n", k.Name, err)
		res.DOErrors = append(res.DOErrors, fmt.Sprintf("%s, repetition %d, signed %d-name query zone: %v", k.Name, rep+1, b.signed.Names, firstLine(err.Error())))
		return
	}
	run.HasQuery = true
	if k.Zonekeeper {
		run.FastShare = shareOf(counters)
	}
	if k.Name == "zonekeeper" {
		res.DOCounters = counters
	}
	if res.DORuns == nil {
		res.DORuns = map[string][]serverRun{}
	}
	res.DORuns[k.Name] = append(res.DORuns[k.Name], run)
}

// runQueries starts one server with z, the query zone or its signed
// copy, and measures it under the mixed load, with DO=1 if do, into r:
// queries/s, per server-CPU second, latency, lost and wrong answers;
// for a zonekeeper build it also returns its query-path counters'
// increase over the load.
func (b *bench) runQueries(k serverKind, rep int, z *benchZone, do bool, r *serverRun) (map[string]int64, error) {
	what := "query"
	if do {
		what = "query-do"
	}
	dir := b.serverDir(k, what, rep)
	defer b.cleanup(dir)
	p, addr, _, err := b.start(k, dir, z)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	zk, bin := k.Zonekeeper, b.bins[k.Name]
	sock := filepath.Join(dir, "ctl.sock")
	var before map[string]int64
	if zk {
		before = zkCounters(bin, sock)
	}

	drops := udpRcvbufErrors()
	lr, cpu, other, err := b.loadWithCPU(p, addr, z.Queries, do)
	r.Drops = udpRcvbufErrors() - drops
	if err != nil {
		return nil, err
	}
	if err := p.Exited(); err != nil {
		return nil, err
	}
	r.QPS, r.CPUUse, r.OtherCPU = lr.QPS, cpu, other
	if cpu > 0 {
		r.QPSPerCPU = lr.QPS / cpu
	}
	r.LatAvg, r.LatP99 = lr.LatencyAvg, lr.LatencyP99
	r.Sent, r.Lost, r.Mismatches = int64(lr.Sent), int64(lr.Lost), int64(lr.Mismatches)
	fmt.Fprintf(os.Stderr, "  %s; the query set replayed %.1f times; server CPU use %.0f%%; CPU %s busy with other work %.0f%%; socket drops %d\n",
		firstLine(lr.String()), float64(lr.Sent)/float64(len(z.Queries)), 100*cpu, b.cpu, 100*other, r.Drops)
	for _, e := range lr.Examples {
		fmt.Fprintf(os.Stderr, "  mismatch: %s\n", e)
	}
	if !zk {
		return nil, nil
	}
	return counterDelta(before, zkCounters(bin, sock)), nil
}

// runBig starts one server with the big zone alone and measures into r
// the time from start to serving, the resident set once the zone is
// loaded and served, and an AXFR of the zone out: wall time and the
// server's CPU over it.
func (b *bench) runBig(k serverKind, rep int, r *serverRun) error {
	dir := b.serverDir(k, "big", rep)
	defer b.cleanup(dir)
	p, addr, took, err := b.start(k, dir, b.big)
	if err != nil {
		return err
	}
	defer p.Stop()
	r.Start = took
	// A server may go on working once it answers (a collector freeing
	// the parse's garbage, an index built behind the first answers): let
	// it settle, so that the RSS is the zone's and the AXFR's CPU is the
	// transfer's.
	settled, err := waitIdle(p.Pid, settleMax)
	if err != nil {
		return err
	}
	// Idle from the start of the quiet window on.
	r.Settled = took + max(0, settled-idleWindow)
	// Before the transfer, which some servers buffer whole: the RSS
	// target is about holding the zone.
	if r.PeakRSSKB, r.CurRSSKB, err = groupRSS(p.Pid); err != nil {
		return err
	}
	cpu0, err := groupCPU(p.Pid)
	if err != nil {
		return err
	}
	x, err := axfr(addr.String(), benchOrigin, time.Minute)
	if err != nil {
		return fmt.Errorf("AXFR: %v", err)
	}
	cpu1, err := groupCPU(p.Pid)
	if err != nil {
		return err
	}
	r.AXFRWall, r.AXFRCPU, r.AXFRRecords = x.Wall, cpu1-cpu0, x.Records
	// The SOA comes twice.
	if x.Records != b.big.Records+1 {
		return fmt.Errorf("AXFR: %d records, want %d", x.Records, b.big.Records+1)
	}
	fmt.Fprintf(os.Stderr, "  start → serving %v; settled %v later; RSS %s (peak %s); AXFR %d records in %d messages, %v, server CPU %v\n",
		took.Round(time.Millisecond), settled.Round(time.Millisecond), fmtMB(float64(r.CurRSSKB)), fmtMB(float64(r.PeakRSSKB)),
		x.Records, x.Messages, x.Wall.Round(time.Millisecond), r.AXFRCPU.Round(time.Microsecond))
	return p.Exited()
}

// runStartAll starts one server again with the big zone, in a fresh
// directory (zonekeeper's data directory gets a fresh copy of the zone),
// free to use every CPU of the machine, and measures into r the time
// from start to serving as runBig does pinned: the cold-start target's
// measure, as parsing in parallel needs more than one core. The load
// generator is idle meanwhile; the server is stopped once it answers.
func (b *bench) runStartAll(k serverKind, rep int, r *serverRun) error {
	dir := b.serverDir(k, "big-allcpus", rep)
	defer b.cleanup(dir)
	p, _, took, err := b.startOn(k, dir, b.big, allCPUs())
	if err != nil {
		return err
	}
	defer p.Stop()
	r.StartAll = took
	pinned := "not measured"
	if r.HasBig {
		pinned = r.Start.Round(time.Millisecond).String()
	}
	fmt.Fprintf(os.Stderr, "  start → serving %v on CPUs %s (on CPU %s: %s)\n",
		took.Round(time.Millisecond), allCPUs(), b.cpu, pinned)
	return p.Exited()
}

// loadWithCPU runs the mixed load qs (DO=1 if do) against addr and returns the server's
// CPU use over the measured period only (the warmup excluded), in CPU
// seconds per second, and how busy the server's core was with anything
// else meanwhile (a fraction; -1 when not known).
func (b *bench) loadWithCPU(p *process, addr netip.AddrPort, qs []load.Query, do bool) (load.Result, float64, float64, error) {
	type sample struct {
		at   time.Time
		cpu  time.Duration
		busy time.Duration // the server core's busy time, all processes
		err  error
	}
	samples := make(chan sample, 2)
	start := time.Now()
	go func() {
		for _, at := range []time.Duration{b.o.Warmup, b.o.Warmup + b.o.Duration} {
			time.Sleep(time.Until(start.Add(at)))
			c, err := groupCPU(p.Pid)
			busy, _ := cpuBusy(b.cpu)
			samples <- sample{time.Now(), c, busy, err}
		}
	}()
	cfg := b.loadConfig(addr, qs, b.o.Duration, b.o.Warmup)
	cfg.DO = do
	lr, err := load.Run(context.Background(), cfg)
	if err != nil {
		return lr, 0, -1, fmt.Errorf("load: %v", err)
	}
	s0, s1 := <-samples, <-samples
	if s0.err != nil || s1.err != nil {
		return lr, 0, -1, errors.Join(s0.err, s1.err)
	}
	// Over the samples' own interval: on a busy machine the sampler
	// itself wakes late.
	cpu, span := s1.cpu-s0.cpu, s1.at.Sub(s0.at).Seconds()
	if span <= 0 {
		return lr, 0, -1, errors.New("no CPU sampling interval")
	}
	other := -1.0
	if s0.busy > 0 && s1.busy > 0 {
		other = min(1, max(0, (s1.busy-s0.busy-cpu).Seconds()/span))
	}
	return lr, cpu.Seconds() / span, other, nil
}

// Settling: a server is idle once its process group used less than
// idleCPU of CPU over idleWindow; waitIdle gives up waiting after
// settleMax (a server that never idles is measured as it is).
const (
	idleWindow = 200 * time.Millisecond
	idleCPU    = 10 * time.Millisecond
	settleMax  = 15 * time.Second
)

// waitIdle waits until process group pgid is idle, or limit has passed,
// and returns how long it waited.
func waitIdle(pgid int, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	last, err := groupCPU(pgid)
	if err != nil {
		return 0, err
	}
	for time.Since(start) < limit {
		time.Sleep(idleWindow)
		cpu, err := groupCPU(pgid)
		if err != nil {
			return 0, err
		}
		if cpu-last < idleCPU {
			break
		}
		last = cpu
	}
	return time.Since(start), nil
}
