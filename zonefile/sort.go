package zonefile

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Sort puts records in the canonical order used by the writer and by
// Zone.Records: names in DNS canonical order (RFC 4034 §6.1, so the apex
// comes first), then SOA before every other type, then by type number,
// then by record data.
func Sort(rrs []dns.RR) {
	if len(rrs) < 2 {
		return
	}
	// Sort keys are computed once per owner, into one buffer, not once
	// per comparison; see sortItems for how they are sorted.
	var keys []byte
	items := make([]sortItem, len(rrs))
	var prev string
	var prevOff, prevLen uint32
	for i, rr := range rrs {
		h := rr.Header()
		if i == 0 || h.Name != prev {
			prev = h.Name
			prevOff = uint32(len(keys))
			keys = appendKey(keys, h.Name)
			prevLen = uint32(len(keys)) - prevOff
		}
		items[i] = newSortItem(keys, prevOff, prevLen, h.Rrtype, uint32(i))
	}
	trimCommonPrefix(items, keys)
	items = sortItems(items, keys)
	out := make([]dns.RR, len(rrs))
	for i := range items {
		out[i] = rrs[items[i].idx]
	}
	// Records of one RRset are ordered by their data's text, which is
	// only worth formatting where an RRset has more than one record.
	forEachRun(items, keys, func(i, j int) {
		if j-i > 1 {
			sortByText(out[i:j])
		}
	})
	copy(rrs, out)
}

// sortByText sorts one RRset's records by the presentation form of
// their data, keeping the order of equal ones.
func sortByText(rrs []dns.RR) {
	type texted struct {
		text string
		rr   dns.RR
	}
	ts := make([]texted, len(rrs))
	for i, rr := range rrs {
		ts[i] = texted{rdataText(rr), rr}
	}
	slices.SortStableFunc(ts, func(a, b texted) int { return strings.Compare(a.text, b.text) })
	for i := range ts {
		rrs[i] = ts[i].rr
	}
}

// sortItem is one record's place in the canonical order: its owner's
// key (see appendKey) in a shared buffer, with the first eight key
// bytes inline so that most comparisons never touch the buffer.
type sortItem struct {
	head   uint64 // first 8 key bytes, big-endian, zero-padded
	off, n uint32 // the whole key in the buffer
	typ    uint32 // 0 for SOA, type+1 for the others: SOA sorts first
	idx    uint32 // the record's index in the input: ties keep input order
}

func newSortItem(keys []byte, off, n uint32, rtype uint16, idx uint32) sortItem {
	typ := uint32(rtype) + 1
	if rtype == dns.TypeSOA {
		typ = 0
	}
	return sortItem{head: headOf(keys[off : off+n]), off: off, n: n, typ: typ, idx: idx}
}

// headOf returns the first 8 bytes of key as a big-endian number, so
// that numbers compare as the bytes do; short keys are zero-padded.
func headOf(key []byte) uint64 {
	if len(key) >= 8 {
		return binary.BigEndian.Uint64(key)
	}
	var b [8]byte
	copy(b[:], key)
	return binary.BigEndian.Uint64(b[:])
}

// compareOwner orders two items by owner name only.
func compareOwner(a, b *sortItem, keys []byte) int {
	if a.head != b.head {
		return cmp.Compare(a.head, b.head)
	}
	if a.n <= 8 && b.n <= 8 {
		return cmp.Compare(a.n, b.n)
	}
	return bytes.Compare(keys[a.off:a.off+a.n], keys[b.off:b.off+b.n])
}

// sortItems sorts by owner, then type, then input position, in place
// or into a new slice, which it returns.
//
// Big inputs are sorted by owner runs, not records: records of one owner
// are usually listed together and share a key (see perRecord and Sort),
// so the runs are radix sorted on their inline key bytes, which leaves
// only runs with equal heads to compare; then each owner's records are
// put in type order, a sort of a handful of items.
func sortItems(items []sortItem, keys []byte) []sortItem {
	less := func(a, b sortItem) int {
		if c := compareOwner(&a, &b, keys); c != 0 {
			return c
		}
		if a.typ != b.typ {
			return cmp.Compare(a.typ, b.typ)
		}
		return cmp.Compare(a.idx, b.idx)
	}
	if len(items) < 1024 {
		slices.SortFunc(items, less)
		return items
	}
	// A run is an item standing for items[idx:idx+typ].
	n := 1
	for i := 1; i < len(items); i++ {
		if items[i].off != items[i-1].off || items[i].n != items[i-1].n {
			n++
		}
	}
	if n == len(items) {
		// Every run is one record (a zone of one record per name, as
		// big zones often are): the items are their own runs, and are
		// sorted where they are, without the copies into runs and out.
		return sortSingles(items, less)
	}
	runs := make([]sortItem, 0, n)
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].off == items[i].off && items[j].n == items[i].n {
			j++
		}
		r := items[i]
		r.idx, r.typ = uint32(i), uint32(j-i)
		runs = append(runs, r)
		i = j
	}
	out := make([]sortItem, len(items))
	if workers := runtime.GOMAXPROCS(0); workers > 1 && len(runs) >= parallelSort {
		sortRunsParallel(items, runs, keys, out, workers)
	} else {
		sortRuns(items, runs, keys, out)
	}
	return out
}

// parallelSort is the number of owners from which they are sorted in
// parallel. Tests lower it.
var parallelSort = 1 << 16

// sortRunsParallel is sortRuns over buckets of runs that share the
// first two bytes of their heads: no owner spans two buckets, and the
// buckets are in order, so each is sorted into its own window of out
// by one of workers goroutines.
func sortRunsParallel(items, runs []sortItem, keys []byte, out []sortItem, workers int) {
	part, first, buckets := bucketByHead(runs)
	const digits = 1 << 16
	size := make([]int, digits+1) // where each bucket's items start in out
	for _, r := range runs {
		size[r.head>>48+1] += int(r.typ)
	}
	for d := 1; d <= digits; d++ {
		size[d] += size[d-1]
	}
	eachBucket(buckets, workers, func(d int) {
		sortRuns(items, part[first[d]:first[d+1]], keys, out[size[d]:size[d+1]])
	})
}

// bucketByHead returns runs grouped, in order, by the first two bytes of
// their heads, where bucket d starts in part (first[d]), and the buckets
// that are not empty.
func bucketByHead(runs []sortItem) (part []sortItem, first []int, buckets []int) {
	const digits = 1 << 16
	first = make([]int, digits+1)
	for _, r := range runs {
		first[r.head>>48+1]++
	}
	for d := 1; d <= digits; d++ {
		first[d] += first[d-1]
	}
	part = make([]sortItem, len(runs))
	next := slices.Clone(first[:digits])
	for _, r := range runs {
		d := r.head >> 48
		part[next[d]] = r
		next[d]++
	}
	for d := range digits {
		if first[d+1] > first[d] {
			buckets = append(buckets, d)
		}
	}
	return part, first, buckets
}

// eachBucket calls f for every bucket, on up to workers goroutines.
func eachBucket(buckets []int, workers int, f func(d int)) {
	var taken atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(buckets)) {
		wg.Go(func() {
			for {
				i := int(taken.Add(1)) - 1
				if i >= len(buckets) {
					return
				}
				f(buckets[i])
			}
		})
	}
	wg.Wait()
}

// sortSingles sorts items of which no two consecutive share an owner
// key by less, in buckets of their heads on every CPU when they are
// many, and returns them sorted, in items or in a new slice.
func sortSingles(items []sortItem, less func(a, b sortItem) int) []sortItem {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || len(items) < parallelSort {
		return sortByHead(items, less)
	}
	part, first, buckets := bucketByHead(items)
	eachBucket(buckets, workers, func(d int) {
		w := part[first[d]:first[d+1]]
		if s := sortByHead(w, less); &s[0] != &w[0] {
			copy(w, s)
		}
	})
	return part
}

// sortByHead radix sorts items by head and the items of equal heads by
// less; it returns them sorted, in items or in a new slice.
func sortByHead(items []sortItem, less func(a, b sortItem) int) []sortItem {
	items = radixSortHeads(items)
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].head == items[i].head {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(items[i:j], less)
		}
		i = j
	}
	return items
}

// sortRuns sorts runs (see sortItems) and writes their items, each
// owner's put in type order, into out, which holds exactly those items.
func sortRuns(items, runs []sortItem, keys []byte, out []sortItem) {
	runs = sortByHead(runs, func(a, b sortItem) int {
		if c := compareOwner(&a, &b, keys); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	byType := func(a, b sortItem) int {
		if a.typ != b.typ {
			return cmp.Compare(a.typ, b.typ)
		}
		return cmp.Compare(a.idx, b.idx)
	}
	o := 0
	for i := 0; i < len(runs); {
		start := o
		j := i
		for ; j < len(runs) && (j == i || compareOwner(&runs[i], &runs[j], keys) == 0); j++ {
			o += copy(out[o:], items[runs[j].idx:runs[j].idx+runs[j].typ])
		}
		if owner := out[start:o]; len(owner) > 1 {
			if len(owner) <= 8 {
				insertionSort(owner, byType)
			} else {
				slices.SortFunc(owner, byType)
			}
		}
		i = j
	}
}

// insertionSort sorts a few items.
func insertionSort(s []sortItem, cmp func(a, b sortItem) int) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && cmp(s[j-1], s[j]) > 0; j-- {
			s[j-1], s[j] = s[j], s[j-1]
		}
	}
}

// radixSortHeads sorts items by head, a byte at a time from the least
// significant, skipping the bytes all items share, and returns them
// sorted in items or in a new slice. Byte digits keep the counters in
// the first-level cache.
func radixSortHeads(items []sortItem) []sortItem {
	var counts [8][256]int
	for _, it := range items {
		h := it.head
		for d := range counts {
			counts[d][byte(h>>(8*d))]++
		}
	}
	src, dst := items, make([]sortItem, len(items))
	for d := range counts {
		c := &counts[d]
		if c[byte(items[0].head>>(8*d))] == len(items) {
			continue
		}
		sum := 0
		for k, n := range c {
			c[k] = sum
			sum += n
		}
		for _, it := range src {
			k := byte(it.head >> (8 * d))
			dst[c[k]] = it
			c[k]++
		}
		src, dst = dst, src
	}
	return src
}

// trimCommonPrefix drops from every item's key the bytes that all keys
// share (the labels of a common parent) and sets the items' heads from
// what is left: comparisons then decide on the heads far more often. It
// returns the number of bytes dropped.
func trimCommonPrefix(items []sortItem, keys []byte) int {
	if len(items) == 0 {
		return 0
	}
	first := keys[items[0].off : items[0].off+items[0].n]
	lcp := len(first)
	for i := range items {
		k := keys[items[i].off : items[i].off+items[i].n]
		n := min(lcp, len(k))
		j := 0
		for j < n && k[j] == first[j] {
			j++
		}
		lcp = j
		if lcp == 0 {
			break
		}
	}
	for i := range items {
		items[i].off += uint32(lcp)
		items[i].n -= uint32(lcp)
		items[i].head = headOf(keys[items[i].off : items[i].off+items[i].n])
	}
	return lcp
}

// forEachRun calls f for each run items[i:j] of one owner and type (one
// RRset) in sorted items.
func forEachRun(items []sortItem, keys []byte, f func(i, j int)) {
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].typ == items[i].typ && compareOwner(&items[i], &items[j], keys) == 0 {
			j++
		}
		f(i, j)
		i = j
	}
}

// The canonical order of names (RFC 4034 §6.1) compares their labels
// from the root down, as octets with ASCII letters in lower case. A key
// of a name is its labels in that order, folded, each ended by a zero
// byte (so that a label sorts before any longer label it prefixes):
// keys compare as bytes in the canonical order of their names, and the
// key of a name below another starts with that other's (a zero or one
// byte in a label is escaped to keep it so; see appendLabelKey). Names
// below one origin leave the origin's labels out, which keeps keys short.

// appendKey appends the key of a whole name in presentation form. A
// name that has no wire form (the parser never makes one) gets its
// folded text as its key.
func appendKey(dst []byte, name string) []byte {
	var buf [256]byte
	w, ok := appendPlainName(buf[:0], dns.Fqdn(name))
	if !ok {
		n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
		if err != nil {
			return append(dst, strings.ToLower(name)...)
		}
		w = buf[:n]
	}
	dst, _, _ = appendWireKey(dst, w, []byte{0}, 0)
	return dst
}

// nameKey returns the key of a whole name as a string.
func nameKey(name string) string {
	return string(appendKey(nil, name))
}

// CompareNames orders two domain names canonically (RFC 4034 §6.1):
// label by label from the root, case-insensitively.
func CompareNames(a, b string) int {
	return strings.Compare(nameKey(a), nameKey(b))
}

// appendWireKey appends the key of owner, a name in wire form below
// the origin in wire form and lower case, of skip labels. It reports
// whether owner is in the zone (nothing is appended when not) and
// whether it is the apex.
func appendWireKey(dst, owner, origin []byte, skip int) (key []byte, in, apex bool) {
	var starts [128]uint8
	n := 0
	for off := 0; off < len(owner) && owner[off] != 0 && n < len(starts); off += int(owner[off]) + 1 {
		starts[n] = uint8(off)
		n++
	}
	if n < skip {
		return dst, false, false
	}
	suffix := len(owner) - 1
	if skip > 0 {
		suffix = int(starts[n-skip])
	}
	if !equalFoldASCII(owner[suffix:], origin) {
		return dst, false, false
	}
	for j := n - skip - 1; j >= 0; j-- {
		l := int(owner[starts[j]])
		dst = appendLabelKey(dst, owner[int(starts[j])+1:int(starts[j])+1+l])
	}
	return dst, true, n == skip
}

// appendLabelKey appends the key of one label: its bytes, folded, and
// the zero byte that ends it. A zero or one byte of the label itself is
// written as 1 1 or 1 2, so that no label's key holds the end of one: a
// key then starts with its parent's key and no other name's, and keys
// still sort as their labels do.
func appendLabelKey(dst, label []byte) []byte {
	at := len(dst)
	dst = append(dst, label...)
	low := false
	for i, c := range dst[at:] {
		switch {
		case c < 2:
			low = true
		case 'A' <= c && c <= 'Z':
			dst[at+i] = c + 'a' - 'A'
		}
	}
	if low { // rare: only an escape (\000, \001) writes one
		dst = dst[:at]
		for _, c := range label {
			switch {
			case c < 2:
				dst = append(dst, 1, c+1)
			case 'A' <= c && c <= 'Z':
				dst = append(dst, c+'a'-'A')
			default:
				dst = append(dst, c)
			}
		}
	}
	return append(dst, 0)
}

// equalFoldASCII reports whether a and b are equal once ASCII letters
// are folded to lower case.
func equalFoldASCII(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
