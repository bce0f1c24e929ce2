package daemon

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	zones *Zones
	log   *slog.Logger
	emit  func(api.Event) // activity log; may be nil

	// register is called when a zonefile loads for the first time; the
	// daemon records the zone in the store. May be nil.
	register func(origin string)

	// onVersion is called, l.mu held, after a new version of a zone is
	// served by snap: first on the zone's first load since start, else
	// oldSerial is the serial of the version it replaced. May be nil.
	onVersion func(first bool, oldSerial uint32, snap *Snapshot)

	mu    sync.Mutex            // serialises reloads (watcher and SIGHUP)
	files map[string]*fileState // by zonefile name, e.g. "example.org.zone"

	loads atomic.Int64 // zonefile parses, for tests and metrics
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

func newLoader(dir string, zones *Zones, log *slog.Logger, emit func(api.Event)) *loader {
	if emit == nil {
		emit = func(api.Event) {}
	}
	return &loader{dir: dir, zones: zones, log: log, emit: emit, files: make(map[string]*fileState)}
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
			if st.served && l.zones.Delete(st.origin) {
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

	l.loads.Add(1)
	z, findings, err := zonefile.Load(path, origin)
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
	l.install(name, z, findings)
}

// install serves z, the valid zone just read from the zonefile name,
// unless it is what is served already. l.mu is held.
func (l *loader) install(name string, z *zonefile.Zone, findings zonefile.Findings) {
	path := filepath.Join(l.dir, name)
	origin := zonefile.OriginFromPath(name)
	st := l.files[name]
	// The digest tells a touched file from a changed one. A zone's first
	// version has nothing to compare with: it is hashed once it is
	// served, so that start-up does not wait for it.
	var digest [sha256.Size]byte
	if st != nil && st.served {
		if digest = zoneDigest(z); st.digest == digest {
			st.lastErr = ""
			return // touched, not changed
		}
	}
	for _, f := range findings.Warnings() {
		l.log.Warn(f.String(), "zone", origin)
		l.emit(api.Event{Zone: origin, Kind: "reload-warning", Outcome: api.OutcomeWarning, Serial: z.Serial(), Detail: f.String()})
	}
	snap, err := Compile(z)
	if err != nil {
		l.log.Error("zone reload failed: "+err.Error(), "zone", origin, "file", path)
		return
	}
	if st != nil && st.served && !zonefile.SerialGreater(z.Serial(), st.serial) {
		l.log.Warn("zone content changed but its SOA serial did not increase: secondaries will not fetch this version until the serial increases",
			"zone", origin, "file", path, "serial", z.Serial(), "previous_serial", st.serial)
		l.emit(api.Event{Zone: origin, Kind: "serial-not-increased", Outcome: api.OutcomeWarning, Serial: z.Serial(),
			Detail: fmt.Sprintf("content changed but the serial went from %d to %d: secondaries will not fetch it until the serial increases", st.serial, z.Serial())})
	}
	l.zones.Set(snap)
	if st == nil {
		st = &fileState{origin: origin}
		l.files[name] = st
	}
	if !st.served && l.register != nil {
		l.register(origin)
	}
	verb := "zone loaded"
	if st.served {
		verb = "zone reloaded"
	}
	old, first := st.serial, !st.served
	if first {
		digest = zoneDigest(z)
	}
	st.digest, st.serial, st.includes, st.served, st.records, st.lastErr = digest, z.Serial(), z.Includes, true, len(z.Records), ""
	l.log.Info(verb, "zone", origin, "serial", z.Serial(), "records", len(z.Records), "file", path)
	detail := fmt.Sprintf("%d records from %s", len(z.Records), path)
	if verb == "zone reloaded" {
		detail = fmt.Sprintf("serial %d -> %d, %s", old, z.Serial(), detail)
	}
	l.emit(api.Event{Zone: origin, Kind: "reload", Outcome: api.OutcomeOK, Serial: z.Serial(), Detail: detail})
	if l.onVersion != nil {
		l.onVersion(first, old, snap)
	}
}

// zoneDigest hashes a zone's records in canonical wire form.
func zoneDigest(z *zonefile.Zone) [sha256.Size]byte {
	return zonefile.Digest(z)
}
