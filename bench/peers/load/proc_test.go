package load

import (
	"os"
	"testing"
	"time"
)

func TestProcCPU(t *testing.T) {
	pid := os.Getpid()
	before, err := ProcCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Burn at least two clock ticks of CPU, bounded in wall time.
	deadline := time.Now().Add(2 * time.Second)
	var after time.Duration
	for x := 0; time.Now().Before(deadline); x++ {
		if x%1_000_000 == 0 {
			if after, err = ProcCPU(pid); err != nil {
				t.Fatal(err)
			}
			if after-before >= 20*time.Millisecond {
				break
			}
		}
	}
	if after-before < 20*time.Millisecond {
		t.Errorf("ProcCPU went from %v to %v while spinning", before, after)
	}
	if _, err := ProcCPU(1 << 30); err == nil {
		t.Error("ProcCPU of a missing process succeeded")
	}
}

func TestProcRSS(t *testing.T) {
	peak, cur, err := ProcRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if cur <= 0 || peak < cur {
		t.Errorf("ProcRSS = peak %d kB, current %d kB", peak, cur)
	}
	if _, _, err := ProcRSS(1 << 30); err == nil {
		t.Error("ProcRSS of a missing process succeeded")
	}
}
