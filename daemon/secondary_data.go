package daemon

import (
	"bytes"
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
func (s *secondaries) loadFile(zone string) (*zonefile.Zone, *answer.Snapshot, error) {
	path := s.secondaryPath(zone)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	z, _, err := zonefile.Load(path, zone)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s", path, firstError(err))
	}
	snap, err := answer.Compile(z)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return z, snap, nil
}

// secVersion is a transferred zone ready to be written and served.
type secVersion struct {
	zone *zonefile.Zone
	snap *answer.Snapshot
	text []byte // canonical zonefile text
}

// prepare validates transferred records by the rules a zonefile is
// validated by (zonefile.Check) and compiles them.
// Records the rules drop (outside the zone, occluded) are reported and
// left out of the file.
func (s *secondaries) prepare(zone string, recs []dns.RR) (*secVersion, []string, error) {
	z, findings, err := zonefile.Check(zone, "transfer of "+zone, recs)
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
	// The file holds what is served, not what the rules dropped.
	var text bytes.Buffer
	if err := zonefile.Write(&text, z); err != nil {
		return nil, nil, fmt.Errorf("writing the transferred zone: %w", err)
	}
	snap, err := answer.Compile(z)
	if err != nil {
		return nil, nil, fmt.Errorf("the transferred zone cannot be served: %w", err)
	}
	return &secVersion{zone: z, snap: snap, text: text.Bytes()}, warnings, nil
}

// writeFile replaces the zone's file with the new version.
func (s *secondaries) writeFile(zone string, v *secVersion) error {
	path := s.secondaryPath(zone)
	return zonefile.ReplaceFile(path, func(w io.Writer) error {
		_, err := w.Write(v.text)
		return err
	})
}
