package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"zonekeeper/daemon"
)

// runServe implements `zonekeeper serve`: built-in defaults, then the
// config file, then flags, each overriding the one before.
func runServe(args []string, stdout, stderr io.Writer) error {
	cfg, err := serveConfig(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	cfg.Version = version
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// runCtx also ends when Run fails by itself, so the loop below ends.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		ready := d.Ready()
		for {
			select {
			case <-runCtx.Done():
				notifyManager(log, "STOPPING=1")
				return
			case <-ready:
				ready = nil
				notifyManager(log, "READY=1\nSTATUS=serving")
			case <-hup:
				d.Reload()
			}
		}
	}()
	log.Info("zonekeeper starting", "data", cfg.Data, "zones", cfg.ZonesDir())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(runCtx) }()
	select {
	case err = <-ran:
	case <-runCtx.Done():
		// Stopping: whatever a reload or a transfer is doing, the
		// process ends within shutdown-timeout. Every file is replaced
		// atomically, so what is cut short leaves nothing half-written.
		select {
		case err = <-ran:
		case <-time.After(cfg.ShutdownTimeout):
			err = fmt.Errorf("the daemon did not stop within shutdown-timeout (%s): exiting anyway", cfg.ShutdownTimeout)
			log.Error(err.Error())
		}
	}
	cancel()
	<-loopDone
	log.Info("zonekeeper stopped")
	return err
}

// notifyManager tells the service manager about a state change, as
// sd_notify(3) does: systemd starts a Type=notify unit with NOTIFY_SOCKET
// naming a unix datagram socket (a leading @ means the abstract namespace,
// which Go's net package understands). Without NOTIFY_SOCKET it does
// nothing; a failure is logged, never fatal.
func notifyManager(log *slog.Logger, state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err == nil {
		_, err = conn.Write([]byte(state))
		conn.Close()
	}
	if err != nil {
		log.Warn("telling the service manager failed: "+err.Error(), "socket", path, "state", state)
	}
}

// serveConfig builds the configuration from defaults, the config file and
// the command line.
func serveConfig(args []string, stderr io.Writer) (daemon.Config, error) {
	cfg := daemon.DefaultConfig()
	fset := newFlagSet("serve", "serve [--config FILE] [--data DIR] [--listen ADDR]... [--control SOCK] [--health-interval DUR] [--ns-port N] [--KEY VALUE]...", stderr)
	configFile := fset.String("config", "", "config file (default "+daemon.DefaultConfigFile+" when it exists)")
	values := make(map[string]*string)
	var listen listFlag
	fset.Var(&listen, "listen", "address to answer DNS on, IP:PORT; repeat or comma-separate (default 127.0.0.1:5300)")
	for _, key := range daemon.ConfigKeys {
		if key == "listen" {
			continue
		}
		values[key] = fset.String(key, "", "the config file's `"+key+"` setting")
	}
	pos, err := parseInterspersed(fset, args)
	if err != nil {
		return cfg, err
	}
	if len(pos) > 0 {
		return cfg, fmt.Errorf("serve: unexpected argument %q", pos[0])
	}

	path := *configFile
	if path == "" {
		if _, err := os.Stat(daemon.DefaultConfigFile); err == nil {
			path = daemon.DefaultConfigFile
		} else if !errors.Is(err, fs.ErrNotExist) {
			return cfg, fmt.Errorf("config: %w", err)
		}
	}
	if path != "" {
		if err := cfg.ReadConfigFile(path); err != nil {
			return cfg, err
		}
	}
	var ferr error
	fset.Visit(func(f *flag.Flag) {
		if ferr != nil || f.Name == "config" || f.Name == "listen" {
			return
		}
		if err := cfg.Set(f.Name, *values[f.Name]); err != nil {
			ferr = fmt.Errorf("--%s: %w", f.Name, err)
		}
	})
	if ferr != nil {
		return cfg, ferr
	}
	if len(listen) > 0 {
		cfg.Listen = nil
		if err := cfg.Set("listen", strings.Join(listen, ",")); err != nil {
			return cfg, fmt.Errorf("--listen: %w", err)
		}
	}
	return cfg, nil
}
