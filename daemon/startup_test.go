package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A kill -9 during an atomic replace leaves its temporary file; the next
// start removes every such file of the data directory, says so, and
// leaves other files alone.
func TestStartRemovesInterruptedWrites(t *testing.T) {
	data := t.TempDir()
	var stale []string
	for _, sub := range []string{"zones", "secondary", "journal", "cache"} {
		dir := filepath.Join(data, sub)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, ".example.org.zone.tmp-123456")
		if err := os.WriteFile(p, []byte("half a zone"), 0o644); err != nil {
			t.Fatal(err)
		}
		stale = append(stale, p)
	}
	keep := filepath.Join(data, "secondary", ".example.org.zone.swp")
	if err := os.WriteFile(keep, []byte("an editor's"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "127.0.0.1", data, nil, nil)
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s: still there (%v)", p, err)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("%s, not ours, was removed: %v", keep, err)
	}
	ev := n.waitEvent(t, "", "cleanup", "temporary file", 5*time.Second)
	if !strings.Contains(ev.Detail, stale[1]) {
		t.Errorf("cleanup event %q does not name %s", ev.Detail, stale[1])
	}
}

// A zone removed with `zone remove` takes its IXFR journal with it: a
// zone added later under the same name starts a chain of its own, and
// DATA/journal does not fill with the journals of zones long gone.
func TestRemovedZoneLosesItsJournal(t *testing.T) {
	n := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(chainZone): chainZoneText(1, "")}, nil)
	jnl := n.journal.path(chainZone)
	eventually(t, 5*time.Second, "the zone's journal on disk", func() bool { _, err := os.Stat(jnl); return err == nil }, func() string { return jnl })
	if err := n.client().RemoveZone(context.Background(), chainZone); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(jnl); !os.IsNotExist(err) {
		t.Errorf("%s after zone remove: %v, want it gone", jnl, err)
	}
	if n.zones.Get(chainZone) != nil {
		t.Error("the removed zone is still served")
	}
}
