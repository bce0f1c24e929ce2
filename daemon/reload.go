package daemon

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"zonekeeper/daemon/answer"

	"zonekeeper/daemon/api"
	"zonekeeper/zonefile"
)

// zoneFileExt is the extension of primary zonefiles in DATA/zones.
const zoneFileExt = ".zone"

// loader keeps the primary zones of one directory in step with its
// files: it parses and validates a changed file into a new snapshot and
// swaps it in only when it is valid, so a broken edit never replaces
// the zone being served.
type loader struct {
	dir   string
	zones *answer.Zones
	log   *slog.Logger
	emit  func(api.Event) // activity log; may be nil

	// register is called when a zonefile loads for the first time; the
	// daemon records the zone in the store. May be nil.
	register func(origin string)

	// commit serves a new version (commit.go): the loader's changes
	// take the one commit path. retire stops serving a zone whose file
	// is gone, unless another part serves it now. newLoader's defaults
	// only swap snapshots, for tests of the loader alone.
	commit func(change) error
	retire func(origin string) bool

	// parse reads the zonefiles within zone-max-records.
	parse zonefile.Loader

	mu    sync.Mutex            // serialises reloads (watcher and SIGHUP)
	files map[string]*fileState // by zonefile name, e.g. "example.org.zone"

	loads atomic.Int64 // zonefile parses, for tests and metrics

	// cacheDir holds the compiled caches of the zones (DATA/cache); ""
	// when zone-cache is no.
	cacheDir   string
	cacheGenMu sync.Mutex
	cacheGen   map[string]uint64 // by cache path: the latest write or removal asked for
	cacheWrite sync.Mutex        // serialises cache writes, so that the latest lands last
	cacheBusy  sync.WaitGroup    // cache writes under way
}

// fileState is what the loader knows of one zonefile.
type fileState struct {
	origin   string
	records  int               // of the served version; the records themselves are in its snapshot
	lastErr  string            // why the file last failed to load; "" when it loaded
	digest   [sha256.Size]byte // of the served records, to skip no-op reloads
	serial   uint32
	includes []string
	served   bool

	// written identifies the file as an edit through the daemon wrote
	// it, that edit's version already served: the watcher's event for
	// that write then costs no parse. Cleared by the next reload.
	written fileStamp
}

// fileStamp tells one write of a file from another: size and
// modification time. The kernel's file clock is coarse (a few
// milliseconds), so it only ever confirms a write the daemon made
// itself, never that an operator's file is unchanged.
type fileStamp struct {
	size  int64
	mtime time.Time
}

// stampOf returns the stamp of the file at path; zero when it cannot be read.
func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime()}
}

func newLoader(dir string, zones *answer.Zones, log *slog.Logger, emit func(api.Event)) *loader {
	if emit == nil {
		emit = func(api.Event) {}
	}
	c := newCommitter(zones, nil, log, emit)
	return &loader{dir: dir, zones: zones, log: log, emit: emit, files: make(map[string]*fileState),
		commit: c.commit,
		retire: func(origin string) bool { return c.retire(origin, ownerZonefile, false) },
	}
}

// fileZone is what the loader knows of one zonefile, for the control API.
type fileZone struct {
	origin  string
	path    string
	loaded  bool   // a version of the file is served
	serial  uint32 // the served version's, when loaded
	records int    // the served version's, when loaded
	lastErr string
}

// view is what st says of its zonefile name.
func (l *loader) view(name string, st *fileState) fileZone {
	return fileZone{origin: st.origin, path: filepath.Join(l.dir, name), loaded: st.served, serial: st.serial, records: st.records, lastErr: st.lastErr}
}

// list returns the zonefiles the loader knows, loaded or not.
func (l *loader) list() []fileZone {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]fileZone, 0, len(l.files))
	for name, st := range l.files {
		out = append(out, l.view(name, st))
	}
	return out
}

// get returns what the loader knows of one origin's zonefile.
func (l *loader) get(origin string) (fileZone, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	name := fileNameOf(origin)
	st := l.files[name]
	if st == nil {
		return fileZone{}, false
	}
	return l.view(name, st), true
}

// loadAll rescans the directory: new files are loaded, changed ones
// reloaded, missing ones unloaded.
func (l *loader) loadAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := l.zoneFileNames()
	for name := range l.files {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		l.reloadFile(name)
	}
}

// changed handles the file names a watcher reported.
func (l *loader) changed(names []string) {
	if slices.Contains(names, "*") {
		l.loadAll()
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	todo := make(map[string]bool)
	for _, name := range names {
		if strings.HasSuffix(name, zoneFileExt) {
			todo[name] = true
		}
		// A changed $INCLUDE file reloads the zones that read it.
		for file, st := range l.files {
			if slices.Contains(st.includes, name) {
				todo[file] = true
			}
		}
	}
	for name := range todo {
		l.reloadFile(name)
	}
}

// zoneFileNames lists the zonefiles of the directory.
func (l *loader) zoneFileNames() []string {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		l.log.Error("cannot read the zones directory", "dir", l.dir, "err", err)
		return nil
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, zoneFileExt) && !strings.HasPrefix(n, ".") && !e.IsDir() {
			names = append(names, n)
		}
	}
	return names
}

// reloadFile brings one zonefile's zone in step with the file. l.mu is held.
func (l *loader) reloadFile(name string) {
	path := filepath.Join(l.dir, name)
	origin := zonefile.OriginFromPath(name)
	st := l.files[name]

	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if st != nil {
			delete(l.files, name)
			l.dropCache(name)
			if st.served && l.retire(st.origin) {
				l.log.Info("zone removed: its file is gone", "zone", st.origin, "file", path)
				l.emit(api.Event{Zone: st.origin, Kind: "zone-unload", Outcome: api.OutcomeWarning,
					Detail: "no longer served: " + path + " is gone"})
			}
		}
		return
	}
	if st != nil && st.written != (fileStamp{}) {
		own := st.written == stampOf(path)
		st.written = fileStamp{}
		if own {
			return // the edit that wrote it installed this very version
		}
	}

	if l.cacheDir != "" && (st == nil || !st.served) && l.loadCached(name) {
		return
	}

	before := stampOf(path)
	l.loads.Add(1)
	p, findings, err := l.parse.LoadPacked(path, origin)
	if err != nil {
		attrs := []any{"zone", origin, "file", path}
		if st != nil && st.served {
			attrs = append(attrs, "serving_serial", st.serial)
		}
		var inv *zonefile.InvalidError
		var why []string
		if errors.As(err, &inv) {
			for _, f := range inv.Errors {
				l.log.Error("zone reload failed: "+f.String(), attrs...)
				why = append(why, f.String())
			}
		} else {
			l.log.Error("zone reload failed: "+err.Error(), attrs...)
			why = append(why, err.Error())
		}
		detail := strings.Join(why, "; ")
		if st == nil {
			st = &fileState{origin: origin}
			l.files[name] = st
		}
		st.lastErr = why[0]
		if st.served {
			l.log.Warn("zone keeps serving its previous version", attrs...)
			detail += fmt.Sprintf("; still serving serial %d", st.serial)
		}
		l.emit(api.Event{Zone: origin, Kind: "reload-error", Outcome: api.OutcomeError, Detail: detail})
		return
	}
	// Only these of p outlive the compile: the zone's records are let go
	// of before the journal packs the served version.
	sum, includes := p.FileSum, len(p.Includes) > 0
	if snap := l.install(name, p, findings, nil); snap != nil {
		l.cacheParsed(name, snap, sum, includes, before)
	}
}

// install serves p, the valid zone just read from the zonefile name (or,
// with write, about to be written there by an edit), unless it is what is
// served already. It returns the snapshot that serves p, nil when p could
// not be served. l.mu is held.
func (l *loader) install(name string, p *zonefile.Packed, findings zonefile.Findings, write func() error) *answer.Snapshot {
	path := filepath.Join(l.dir, name)
	origin := zonefile.OriginFromPath(name)
	st := l.files[name]
	// The digest tells a touched file from a changed one. A zone's first
	// version has nothing to compare with: it is hashed once it is
	// served, so that start-up does not wait for it.
	var digest [sha256.Size]byte
	if st != nil && st.served {
		if digest = zoneDigest(p); st.digest == digest {
			st.lastErr = ""
			// Touched, not changed.
			if snap := l.zones.Get(st.origin); snap != nil && snap.Serial() == st.serial {
				return snap
			}
			return nil
		}
	}
	if warnings := findings.Warnings(); len(warnings) > 0 {
		serial := p.Serial()
		for _, f := range warnings {
			l.log.Warn(f.String(), "zone", origin)
			l.emit(api.Event{Zone: origin, Kind: "reload-warning", Outcome: api.OutcomeWarning, Serial: serial, Detail: f.String()})
		}
	}
	snap, err := answer.CompilePacked(p)
	if err != nil {
		l.log.Error("zone reload failed: "+err.Error(), "zone", origin, "file", path)
		return nil
	}
	if serial := snap.Serial(); st != nil && st.served && !zonefile.SerialGreater(serial, st.serial) {
		l.log.Warn("zone content changed but its SOA serial did not increase: secondaries will not fetch this version until the serial increases",
			"zone", origin, "file", path, "serial", serial, "previous_serial", st.serial)
		l.emit(api.Event{Zone: origin, Kind: "serial-not-increased", Outcome: api.OutcomeWarning, Serial: serial,
			Detail: fmt.Sprintf("content changed but the serial went from %d to %d: secondaries will not fetch it until the serial increases", st.serial, serial)})
	}
	first := st == nil || !st.served
	if !l.serve(name, snap, p.Len(), p.Includes, func() [sha256.Size]byte {
		if first {
			return zoneDigest(p)
		}
		return digest
	}, false, write) {
		return nil
	}
	return snap
}

// serve commits snap for the zonefile name and records it as the served
// version: records and includes are the zone's, digest returns its
// zonefile.Digest (called once snap is served, so that start-up does not
// wait for it). cached says snap was read from the compiled cache; write,
// when set, writes the zonefile first (an edit). It reports whether snap
// is served. l.mu is held.
func (l *loader) serve(name string, snap *answer.Snapshot, records int, includes []string, digest func() [sha256.Size]byte, cached bool, write func() error) bool {
	path := filepath.Join(l.dir, name)
	origin := snap.Origin()
	st := l.files[name]
	if st == nil {
		st = &fileState{origin: origin}
		l.files[name] = st
	}
	verb := "zone loaded"
	switch {
	case cached:
		verb = "zone loaded from cache"
	case st.served:
		verb = "zone reloaded"
	}
	old, first := st.serial, !st.served
	serial := snap.Serial()
	detail := fmt.Sprintf("%d records from %s", records, path)
	switch {
	case cached:
		detail = fmt.Sprintf("zone loaded from cache: %d records, compiled from %s", records, path)
	case !first:
		detail = fmt.Sprintf("serial %d -> %d, %s", old, serial, detail)
	}
	if first && l.register != nil {
		l.register(origin)
	}
	err := l.commit(change{snap: snap, owner: ownerZonefile, first: first, write: write,
		event: api.Event{Zone: origin, Kind: "reload", Outcome: api.OutcomeOK, Serial: serial, Detail: detail}})
	if err != nil {
		l.log.Error("zone reload failed: "+err.Error(), "zone", origin, "file", path)
		l.emit(api.Event{Zone: origin, Kind: "reload-error", Outcome: api.OutcomeError, Serial: serial, Detail: err.Error()})
		return false
	}
	st.digest, st.serial, st.includes, st.served, st.records, st.lastErr = digest(), serial, includes, true, records, ""
	l.log.Info(verb, "zone", origin, "serial", serial, "records", records, "file", path)
	return true
}

// zoneDigest hashes a zone's records in canonical wire form: the
// zonefile.Digest of the zone p was packed from.
func zoneDigest(p *zonefile.Packed) [sha256.Size]byte {
	return p.Digest()
}

// cachePath returns the compiled cache file of the zonefile name.
func (l *loader) cachePath(name string) string {
	base := strings.TrimSuffix(zonefile.OriginFromPath(name), ".")
	if base == "" {
		base = "_root"
	}
	return filepath.Join(l.cacheDir, base+answer.CacheExt)
}

// loadCached serves the zonefile name from its compiled cache when the
// cache was compiled from the file as it is now, and reports whether it
// did. A cache that does not match is removed: the parse that follows
// writes a new one. l.mu is held.
func (l *loader) loadCached(name string) bool {
	path, cpath := filepath.Join(l.dir, name), l.cachePath(name)
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	stamp := answer.CacheStamp{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
	snap, meta, err := answer.LoadCache(cpath, stamp, func() ([sha256.Size]byte, error) { return answer.HashFile(path) })
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false
	case err != nil:
		l.log.Info("zone cache not used: "+err.Error(), "zone", zonefile.OriginFromPath(name), "cache", cpath)
		l.dropCache(name)
		return false
	case snap.Origin() != zonefile.OriginFromPath(name):
		l.log.Info("zone cache not used: it holds another zone", "zone", zonefile.OriginFromPath(name), "cache", cpath)
		l.dropCache(name)
		return false
	}
	if !l.serve(name, snap, meta.Records, nil, func() [sha256.Size]byte { return meta.Digest }, true, nil) {
		return false
	}
	return true
}

// cacheParsed writes the compiled cache of snap, the zone just parsed
// from the zonefile name whose stamp was before when the parse began
// (includes: it read $INCLUDE files, and is not cached). The cache is
// stamped with sum, the SHA-256 of the bytes parsed,
// provided the file's size and time are still those of before: a file
// written meanwhile is not the one parsed, and is reloaded anyway.
// l.mu is held.
func (l *loader) cacheParsed(name string, snap *answer.Snapshot, sum [sha256.Size]byte, includes bool, before fileStamp) {
	if l.cacheDir == "" {
		return
	}
	if includes {
		// The stamp covers one file, not those it includes.
		l.dropCache(name)
		return
	}
	path := filepath.Join(l.dir, name)
	// The sum is of the very bytes parsed: if the file changed after the
	// stamp was taken without the stamp showing it (the kernel's file
	// clock is coarse), the next start finds its sum differs and parses.
	l.saveCache(name, snap, func() (answer.CacheStamp, bool) {
		if sum == ([sha256.Size]byte{}) || before == (fileStamp{}) || stampOf(path) != before {
			return answer.CacheStamp{}, false
		}
		return answer.CacheStamp{Size: before.size, Mtime: before.mtime.UnixNano(), Sum: sum}, true
	})
}

// cacheWritten writes the compiled cache of snap, the version an edit
// through the daemon installed after writing text to the zonefile name,
// which then had stamp written. l.mu is held.
func (l *loader) cacheWritten(name string, snap *answer.Snapshot, written fileStamp, text []byte) {
	if l.cacheDir == "" || snap == nil {
		return
	}
	path := filepath.Join(l.dir, name)
	l.saveCache(name, snap, func() (answer.CacheStamp, bool) {
		if written == (fileStamp{}) || int64(len(text)) != written.size || stampOf(path) != written {
			return answer.CacheStamp{}, false
		}
		return answer.CacheStamp{Size: written.size, Mtime: written.mtime.UnixNano(), Sum: sha256.Sum256(text)}, true
	})
}

// saveCache writes the cache of snap, served for the zonefile name, in
// the background, with the loader's bookkeeping of it; stamp returns the
// stamp of the zonefile snap was compiled from, false when it cannot be
// known (the cache is then removed). A write superseded by a later one
// before it starts is skipped. l.mu is held.
func (l *loader) saveCache(name string, snap *answer.Snapshot, stamp func() (answer.CacheStamp, bool)) {
	st := l.files[name]
	if st == nil || !st.served || st.serial != snap.Serial() {
		return
	}
	meta := answer.CacheMeta{Records: st.records, Digest: st.digest}
	cpath := l.cachePath(name)
	gen := l.nextCacheGen(cpath)
	origin := snap.Origin()
	l.cacheBusy.Add(1)
	go func() {
		defer l.cacheBusy.Done()
		l.cacheWrite.Lock()
		defer l.cacheWrite.Unlock()
		if !l.cacheCurrent(cpath, gen) {
			return
		}
		s, ok := stamp()
		if !ok {
			os.Remove(cpath)
			l.log.Debug("zone cache not written: the zonefile changed after it was read", "zone", origin)
			return
		}
		if !l.cacheCurrent(cpath, gen) {
			return
		}
		if err := os.MkdirAll(l.cacheDir, 0o755); err != nil {
			l.log.Warn("zone cache not written: "+err.Error(), "zone", origin)
			return
		}
		if err := zonefile.ReplaceFile(cpath, func(w io.Writer) error { return answer.WriteCache(w, snap, s, meta) }); err != nil {
			l.log.Warn("zone cache not written: "+err.Error(), "zone", origin)
			return
		}
		l.log.Debug("zone cache written", "zone", origin, "serial", snap.Serial(), "cache", cpath)
	}()
}

// dropCache removes the compiled cache of the zonefile name, in the
// background after any write of it under way.
func (l *loader) dropCache(name string) {
	if l.cacheDir == "" {
		return
	}
	cpath := l.cachePath(name)
	gen := l.nextCacheGen(cpath)
	l.cacheBusy.Add(1)
	go func() {
		defer l.cacheBusy.Done()
		l.cacheWrite.Lock()
		defer l.cacheWrite.Unlock()
		if l.cacheCurrent(cpath, gen) {
			os.Remove(cpath)
		}
	}()
}

// nextCacheGen numbers a new write or removal of the cache file cpath.
func (l *loader) nextCacheGen(cpath string) uint64 {
	l.cacheGenMu.Lock()
	defer l.cacheGenMu.Unlock()
	if l.cacheGen == nil {
		l.cacheGen = make(map[string]uint64)
	}
	l.cacheGen[cpath]++
	return l.cacheGen[cpath]
}

// cacheCurrent reports whether gen is the latest write or removal asked
// of cpath.
func (l *loader) cacheCurrent(cpath string, gen uint64) bool {
	l.cacheGenMu.Lock()
	defer l.cacheGenMu.Unlock()
	return l.cacheGen[cpath] == gen
}

// flushCache waits for the cache writes under way, so that a stopping
// daemon leaves complete files and no goroutine behind.
func (l *loader) flushCache() { l.cacheBusy.Wait() }
