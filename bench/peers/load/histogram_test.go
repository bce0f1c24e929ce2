package load

import (
	"testing"
	"time"
)

func TestHistogram(t *testing.T) {
	a, b := newHistogram(), newHistogram()
	if a.quantile(0.99) != 0 || a.mean() != 0 {
		t.Error("empty histogram reports latencies")
	}
	for i := range 99 {
		a.add(int64(i) * int64(time.Microsecond)) // 0..98 µs
	}
	b.add(int64(time.Second)) // beyond the last bucket
	a.merge(b)
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.01, time.Microsecond},
		{0.50, 50 * time.Microsecond},
		{0.99, 99 * time.Microsecond},
		{1, histMax},
	}
	for _, tt := range tests {
		if got := a.quantile(tt.q); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	// The mean and max are exact, not bucketed.
	if want := (time.Duration(98*99/2)*time.Microsecond + time.Second) / 100; a.mean() != want {
		t.Errorf("mean = %v, want %v", a.mean(), want)
	}
	if a.max != int64(time.Second) || a.n != 100 {
		t.Errorf("max %v n %d", time.Duration(a.max), a.n)
	}
}
