package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"zonekeeper/daemon/listen"

	"zonekeeper/daemon/answer"

	"golang.org/x/sync/errgroup"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
	"zonekeeper/zonefile"
)

// Daemon is a running zonekeeper server: the DNS listeners, the zones
// they answer from, the loader that keeps primary zones in step with
// their files, the state store, the activity log and the control API.
type Daemon struct {
	cfg     Config
	log     *slog.Logger
	zones   *answer.Zones
	server  *listen.Server
	loader  *loader
	store   *store.DB
	events  *events
	traffic *trafficEvents // the limit of events from unauthenticated traffic: traffic.go
	// adminGID is control-admin-group's gid, -1 when unset (control_auth.go).
	adminGID int
	control  net.Listener

	keys        *keyring     // tsig.go
	commits     *committer   // commit.go: the one path of every zone change
	journal     *journal     // journal.go
	notifier    *notifier    // notify_out.go
	secondaries *secondaries // secondary.go
	peers       *peerSet     // peers.go
	health      *health      // health.go
	digests     *digester    // zone_digest.go: content digests of the served versions
	sigs        *sigWatch    // sigwatch.go: when the signed zones' signatures expire
	catalog     *catalog     // catalog.go
	reserved    *reservedSet // reserved.go: the servers whose TCP connections have slots of their own
	started     time.Time
	ready       chan struct{}
}

// New prepares a daemon: it creates the data directories, opens the state
// database, binds every listen address and the control socket, so that a
// port in use or a second daemon is reported before anything is served.
func New(cfg Config, log *slog.Logger) (d *Daemon, err error) {
	adminGID, err := adminGroup(cfg.ControlAdminGroup)
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{cfg.Data, cfg.ZonesDir(), scriptsDir(cfg.Data)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	db, err := store.Open(filepath.Join(cfg.Data, "state.db"), store.WithMaxEvents(cfg.EventsMax))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	if cfg.CatalogZone == "" {
		if cfg.CatalogZone, err = defaultCatalogZone(cfg.Data); err != nil {
			return nil, err
		}
	}
	zones := answer.NewZones()
	reserved := newReservedSet()
	srv := listen.NewServer(listen.ServerConfig{
		Listen:          cfg.Listen,
		UDPSize:         uint16(cfg.UDPSize),
		UDPWorkers:      cfg.UDPWorkers,
		TCPIdleTimeout:  cfg.TCPIdleTimeout,
		TCPWriteTimeout: cfg.tcpWriteTimeout,
		MaxTCPConns:     cfg.TCPMaxConns,
		MaxTCPPerAddr:   noLimit(cfg.TCPMaxPerAddr),
		MaxTCPPerPrefix: noLimit(cfg.TCPMaxPerPrefix),
		Reserved:        reserved.contains, // reserved.go
		RRL:             listen.RRLConfig{PerSecond: cfg.RRLRate, Slip: cfg.RRLSlip},
		Logger:          log,

		FastPath:        cfg.FastPath,
		FastPathEntries: cfg.FastPathEntries,
	}, zones)
	if err := srv.Listen(); err != nil {
		return nil, err
	}
	ctl, err := listenControl(cfg.ControlPath())
	if err != nil {
		srv.Close()
		return nil, err
	}
	d = &Daemon{
		cfg:      cfg,
		log:      log,
		zones:    zones,
		server:   srv,
		store:    db,
		events:   newEvents(db.Events(), log),
		control:  ctl,
		started:  time.Now().UTC(),
		adminGID: adminGID,
		ready:    make(chan struct{}),
	}
	d.traffic = newTrafficEvents(log, d.events.Emit)
	d.removeStaleTemps()
	if d.journal, err = newJournal(filepath.Join(cfg.Data, "journal"), log, d.events.Emit); err != nil {
		srv.Close()
		ctl.Close()
		return nil, err
	}
	d.commits = newCommitter(zones, d.journal, log, d.events.Emit)
	d.loader = newLoader(cfg.ZonesDir(), zones, log, d.events.Emit)
	d.loader.parse.MaxRecords = int(cfg.ZoneRecordLimit())
	d.loader.register = d.registerPrimary
	d.loader.commit = d.commits.commit
	d.loader.retire = func(origin string) bool { return d.commits.retire(origin, ownerZonefile, false) }
	if cfg.ZoneCache {
		d.loader.cacheDir = cfg.CacheDir()
	}
	d.keys = newKeyring(db.Keys(), log)
	d.peers = newPeerSet(db.Peers(), log)
	d.reserved = reserved
	d.loadReserved(context.Background())
	srv.SetSpecial(d) // NOTIFY, TSIG, transfers and EDNS EXPIRE: special.go
	d.notifier = newNotifier(d)
	d.secondaries = newSecondaries(d)
	d.notifier.secondaries = d.secondaries
	d.health = newHealth(d)
	d.catalog = newCatalog(d)
	d.commits.notify = d.notifier.zoneChanged
	d.commits.hold = d.health.holdFirstNotify
	d.commits.native = func(zone string) bool { return d.zoneKind(zone) == api.KindNative }
	d.digests = newDigester(log)
	d.commits.digest = d.digests.queue
	d.sigs = newSigWatch(d.zones, d.cfg.SignatureWarn, d.events.Emit)
	d.commits.signed = d.sigs.observe
	return d, nil
}

// noLimit turns a per-client TCP setting's 0 (no limit) into the
// listeners' -1.
func noLimit(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// removeStaleTemps removes the temporary files of atomic replaces that a
// crash interrupted (kill -9 during a transfer's or an edit's write),
// before anything of this start writes, and says which.
func (d *Daemon) removeStaleTemps() {
	var all []string
	for _, sub := range []string{"zones", "secondary", "journal", "cache", "backup"} {
		dir := filepath.Join(d.cfg.Data, sub)
		if sub == "zones" {
			dir = d.cfg.ZonesDir()
		}
		removed, err := zonefile.RemoveStaleTemps(dir)
		if err != nil {
			d.log.Warn("removing interrupted writes: "+err.Error(), "dir", dir)
		}
		all = append(all, removed...)
	}
	if len(all) == 0 {
		return
	}
	detail := fmt.Sprintf("removed %d temporary file(s) of writes interrupted before this start: %s", len(all), strings.Join(all, ", "))
	d.log.Info(detail)
	d.events.Emit(api.Event{Kind: "cleanup", Outcome: api.OutcomeOK, Detail: detail})
}

// registerPrimary records a zone found in DATA/zones in the store, as a
// primary, the first time it loads.
func (d *Daemon) registerPrimary(origin string) {
	ctx := context.Background()
	if _, err := d.store.Zones().Get(ctx, origin); !errors.Is(err, store.ErrNotFound) {
		return
	}
	if err := d.store.Zones().Put(ctx, store.Zone{Name: origin, Kind: store.ZoneKind(api.KindPrimary)}); err != nil {
		d.log.Error("registering zone: "+err.Error(), "zone", origin)
	}
}

// Zones returns the registry of served zones.
func (d *Daemon) Zones() *answer.Zones { return d.zones }

// Server returns the DNS server, for its bound addresses.
func (d *Daemon) Server() *listen.Server { return d.server }

// Ready is closed once the zones are loaded and watched.
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

// Reload rescans the zones directory and reloads every changed file, as
// SIGHUP asks.
func (d *Daemon) Reload() {
	d.log.Info("reloading every zone")
	d.events.Emit(api.Event{Kind: "reload-all", Outcome: api.OutcomeOK, Detail: "rescanning " + d.cfg.ZonesDir()})
	d.loader.loadAll()
}

// Run serves until ctx is cancelled, then stops every part and closes the
// state database.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.store.Close()
	// The event writer outlives the other parts so that their last
	// events are recorded.
	evctx, stopEvents := context.WithCancel(context.Background())
	evdone := make(chan error, 1)
	go func() { evdone <- d.events.Run(evctx) }()
	defer func() {
		stopEvents()
		<-evdone
	}()

	g, ctx := errgroup.WithContext(ctx)
	watcher := &zonefile.Watcher{
		Dir:     d.cfg.ZonesDir(),
		Changed: d.loader.changed,
		Ready: func() {
			// Load after the watch is in place so that no edit falls
			// between the scan and the watch.
			restore := tightGC()
			d.loader.loadAll()
			restore()
			close(d.ready)
			// Parsing left garbage several times the size of what is
			// served: hand it back to the system now rather than over
			// the scavenger's minutes, so the resident size after start
			// is what the zones need.
			go debug.FreeOSMemory()
		},
	}
	g.Go(func() error { return watcher.Run(ctx) })
	g.Go(func() error { return d.server.Run(ctx) })
	g.Go(func() error { return d.serveControl(ctx, d.control) })
	g.Go(func() error { return d.notifier.Run(ctx) })
	g.Go(func() error { return d.secondaries.Run(ctx) })
	g.Go(func() error { return d.health.Run(ctx) })
	g.Go(func() error { return d.digests.Run(ctx) })
	g.Go(func() error { return d.sigs.Run(ctx) })
	g.Go(func() error { return d.catalog.Run(ctx) })
	g.Go(func() error { return d.traffic.Run(ctx) })
	g.Go(func() error { return d.runReserved(ctx) })
	listen := ""
	for _, a := range d.server.Addrs() {
		d.log.Info("listening", "addr", a.String())
		listen += " " + a.String()
	}
	d.log.Info("control socket", "path", d.cfg.ControlPath())
	d.events.Emit(api.Event{Kind: "start", Outcome: api.OutcomeOK, Detail: "zonekeeper " + d.cfg.Version + " listening on" + listen})
	err := g.Wait()
	d.loader.flushCache()
	d.events.Emit(api.Event{Kind: "stop", Outcome: api.OutcomeOK, Detail: "zonekeeper stopped"})
	return err
}
