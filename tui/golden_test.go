package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/tui")

// goldenDir holds the golden screens.
const goldenDir = "../testdata/tui"

// setupFixture fills a fresh daemon with the zones, keys and activity
// the golden screens show, one step after the other so that the
// activity log is in the same order in every run.
func setupFixture(t *testing.T, d *testDaemon) {
	t.Helper()
	d.addZone("example.org.", exampleOrg)
	d.addZone("example.net.", exampleNet)
	d.addZone("lab.test.", labTest)
	ctx := d.ctx()
	if _, err := d.client.SetZone(ctx, "example.net.", api.ZoneSetRequest{SerialPolicy: api.SerialDate}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.client.SetZone(ctx, "lab.test.", api.ZoneSetRequest{Kind: api.KindNative}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.client.AddSecondary(ctx, api.AddSecondaryRequest{Name: "sec.example.", Primaries: []string{d.dead}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.client.AddKey(ctx, api.Key{Name: "transfer.example.org.", Algorithm: "hmac-sha256"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.client.AddKey(ctx, api.Key{Name: "legacy.example.", Algorithm: "hmac-md5", Secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQ="}); err != nil {
		t.Fatal(err)
	}
	serial := uint32(2026112101)
	if _, err := d.client.Edit(ctx, "example.org.", api.EditRequest{Op: api.EditAdd, Name: "ftp", Type: "CNAME", Data: []string{"www"}, IfSerial: &serial}); err != nil {
		t.Fatal(err)
	}
	// A stale edit, refused: the activity log shows a warning.
	if _, err := d.client.Edit(ctx, "example.org.", api.EditRequest{Op: api.EditAdd, Name: "old", Type: "A", Data: []string{"127.0.0.9"}, IfSerial: &serial}); err == nil {
		t.Fatal("an edit with a stale serial was accepted")
	}
	d.eventually("the refused edit is logged", func() bool {
		for _, ev := range d.events(5) {
			if ev.Kind == "edit-refused" {
				return true
			}
		}
		return false
	})
}

// goldenCase is one screen: the keys that lead to it from the zones
// view, and what it shows once it is ready.
type goldenCase struct {
	name  string
	keys  []string
	ready []string
}

var goldenCases = []goldenCase{
	{name: "zones", ready: []string{"sec.example.", "pending", "lab.test."}},
	{name: "zones-filtered", keys: []string{"/", "example.", "enter"}, ready: []string{"filter: example.", "3 of 4"}},
	{name: "zone", keys: []string{"/", "example.org", "enter", "enter"}, ready: []string{"example.org. · primary", "ftp", "record 1 of"}},
	{name: "zone-secondary", keys: []string{"/", "sec.example", "enter", "enter"}, ready: []string{"sec.example. · secondary", "read-only"}},
	{name: "record-form", keys: []string{"/", "example.org", "enter", "enter", "wait:record 1 of", "a", "www", "tab", "tab", "tab", "192.0.2.10"},
		ready: []string{"Add a record", "record: www.example.org.", "serial 2026112102 → 2026112103"}},
	{name: "record-form-refused", keys: []string{"/", "example.org", "enter", "enter", "wait:record 1 of", "a", "www", "tab", "tab", "tab", "192.0.2.300", "enter"},
		ready: []string{"Add a record", "not an IPv4 address", "not sent: fix what is marked"}},
	{name: "record-delete", keys: []string{"/", "example.org", "enter", "enter", "wait:record 1 of", "/", "ftp", "enter", "d"},
		ready: []string{"Delete this record", "ftp.example.org."}},
	{name: "promote", keys: []string{"/", "sec.example", "enter", "enter", "wait:read-only", "p"},
		ready: []string{"Promote sec.example.", "Peers to be notified", "y confirm"}},
	{name: "demote-form", keys: []string{"/", "example.org", "enter", "enter", "wait:record 1 of", "D", "127.0.0.9"},
		ready: []string{"Demote example.org. to secondary", "127.0.0.9 from then", "enter shows the confirmation"}},
	{name: "activity", keys: []string{"3", "wait:edit-refused", "/", "zone:example.org.", "enter"},
		ready: []string{"only “zone:example.org.”", "edit-refused", "4 of"}},
	{name: "keys", keys: []string{"4"}, ready: []string{"legacy.example.", "transfer.example.org."}},
	{name: "key-generate", keys: []string{"4", "wait:legacy.example.", "g", "axfr.example.org."}, ready: []string{"Generate a TSIG key", "hmac-sha256"}},
	{name: "cluster", keys: []string{"5"}, ready: []string{"this node: zonekeeper", "127.0.0.1:", "peers: —"}},
	{name: "cluster-promote", keys: []string{"5", "wait:peers: —", "P"}, ready: []string{"Promote every zone from 127.0.0.1:", "sec.example.", "y confirm"}},
	{name: "cluster-health", keys: []string{"/", "example.org", "enter", "enter", "wait:record 1 of", "5", "wait:h zone health", "h"},
		ready: []string{"Zone health: example.org. · primary", "Lint (RFC 2182, RFC 1912)", "server 1 of 1"}},
	{name: "set-serial-form", keys: []string{"/", "example.org", "enter", "enter", "wait:record 1 of", "S", "11"},
		ready: []string{"Set the serial of example.org. (RFC 2182 §7)", "a decrease: 2 steps"}},
	{name: "set-serial-plan", keys: []string{"/", "example.org", "enter", "enter", "wait:record 1 of", "S", "11", "enter"},
		ready: []string{"plan: 2026112102 → 4173595749 → 11 (2 steps, RFC 1982)", "y run · n/esc cancel"}},
	{name: "help", keys: []string{"/", "example.org", "enter", "enter", "wait:record 1 of", "?"}, ready: []string{"Keys of the Zone view", "add a record"}},
}

// TestTUIGolden renders every view at 80x24 and 120x40 against a real
// daemon and compares the screens with testdata/tui; -update rewrites
// them.
func TestTUIGolden(t *testing.T) {
	d := startDaemon(t)
	setupFixture(t, d)
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, gc := range goldenCases {
			name := fmt.Sprintf("%s-%dx%d", gc.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				r := runTUI(t, d, size[0], size[1])
				r.waitFor("● connected", "sec.example.", "pending")
				r.keys(gc.keys...)
				r.waitFor(gc.ready...)
				checkGolden(t, r, filepath.Join(goldenDir, name+".golden"), gc.ready)
			})
		}
	}
}

// checkGolden compares the screen with a golden file until they agree:
// the TUI updates asynchronously, so the screen may still be on its way.
// With -update it writes the golden file once the screen has settled.
func checkGolden(t *testing.T, r *tuiRun, path string, ready []string) {
	t.Helper()
	if *update {
		var last string
		for stable := 0; stable < 5; {
			time.Sleep(100 * time.Millisecond)
			s := normalize(r.waitFor(ready...))
			if s == last {
				stable++
			} else {
				stable = 0
			}
			last = s
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(last), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	deadline := time.Now().Add(testTimeout)
	var got string
	for {
		got = normalize(r.screen())
		if got == string(want) {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%s differs (run with -update to accept):\n%s", path, diff(string(want), got))
}

// diff shows the lines that differ.
func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			fmt.Fprintf(&b, "line %d\n  want %q\n  got  %q\n", i+1, w, g)
		}
	}
	fmt.Fprintf(&b, "got screen:\n%s", got)
	return b.String()
}
