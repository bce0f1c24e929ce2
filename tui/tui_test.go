package tui

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"zonekeeper/daemon/api"
	"zonekeeper/daemon/client"
)

// records renders a zone's records as "name TTL type data" lines.
func records(z *api.ZoneDetail) string {
	var b strings.Builder
	for _, r := range z.Records {
		b.WriteString(r.Name + " " + r.Type + " " + r.Data + "\n")
	}
	return b.String()
}

// TestTUIMalformedRecordRefused types records the form must refuse, one
// refused by a field's check and one by the record parser, and checks
// that nothing reached the daemon: same serial, same records, no new
// event in its activity log.
func TestTUIMalformedRecordRefused(t *testing.T) {
	d := startDaemon(t)
	d.addZone("example.org.", exampleOrg)
	before := d.zone("example.org.")
	lastEvent := d.lastEventID()

	r := runTUI(t, d, 80, 24)
	r.waitFor("● connected", "example.org.")
	r.keys("enter", "wait:record 1 of", "a", "bad", "tab", "tab", "tab", "300.1.2.3")
	r.waitFor(`"300.1.2.3" is not an IPv4 address`)
	r.keys("enter")
	r.waitFor("not sent: fix what is marked ✗ first")

	// Type "other" (←: the last choice), SSHFP with data that does not
	// parse: every field is filled in, the parser refuses.
	r.keys("esc", "wait:record 1 of", "a", "bad", "tab", "left", "tab", "SSHFP", "tab", "tab", "1 x zz")
	s := r.waitFor("Record type", "the record does not parse")
	if !strings.Contains(s, "SSHFP") {
		t.Errorf("the form does not show the type typed:\n%s", s)
	}
	r.keys("enter")
	r.waitFor("not sent: fix what is marked ✗ first")

	// Give the TUI time to send anything it wrongly would.
	time.Sleep(500 * time.Millisecond)
	after := d.zone("example.org.")
	if after.Serial != before.Serial {
		t.Errorf("serial %d → %d: something was sent", before.Serial, after.Serial)
	}
	if records(after) != records(before) {
		t.Errorf("records changed:\n%s\nto\n%s", records(before), records(after))
	}
	if id := d.lastEventID(); id != lastEvent {
		t.Errorf("the activity log grew from event %d to %d: %+v", lastEvent, id, d.events(int(id-lastEvent)))
	}
}

// TestTUIEditAndDeleteRecord edits one record of an RRset through the
// form and deletes it through the confirmation dialog.
func TestTUIEditAndDeleteRecord(t *testing.T) {
	d := startDaemon(t)
	d.addZone("example.org.", exampleOrg)
	r := runTUI(t, d, 120, 40)
	r.waitFor("● connected", "example.org.")
	r.keys("enter", "wait:record 1 of", "/", "www", "enter", "wait:filter: www", "home", "e")
	r.waitFor("Edit a record of example.org.", "replaces: www.example.org. 3600 A 127.0.0.80")
	r.keys("ctrl+u", "127.0.0.81")
	r.waitFor("serial 2026112101 → 2026112102")
	r.keys("enter")
	r.waitFor("changed www.example.org. A · serial 2026112101 → 2026112102")

	z := d.zone("example.org.")
	got := records(z)
	if !strings.Contains(got, "www.example.org. A 127.0.0.81") || strings.Contains(got, "127.0.0.80") || !strings.Contains(got, "www.example.org. AAAA ::1") {
		t.Fatalf("after the edit:\n%s", got)
	}

	r.waitFor("serial 2026112102 (increment)")
	r.keys("home", "d")
	r.waitFor("Delete this record from example.org.?", "www.example.org. 3600 A 127.0.0.81")
	r.keys("y")
	r.waitFor("deleted www.example.org. A 127.0.0.81 · serial 2026112102 → 2026112103")
	z = d.zone("example.org.")
	if got := records(z); strings.Contains(got, "127.0.0.81") || z.Serial != 2026112103 {
		t.Fatalf("after the delete, serial %d:\n%s", z.Serial, got)
	}
}

// TestTUIEditConflict changes the zone behind the form's back: the form's
// edit is refused as a conflict and shown, nothing is overwritten, and
// ctrl+r bases the form on the new serial.
func TestTUIEditConflict(t *testing.T) {
	d := startDaemon(t)
	d.addZone("example.org.", exampleOrg)
	r := runTUI(t, d, 80, 24)
	r.waitFor("● connected", "example.org.")
	r.keys("enter", "wait:record 1 of", "a", "new", "tab", "tab", "tab", "192.0.2.1")
	r.waitFor("serial 2026112101 → 2026112102")

	serial := uint32(2026112101)
	if _, err := d.client.Edit(d.ctx(), "example.org.", api.EditRequest{Op: api.EditAdd, Name: "other", Type: "A", Data: []string{"192.0.2.2"}, IfSerial: &serial}); err != nil {
		t.Fatal(err)
	}
	r.keys("enter")
	r.waitFor("conflict, nothing was overwritten")
	z := d.zone("example.org.")
	if strings.Contains(records(z), "new.example.org.") || z.Serial != 2026112102 {
		t.Fatalf("the conflicting edit went through: serial %d\n%s", z.Serial, records(z))
	}

	// Wait for the reload the conflict started, then rebase and send.
	deadline := time.Now().Add(testTimeout)
	for {
		r.keys("ctrl+r")
		if strings.Contains(r.screen(), "serial 2026112102 → 2026112103") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ctrl+r did not rebase the form:\n%s", r.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.keys("enter")
	r.waitFor("added new.example.org. A 192.0.2.1 · serial 2026112102 → 2026112103")
	got := records(d.zone("example.org."))
	if !strings.Contains(got, "new.example.org. A 192.0.2.1") || !strings.Contains(got, "other.example.org. A 192.0.2.2") {
		t.Fatalf("after the rebased edit:\n%s", got)
	}
}

// TestTUIReconnects stops the daemon under the TUI and starts it again:
// the TUI says it is reconnecting, then reloads what it shows.
func TestTUIReconnects(t *testing.T) {
	d := startDaemon(t)
	d.addZone("example.org.", exampleOrg)
	r := runTUI(t, d, 80, 24)
	r.waitFor("● connected", "example.org.")

	d.stop()
	r.waitFor("reconnecting")
	// A zone that appears while the daemon is down is loaded at start.
	if err := os.WriteFile(filepath.Join(d.dir, "data", "zones", "late.test.zone"), []byte(labTest), 0o644); err != nil {
		t.Fatal(err)
	}
	d.start()
	r.waitFor("● connected", "late.test.")
	r.keys("3")
	s := r.waitFor("stop", "zonekeeper stopped")
	if strings.Count(s, " start ") < 2 {
		t.Errorf("the activity view does not show both starts:\n%s", s)
	}
}

// TestTUIKeys generates a key (its secret shown once, with lines to
// copy), refuses a malformed secret, and removes a key after asking.
func TestTUIKeys(t *testing.T) {
	d := startDaemon(t)
	r := runTUI(t, d, 120, 40)
	r.waitFor("● connected")
	r.keys("4", "wait:no TSIG keys", "g", "gen.example.", "enter")
	s := r.waitFor("was generated", `key "gen.example." {`, "algorithm hmac-sha256;", "zonekeeper key add gen.example.")
	m := regexp.MustCompile(`secret "([A-Za-z0-9+/=]+)"`).FindStringSubmatch(s)
	if m == nil || len(m[1]) != 44 {
		t.Fatalf("no 32-byte secret on the screen:\n%s", s)
	}
	if !strings.Contains(s, "\n"+m[1]+"\n") {
		t.Errorf("the secret is not alone on a line, ready to copy:\n%s", s)
	}
	r.keys("esc")
	r.waitFor("gen.example.", "hmac-sha256", "1 TSIG keys")
	if strings.Contains(r.screen(), m[1]) {
		t.Error("the secret is still shown after closing")
	}

	r.keys("a", "bad.example.", "tab", "tab", "not base64!", "enter")
	r.waitFor("not valid base64", "not sent: fix what is marked ✗ first")
	r.keys("esc", "wait:1 TSIG keys", "d")
	r.waitFor("Remove TSIG key gen.example.?")
	r.keys("y")
	r.waitFor("removed TSIG key gen.example.", "no TSIG keys")
	ks, err := d.client.Keys(d.ctx())
	if err != nil || len(ks) != 0 {
		t.Fatalf("keys %v, %v", ks, err)
	}
}

// TestTUIQuitClosesDialogsFirst: q in a dialog closes the dialog; q
// again quits.
func TestTUIQuitClosesDialogsFirst(t *testing.T) {
	d := startDaemon(t)
	d.addZone("example.org.", exampleOrg)
	r := runTUI(t, d, 80, 24)
	r.waitFor("● connected", "example.org.")
	r.keys("enter", "wait:record 1 of", "down", "d", "wait:Delete this record", "q")
	r.waitFor("record 2 of")
	r.keys("q")
	select {
	case <-r.done:
	case <-time.After(testTimeout):
		t.Fatal("q did not quit")
	}
	if z := d.zone("example.org."); z.Serial != 2026112101 {
		t.Errorf("serial %d: the cancelled delete was sent", z.Serial)
	}
}

// TestTUIResizes resizes one running TUI through sizes from 60x20 to
// 200x60 on every view: each screen is exactly the terminal's size.
func TestTUIResizes(t *testing.T) {
	d := startDaemon(t)
	d.addZone("example.org.", exampleOrg)
	r := runTUI(t, d, 80, 24)
	r.waitFor("● connected", "example.org.")
	r.keys("enter", "wait:record 1 of")
	for _, view := range []string{"1", "2", "3", "4", "5"} {
		r.keys(view)
		for _, size := range [][2]int{{80, 24}, {200, 60}, {60, 20}, {120, 40}, {81, 25}} {
			r.p.Send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			deadline := time.Now().Add(testTimeout)
			for {
				lines := strings.Split(r.screen(), "\n")
				ok := len(lines) == size[1]
				for _, l := range lines {
					ok = ok && ansi.StringWidth(l) <= size[0]
				}
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("view %s at %dx%d: %d lines:\n%s", view, size[0], size[1], len(lines), strings.Join(lines, "\n"))
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// TestTUINoColor: with NO_COLOR the screen has no escape code at all;
// without it, the same screen has colour.
func TestTUINoColor(t *testing.T) {
	render := func(noColor bool) string {
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.TrueColor)
		a := New(context.Background(), Options{
			Client: client.New(filepath.Join(t.TempDir(), "none.sock")), Output: io.Discard,
			Renderer: r, NoColor: noColor, Now: func() time.Time { return time.Unix(0, 0) },
		})
		defer a.Close()
		a.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		a.Update(statusResultMsg{err: client.ErrNotRunning})
		return a.View()
	}
	t.Setenv("NO_COLOR", "")
	if s := render(false); !strings.Contains(s, "\x1b[") {
		t.Errorf("no colour without NO_COLOR:\n%q", s)
	}
	if s := render(true); strings.Contains(s, "\x1b") {
		t.Errorf("escape codes with NoColor:\n%q", s)
	}
	t.Setenv("NO_COLOR", "1")
	if s := render(false); strings.Contains(s, "\x1b") {
		t.Errorf("escape codes with NO_COLOR=1:\n%q", s)
	}
}
