package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestShortSuite runs the short version of the cases that no other test
// covers against the binary built from this tree: `make attack` runs
// them all at full size.
func TestShortSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and attacks the real binary")
	}
	bin := filepath.Join(t.TempDir(), "zonekeeper")
	build := exec.Command("go", "build", "-o", bin, "zonekeeper/cmd/zonekeeper")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	results, err := runSuite(bin, short, "udp,tcp-framing,kill-mid-transfer,full-disk")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		switch {
		case r.skipped != "":
			t.Logf("%s skipped: %s", r.name, r.skipped)
		case !r.held:
			t.Errorf("%s not held: %s", r.name, r.figures)
		default:
			t.Logf("%s held: %s", r.name, r.figures)
		}
	}
}
