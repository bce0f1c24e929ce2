package load

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Config says what load to send where. Zero fields take their defaults.
type Config struct {
	Target   netip.AddrPort // the server (loopback in tests)
	Queries  []Query        // sent in order, round robin; each socket starts at its own offset
	Duration time.Duration  // measured period; default 15s
	Warmup   time.Duration  // unmeasured load before it; default 0
	Sockets  int            // connected UDP sockets, each with a sender and a receiver; default 2
	Window   int            // queries in flight per socket; default 64, at most 60000
	Timeout  time.Duration  // an unanswered query is lost after this; default 1s
	QPS      int            // total send rate limit in queries per second; 0 = unlimited
	Batch    int            // messages per sendmmsg/recvmmsg call; default 64
	Examples int            // mismatch descriptions kept; default 5

	// DO sets the DNSSEC OK bit in every query (RFC 3225), as dnsperf
	// -D does; an answer then also needs the signatures that go with it
	// to pass its expectation: the RRSIG of the checked RRset, and the
	// NSEC or NSEC3 proof of a negative answer.
	DO bool

	// Spin makes the senders and receivers busy-poll (non-blocking
	// recvmmsg, yielding instead of sleeping) so that the generator's
	// thread never sleeps: for a generator pinned to a core of its own
	// (GOMAXPROCS 1), where it lowers the cost per query on both sides.
	Spin bool

	// Mark, if set, is called from Run's goroutine as the measured period
	// starts (end false) and ends (end true), so that the caller can sample
	// the server's CPU time (ProcCPU) over exactly that period. If ctx ends
	// in between, the end call comes then.
	Mark func(end bool)

	// ServerPID, if set, is the server process whose CPU time (ProcCPU)
	// Run samples at the start and end of the measured period.
	ServerPID int
}

// Result is what one Run measured. The counts cover the queries sent
// during the measured period, whenever their answer arrived, except
// Unexpected which counts answers received during it.
type Result struct {
	Duration   time.Duration `json:"duration_ns"` // measured period
	Sent       uint64        `json:"sent"`        // queries handed to the kernel
	Answered   uint64        `json:"answered"`    // answers matched to a sent query, TC or not
	Lost       uint64        `json:"lost"`        // queries unanswered within the timeout
	SendErrors uint64        `json:"send_errors"` // queries the kernel refused to send
	Truncated  uint64        `json:"truncated"`   // answers with TC set (not checked further)
	Mismatches uint64        `json:"mismatches"`  // answers that failed their expectation
	Unexpected uint64        `json:"unexpected"`  // answers whose ID matched no outstanding query
	Examples   []string      `json:"mismatch_examples,omitempty"`

	QPS        float64       `json:"qps"`            // Answered per second of Duration
	LatencyAvg time.Duration `json:"latency_avg_ns"` // mean over Answered
	LatencyP50 time.Duration `json:"latency_p50_ns"` // 1 µs resolution
	LatencyP99 time.Duration `json:"latency_p99_ns"` // 1 µs resolution, capped at 100 ms
	LatencyMax time.Duration `json:"latency_max_ns"`

	// Filled when Config.ServerPID is set.
	ServerCPU      time.Duration `json:"server_cpu_ns,omitempty"`      // server CPU time in the measured period, 10 ms resolution
	ServerCPUShare float64       `json:"server_cpu_share,omitempty"`   // ServerCPU / Duration: 1 = one core saturated
	QPSPerCPU      float64       `json:"qps_per_cpu_second,omitempty"` // Answered per second of ServerCPU
}

// String is a short human summary of r.
func (r Result) String() string {
	s := fmt.Sprintf("%.0f qps over %v: sent %d answered %d lost %d send-errors %d truncated %d mismatches %d unexpected %d; latency avg %v p50 %v p99 %v max %v",
		r.QPS, r.Duration, r.Sent, r.Answered, r.Lost, r.SendErrors, r.Truncated, r.Mismatches, r.Unexpected,
		r.LatencyAvg, r.LatencyP50, r.LatencyP99, r.LatencyMax)
	if r.ServerCPU > 0 {
		s += fmt.Sprintf("\nserver CPU %v (%.1f%% of one core): %.0f answers per CPU second", r.ServerCPU, 100*r.ServerCPUShare, r.QPSPerCPU)
	}
	for _, e := range r.Examples {
		s += "\n  mismatch: " + e
	}
	return s
}

// ErrConfig is wrapped by the errors of an unusable Config.
var ErrConfig = errors.New("load: bad config")

// withDefaults fills the zero fields of c and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if !c.Target.IsValid() {
		return c, fmt.Errorf("%w: no target", ErrConfig)
	}
	if len(c.Queries) == 0 {
		return c, fmt.Errorf("%w: no queries", ErrConfig)
	}
	if c.Duration <= 0 {
		c.Duration = 15 * time.Second
	}
	if c.Sockets <= 0 {
		c.Sockets = 2
	}
	if c.Window <= 0 {
		// 2×64 in flight keep a one-core server busy on loopback while
		// staying well inside a default 208 KiB socket receive buffer
		// (about 280 small datagrams): more only adds queueing latency,
		// and drops at the server that would show as loss.
		c.Window = 64
	}
	// Window plus one batch of IDs must fit the 16-bit ID space.
	c.Window = min(c.Window, 60000)
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 64
	}
	c.Batch = min(c.Batch, 1024)
	if c.Examples <= 0 {
		c.Examples = 5
	}
	if c.QPS < 0 || c.Warmup < 0 {
		return c, fmt.Errorf("%w: negative QPS or warmup", ErrConfig)
	}
	return c, nil
}

// Run sends cfg.Queries to cfg.Target for cfg.Warmup plus cfg.Duration,
// then waits up to cfg.Timeout for the last answers. If ctx ends first it
// returns what it measured so far with ctx's error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	ps, err := prepare(cfg.Queries, cfg.DO)
	if err != nil {
		return Result{}, err
	}
	base := time.Now()
	clock := runClock{
		base: base,
		from: int64(cfg.Warmup),
		to:   int64(cfg.Warmup + cfg.Duration),
	}
	flows := make([]*flow, cfg.Sockets)
	for i := range flows {
		f, err := newFlow(&cfg, ps, clock, i)
		if err != nil {
			for _, g := range flows[:i] {
				g.conn.Close()
			}
			return Result{}, err
		}
		flows[i] = f
	}
	var wg sync.WaitGroup
	errs := make([]error, len(flows))
	for i, f := range flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.run(ctx)
		}()
	}
	var cpu [2]time.Duration
	var cpuErr [2]error
	if (cfg.Mark != nil || cfg.ServerPID > 0) && sleepUntil(ctx, base.Add(cfg.Warmup)) {
		if cfg.ServerPID > 0 {
			cpu[0], cpuErr[0] = ProcCPU(cfg.ServerPID)
		}
		if cfg.Mark != nil {
			cfg.Mark(false)
		}
		sleepUntil(ctx, base.Add(cfg.Warmup+cfg.Duration))
		if cfg.ServerPID > 0 {
			cpu[1], cpuErr[1] = ProcCPU(cfg.ServerPID)
		}
		if cfg.Mark != nil {
			cfg.Mark(true)
		}
	}
	wg.Wait()

	var r Result
	h := newHistogram()
	for _, f := range flows {
		r.Sent += f.sent
		r.Lost += f.lost
		r.SendErrors += f.sendErrors
		r.Answered += f.rs.answered
		r.Truncated += f.rs.truncated
		r.Mismatches += f.rs.mismatches
		r.Unexpected += f.rs.unexpected
		for _, e := range f.rs.examples {
			if len(r.Examples) < cfg.Examples && !slices.Contains(r.Examples, e) {
				r.Examples = append(r.Examples, e)
			}
		}
		h.merge(f.rs.hist)
	}
	r.Duration = cfg.Duration
	if ctx.Err() != nil {
		r.Duration = max(0, time.Since(base)-cfg.Warmup)
	}
	if r.Duration > 0 {
		r.QPS = float64(r.Answered) / r.Duration.Seconds()
	}
	r.LatencyAvg = h.mean()
	r.LatencyP50 = h.quantile(0.50)
	r.LatencyP99 = h.quantile(0.99)
	r.LatencyMax = time.Duration(h.max)
	if cpuErr[0] == nil && cpuErr[1] == nil && cpu[1] > cpu[0] {
		r.ServerCPU = cpu[1] - cpu[0]
		r.ServerCPUShare = r.ServerCPU.Seconds() / r.Duration.Seconds()
		r.QPSPerCPU = float64(r.Answered) / r.ServerCPU.Seconds()
	}
	errs = append(errs, cpuErr[:]...)
	if err := errors.Join(errs...); err != nil {
		return r, err
	}
	return r, ctx.Err()
}

// sleepUntil waits for t or ctx, and says whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// runClock is the shared time base: ns since base, measured in [from, to).
type runClock struct {
	base     time.Time
	from, to int64
}

// now is never 0, so that 0 can mean "free" in a slot.
func (c runClock) now() int64 { return int64(time.Since(c.base)) + 1 }
