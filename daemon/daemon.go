package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sync/errgroup"

	"zonekeeper/zonefile"
)

// Daemon is a running zonekeeper server: the DNS listeners, the zones
// they answer from, and the loader that keeps primary zones in step with
// their files.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	zones  *Zones
	server *Server
	loader *loader
	ready  chan struct{}
}

// New prepares a daemon: it creates the data directories and binds every
// listen address, so that a port already in use is reported before
// anything is served.
func New(cfg Config, log *slog.Logger) (*Daemon, error) {
	for _, dir := range []string{cfg.Data, cfg.ZonesDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	zones := NewZones()
	srv := NewServer(ServerConfig{
		Listen:         cfg.Listen,
		UDPSize:        uint16(cfg.UDPSize),
		TCPIdleTimeout: cfg.TCPIdleTimeout,
		Logger:         log,
	}, zones)
	if err := srv.Listen(); err != nil {
		return nil, err
	}
	return &Daemon{
		cfg:    cfg,
		log:    log,
		zones:  zones,
		server: srv,
		loader: newLoader(cfg.ZonesDir(), zones, log),
		ready:  make(chan struct{}),
	}, nil
}

// Zones returns the registry of served zones.
func (d *Daemon) Zones() *Zones { return d.zones }

// Server returns the DNS server, for its bound addresses.
func (d *Daemon) Server() *Server { return d.server }

// Ready is closed once the zones are loaded and watched.
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

// Reload rescans the zones directory and reloads every changed file, as
// SIGHUP asks.
func (d *Daemon) Reload() {
	d.log.Info("reloading every zone")
	d.loader.loadAll()
}

// Run serves until ctx is cancelled.
func (d *Daemon) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	watcher := &zonefile.Watcher{
		Dir:     d.cfg.ZonesDir(),
		Changed: d.loader.changed,
		Ready: func() {
			// Load after the watch is in place so that no edit falls
			// between the scan and the watch.
			d.loader.loadAll()
			close(d.ready)
		},
	}
	g.Go(func() error { return watcher.Run(ctx) })
	g.Go(func() error { return d.server.Run(ctx) })
	for _, a := range d.server.Addrs() {
		d.log.Info("listening", "addr", a.String())
	}
	return g.Wait()
}
