package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// Cluster membership by catalog zones (RFC 9432, version 2). Each node
// serves a catalog of its primary zones (every file of DATA/zones that
// is not native) under its catalog-zone name, and under legacyCatalog
// (catalog_name.go): `version` TXT "2" and one `<id>.zones` PTR per
// member. It is rebuilt when the member set changes, with a higher
// serial, and NOTIFYed to the peers. Each node reads the catalog of
// every peer of role peer or catalog by AXFR (signed with the peer's
// key), under the peer's catalog name: when the peer is added, when the
// peer NOTIFYs its catalog, and every health-interval. A member not
// known here is provisioned as a secondary of that peer; a zone
// provisioned from a peer that leaves its catalog is removed here, its
// file moved to DATA/backup. This makes a cluster converge whatever
// order its nodes are configured in: the node that adds a peer last
// reads that peer's catalog, which the peer now lets it transfer.
//
// A peer of role catalog (Knot's catalog-role: generate, a hand-written
// BIND catalog) is read the same way, but it is no zonekeeper node: it
// is not a candidate primary of other zones, not NOTIFYed, not trusted
// beyond the zones provisioned from it.
//
// Adding a peer also NOTIFYs it of every primary zone at once, and a
// signed NOTIFY from a peer for a zone not served here provisions the
// zone (special.go): new zones reach the peers without waiting for the
// catalog.

// peerAccountPrefix marks the zones provisioned from a peer: their
// account is "peer:NAME". Only such zones leave when the peer's catalog
// no longer lists them; zones the operator added never do.
const peerAccountPrefix = "peer:"

// Timing.
const (
	catalogPoll         = time.Second      // how often the member set is compared with the zones
	catalogGrace        = 5 * time.Second  // a zone provisioned this recently is not removed yet (its NOTIFY may beat the catalog)
	catalogFetchTimeout = 30 * time.Second // one read of a peer's catalog
	greetParallel       = 16               // NOTIFYs under way at once when a peer is added
)

// catalog produces this node's catalog and consumes its peers'.
type catalog struct {
	zones       *answer.Zones
	db          *store.DB // zones, keys
	keys        *keyring
	peers       *peerSet
	secondaries *secondaries      // reads peers' catalogs; provisions and removes their zones
	notifier    *notifier         // greets a new peer
	commits     *committer        // serves our own catalog
	fileZones   func() []fileZone // the loader's zonefiles: our primary zones
	fileZone    func(string) (fileZone, bool)
	ready       <-chan struct{} // the zones are loaded: the catalog may be published
	interval    time.Duration   // health-interval: peers' catalogs are read as often
	data        string          // DATA: removed zones' files go to DATA/backup
	name        string          // catalog-zone: the name this node's catalog is served under
	log         *slog.Logger
	emit        func(api.Event)

	wg    sync.WaitGroup // fetches and greetings under way
	grace time.Duration  // catalogGrace
	// holdDown is catalog-hold-down health rounds: how long a zone's
	// removal must have been safe before it is done.
	holdDown time.Duration
	// zoneState asks a peer for its state of a zone (zone_state.go).
	zoneState func(ctx context.Context, p peer, zone string) (zoneState, error)

	wake chan struct{}

	mu      sync.Mutex
	fetch   map[string]bool      // peers whose catalog to read now
	greet   map[string]bool      // peers to NOTIFY of every primary zone now
	busy    map[string]bool      // peers whose catalog is being read
	lastErr map[string]string    // per peer: why its catalog was last not read ("" read)
	retryAt map[string]time.Time // per peer: read its catalog again then (a removal waits out catalogGrace)
	listed  map[string][]string  // per peer: the members of its catalog as last read
	leaving map[string]*leaving  // per zone that left its peer's catalog and is kept: why (catalog_remove.go)
	learned map[string]string    // per peer of role peer without a configured catalog: the catalog name it told
	readAs  map[string]string    // per peer: the name its catalog was last read under
	members []string             // the members published, sorted
	serial  uint32               // the serial published; 0 before the first
}

// newCatalog returns the catalog of d's primary zones and the reader of
// its peers' catalogs.
func newCatalog(d *Daemon) *catalog {
	return &catalog{
		zones:       d.zones,
		db:          d.store,
		keys:        d.keys,
		peers:       d.peers,
		secondaries: d.secondaries,
		notifier:    d.notifier,
		commits:     d.commits,
		fileZones:   d.loader.list,
		fileZone:    d.loader.get,
		ready:       d.ready,
		interval:    d.cfg.HealthInterval,
		data:        d.cfg.Data,
		name:        d.cfg.CatalogZone,
		log:         d.log,
		emit:        d.events.Emit,
		grace:       catalogGrace,
		wake:        make(chan struct{}, 1),
		fetch:       make(map[string]bool),
		greet:       make(map[string]bool),
		busy:        make(map[string]bool),
		lastErr:     make(map[string]string),
		retryAt:     make(map[string]time.Time),
		listed:      make(map[string][]string),
		learned:     make(map[string]string),
		readAs:      make(map[string]string),
		leaving:     make(map[string]*leaving),
		holdDown:    time.Duration(d.cfg.CatalogHoldDown) * max(d.cfg.HealthInterval, time.Second),
		zoneState:   d.peerZoneState,
	}
}

// Run publishes this node's catalog once the zones are loaded, keeps it
// current, and reads the peers' catalogs when asked and every
// health-interval, until ctx is cancelled.
func (c *catalog) Run(ctx context.Context) error {
	defer c.wg.Wait()
	// An empty catalog published before the zones are loaded would make
	// the peers drop every zone of ours.
	select {
	case <-ctx.Done():
		return nil
	case <-c.ready:
	}
	c.publish()
	c.requestAll()
	poll := time.NewTicker(catalogPoll)
	defer poll.Stop()
	health := time.NewTicker(max(c.interval, time.Second))
	defer health.Stop()
	for {
		c.dispatch(ctx)
		select {
		case <-ctx.Done():
			return nil
		case now := <-poll.C:
			c.publish()
			c.dueRetries(now)
		case <-health.C:
			c.requestAll()
		case <-c.wake:
		}
	}
}

func (c *catalog) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// peerAdded NOTIFYs a new peer of every primary zone and, for a peer of
// role peer, reads its catalog.
func (c *catalog) peerAdded(p peer) {
	c.mu.Lock()
	if p.Role != roleCatalog {
		c.greet[p.Name] = true
	}
	if p.readsCatalog() {
		c.fetch[p.Name] = true
	}
	c.mu.Unlock()
	c.poke()
}

// peerNotified reads a peer's catalog now: it NOTIFYed a new version.
func (c *catalog) peerNotified(p peer) {
	c.mu.Lock()
	c.fetch[p.Name] = true
	c.mu.Unlock()
	c.poke()
}

// requestAll asks for the catalog of every peer of role peer or catalog.
func (c *catalog) requestAll() {
	c.mu.Lock()
	for _, p := range c.peers.list() {
		if p.readsCatalog() {
			c.fetch[p.Name] = true
		}
	}
	c.mu.Unlock()
}

// dueRetries asks again for the catalogs whose retry time passed.
func (c *catalog) dueRetries(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, at := range c.retryAt {
		if !now.Before(at) {
			delete(c.retryAt, name)
			c.fetch[name] = true
		}
	}
}

// dispatch starts the greetings and catalog reads asked for; a peer's
// catalog is read by one goroutine at a time, again after it when asked
// meanwhile.
func (c *catalog) dispatch(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.greet {
		delete(c.greet, name)
		if p, ok := c.peers.byName(name); ok {
			c.wg.Go(func() { c.greetPeer(ctx, p) })
		}
	}
	for name := range c.fetch {
		if c.busy[name] {
			continue
		}
		delete(c.fetch, name)
		p, ok := c.peers.byName(name)
		if !ok || !p.readsCatalog() {
			continue
		}
		c.busy[name] = true
		c.wg.Go(func() {
			c.fetchPeer(ctx, p)
			c.mu.Lock()
			delete(c.busy, name)
			again := c.fetch[name]
			c.mu.Unlock()
			if again {
				c.poke()
			}
		})
	}
}

// primaryZones returns the zones this node is primary for: every file
// of DATA/zones that is served and not a native zone, sorted.
func (c *catalog) primaryZones() []string {
	rows, err := c.db.Zones().List(context.Background())
	if err != nil {
		return nil
	}
	kind := make(map[string]store.ZoneKind, len(rows))
	for _, r := range rows {
		kind[r.Name] = r.Kind
	}
	var out []string
	for _, fz := range c.fileZones() {
		if k, ok := kind[fz.origin]; (ok && k != store.KindPrimary) || !fz.loaded {
			continue // a file that never loaded (broken, a dangling link) is no zone to offer
		}
		if !c.isOwn(fz.origin) {
			out = append(out, fz.origin)
		}
	}
	slices.Sort(out)
	return out
}

// publish serves a new version of the catalog when the member set
// changed, and NOTIFYs it.
func (c *catalog) publish() {
	members := c.primaryZones()
	c.mu.Lock()
	if c.serial != 0 && slices.Equal(members, c.members) {
		c.mu.Unlock()
		return
	}
	old := c.members
	serial := max(c.serial+1, uint32(time.Now().Unix()))
	snap, err := answer.Compile(catalogVersion(c.name, "", members, serial))
	if err != nil {
		c.mu.Unlock()
		c.log.Error("catalog: " + err.Error())
		return
	}
	var legacy *answer.Snapshot
	if c.name != legacyCatalog {
		if legacy, err = answer.Compile(catalogVersion(legacyCatalog, c.name, members, serial)); err != nil {
			c.mu.Unlock()
			c.log.Error("catalog: " + err.Error())
			return
		}
	}
	var added, removed []string
	for _, m := range members {
		if !slices.Contains(old, m) {
			added = append(added, m)
		}
	}
	for _, m := range old {
		if !slices.Contains(members, m) {
			removed = append(removed, m)
		}
	}
	detail := fmt.Sprintf("catalog %s serial %d: %d member zones", c.name, serial, len(members))
	if len(added) > 0 {
		detail += "; added " + strings.Join(added, " ")
	}
	if len(removed) > 0 {
		detail += "; removed " + strings.Join(removed, " ")
	}
	if legacy != nil {
		// Older peers read it, newer ones learn c.name from it.
		if err := c.commits.commit(change{snap: legacy, owner: ownerCatalog}); err != nil {
			c.mu.Unlock()
			c.log.Error("catalog: " + err.Error())
			return
		}
	}
	err = c.commits.commit(change{snap: snap, owner: ownerCatalog,
		event: api.Event{Zone: c.name, Kind: "catalog", Outcome: api.OutcomeOK, Serial: serial, Detail: detail}})
	if err != nil {
		c.mu.Unlock()
		c.log.Error("catalog: " + err.Error())
		return
	}
	c.members, c.serial = members, serial
	c.mu.Unlock()
}

// catalogVersion builds the catalog zone apex of members (RFC 9432 §4);
// named, when set, is the catalog-zone property naming the catalog the
// node really serves (catalog_name.go).
func catalogVersion(apex, named string, members []string, serial uint32) *zonefile.Zone {
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 0}
	}
	recs := []dns.RR{
		&dns.SOA{Hdr: hdr(apex, dns.TypeSOA), Ns: "invalid.", Mbox: "invalid.", Serial: serial,
			Refresh: 60, Retry: 10, Expire: 1209600, Minttl: 0},
		&dns.NS{Hdr: hdr(apex, dns.TypeNS), Ns: "invalid."},
		&dns.TXT{Hdr: hdr("version."+apex, dns.TypeTXT), Txt: []string{"2"}},
	}
	if named != "" {
		recs = append(recs, &dns.PTR{Hdr: hdr(catalogNameProperty+apex, dns.TypePTR), Ptr: named})
	}
	for _, m := range members {
		recs = append(recs, &dns.PTR{Hdr: hdr(memberID(m)+".zones."+apex, dns.TypePTR), Ptr: m})
	}
	return &zonefile.Zone{Origin: apex, Records: recs}
}

// memberID is a member zone's unique label (RFC 9432 §4.4.1): stable
// across versions and nodes, so that consumers see the same member.
func memberID(zone string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(zone)))
	return hex.EncodeToString(sum[:8])
}

// fetchPeer reads a peer's catalog, under its catalog name
// (peerCatalog), and provisions or removes the zones it lists, as
// described above. A catalog that cannot be read changes nothing here.
func (c *catalog) fetchPeer(ctx context.Context, p peer) {
	apex := c.peerCatalog(p)
	fail := func(why string) {
		c.mu.Lock()
		repeated := c.lastErr[p.Name] == why
		c.lastErr[p.Name] = why
		if p.Catalog == "" {
			// A learned name that fails is learned again: the peer may
			// have a new catalog-zone setting.
			delete(c.learned, p.Name)
		}
		c.mu.Unlock()
		if ctx.Err() != nil || repeated {
			return
		}
		c.report(slog.LevelWarn, api.Event{Zone: apex, Kind: "catalog-in", Peer: p.Addr.Addr().String(), Outcome: api.OutcomeWarning,
			Detail: fmt.Sprintf("catalog %s of peer %s at %s not read: %s; its zones are not provisioned here until it is (retried every %s and when it NOTIFYs)",
				apex, p.Name, p.Addr, why, c.interval)})
	}
	var key *xfrKey
	if p.Key != "" {
		k, err := c.secondaries.keyNamed(ctx, p.Key)
		if err != nil {
			fail(err.Error())
			return
		}
		key = k
	}
	fctx, cancel := context.WithTimeout(ctx, catalogFetchTimeout)
	defer cancel()
	recs, _, _, err := c.secondaries.receive(fctx, apex, p.Addr, key, nil, nil)
	if err != nil {
		fail("AXFR: " + err.Error())
		return
	}
	content, err := parseCatalog(apex, recs)
	if err != nil {
		fail(err.Error())
		return
	}
	members := content.members
	c.mu.Lock()
	prev, had := c.lastErr[p.Name]
	renamed := c.readAs[p.Name] != apex
	c.lastErr[p.Name], c.readAs[p.Name] = "", apex
	c.listed[p.Name] = members
	learnedNow := ""
	if p.Catalog == "" && apex == legacyCatalog && content.named != "" && c.learned[p.Name] != content.named {
		c.learned[p.Name], learnedNow = content.named, content.named
	}
	c.mu.Unlock()
	if !had || prev != "" || renamed {
		// The first read, the first after failures or under a new
		// name: say so once.
		c.report(slog.LevelInfo, api.Event{Zone: apex, Kind: "catalog-in", Peer: p.Addr.Addr().String(), Outcome: api.OutcomeOK,
			Detail: fmt.Sprintf("catalog %s of peer %s at %s read: %d member zones", apex, p.Name, p.Addr, len(members))})
	}
	if learnedNow != "" {
		c.report(slog.LevelInfo, api.Event{Zone: learnedNow, Kind: "catalog-in", Peer: p.Addr.Addr().String(), Outcome: api.OutcomeOK,
			Detail: fmt.Sprintf("peer %s serves its catalog as %s: read under that name from now on", p.Name, learnedNow)})
	}
	c.reconcile(ctx, p, members)
}

// reconcile provisions the members of peer p's catalog that are not
// known here, and removes the zones provisioned from p that it no
// longer lists once that is safe (catalog_remove.go).
func (c *catalog) reconcile(ctx context.Context, p peer, members []string) {
	for _, m := range members {
		if ctx.Err() != nil {
			return
		}
		c.provisionFromPeer(ctx, p, m, "listed in its catalog")
	}
	rows, err := c.db.Zones().List(ctx)
	if err != nil {
		return
	}
	c.forgetLeaving(p.Name, members, rows)
	down := make(map[string]error) // peers that could not be asked during this reconcile
	for _, row := range rows {
		if row.Kind != store.KindSecondary || row.Account != peerAccountPrefix+p.Name || slices.Contains(members, row.Name) {
			continue
		}
		if c.isPeerCatalog(p, row.Name) {
			// Its NOTIFY came before its name was learned: never a zone.
			c.removeProvisioned(ctx, row.Name, fmt.Sprintf("it is the catalog of peer %s, not a zone of it", p.Name))
			continue
		}
		if at := row.Created.Add(c.grace); time.Now().Before(at) {
			c.mu.Lock()
			c.retryAt[p.Name] = at
			c.mu.Unlock()
			continue
		}
		if other, ok := c.listedElsewhere(p.Name, row.Name); ok {
			// The zone moved (promoted on another peer, demoted on p):
			// it stays, now provisioned from the peer that lists it.
			if err := c.db.Zones().SetAccount(ctx, row.Name, peerAccountPrefix+other.Name); err == nil {
				c.emit(api.Event{Zone: row.Name, Kind: "catalog-in", Peer: p.Addr.Addr().String(), Outcome: api.OutcomeOK,
					Detail: fmt.Sprintf("no longer in the catalog of peer %s, but in that of peer %s: kept, now as a zone of %s", p.Name, other.Name, other.Name)})
			}
			continue
		}
		c.leave(ctx, p, row, down)
	}
}

// listedElsewhere returns another peer of role peer whose catalog, as
// last read, lists zone.
func (c *catalog) listedElsewhere(name, zone string) (peer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for other, members := range c.listed {
		if other == name || !slices.Contains(members, zone) {
			continue
		}
		if p, ok := c.peers.byName(other); ok && p.Role == rolePeer {
			return p, true
		}
	}
	return peer{}, false
}

// provisionNotified provisions a zone a peer NOTIFYed, and reads the
// peer's catalog again once catalogGrace has passed: a zone it does not
// list by then is removed (the NOTIFY may have been for a zone the peer
// dropped at once). It reports whether the zone was provisioned.
func (c *catalog) provisionNotified(p peer, zone string) bool {
	if !c.provisionFromPeer(context.Background(), p, zone, "NOTIFY from it for a zone not served here") {
		return false
	}
	if p.Role == rolePeer {
		c.mu.Lock()
		if at, ok := c.retryAt[p.Name]; !ok || at.Before(time.Now()) {
			c.retryAt[p.Name] = time.Now().Add(c.grace + catalogPoll)
		}
		c.mu.Unlock()
	}
	return true
}

// provisionFromPeer adds zone as a secondary of peer p, signed with p's
// key, unless the zone is known here. It reports whether it did.
func (c *catalog) provisionFromPeer(ctx context.Context, p peer, zone, why string) bool {
	if c.isOwn(zone) || isCatalogName(zone) || c.isPeerCatalog(p, zone) {
		return false
	}
	if _, ok := c.fileZone(zone); ok {
		return false
	}
	if _, err := c.db.Zones().Get(ctx, zone); !errors.Is(err, store.ErrNotFound) {
		return false
	}
	row := store.Zone{Name: zone, Kind: store.KindSecondary, Primaries: []string{p.Addr.String()}, TSIGKey: p.Key,
		Account: peerAccountPrefix + p.Name}
	if err := c.db.Zones().Add(ctx, row); err != nil {
		if !errors.Is(err, store.ErrExists) {
			c.log.Error("provisioning a zone from a peer: "+err.Error(), "zone", zone, "peer", p.Name)
		}
		return false
	}
	c.secondaries.added(zone)
	signed := "unsigned"
	if p.Key != "" {
		signed = "signed with " + p.Key
	}
	c.emit(api.Event{Zone: zone, Kind: "zone-add", Peer: p.Addr.Addr().String(), Outcome: api.OutcomeOK,
		Detail: fmt.Sprintf("secondary zone provisioned from peer %s (%s): primary %s, %s", p.Name, why, p.Addr, signed)})
	return true
}

// greetPeer NOTIFYs a new peer of every primary zone and of the catalog,
// so that it provisions them at once if it knows us already.
func (c *catalog) greetPeer(ctx context.Context, p peer) {
	// The catalog under its name to any consumer, under the legacy name
	// to zonekeeper nodes only (as notify_targets.go does).
	zones := append(c.primaryZones(), c.name)
	if p.Role == rolePeer && c.name != legacyCatalog {
		zones = append(zones, legacyCatalog)
	}
	t := notifyTarget{addr: p.Addr, source: "peer " + p.Name}
	if p.Key != "" {
		k, ok := c.keys.lookup(p.Key)
		if !ok {
			var err error
			if k, err = c.db.Keys().Get(ctx, p.Key); err != nil {
				c.report(slog.LevelWarn, api.Event{Kind: "notify-out", Peer: p.Addr.Addr().String(), Outcome: api.OutcomeError,
					Detail: fmt.Sprintf("peer %s not NOTIFYed: its key %s does not exist", p.Name, p.Key)})
				return
			}
		}
		t.key = &k
	}
	if t.addr.IsValid() && c.notifier.isSelf(t.addr) {
		return
	}
	sem := make(chan struct{}, greetParallel)
	var wg sync.WaitGroup
	for _, zone := range zones {
		snap := c.zones.Get(zone)
		if snap == nil || snap.SOA() == nil || snap.Expired() {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c.notifier.sendAll(ctx, zone, snap.SOA(), []notifyTarget{t}, c.notifier.demandTries)
		})
	}
	wg.Wait()
}

// report logs an event and records it.
func (c *catalog) report(level slog.Level, ev api.Event) {
	c.log.Log(context.Background(), level, ev.Detail, "kind", ev.Kind, "peer", ev.Peer)
	c.emit(ev)
}
