package zonefile

import "testing"

func TestSerialRFC2182Example(t *testing.T) {
	// RFC 2182 §7: 1000 → 2000000000 → 4000000000 → 11 is each an increase.
	steps := []uint32{1000, 2000000000, 4000000000, 11}
	for i := 1; i < len(steps); i++ {
		a, b := steps[i-1], steps[i]
		if !SerialGreater(b, a) || SerialLess(b, a) {
			t.Errorf("%d → %d should be an increase", a, b)
		}
		sum, err := SerialAdd(a, b-a)
		if err != nil || sum != b {
			t.Errorf("SerialAdd(%d, %d) = %d, %v", a, b-a, sum, err)
		}
	}
}

func TestSerialCompare(t *testing.T) {
	tests := []struct {
		a, b uint32
		less bool
	}{
		{1, 2, true},
		{2, 1, false},
		{5, 5, false},
		{4294967295, 0, true}, // wraps
		{0, 4294967295, false},
		{0, 2147483647, true},
		{0, 2147483648, false}, // exactly 2^31 apart: undefined
		{2147483648, 0, false},
		{100, 2147483747, true},
		{100, 2147483748, false},
	}
	for _, tt := range tests {
		if got := SerialLess(tt.a, tt.b); got != tt.less {
			t.Errorf("SerialLess(%d, %d) = %v, want %v", tt.a, tt.b, got, tt.less)
		}
	}
}

func TestSerialAddLimit(t *testing.T) {
	if _, err := SerialAdd(1, MaxSerialIncrement+1); err == nil {
		t.Error("increment of 2^31 accepted")
	}
	if s, err := SerialAdd(4294967295, 1); err != nil || s != 0 {
		t.Errorf("wraparound: %d %v", s, err)
	}
}
