package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection enforces the import rules of docs/architecture.md
// ("Package map"): cmd → tui, daemon → zonefile, store; zonefile and
// store import nothing of the project; tui reaches the daemon only
// through its API packages; the query path and the listeners import only
// what they need.
func TestImportDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", "zonekeeper/...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(out)
	type pkg struct {
		ImportPath string
		Imports    []string
	}
	var n int
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, "zonekeeper/") {
				continue
			}
			if reason := forbidden(p.ImportPath, imp); reason != "" {
				t.Errorf("%s imports %s: %s", p.ImportPath, imp, reason)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("only %d packages listed", n)
	}
}

func within(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }

// forbidden returns why from may not import to, or "".
func forbidden(from, to string) string {
	switch {
	case within(from, "zonekeeper/zonefile") && !within(to, "zonekeeper/zonefile"),
		within(from, "zonekeeper/store") && !within(to, "zonekeeper/store"):
		return "zonefile and store import nothing of the project"
	case within(from, "zonekeeper/daemon/api"):
		return "the API wire types use the standard library only"
	case within(from, "zonekeeper/tui") && !within(to, "zonekeeper/tui") &&
		!within(to, "zonekeeper/daemon/api") && !within(to, "zonekeeper/daemon/client"):
		return "the TUI talks to the daemon only through daemon/api and daemon/client"
	case within(from, "zonekeeper/daemon/answer") && !within(to, "zonekeeper/daemon/answer") && !within(to, "zonekeeper/zonefile"):
		return "the query path (daemon/answer) imports only zonefile"
	case within(from, "zonekeeper/daemon/listen") && to != "zonekeeper/daemon/answer" && !within(to, "zonekeeper/zonefile"):
		return "the listeners (daemon/listen) import only daemon/answer and zonefile"
	case within(to, "zonekeeper/daemon/answer/answertest"):
		return "answertest is for tests only"
	case within(to, "zonekeeper/cmd"):
		return "nothing imports the command"
	case within(from, "zonekeeper/daemon") && within(to, "zonekeeper/tui"):
		return "the daemon never imports the TUI"
	}
	return ""
}
