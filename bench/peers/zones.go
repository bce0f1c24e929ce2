package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// benchOrigin is the origin of the benchmark zones (100k and 1M names).
const benchOrigin = "bench.test."

// propOrigin is the origin of the 10 000-record zone replicated between
// two zonekeeper nodes to measure edit-to-secondary propagation.
const propOrigin = "prop.test."

// Addresses in the zone that the query expectations name. Every NS name
// of the zone has a loopback address (docs/architecture.md, "Tests and
// peers": outbound traffic that follows from zone data stays on loopback).
const wildcardA = "127.0.9.9"

// zoneSpec describes a generated zone: names h0..h(Names-1), each with A
// and AAAA; every 10th also MX and TXT; a CNAME c<i> → h<i> for every
// i%20 == 5; a wildcard *.wild; a delegation sub with glue.
type zoneSpec struct {
	Origin string
	Names  int
	Serial uint32
	// Extra lines appended verbatim (relative names), e.g. the record
	// that makes an edited copy differ from the original.
	Extra []string
}

// records returns how many records the zone holds: the apex and the
// fixed names (8) plus 2 per name, 2 per 10th name and 1 per 20th.
func (z zoneSpec) records() int {
	n := 8 + 2*z.Names + len(z.Extra)
	n += 2 * ((z.Names + 9) / 10)
	if z.Names > 5 {
		n += (z.Names - 5 + 19) / 20
	}
	return n
}

// writeZone writes the zone as a BIND zonefile to path (through a
// temporary file renamed over it, so a watcher never reads half a file).
func writeZone(path string, z zoneSpec) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gen-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	fmt.Fprintf(w, "$ORIGIN %s\n$TTL 3600\n", z.Origin)
	fmt.Fprintf(w, "@ SOA ns1 hostmaster %d 3600 900 1209600 300\n", z.Serial)
	w.WriteString("@ NS ns1\n@ NS ns2\nns1 A 127.0.0.1\nns2 A 127.0.0.2\n")
	w.WriteString("*.wild A " + wildcardA + "\n")
	w.WriteString("sub NS ns.sub\nns.sub A 127.0.0.5\n")
	// strconv appends into one buffer: a million names in well under a
	// second, where fmt would dominate the benchmark's setup time.
	var b []byte
	for i := range z.Names {
		b = b[:0]
		b = appendName(b, 'h', i)
		b = append(b, " A "...)
		b = appendA(b, i)
		b = append(b, '\n')
		b = appendName(b, 'h', i)
		b = append(b, " AAAA "...)
		b = appendAAAA(b, i)
		b = append(b, '\n')
		if i%10 == 0 {
			b = appendName(b, 'h', i)
			b = append(b, " MX 10 "...)
			b = appendName(b, 'h', i+1)
			b = append(b, '\n')
			b = appendName(b, 'h', i)
			b = append(b, " TXT "...)
			b = appendTXT(b, i)
			b = append(b, '\n')
		}
		if i%20 == 5 {
			b = appendName(b, 'c', i)
			b = append(b, " CNAME "...)
			b = appendName(b, 'h', i)
			b = append(b, '\n')
		}
		w.Write(b)
	}
	for _, l := range z.Extra {
		w.WriteString(l + "\n")
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func appendName(b []byte, prefix byte, i int) []byte {
	return strconv.AppendInt(append(b, prefix), int64(i), 10)
}

// appendA is name i's IPv4 address, 10.x.y.z.
func appendA(b []byte, i int) []byte {
	b = append(b, "10."...)
	b = strconv.AppendInt(b, int64((i>>16)&255), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64((i>>8)&255), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(i&255), 10)
}

// appendAAAA is name i's IPv6 address, 2001:db8::x:y (canonical form, so
// the expectation compares equal to what a server sends).
func appendAAAA(b []byte, i int) []byte {
	b = append(b, "2001:db8::"...)
	if i == 0 {
		return b
	}
	if hi := i >> 16; hi != 0 {
		b = strconv.AppendInt(b, int64(hi), 16)
		b = append(b, ':')
	}
	return strconv.AppendInt(b, int64(i&0xffff), 16)
}

func appendTXT(b []byte, i int) []byte {
	b = append(b, `"v=spf1 -all `...)
	b = strconv.AppendInt(b, int64(i), 10)
	return append(b, '"')
}

// Query categories of the mixed query set, with their share in
// twentieths: 70% A/AAAA hits, 10% MX/TXT, 10% NXDOMAIN, 5% CNAME, 5%
// names under the wildcard.
const (
	catHit = iota
	catMXTXT
	catNX
	catCNAME
	catWild
	numCats
)

// catOrder spreads the categories over each block of 20 queries.
var catOrder = [20]int{
	catHit, catHit, catHit, catHit, catHit, catHit, catHit,
	catHit, catHit, catHit, catHit, catHit, catHit, catHit,
	catMXTXT, catMXTXT, catNX, catNX, catCNAME, catWild,
}

// genQuery is one line of the query file: what to ask and what a correct
// answer holds.
type genQuery struct {
	Name, Type string
	Cat        int
	// Expect is the expectation comment in the load package's syntax:
	// RCODE, then the type and rdata of the first answer record, or
	// "NXDOMAIN SOA" for a name error.
	Expect string
}

// genQueries returns count queries over a zone of names names, shuffled
// with a fixed seed so that every run asks the same things. count is
// rounded up to a multiple of 20 so the mix is exact.
func genQueries(origin string, names, count int) []genQuery {
	count = (count + 19) / 20 * 20
	rng := rand.New(rand.NewPCG(1, uint64(names)))
	qs := make([]genQuery, 0, count)
	var b []byte
	for i := range count {
		cat := catOrder[i%20]
		var q genQuery
		q.Cat = cat
		switch cat {
		case catHit:
			n := rng.IntN(names)
			q.Name = "h" + strconv.Itoa(n) + "." + origin
			if i%2 == 0 {
				q.Type = "A"
				q.Expect = "NOERROR A " + string(appendA(b[:0], n))
			} else {
				q.Type = "AAAA"
				q.Expect = "NOERROR AAAA " + string(appendAAAA(b[:0], n))
			}
		case catMXTXT:
			n := rng.IntN((names+9)/10) * 10
			q.Name = "h" + strconv.Itoa(n) + "." + origin
			if i%2 == 0 {
				q.Type = "MX"
				q.Expect = "NOERROR MX 10 h" + strconv.Itoa(n+1) + "." + origin
			} else {
				q.Type = "TXT"
				q.Expect = "NOERROR TXT " + string(appendTXT(b[:0], n))
			}
		case catNX:
			q.Name = "nx" + strconv.Itoa(rng.IntN(names)) + "." + origin
			q.Type = "A"
			q.Expect = "NXDOMAIN SOA"
		case catCNAME:
			n := rng.IntN((names-5+19)/20)*20 + 5
			q.Name = "c" + strconv.Itoa(n) + "." + origin
			q.Type = "A"
			// The first answer record is the CNAME; the servers differ
			// in whether they add the target's A, which is not checked.
			q.Expect = "NOERROR CNAME h" + strconv.Itoa(n) + "." + origin
		case catWild:
			q.Name = "w" + strconv.Itoa(rng.IntN(names)) + ".wild." + origin
			q.Type = "A"
			q.Expect = "NOERROR A " + wildcardA
		}
		qs = append(qs, q)
	}
	// Shuffle in place of the fixed pattern, so that no server gets a
	// regular stride to optimise for.
	rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
	return qs
}

// writeQueries writes qs as a dnsperf input file with each query's
// expectation as a trailing comment.
func writeQueries(path string, qs []genQuery) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, q := range qs {
		w.WriteString(q.Name + " " + q.Type + " ; " + q.Expect + "\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
