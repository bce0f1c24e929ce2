package daemon

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// The journal is the source of IXFR (RFC 1995): for each served zone,
// primary or secondary (a secondary answers its own downstream servers
// from it), the differences between its successive versions, oldest
// first, ending at the version being served.
//
// Every difference is computed from the exact records of the version
// before it, which the journal keeps (in wire form, in memory and on
// disk), never from what a serial number is assumed to stand for. So a
// chain is content-accurate whatever happened between two loads: a file
// edited while the daemon was down, a zone removed and created again
// under the same name. The one thing a chain cannot express is a version
// whose serial did not increase: then the same serial would name two
// contents, and the journal starts afresh at the new version (secondaries
// fall back to AXFR once).
//
// Persistence: one file per zone, DATA/journal/<zone>.jnl, replaced
// atomically (zonefile.ReplaceFile) on every new version, holding the
// chain and the last version's records; see journal_file.go. The cost of
// a version is writing about twice the zone (its records plus a chain
// bounded by the zone's size), the same order as the zonefile rewrite
// that an edit already does, and a crash leaves either the old or the new
// file, never a mix.

// Journal bounds, per zone.
const (
	journalMaxVersions = 100  // differences kept
	journalMinRecords  = 1000 // record budget of a small zone's chain
)

// journal keeps, per primary zone, a bounded list of the differences
// between its successive versions, persisted under DATA so that IXFR
// survives a restart.
type journal struct {
	dir  string // DATA/journal
	log  *slog.Logger
	emit func(api.Event) // the activity log

	maxVersions int // differences kept per zone: journalMaxVersions
	minRecords  int // a chain may hold max(records of the zone, minRecords) records: journalMinRecords

	write sync.Mutex // serialises record
	mu    sync.RWMutex
	zones map[string]*zoneJournal // by lower-case origin; each value immutable once stored
}

// journalDiff is one version step: the SOA before and after, the records
// removed and added (RFC 1995 §4 order).
type journalDiff struct {
	From, To       *dns.SOA
	Removed, Added []dns.RR
}

// zoneJournal is one zone's chain and the version it ends at. A value is
// never changed once published in journal.zones; record builds a new one.
type zoneJournal struct {
	origin string
	diffs  []journalDiff
	blocks [][]byte // diffs[i] in file form, so that saving does not re-encode
	size   int      // records in diffs, SOAs included

	last   *packedZone // the version the chain ends at; nil in memory once snap serves it (lastPacked)
	serial uint32      // its serial
	digest [sha256.Size]byte
	snap   *answer.Snapshot // the snapshot serving it; since answers only while it is served
}

// newJournal opens the journals kept in dir (DATA/journal), creating it.
func newJournal(dir string, log *slog.Logger, emit func(api.Event)) (*journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("journal directory: %w", err)
	}
	return &journal{
		dir:         dir,
		log:         log,
		emit:        emit,
		maxVersions: journalMaxVersions,
		minRecords:  journalMinRecords,
		zones:       make(map[string]*zoneJournal),
	}, nil
}

// recordServed stores the difference between the version the journal
// last recorded (in memory, or on disk on a zone's first load since
// start) and the version snap serves, which is about to become the
// zone's served snapshot (commit.go calls it). Without one, the chain
// starts at snap's version. The records are packed from the snapshot,
// the same way the version before is packed when it is compared
// (lastPacked).
func (j *journal) recordServed(snap *answer.Snapshot) error {
	return j.recordPacked(snap.Origin(), packSnapshot(snap), snap)
}

// recordPacked records the version packed of zone origin, served by snap
// (nil when it is not served).
func (j *journal) recordPacked(origin string, packed *packedZone, snap *answer.Snapshot) error {
	j.write.Lock()
	defer j.write.Unlock()
	j.mu.RLock()
	st := j.zones[origin]
	j.mu.RUnlock()
	if st == nil {
		st = j.load(origin)
	}
	next, changed, err := j.advance(st, origin, packed)
	if err != nil {
		return err
	}
	next.snap = snap
	// In memory the served snapshot stands for the version the chain
	// ends at: its records are packed again when the next version is
	// compared (lastPacked), so a zone's records are not held twice.
	kept := *next
	if kept.snap != nil && kept.snap.Serial() == kept.serial {
		kept.last = nil
	}
	j.mu.Lock()
	j.zones[origin] = &kept
	j.mu.Unlock()
	if !changed {
		return nil
	}
	// A failed write leaves the previous file: its chain is still true,
	// and the next restart diffs from its last version.
	return j.save(next)
}

// lastPacked returns the records of the version z ends at: as read from
// its file, or packed from the snapshot that served it.
func (z *zoneJournal) lastPacked() *packedZone {
	if z.last == nil {
		return packSnapshot(z.snap)
	}
	return z.last
}

// advance returns the journal of origin after the version packed, and
// whether it differs from what st holds on disk.
func (j *journal) advance(st *zoneJournal, origin string, packed *packedZone) (*zoneJournal, bool, error) {
	if st == nil {
		return freshJournal(origin, packed), true, nil
	}
	if st.digest == packed.digest {
		next := *st
		next.last = packed
		return &next, false, nil
	}
	base := st.lastPacked()
	removed, added, err := diffPacked(base, packed)
	if err != nil {
		return nil, false, fmt.Errorf("zone %s: %w", origin, err)
	}
	from, err := base.soa()
	if err != nil {
		return nil, false, fmt.Errorf("zone %s: %w", origin, err)
	}
	to, err := packed.soa()
	if err != nil {
		return nil, false, fmt.Errorf("zone %s: %w", origin, err)
	}
	switch {
	case to.Serial == st.serial && len(removed) == 0 && len(added) == 0 && soaEqual(from, to):
		// The same records (letter case aside): the chain still holds.
		next := *st
		next.last, next.digest = packed, packed.digest
		return &next, true, nil
	case !zonefile.SerialGreater(to.Serial, st.serial):
		j.reset(origin, fmt.Sprintf("the zone changed from serial %d to %d without the serial increasing", st.serial, to.Serial))
		return freshJournal(origin, packed), true, nil
	}
	diff := journalDiff{From: from, To: to, Added: make([]dns.RR, 0, len(added))}
	for _, i := range removed {
		rr, err := base.rr(i)
		if err != nil {
			return nil, false, fmt.Errorf("zone %s: %w", origin, err)
		}
		diff.Removed = append(diff.Removed, rr)
	}
	for _, i := range added {
		rr, err := packed.rr(i)
		if err != nil {
			return nil, false, fmt.Errorf("zone %s: %w", origin, err)
		}
		diff.Added = append(diff.Added, rr)
	}
	block, err := encodeDiff(diff)
	if err != nil {
		return nil, false, fmt.Errorf("zone %s: %w", origin, err)
	}
	next := &zoneJournal{
		origin: origin,
		diffs:  append(st.diffs[:len(st.diffs):len(st.diffs)], diff),
		blocks: append(st.blocks[:len(st.blocks):len(st.blocks)], block),
		size:   st.size + diffSize(diff),
		last:   packed,
		serial: to.Serial,
		digest: packed.digest,
	}
	j.trim(next, packed.len())
	return next, true, nil
}

// trim drops the oldest differences beyond the bounds: maxVersions steps,
// max(records, minRecords) records (past that, AXFR is about as cheap),
// and any step whose start is not below the current serial in RFC 1982
// terms (a chain spanning 2^31 serials would be ambiguous).
func (j *journal) trim(z *zoneJournal, records int) {
	budget := max(records, j.minRecords)
	drop := 0
	for drop < len(z.diffs) {
		d := z.diffs[drop]
		if len(z.diffs)-drop <= j.maxVersions && z.size <= budget && zonefile.SerialLess(d.From.Serial, z.serial) {
			break
		}
		z.size -= diffSize(d)
		drop++
	}
	if drop > 0 {
		z.diffs = z.diffs[drop:]
		z.blocks = z.blocks[drop:]
	}
}

// since returns the steps from serial to the zone's current version, or
// ok false when the journal does not reach back to serial. A serial equal
// to the current one gives no steps and ok true. The steps end at the
// version served when since was called; a caller answering from a
// snapshot checks that the last step's To serial is that snapshot's. The
// records are shared: callers must not modify them.
func (j *journal) since(zone string, serial uint32, served *answer.Snapshot) (diffs []journalDiff, ok bool) {
	origin := strings.ToLower(dns.Fqdn(zone))
	j.mu.RLock()
	st := j.zones[origin]
	j.mu.RUnlock()
	// Only the very version the chain ends at (expired or not): not a
	// version the journal failed to record.
	if st == nil || st.snap == nil || !st.snap.SameVersion(served) {
		return nil, false
	}
	if serial == st.serial {
		return []journalDiff{}, true
	}
	for i := range st.diffs {
		if st.diffs[i].From.Serial == serial {
			return st.diffs[i:len(st.diffs):len(st.diffs)], true
		}
	}
	return nil, false
}

// freshJournal is a journal with no steps that ends at version packed.
func freshJournal(origin string, packed *packedZone) *zoneJournal {
	return &zoneJournal{origin: origin, last: packed, serial: packed.serial, digest: packed.digest}
}

// reset says why a zone's journal starts afresh.
func (j *journal) reset(origin, why string) {
	msg := why + "; the IXFR journal starts afresh: secondaries holding an older version will use AXFR once"
	j.log.Warn("journal: "+msg, "zone", origin)
	j.emit(api.Event{Zone: origin, Kind: "journal-reset", Outcome: api.OutcomeWarning, Detail: msg})
}

// drop forgets a removed zone's journal, in memory and on disk, so that a
// zone added again later under the same name starts a chain of its own.
func (j *journal) drop(origin string) error {
	origin = strings.ToLower(dns.Fqdn(origin))
	j.write.Lock()
	defer j.write.Unlock()
	j.mu.Lock()
	delete(j.zones, origin)
	j.mu.Unlock()
	if err := os.Remove(j.path(origin)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("removing the journal of %s: %w", origin, err)
	}
	return nil
}

// load reads a zone's journal from disk; nil when there is none or it
// cannot be used (then it is reported and a fresh one starts).
func (j *journal) load(origin string) *zoneJournal {
	path := j.path(origin)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err == nil {
		var st *zoneJournal
		if st, err = decodeJournal(data, origin); err == nil {
			return st
		}
	}
	j.reset(origin, fmt.Sprintf("%s cannot be used (%v)", path, err))
	return nil
}

// save writes a zone's journal file atomically.
func (j *journal) save(z *zoneJournal) error {
	return zonefile.ReplaceFile(j.path(z.origin), func(w io.Writer) error { return encodeJournal(w, z) })
}

// path is DATA/journal/<zone>.jnl.
func (j *journal) path(origin string) string {
	name := strings.TrimSuffix(origin, ".")
	if name == "" {
		name = "_root"
	}
	return filepath.Join(j.dir, name+".jnl")
}

// diffSize counts a step's records, SOAs included.
func diffSize(d journalDiff) int { return 2 + len(d.Removed) + len(d.Added) }

// soaEqual compares two SOA records' data and TTL, names case-insensitively.
func soaEqual(a, b *dns.SOA) bool {
	return a.Hdr.Ttl == b.Hdr.Ttl && dns.IsDuplicate(a, b)
}

// diffPacked compares two versions record by record as RFC 2181 §5 does
// (owner name case-insensitively, class, type and data; a TTL change is a
// removal and an addition) and returns the indexes of the records of base
// that are gone and of those of cur that are new, SOA excluded, each in
// its version's order.
func diffPacked(base, cur *packedZone) (removed, added []int, err error) {
	// Both versions are in canonical order, and an edit changes a few
	// records: the byte-identical runs at the start and at the end are
	// kept as they are, and only the window between them is compared
	// record by record. SOAs do not end a run: they are not compared.
	lo := 0
	for lo < base.len() && lo < cur.len() && samePacked(base, cur, lo, lo) {
		lo++
	}
	bh, ch := base.len(), cur.len()
	for bh > lo && ch > lo && samePacked(base, cur, bh-1, ch-1) {
		bh, ch = bh-1, ch-1
	}
	keys := make(map[string]int, bh-lo)
	for i := lo; i < bh; i++ {
		k, t, err := base.key(i)
		if err != nil {
			return nil, nil, err
		}
		if t != dns.TypeSOA {
			keys[k] = i
		}
	}
	kept := make([]bool, bh-lo)
	for i := lo; i < ch; i++ {
		k, t, err := cur.key(i)
		if err != nil {
			return nil, nil, err
		}
		if t == dns.TypeSOA {
			continue
		}
		if b, ok := keys[k]; ok && base.ttl(b) == cur.ttl(i) {
			kept[b-lo] = true
			continue
		}
		added = append(added, i)
	}
	for i := lo; i < bh; i++ {
		if base.rtype(i) != dns.TypeSOA && !kept[i-lo] {
			removed = append(removed, i)
		}
	}
	return removed, added, nil
}

// samePacked reports whether record i of a and record j of b need no
// comparison: byte-identical, or both SOA records (diffPacked leaves
// SOAs out).
func samePacked(a, b *packedZone, i, j int) bool {
	return bytes.Equal(a.wire(i), b.wire(j)) || (a.rtype(i) == dns.TypeSOA && b.rtype(j) == dns.TypeSOA)
}

// packedZone is a version's records in uncompressed wire form, back to
// back, in the zone's order: what the journal keeps of the last version.
type packedZone struct {
	buf    []byte
	offs   []int // start of each record in buf; one more, the end
	serial uint32
	digest [sha256.Size]byte // of buf
}

func (p *packedZone) len() int          { return len(p.offs) - 1 }
func (p *packedZone) wire(i int) []byte { return p.buf[p.offs[i]:p.offs[i+1]] }

// key returns record i's identity for RFC 2181 §5 comparison (lower-case
// owner, type, class, data: everything but the TTL) and its type.
func (p *packedZone) key(i int) (string, uint16, error) {
	w := p.wire(i)
	n := answer.NameLen(w)
	if n < 0 || len(w) < n+10 {
		return "", 0, fmt.Errorf("journal: malformed record %d", i)
	}
	k := make([]byte, 0, len(w)-4)
	k = append(k, w[:n]...)
	answer.LowerInPlace(k)
	k = append(k, w[n:n+4]...) // type, class
	k = append(k, w[n+8:]...)  // rdlength, rdata
	return string(k), binary.BigEndian.Uint16(w[n:]), nil
}

// rtype returns record i's type.
func (p *packedZone) rtype(i int) uint16 {
	w := p.wire(i)
	return binary.BigEndian.Uint16(w[answer.NameLen(w):])
}

// ttl returns record i's TTL.
func (p *packedZone) ttl(i int) uint32 {
	w := p.wire(i)
	n := answer.NameLen(w)
	return binary.BigEndian.Uint32(w[n+4:])
}

// rr unpacks record i.
func (p *packedZone) rr(i int) (dns.RR, error) {
	rr, _, err := dns.UnpackRR(p.wire(i), 0)
	if err != nil {
		return nil, fmt.Errorf("journal: unpacking record %d: %w", i, err)
	}
	return rr, nil
}

// soa returns the version's SOA record.
func (p *packedZone) soa() (*dns.SOA, error) {
	for i := range p.len() {
		if p.rtype(i) == dns.TypeSOA {
			rr, err := p.rr(i)
			if err != nil {
				return nil, err
			}
			if soa, ok := rr.(*dns.SOA); ok {
				return soa, nil
			}
		}
	}
	return nil, fmt.Errorf("journal: the recorded version has no SOA")
}
