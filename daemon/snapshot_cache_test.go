package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// aligned returns a copy of b in 8-byte aligned memory, as readAligned
// leaves a cache file.
func aligned(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	words := make([]uint64, (len(b)+7)/8)
	out := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(b))
	copy(out, b)
	return out
}

// encodeCache returns the cache file of s.
func encodeCache(t testing.TB, s *Snapshot, stamp cacheStamp, meta cacheMeta) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeCache(&buf, s, stamp, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cacheZones are the zones the round trip is checked on: mixed case,
// wildcards, delegations with glue, CNAME chains and loops, MX and SRV
// targets, empty non-terminals, and the shape of the 1M-name zone.
func cacheZones(t testing.TB) map[string]*zonefile.Zone {
	return map[string]*zonefile.Zone{
		"mixed":       mixedZone(t),
		"example.org": exampleOrg(t),
		"big":         bigZone(3000),
		"example.net": testZone(t, "example.net.",
			"@ 600 SOA ns1.example.org. host.example.org. 1 7200 3600 1209600 900",
			"@ 600 NS ns1.example.org.",
			"www 600 A 198.51.100.1",
		),
	}
}

// queryNames returns the names worth asking of s: every name it holds,
// a name below each, and a few that do not exist.
func queryNames(s *Snapshot) []string {
	var names []string
	for n := range s.nodes {
		name, _ := readName(s.ownerName(int32(n)))
		names = append(names, name, "below."+name, "x.y."+name)
	}
	return append(names, "nothere."+s.origin, "nothere.sub.wild."+s.origin, strings.ToUpper("WwW."+s.origin))
}

// readName decodes a wire name.
func readName(w []byte) (string, error) {
	name, _, err := dns.UnpackDomainName(w, 0)
	return name, err
}

func TestCacheRoundTrip(t *testing.T) {
	qtypes := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeMX, dns.TypeTXT, dns.TypeCNAME, dns.TypeSOA,
		dns.TypeANY, dns.TypeDS, dns.TypeSRV, dns.TypeAXFR, dns.TypePTR}
	for name, z := range cacheZones(t) {
		t.Run(name, func(t *testing.T) {
			orig := mustCompile(t, z)
			stamp := cacheStamp{size: 1234, mtime: time.Now().UnixNano(), sum: sha256.Sum256([]byte(name))}
			meta := cacheMeta{records: len(z.Records), digest: zonefile.Digest(z)}
			b := encodeCache(t, orig, stamp, meta)
			got, h, err := decodeCache(aligned(b))
			if err != nil {
				t.Fatal(err)
			}
			if h.stamp != stamp || h.meta != meta {
				t.Errorf("stamp %+v meta %+v, want %+v %+v", h.stamp, h.meta, stamp, meta)
			}
			if got.origin != orig.origin || got.serial != orig.serial || !bytes.Equal(got.wire, orig.wire) ||
				!bytes.Equal(got.apexOwner, orig.apexOwner) || got.soaNeg != orig.soaNeg || got.ns != orig.ns ||
				got.expired != orig.expired || got.soa.String() != orig.soa.String() {
				t.Errorf("scalars differ:\n got %s %d %v %d %d %s\nwant %s %d %v %d %d %s", got.origin, got.serial, got.apexOwner, got.soaNeg, got.ns, got.soa,
					orig.origin, orig.serial, orig.apexOwner, orig.soaNeg, orig.ns, orig.soa)
			}
			if a, b := served(orig), served(got); !slices.Equal(a, b) {
				t.Fatalf("eachRecord differs: %d records, want %d", len(b), len(a))
			}

			// Every query gets the same reply, byte for byte.
			zo, zg := NewZones(), NewZones()
			zo.Set(orig)
			zg.Set(got)
			for _, full := range []bool{false, true} {
				ro, rg := newResponder(zo, 1232, full), newResponder(zg, 1232, full)
				for _, qname := range queryNames(orig) {
					for _, qt := range qtypes {
						m := question(qname, qt)
						q, err := m.Pack()
						if err != nil {
							t.Fatal(err)
						}
						for _, tcp := range []bool{false, true} {
							want := slices.Clone(ro.respond(q, tcp))
							if reply := rg.respond(q, tcp); !bytes.Equal(reply, want) {
								t.Fatalf("%s %s (full %v, tcp %v): replies differ", qname, dns.TypeToString[qt], full, tcp)
							}
						}
					}
				}
			}

			// An expired snapshot stays expired.
			b = encodeCache(t, orig.WithExpired(true), stamp, meta)
			if got, _, err = decodeCache(aligned(b)); err != nil || !got.Expired() {
				t.Errorf("expired snapshot: %v, expired %v", err, got != nil && got.Expired())
			}
		})
	}
}

func TestCacheDamage(t *testing.T) {
	s := mustCompile(t, exampleOrg(t))
	b := encodeCache(t, s, cacheStamp{size: 1}, cacheMeta{})
	for _, at := range []int{0, 9, 20, 60, 150, len(b) / 2, len(b) - 20, len(b) - 6} {
		bad := slices.Clone(b)
		bad[at] ^= 0x10
		if _, _, err := decodeCache(aligned(bad)); err == nil {
			t.Errorf("byte %d of %d flipped: decoded", at, len(b))
		}
	}
	for _, n := range []int{0, 10, cacheHeaderLen, len(b) / 2, len(b) - 1} {
		if _, _, err := decodeCache(aligned(b[:n])); err == nil {
			t.Errorf("truncated to %d of %d: decoded", n, len(b))
		}
	}
	other := slices.Clone(b)
	other[8]++ // the format version
	if _, _, err := decodeCache(aligned(other)); !errors.Is(err, errCacheStale) {
		t.Errorf("another format: %v, want stale", err)
	}
	other = slices.Clone(b)
	other[20]++ // the layout fingerprint
	if _, _, err := decodeCache(aligned(other)); !errors.Is(err, errCacheStale) {
		t.Errorf("another layout: %v, want stale", err)
	}
}

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
	cpath := filepath.Join(data, "cache", "example.org"+cacheExt)

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
			cpath := filepath.Join(data, "cache", "example.org"+cacheExt)
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
	if _, err := os.Stat(filepath.Join(data, "cache", "inc.test"+cacheExt)); !errors.Is(err, os.ErrNotExist) {
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
	cpath := filepath.Join(data, "cache", "example.org"+cacheExt)
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

// BenchmarkCacheDecode1M decodes the cache of a zone of the 1M-name test
// zone's shape, from memory: the file read itself is not timed.
func BenchmarkCacheDecode1M(b *testing.B) {
	s, err := Compile(bigZone(1000000))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeCache(&buf, s, cacheStamp{}, cacheMeta{}); err != nil {
		b.Fatal(err)
	}
	file := aligned(buf.Bytes())
	buf = bytes.Buffer{}
	s = nil
	b.SetBytes(int64(len(file)))
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := decodeCache(file); err != nil {
			b.Fatal(err)
		}
	}
}
