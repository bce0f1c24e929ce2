package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckOpsFixtures runs `zonekeeper check --ops` on every fixture of
// testdata/check-ops, one per rule of the operational lint, and compares
// the exit status and the reported file:line: rule with the fixture's
// expectation. Every finding must name its RFC section, and a fixture
// must report its own rule only.
func TestCheckOpsFixtures(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/check-ops/*.zone")
	if len(files) < 9 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := expectation(t, path)
			var stdout, stderr bytes.Buffer
			err := run([]string{"check", "--ops", path}, &stdout, &stderr)
			code := exitCode(err)
			out := stdout.String()
			findings := opsFindingLines(out, path)
			fields := strings.Fields(want)
			if fields[0] == "ok" {
				if code != 0 || len(findings) > 0 {
					t.Fatalf("want a clean pass, got exit %d\n%s%s", code, out, stderr.String())
				}
				return
			}
			sev, rule, line := fields[0], fields[1], fields[2]
			prefix := ""
			if sev == "warning" {
				prefix = "warning: "
			}
			wantLine := prefix + path + ":" + line + ": " + rule + ": "
			if len(findings) != 1 || !strings.HasPrefix(findings[0], wantLine) {
				t.Errorf("want exactly one finding %q, got:\n%s", wantLine, out)
			}
			for _, f := range findings {
				if !strings.Contains(f, "(RFC ") {
					t.Errorf("finding names no RFC section: %s", f)
				}
			}
			wantCode := 0
			if sev == "error" {
				wantCode = 1
			}
			if code != wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, wantCode, out, stderr.String())
			}
		})
	}
}

// opsFindingLines returns the lines of out that are located findings
// (file:line) about path.
func opsFindingLines(out, path string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimPrefix(l, "warning: "), path+":")
		if ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestCheckWithoutOps keeps plain `check` free of the operational lint: a
// zone with one name server and short timers is valid.
func TestCheckWithoutOps(t *testing.T) {
	path := "../../testdata/check-ops/ns-count-one.zone"
	var stdout, stderr bytes.Buffer
	if err := run([]string{"check", path}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s%s", err, stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String(), ": ns-count:") {
		t.Errorf("plain check ran the operational lint:\n%s", stdout.String())
	}
}
