package daemon

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/api"
)

// The compiled zone cache (answer/snapshot_cache.go) as the loader uses it:
// a daemon restarted over the same data directory.

// cacheRun is one run of a daemon over a data directory that outlives it.
type cacheRun struct {
	*testDaemon
	stop func()
}

// runOver starts a daemon over the data directory data, with the config
// changed by configure (may be nil); stop ends it and waits, so that the
// next run of the test finds what it left.
func runOver(t *testing.T, data string, configure func(*Config)) *cacheRun {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Data = data
	cfg.Listen = []string{"127.0.0.1:0"}
	if configure != nil {
		configure(&cfg)
	}
	logs := &logBuffer{}
	d, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("daemon did not stop")
		}
	}
	t.Cleanup(stop)
	select {
	case <-d.Ready():
	case err := <-done:
		stopped = true
		t.Fatalf("daemon stopped: %v\n%s", err, logs)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon not ready")
	}
	td := &testDaemon{Daemon: d, addr: d.Server().Addrs()[0].String(), dir: cfg.ZonesDir(), cfg: cfg, logs: logs}
	return &cacheRun{testDaemon: td, stop: stop}
}

// cacheData returns a data directory holding files in DATA/zones.
func cacheData(t *testing.T, files map[string]string) string {
	t.Helper()
	data := t.TempDir()
	if err := os.MkdirAll(filepath.Join(data, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(data, "zones", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

// answerA returns the A record data the daemon answers for name.
func answerA(t *testing.T, td *testDaemon, name string) string {
	t.Helper()
	r := td.query(t, name, dns.TypeA)
	if len(r.Answer) == 0 {
		return ""
	}
	return r.Answer[0].(*dns.A).A.String()
}

func TestZoneCacheRestart(t *testing.T) {
	data := cacheData(t, map[string]string{"example.org.zone": zoneText(1, "big IN TXT hello\n")})
	cpath := filepath.Join(data, "cache", "example.org"+answer.CacheExt)

	first := runOver(t, data, nil)
	if n := first.loader.loads.Load(); n != 1 {
		t.Fatalf("%d parses at the first start, want 1", n)
	}
	first.stop()
	if _, err := os.Stat(cpath); err != nil {
		t.Fatalf("no cache after the first run: %v", err)
	}

	second := runOver(t, data, nil)
	if n := second.loader.loads.Load(); n != 0 {
		t.Errorf("%d parses at a restart with a valid cache, want 0\n%s", n, second.logs)
	}
	if !strings.Contains(second.logs.String(), "zone loaded from cache") {
		t.Errorf("the log does not say the zone came from the cache:\n%s", second.logs)
	}
	if got := answerA(t, second.testDaemon, "www.example.org."); got != "127.0.0.2" {
		t.Errorf("www: %q", got)
	}
	if s := second.serial(t, "example.org."); s != 1 {
		t.Errorf("serial %d", s)
	}
	z, ok := second.loader.get("example.org.")
	if !ok || !z.loaded || z.records != 5 || z.serial != 1 {
		t.Errorf("loader view %+v", z)
	}

	// A reload of the zone once served reads the file again, and the
	// digest from the cache tells it nothing changed.
	second.loader.loadAll()
	if n := second.loader.loads.Load(); n != 1 {
		t.Errorf("%d parses after a reload, want 1", n)
	}
	if strings.Contains(second.logs.String(), "zone reloaded") {
		t.Errorf("an unchanged file reloaded a new version:\n%s", second.logs)
	}
	second.stop()
}

func TestZoneCacheSameStampNewContent(t *testing.T) {
	data := cacheData(t, map[string]string{"example.org.zone": zoneText(1, "")})
	path := filepath.Join(data, "zones", "example.org.zone")
	runOver(t, data, nil).stop()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Same size, same time, other content.
	text := strings.Replace(zoneText(1, ""), "127.0.0.2", "127.0.0.3", 1)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.Stat(path); now.Size() != fi.Size() || !now.ModTime().Equal(fi.ModTime()) {
		t.Fatal("stamp not kept")
	}

	r := runOver(t, data, nil)
	if n := r.loader.loads.Load(); n != 1 {
		t.Errorf("%d parses, want 1: the hash should have refused the cache", n)
	}
	if got := answerA(t, r.testDaemon, "www.example.org."); got != "127.0.0.3" {
		t.Errorf("www: %q, want the file's new address", got)
	}
	if !strings.Contains(r.logs.String(), "content changed") {
		t.Errorf("the log does not say why the cache was not used:\n%s", r.logs)
	}
	r.stop()

	// The parse wrote the cache of the new content.
	r = runOver(t, data, nil)
	if n := r.loader.loads.Load(); n != 0 {
		t.Errorf("%d parses after the cache was rewritten, want 0", n)
	}
	if got := answerA(t, r.testDaemon, "www.example.org."); got != "127.0.0.3" {
		t.Errorf("www from the new cache: %q", got)
	}
}

func TestZoneCacheDamaged(t *testing.T) {
	for _, damage := range []struct {
		name string
		do   func([]byte) []byte
	}{
		{"flipped", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-100] }},
		{"empty", func(b []byte) []byte { return nil }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			data := cacheData(t, map[string]string{"example.org.zone": zoneText(1, "")})
			cpath := filepath.Join(data, "cache", "example.org"+answer.CacheExt)
			runOver(t, data, nil).stop()
			b, err := os.ReadFile(cpath)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cpath, damage.do(slices.Clone(b)), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runOver(t, data, nil)
			if n := r.loader.loads.Load(); n != 1 {
				t.Errorf("%d parses with a damaged cache, want 1", n)
			}
			if got := answerA(t, r.testDaemon, "www.example.org."); got != "127.0.0.2" {
				t.Errorf("www: %q", got)
			}
			r.stop()
			if now, err := os.ReadFile(cpath); err != nil || !bytes.Equal(now, b) {
				t.Errorf("the damaged cache was not replaced by a good one (%v)", err)
			}
			r = runOver(t, data, nil)
			if n := r.loader.loads.Load(); n != 0 {
				t.Errorf("%d parses with the replaced cache, want 0", n)
			}
		})
	}
}

func TestZoneCacheOff(t *testing.T) {
	data := cacheData(t, map[string]string{"example.org.zone": zoneText(1, "")})
	off := func(c *Config) { c.ZoneCache = false }
	r := runOver(t, data, off)
	r.stop()
	if _, err := os.Stat(filepath.Join(data, "cache")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("zone-cache no wrote DATA/cache (%v)", err)
	}
	runOver(t, data, nil).stop() // writes one
	r = runOver(t, data, off)
	if n := r.loader.loads.Load(); n != 1 {
		t.Errorf("zone-cache no: %d parses, want 1: the cache was read", n)
	}
}

func TestZoneCacheEditAndInclude(t *testing.T) {
	data := cacheData(t, map[string]string{
		"example.org.zone": zoneText(1, ""),
		"inc.test.zone":    "$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 900 604800 60\n$INCLUDE inc.part\n",
		"inc.part":         "@ IN NS ns1\nns1 IN A 127.0.0.1\n",
	})
	r := runOver(t, data, nil)
	if _, err := r.loader.edit("example.org.", api.EditRequest{Op: api.EditAdd, Name: "api", Type: "A", Data: []string{"127.0.0.10"}}, api.SerialIncrement, time.Now()); err != nil {
		t.Fatal(err)
	}
	r.stop()
	if _, err := os.Stat(filepath.Join(data, "cache", "inc.test"+answer.CacheExt)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a zone read with $INCLUDE was cached (%v)", err)
	}

	r = runOver(t, data, nil)
	if n := r.loader.loads.Load(); n != 1 {
		t.Errorf("%d parses, want 1 (the zone with $INCLUDE only)", n)
	}
	if got := answerA(t, r.testDaemon, "api.example.org."); got != "127.0.0.10" {
		t.Errorf("the edited record from the cache: %q", got)
	}
	if s := r.serial(t, "example.org."); s != 2 {
		t.Errorf("serial %d, want the edit's 2", s)
	}
	if s := r.serial(t, "inc.test."); s != 1 {
		t.Errorf("inc.test serial %d", s)
	}
}

func TestZoneCacheRemovedWithItsZone(t *testing.T) {
	data := cacheData(t, map[string]string{"example.org.zone": zoneText(1, "")})
	cpath := filepath.Join(data, "cache", "example.org"+answer.CacheExt)
	r := runOver(t, data, nil)
	waitFor(t, "the cache written", func() bool { _, err := os.Stat(cpath); return err == nil })
	if err := os.Remove(filepath.Join(data, "zones", "example.org.zone")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the zone removed", func() bool { return r.Zones().Get("example.org.") == nil })
	r.loader.flushCache()
	if _, err := os.Stat(cpath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cache outlived its zonefile (%v)", err)
	}
}
