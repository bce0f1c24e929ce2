package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/zonefile"
)

// The data of secondary zones on disk: DATA/secondary/<zone>.zone, read
// at start and replaced only by a complete transfer that is valid as a
// zone. The file is written atomically (zonefile.ReplaceFile) after the
// new version compiled, and before it is served, so a restart serves
// what was served before it.

// secondaryDir is where transferred zones are kept.
func (s *secondaries) secondaryDir() string { return filepath.Join(s.data, "secondary") }

// secondaryPath is the file of one secondary zone.
func (s *secondaries) secondaryPath(zone string) string {
	return filepath.Join(s.secondaryDir(), fileNameOf(zone))
}

// loadFile reads a secondary zone's file; a missing file is (nil, nil).
// The zone is read packed: a secondary keeps no dns.RR of its version.
func (s *secondaries) loadFile(zone string) (*answer.Snapshot, error) {
	path := s.secondaryPath(zone)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	p, _, err := zonefile.LoadPacked(path, zone)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, firstError(err))
	}
	snap, err := answer.CompilePacked(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return snap, nil
}

// secVersion is a transferred zone ready to be written and served: its
// compiled snapshot, which is all that is kept of it (the file is
// written from it too).
type secVersion struct {
	snap *answer.Snapshot
	n    int // records
}

// records is the number of records of the version.
func (v *secVersion) records() int { return v.n }

// prepare validates transferred records by the rules a zonefile is
// validated by and compiles them (preparePacked).
func (s *secondaries) prepare(zone string, recs []dns.RR) (*secVersion, []string, error) {
	var b zonefile.Builder
	for _, rr := range recs {
		b.Add(rr)
	}
	return s.preparePacked(zone, &b)
}

// preparePacked validates the records of b by the rules a zonefile is
// validated by and compiles them. Records the rules drop (outside the
// zone, occluded) are reported and left out of the file.
func (s *secondaries) preparePacked(zone string, b *zonefile.Builder) (*secVersion, []string, error) {
	p, findings, err := b.Finish(zone, "transfer of "+zone)
	if err != nil {
		var inv *zonefile.InvalidError
		if errors.As(err, &inv) {
			var why []string
			for _, f := range inv.Errors {
				why = append(why, f.Rule+": "+lineRefRE.ReplaceAllString(f.Detail, ""))
			}
			return nil, nil, fmt.Errorf("the transferred zone is not valid: %s", strings.Join(why, "; "))
		}
		return nil, nil, fmt.Errorf("the transferred zone is not valid: %w", err)
	}
	var warnings []string
	for _, f := range findings.Warnings() {
		warnings = append(warnings, f.Rule+": "+lineRefRE.ReplaceAllString(f.Detail, ""))
	}
	snap, err := answer.CompilePacked(p)
	if err != nil {
		return nil, nil, fmt.Errorf("the transferred zone cannot be served: %w", err)
	}
	return &secVersion{snap: snap, n: p.Len()}, warnings, nil
}

// writeFile replaces the zone's file with the new version, written
// record by record from its snapshot: the file holds what is served,
// not what the rules dropped, and a large version is never held in two
// forms while it is written.
func (s *secondaries) writeFile(zone string, v *secVersion) error {
	path := s.secondaryPath(zone)
	return zonefile.ReplaceFile(path, func(w io.Writer) error {
		return zonefile.WriteEach(w, v.snap.Origin(), v.snap.EachRR)
	})
}

// heldSOA is the SOA of the version a secondary holds, nil for none.
func heldSOA(snap *answer.Snapshot) *dns.SOA {
	if snap == nil {
		return nil
	}
	return snap.SOA()
}

// heldRecords returns the records of the version a secondary holds, as
// a Zone, for what changes it record by record (an IXFR, a promote).
func heldRecords(snap *answer.Snapshot) (*zonefile.Zone, error) {
	recs, err := snap.Records()
	if err != nil {
		return nil, fmt.Errorf("reading back zone %s: %w", snap.Origin(), err)
	}
	return &zonefile.Zone{Origin: snap.Origin(), Records: recs}, nil
}
