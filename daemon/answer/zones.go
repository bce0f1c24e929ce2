package answer

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Zones is the registry of live snapshots. Readers load an immutable
// table through an atomic pointer and take no lock; writers build a new
// table (copy on write) and swap it in, one writer at a time.
type Zones struct {
	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[zoneTable]
}

// zoneTable is one immutable generation of the registry.
type zoneTable struct {
	byKey map[string]*Snapshot // lower-case wire origin -> snapshot
	list  []*Snapshot          // sorted by origin

	// ready holds the replies of this generation (ready.go), made on
	// first use: a new table starts with none, so no reply outlives it.
	ready atomic.Pointer[readyCache]
}

// NewZones returns an empty registry.
func NewZones() *Zones {
	z := &Zones{}
	z.cur.Store(&zoneTable{byKey: map[string]*Snapshot{}})
	return z
}

// Set adds s, or atomically replaces the snapshot of the same origin.
// Queries see either the old or the new snapshot, never a mix.
func (z *Zones) Set(s *Snapshot) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.setLocked(s)
}

// ReplaceVersion swaps s in only while the snapshot served for its origin
// is the same version (SameVersion), marked otherwise: a newer version
// committed meanwhile stays. It reports whether s was swapped in.
func (z *Zones) ReplaceVersion(s *Snapshot) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	if !z.cur.Load().byKey[string(s.wire)].SameVersion(s) {
		return false
	}
	z.setLocked(s)
	return true
}

// setLocked is Set with z.mu held.
func (z *Zones) setLocked(s *Snapshot) {
	old := z.cur.Load()
	t := &zoneTable{byKey: make(map[string]*Snapshot, len(old.byKey)+1)}
	for k, v := range old.byKey {
		t.byKey[k] = v
	}
	t.byKey[string(s.wire)] = s
	t.sortList()
	z.cur.Store(t)
}

// Delete stops serving the zone of that origin and reports whether it was
// served.
func (z *Zones) Delete(origin string) bool {
	key, err := WireName(origin)
	if err != nil {
		return false
	}
	LowerInPlace(key)
	z.mu.Lock()
	defer z.mu.Unlock()
	old := z.cur.Load()
	if _, ok := old.byKey[string(key)]; !ok {
		return false
	}
	t := &zoneTable{byKey: make(map[string]*Snapshot, len(old.byKey))}
	for k, v := range old.byKey {
		if k != string(key) {
			t.byKey[k] = v
		}
	}
	t.sortList()
	z.cur.Store(t)
	return true
}

// Get returns the snapshot served for origin, or nil.
func (z *Zones) Get(origin string) *Snapshot {
	key, err := WireName(origin)
	if err != nil {
		return nil
	}
	LowerInPlace(key)
	return z.cur.Load().byKey[string(key)]
}

// List returns the served snapshots sorted by origin. The slice is the
// caller's.
func (z *Zones) List() []*Snapshot {
	return slices.Clone(z.cur.Load().list)
}

func (t *zoneTable) sortList() {
	t.list = make([]*Snapshot, 0, len(t.byKey))
	for _, s := range t.byKey {
		t.list = append(t.list, s)
	}
	slices.SortFunc(t.list, func(a, b *Snapshot) int { return strings.Compare(a.origin, b.origin) })
}

// zoneFor returns the zone that is authoritative for name (lower-case wire
// format): the one with the longest origin that name is in or below, so a
// child zone served beside its parent wins. A DS RRset lives on the parent
// side of a cut (RFC 4035 §3.1.4.1), so for a DS query at a zone's apex the
// enclosing zone, when served, wins instead.
func (t *zoneTable) zoneFor(name []byte, qtype uint16) *Snapshot {
	if len(t.byKey) == 0 {
		return nil
	}
	var apex *Snapshot
	for off := 0; off < len(name); off += int(name[off]) + 1 {
		if s := t.byKey[string(name[off:])]; s != nil {
			if off == 0 && qtype == dns.TypeDS {
				apex = s
				continue
			}
			return s
		}
		if name[off] == 0 {
			break
		}
	}
	return apex
}
