package daemon

// The memory budget of the transfers under way, and the limits sized for
// the machine.

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMemoryDefaults(t *testing.T) {
	cases := []struct {
		mem                         int64
		records, bytes, budgetBytes int64
	}{
		{0, 10_000_000, 2 << 30, 0},                 // unknown: the fixed ceilings, no budget
		{128 << 30, 10_000_000, 2 << 30, 64 << 30},  // a large machine: the ceilings
		{1 << 30, 1_491_308, 44_739_242, 512 << 20}, // 1 GiB: a transfer at its peak fits in half
		{128 << 20, 559_240, 16 << 20, 64 << 20},    // a floor: 16 MiB of transfer
	}
	for _, c := range cases {
		r, b, bud := memoryDefaults(c.mem)
		if r != c.records || b != c.bytes || bud != c.budgetBytes {
			t.Errorf("memoryDefaults(%d) = %d records, %d bytes, budget %d; want %d, %d, %d", c.mem, r, b, bud, c.records, c.bytes, c.budgetBytes)
		}
		if c.mem > 0 && b*wireExpansion > c.mem/2 && b > 16<<20 {
			t.Errorf("memoryDefaults(%d): one transfer of %d bytes would take more than half the memory", c.mem, b)
		}
	}
	if m := machineMemory(); m <= 0 {
		t.Errorf("machineMemory() = %d on this machine", m)
	}
	if d := DefaultConfig(); d.XFRMemory <= 0 || d.XFRMaxBytes <= 0 || d.XFRMaxRecords <= 0 {
		t.Errorf("DefaultConfig: xfr-memory %d, xfr-max-bytes %d, xfr-max-records %d", d.XFRMemory, d.XFRMaxBytes, d.XFRMaxRecords)
	}
}

func TestXFRBudgetShares(t *testing.T) {
	b := &xfrBudget{limit: 1000 * wireExpansion}
	r1, r2 := b.reserve(), b.reserve()
	if !r1.grow(600) || r2.grow(500) || !r2.grow(400) {
		t.Fatal("the two shares did not add up to the budget")
	}
	if r1.grow(1) {
		t.Fatal("a share grew past a full budget")
	}
	r1.release()
	if !r2.grow(600) || b.used.Load() != 1000*wireExpansion {
		t.Fatalf("after a release: used %d", b.used.Load())
	}
	r2.release()
	if b.used.Load() != 0 {
		t.Fatalf("used %d after every release", b.used.Load())
	}
	var none *xfrBudget
	if r := none.reserve(); !r.grow(1 << 40) {
		t.Fatal("no budget refused a transfer")
	}
}

// TestXFRBudgetCutsTransfer: the budget is one for every transfer: while
// another holds most of it, a transfer that would pass it is cut off
// with the reason, the zone keeps what it served, and it goes through
// once the memory is back.
func TestXFRBudgetCutsTransfer(t *testing.T) {
	p := newTestPrimary(t, "127.0.0.1", testSecZone, secZoneLines(1, 3600, 600, 86400)...)
	n := startSecondaryNode(t, "", func(c *Config) { c.XFRMemory = 1 << 20 })
	other := n.secondaries.budget.reserve()
	if !other.grow((1<<20)/wireExpansion - 10) {
		t.Fatal("the other transfer's share")
	}
	n.addSecondaryZone(t, testSecZone, "", p.addr)
	ctx := context.Background()
	err := n.secondaries.retrieve(ctx, testSecZone)
	if err == nil || !strings.Contains(err.Error(), "xfr-memory") {
		t.Fatalf("retrieve while the budget is taken: %v, want a cut-off naming xfr-memory", err)
	}
	n.waitEvent(t, testSecZone, "xfr-in-error", "would hold more than xfr-memory", 5*time.Second)
	other.release()
	if err := n.secondaries.retrieve(ctx, testSecZone); err != nil {
		t.Fatalf("retrieve once the memory is back: %v", err)
	}
	if got := n.servedSerial(t, testSecZone); got != 1 {
		t.Fatalf("serial %d served, want 1", got)
	}
	if used := n.secondaries.budget.used.Load(); used != 0 {
		t.Errorf("%d bytes of budget still held after the transfer", used)
	}
}
