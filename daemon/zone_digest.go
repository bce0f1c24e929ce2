package daemon

import (
	"context"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"zonekeeper/daemon/answer"
	"zonekeeper/zonefile"
)

// Content digests of the served versions (docs/architecture.md,
// "Content digests and the zone state option"): every version the commit
// path serves is digested (RFC 8976 ZONEMD SHA-384, zonefile/zonemd.go)
// in the background, one version at a time, and the digest is set on the
// served snapshot, where the zone state option and the health rounds
// read it. The commit path only queues the version. A newer version of a
// zone supersedes one still waiting or being digested: only what is
// served is worth a digest.

// digestCheckEvery is how many records are hashed between two looks at
// whether the version being digested was superseded.
const digestCheckEvery = 4096

// digester computes the content digests of served versions.
type digester struct {
	log *slog.Logger

	mu      sync.Mutex
	pending map[string]*answer.Snapshot // zone -> the newest version waiting
	order   []string                    // zones in the order they were queued
	wake    chan struct{}
}

// newDigester returns a digester that logs to log.
func newDigester(log *slog.Logger) *digester {
	return &digester{log: log, pending: make(map[string]*answer.Snapshot), wake: make(chan struct{}, 1)}
}

// queue asks for snap's digest. It never blocks: the commit path calls it.
func (g *digester) queue(snap *answer.Snapshot) {
	if snap == nil || snap.ContentDigest() != nil {
		return
	}
	g.mu.Lock()
	if _, waiting := g.pending[snap.Origin()]; !waiting {
		g.order = append(g.order, snap.Origin())
	}
	g.pending[snap.Origin()] = snap
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest queued version.
func (g *digester) next() *answer.Snapshot {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.order) > 0 {
		zone := g.order[0]
		g.order = g.order[1:]
		if s := g.pending[zone]; s != nil {
			delete(g.pending, zone)
			return s
		}
	}
	return nil
}

// superseded reports whether a newer version of snap's zone is queued.
func (g *digester) superseded(snap *answer.Snapshot) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pending[snap.Origin()] != nil
}

// Run digests the queued versions until ctx is cancelled.
func (g *digester) Run(ctx context.Context) error {
	for {
		for s := g.next(); s != nil; s = g.next() {
			if ctx.Err() != nil {
				return nil
			}
			g.digest(ctx, s)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-g.wake:
		}
	}
}

// digest computes and sets snap's digest, unless it is superseded or
// ctx ends first.
func (g *digester) digest(ctx context.Context, snap *answer.Snapshot) {
	began := time.Now()
	h := zonefile.NewZONEMDHash(snap.Origin())
	n, stopped := 0, false
	var scratch []byte
	// In wire form, record by record: no dns.RR is made for the common
	// types, so a large zone's digest leaves next to no garbage.
	snap.EachRecord(func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool {
		scratch = answer.AppendWireRR(scratch[:0], owner, rtype, class, ttl, rdata)
		h.AddWire(scratch)
		if n++; n%digestCheckEvery == 0 && (ctx.Err() != nil || g.superseded(snap)) {
			stopped = true
			return false
		}
		return true
	})
	if stopped {
		return
	}
	sum, err := h.Sum()
	if err != nil {
		g.log.Error("content digest: "+err.Error(), "zone", snap.Origin(), "serial", snap.Serial())
		return
	}
	snap.SetContentDigest(sum)
	g.log.Debug("content digest", "zone", snap.Origin(), "serial", snap.Serial(), "records", n,
		"digest", hex.EncodeToString(sum), "took", time.Since(began).Round(time.Microsecond).String())
}

// digestHex is a digest in hex, "" when unknown.
func digestHex(d []byte) string { return hex.EncodeToString(d) }

// shortDigest is the first 12 hex digits of a digest, for tables and
// one-line messages; "-" when unknown.
func shortDigest(hexDigest string) string {
	if hexDigest == "" {
		return "-"
	}
	return hexDigest[:min(12, len(hexDigest))]
}
