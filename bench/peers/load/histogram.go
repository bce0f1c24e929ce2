package load

import "time"

// histogram counts latencies in 1 µs buckets up to histMax; slower ones
// land in the last bucket. It is owned by one goroutine; merge combines.
type histogram struct {
	buckets []uint64
	n       uint64
	sum     int64 // exact, in ns, for the average
	max     int64
}

const (
	histRes = int64(time.Microsecond)
	histMax = 100 * time.Millisecond
)

func newHistogram() *histogram {
	return &histogram{buckets: make([]uint64, int64(histMax)/histRes+1)}
}

func (h *histogram) add(ns int64) {
	i := ns / histRes
	if i >= int64(len(h.buckets)) {
		i = int64(len(h.buckets)) - 1
	}
	h.buckets[i]++
	h.n++
	h.sum += ns
	h.max = max(h.max, ns)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.buckets {
		h.buckets[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / int64(h.n))
}

// quantile is the upper edge of the bucket holding quantile q (0 < q <= 1);
// it reads histMax when the quantile is beyond the histogram.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.buckets {
		seen += c
		if seen >= rank {
			if i == len(h.buckets)-1 {
				return histMax
			}
			return time.Duration(int64(i+1) * histRes)
		}
	}
	return histMax
}
