package daemon

// Memory for transfers in (docs/architecture.md, "Data flows", transfer
// step 3).
// A transfer's records are held, packed, until its version is checked
// and served, so the transfers under way together may not hold more than
// xfr-memory: each counts its wire bytes times wireExpansion, the memory
// a byte of AXFR becomes at its peak (packed records, the checks,
// compiled snapshot), against one budget. A transfer that would pass it
// is cut off with the reason and retried at the zone's next check; the
// others go on. The defaults of xfr-max-records, xfr-max-bytes and
// xfr-memory come from the machine's memory (machineMemory).

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// wireExpansion is the memory one byte of a transfer's wire form takes
// at the transfer's peak, the version it ends with included, measured
// by `make attack` (hostile-primary: some 260 bytes a record at the
// peak) on a zone of A records sent with name compression (25 bytes a
// record) and rounded up.
const wireExpansion = 12

// xfrBudget is the memory the transfers under way may hold together.
type xfrBudget struct {
	limit int64 // bytes; 0: no budget
	used  atomic.Int64
}

// xfrReservation is one transfer's share of the budget; nil is a share
// of no budget.
type xfrReservation struct {
	b    *xfrBudget
	held int64
}

// reserve returns a reservation for one transfer (and what follows it
// until its version is served), released by release.
func (b *xfrBudget) reserve() *xfrReservation {
	if b == nil || b.limit <= 0 {
		return nil
	}
	return &xfrReservation{b: b}
}

// grow adds wire bytes of the transfer; false when the budget would be
// passed, and nothing is added.
func (r *xfrReservation) grow(wire int64) bool {
	if r == nil || wire <= 0 {
		return true
	}
	n := wire * wireExpansion
	if r.b.used.Add(n) > r.b.limit {
		r.b.used.Add(-n)
		return false
	}
	r.held += n
	return true
}

// release gives the reservation's memory back to the budget.
func (r *xfrReservation) release() {
	if r == nil {
		return
	}
	r.b.used.Add(-r.held)
	r.held = 0
}

// errOverBudget words a transfer cut off by the budget.
func (b *xfrBudget) errOverBudget(wire int64) *xfrError {
	return &xfrError{why: fmt.Sprintf("cut off after %d bytes: the transfers under way would hold more than xfr-memory (%s, about %d bytes of transfer at a time); retried at the next check",
		wire, sizeText(b.limit), b.limit/wireExpansion)}
}

// sizeText renders a byte count for messages.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// machineMemory returns the memory this process may use: the cgroup's
// limit when there is one (a container, a systemd MemoryMax=), else the
// machine's total; 0 when neither can be read.
func machineMemory() int64 {
	total := int64(0)
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				total = kb << 10
				break
			}
		}
		f.Close()
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}

// memoryDefaults sizes the transfer limits for mem bytes of memory: half
// of it for the transfers under way, and no single transfer bigger than
// that half allows, within the fixed ceilings (10M records, 2GiB).
func memoryDefaults(mem int64) (maxRecords, maxBytes, budget int64) {
	maxRecords, maxBytes = 10_000_000, 2<<30
	if mem <= 0 {
		return maxRecords, maxBytes, 0
	}
	budget = mem / 2
	// A record is about 30 bytes of wire form.
	maxBytes = min(maxBytes, max(budget/wireExpansion, 16<<20))
	maxRecords = min(maxRecords, max(maxBytes/30, 100_000))
	return maxRecords, maxBytes, budget
}

// largeVersion is the size, in records, from which replacing or
// dropping a version returns its memory to the system at once.
const largeVersion = 100_000

// memoryReturner gives the memory of large versions that were replaced
// back to the system (the Go runtime would keep it a while): one pass
// at a time, a request during a pass runs another after it, a few
// seconds apart.
type memoryReturner struct {
	mu               sync.Mutex
	running, pending bool
}

// returnMemory asks for a pass after a version of records records was
// replaced or removed.
func (m *memoryReturner) returnMemory(records int) {
	if records < largeVersion {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running {
		m.pending = true
		return
	}
	m.running = true
	go func() {
		for {
			debug.FreeOSMemory()
			m.mu.Lock()
			if !m.pending {
				m.running = false
				m.mu.Unlock()
				return
			}
			m.pending = false
			m.mu.Unlock()
			time.Sleep(2 * time.Second)
		}
	}()
}
