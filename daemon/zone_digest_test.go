package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/answer"
	"zonekeeper/zonefile"
)

// snapOf compiles zone text.
func snapOf(t *testing.T, origin, text string) *answer.Snapshot {
	t.Helper()
	z, _, err := zonefile.Parse(strings.NewReader(text), origin, "test")
	if err != nil {
		t.Fatal(err)
	}
	return mustCompile(t, z)
}

func TestDigesterSupersedes(t *testing.T) {
	const zone = "digest.test."
	g := newDigester(slog.New(slog.NewTextHandler(io.Discard, nil)))
	old, cur := snapOf(t, zone, digestZone(1, "a IN A 127.0.0.1")), snapOf(t, zone, digestZone(2, "a IN A 127.0.0.2"))
	other := snapOf(t, "other.test.", digestZone(1, ""))
	g.queue(old)
	g.queue(other)
	g.queue(cur) // supersedes old, which is never digested
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	eventually(t, 5*time.Second, "digests", func() bool { return cur.ContentDigest() != nil && other.ContentDigest() != nil }, nil)
	if old.ContentDigest() != nil {
		t.Error("a superseded version was digested")
	}
	rrs, err := cur.Records()
	if err != nil {
		t.Fatal(err)
	}
	want, err := zonefile.ZONEMD(zone, rrs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cur.ContentDigest(), want) {
		t.Errorf("digest %x, want the ZONEMD of its records %x", cur.ContentDigest(), want)
	}
	// The expired copy of a version shares its digest.
	if !bytes.Equal(cur.WithExpired(true).ContentDigest(), want) {
		t.Error("an expired copy lost the digest")
	}
	// A version digested mid-way is abandoned when a newer one comes.
	big := snapOf(t, zone, digestZone(3, bigNames(3*digestCheckEvery)))
	newer := snapOf(t, zone, digestZone(4, ""))
	g.mu.Lock()
	g.pending[zone] = newer // as if queued while big is being digested
	g.mu.Unlock()
	g.digest(ctx, big)
	if big.ContentDigest() != nil {
		t.Error("a version superseded mid-way was digested to the end")
	}
}

// bigNames is n A records of distinct names.
func bigNames(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "n%d IN A 127.0.0.1\n", i)
	}
	return b.String()
}

// TestDigestLeavesNoGarbage: digesting a served version makes next to no
// allocation per record, so the digest of a large zone, run after every
// commit, does not let the heap grow to twice what is live.
func TestDigestLeavesNoGarbage(t *testing.T) {
	const zone = "digest.test."
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "h%d IN A 10.0.%d.%d\nh%d IN MX 10 Mail.digest.test.\n", i, i>>8, i&255, i)
	}
	snap := snapOf(t, zone, digestZone(1, b.String()))
	g := newDigester(slog.New(slog.NewTextHandler(io.Discard, nil)))
	allocs := testing.AllocsPerRun(3, func() { g.digest(context.Background(), snap) })
	if perRecord := allocs / float64(snap.Len()); perRecord > 0.05 {
		t.Errorf("%.0f allocations for %d records (%.2f a record)", allocs, snap.Len(), perRecord)
	}
	rrs, err := snap.Records()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := zonefile.ZONEMD(zone, rrs); !bytes.Equal(snap.ContentDigest(), want) {
		t.Errorf("digest %x, want %x", snap.ContentDigest(), want)
	}
}
