package daemon

import (
	"errors"
	"log/slog"
	"strings"
	"sync"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// The commit path (docs/architecture.md, "Change → commit"). Every new
// version of a served zone ends in committer.commit, whatever made it: a
// reload of an edited zonefile, a record edit, a transfer in (AXFR or
// IXFR), a promote or demote, the catalog zone, set-serial. commit
// persists the version when the change carries a write, swaps the
// snapshot in, emits the change's event, records the difference in the
// zone's IXFR journal and queues NOTIFY to the zone's targets: for primary and
// secondary zones alike, so a secondary that others follow answers their
// IXFR from its own journal and tells them of each new version (RFC 1996
// §3.11, RFC 1995).
//
// The other ways a zone's serving changes are here too: retire (the zone
// is no longer served) and markExpired (a secondary past its SOA expire).
// No other code calls the zone table's writers, the journal's record
// methods or the notifier's zoneChanged; commit_path_test.go fails the
// build of the tests if any does.
//
// Commits of one zone are serialised; commits of different zones run side
// by side. Validation by the zone rules happens before a change is made:
// a change carries a compiled snapshot, and only a zone that passed
// zonefile's rules (Load, Check) compiles.

// Who serves a zone: the part whose commits it takes. A zone moves from
// one to the other on promote and demote; a retire by a part that no
// longer serves the zone (the loader noticing a demoted zone's file is
// gone) changes nothing.
const (
	ownerZonefile  = "zonefile"  // DATA/zones, by the loader (primary and native zones)
	ownerSecondary = "secondary" // DATA/secondary, by transfers in
	ownerCatalog   = "catalog"   // the catalog zone, built from the store
)

// announce says when a committed version is NOTIFYed to the zone's
// targets.
type announce uint8

const (
	announceNewer announce = iota // when the serial increased, or on the zone's first version from this owner
	announceNone                  // never: a secondary's own file read at start
)

// change is one new version of a zone, on its way to being served.
type change struct {
	snap  *answer.Snapshot // the compiled version; its origin names the zone
	owner string           // ownerZonefile, ownerSecondary or ownerCatalog

	// first says this is the zone's first version from this owner since
	// start (a primary's first load, a promote): it is announced even at
	// an unchanged serial, and a primary's first NOTIFY waits for the
	// peers' serials (health.go) so a returning old primary never pushes
	// a stale version.
	first    bool
	announce announce

	// valid, when set, is asked once the zone's commit turn is taken
	// whether the change still applies (a secondary removed during its
	// transfer); an error abandons the change.
	valid func() error
	// write, when set, persists the version (atomic file replace) before
	// it is served; an error abandons the change. nil when the version's
	// file holds it already (a reload read it from there).
	write func() error
	// served, when set, is called as soon as the version answers, before
	// its event and journal: the owner's own view of the zone (a
	// secondary's record count) changes with what is served.
	served func()
	event  api.Event // emitted once the version is served; none when Kind is ""
}

// committer is the one path by which a zone's served version changes.
type committer struct {
	zones   *answer.Zones
	journal *journal
	log     *slog.Logger
	emit    func(api.Event)

	notify func(zone string, serial uint32)      // queues NOTIFY to the zone's targets; never blocks
	hold   func(zone string, serial uint32) bool // holds a primary's first NOTIFY during start-up
	native func(zone string) bool                // a native zone: served, never announced
	digest func(snap *answer.Snapshot)           // queues the version's content digest (zone_digest.go); never blocks
	signed func(snap *answer.Snapshot)           // reads a signed version's signature times (sigwatch.go)

	mu     sync.Mutex
	locks  map[string]*sync.Mutex // per zone: one commit at a time
	owners map[string]string      // per served zone: who committed it
}

// newCommitter returns the commit path over zones and journal.
func newCommitter(zones *answer.Zones, j *journal, log *slog.Logger, emit func(api.Event)) *committer {
	return &committer{
		zones: zones, journal: j, log: log, emit: emit,
		notify: func(string, uint32) {},
		hold:   func(string, uint32) bool { return false },
		native: func(string) bool { return false },
		digest: func(*answer.Snapshot) {},
		signed: func(*answer.Snapshot) {},
		locks:  make(map[string]*sync.Mutex),
		owners: make(map[string]string),
	}
}

// isCatalog reports whether zone is served as this node's catalog.
func (c *committer) isCatalog(zone string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owners[zone] == ownerCatalog
}

// lock takes zone's commit turn and returns what gives it back.
func (c *committer) lock(zone string) func() {
	c.mu.Lock()
	l := c.locks[zone]
	if l == nil {
		l = new(sync.Mutex)
		c.locks[zone] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// errNoSOA refuses a change whose version has no SOA: nothing could
// answer for it, nor transfer it.
var errNoSOA = errors.New("the version has no SOA record")

// commit serves ch's version: it persists it, swaps it in, emits its
// event, records it in the journal and announces it. It returns an error,
// and changes nothing, when the change no longer applies, its version is
// not servable or its write failed. A journal that cannot be written is
// reported but does not stop the version being served: the zonefile is
// the source of truth, and secondaries fall back to AXFR.
func (c *committer) commit(ch change) error {
	snap := ch.snap
	if snap == nil || snap.SOA() == nil {
		return errNoSOA
	}
	origin := snap.Origin()
	defer c.lock(origin)()
	if ch.valid != nil {
		if err := ch.valid(); err != nil {
			return err
		}
	}
	if ch.write != nil {
		if err := ch.write(); err != nil {
			return err
		}
	}
	prev := c.zones.Get(origin)
	c.zones.Set(snap)
	c.digest(snap)
	c.mu.Lock()
	c.owners[origin] = ch.owner
	c.mu.Unlock()
	if ch.served != nil {
		ch.served()
	}
	if ch.event.Kind != "" {
		c.emit(ch.event)
	}
	// After the version's own event, so that a signature warning it
	// raises at load follows the load.
	c.signed(snap)
	// The journal is written once the version answers (comparing two
	// versions of a large zone takes a while, and queries should not
	// wait for it) and before it is announced, so that the IXFR a NOTIFY
	// prompts finds the difference. An IXFR in between gets the whole
	// zone, as RFC 1995 allows.
	if err := c.record(snap); err != nil {
		c.log.Error("journal: "+err.Error(), "zone", origin)
		c.emit(api.Event{Zone: origin, Kind: "journal-error", Outcome: api.OutcomeError, Serial: snap.Serial(), Detail: err.Error()})
	}
	c.announceChange(ch, prev)
	return nil
}

// record puts snap's version in the zone's journal; a committer without
// a journal (tests of the loader alone) keeps none.
func (c *committer) record(snap *answer.Snapshot) error {
	if c.journal == nil {
		return nil
	}
	return c.journal.recordServed(snap)
}

// announceChange queues the NOTIFY of a committed version, when its kind
// of change calls for one.
func (c *committer) announceChange(ch change, prev *answer.Snapshot) {
	origin, serial := ch.snap.Origin(), ch.snap.Serial()
	newer := prev == nil || zonefile.SerialGreater(serial, prev.Serial())
	switch {
	case ch.announce == announceNone, c.native(origin):
		return
	case ch.first && ch.owner == ownerZonefile && c.hold(origin, serial):
		return // health.go sends it after the start-up round
	case ch.first || newer:
		c.notify(origin, serial)
	}
}

// announce queues NOTIFY of a served version, outside a commit: the
// start-up NOTIFYs that health.go held until the peers' serials were
// known.
func (c *committer) announce(zone string, serial uint32) {
	c.notify(zone, serial)
}

// retire stops serving zone. With owner set, only when that owner's
// version is served (so the loader noticing that a demoted zone's file
// is gone does not unserve the secondary that took it over); with
// dropJournal, a zone removed for good also loses its journal. It
// reports whether a version was served and is no longer.
func (c *committer) retire(zone, owner string, dropJournal bool) bool {
	zone = strings.ToLower(dns.Fqdn(zone))
	defer c.lock(zone)()
	c.mu.Lock()
	cur, served := c.owners[zone]
	if owner != "" && served && cur != owner {
		c.mu.Unlock()
		return false
	}
	delete(c.owners, zone)
	c.mu.Unlock()
	gone := c.zones.Delete(zone)
	if dropJournal && c.journal != nil {
		if err := c.journal.drop(zone); err != nil {
			c.log.Warn("journal: "+err.Error(), "zone", zone)
		}
	}
	return gone
}

// markExpired serves snap's version marked expired or not: a secondary
// zone past its SOA expire answers SERVFAIL, and answers again once a
// check succeeds. It changes nothing when another version was committed
// meanwhile (that commit decided the zone's state). It takes no commit
// turn, so that the secondaries may call it with their lock held.
func (c *committer) markExpired(snap *answer.Snapshot, expired bool) {
	c.zones.ReplaceVersion(snap.WithExpired(expired))
}
