package client

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"zonekeeper/daemon/api"
)

// TestEventsLongLine: an event line of any length is read, here one of
// over 10 MB between two short ones (a 10 MB zonefile token once made
// `zonekeeper events` fail with "bufio.Scanner: token too long").
func TestEventsLongLine(t *testing.T) {
	long := strings.Repeat("x", 11<<20)
	sent := []api.Event{
		{ID: 1, Kind: "reload", Outcome: api.OutcomeOK},
		{ID: 2, Zone: "big.test.", Kind: "reload-error", Outcome: api.OutcomeError, Detail: long},
		{ID: 3, Kind: "reload", Outcome: api.OutcomeOK, Detail: "after"},
	}
	sock := filepath.Join(t.TempDir(), "control.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != api.Version+"/events" {
			http.NotFound(w, r)
			return
		}
		enc := json.NewEncoder(w) // one JSON line per event, as the daemon writes
		for _, ev := range sent {
			enc.Encode(ev)
		}
	})}
	go srv.Serve(l)
	defer srv.Close()

	var got []api.Event
	err = New(sock).Events(context.Background(), EventQuery{}, func(ev api.Event) error {
		got = append(got, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(sent) || got[1].Detail != long || got[2].Detail != "after" {
		t.Fatalf("read %d events, want %d with the long one whole", len(got), len(sent))
	}
}
