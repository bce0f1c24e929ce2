package main

// Reading the logs of the peer processes of a test: waiting for a line
// that proves a step (a transfer, a NOTIFY) and picking out the lines of
// one zone for a failure message.

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// waitPeerLog waits until p's output from byte offset from on matches re.
func waitPeerLog(t testing.TB, p *peerProcess, from int, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := p.Output()
		if from > len(out) {
			from = len(out)
		}
		if m := re.FindString(out[from:]); m != "" {
			return m
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited (%v) before logging /%s/:\n%s", p.Name, p.err, re, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log /%s/ within %v:\n%s", p.Name, re, timeout, out[from:])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logLines returns the lines of log that contain any of needles, at most
// the last max of them: the part of a verbose log that explains a
// failure. BIND's function tracing of -d 3 (": enter") is left out.
func logLines(log string, max int, needles ...string) string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.HasSuffix(line, ": enter") {
			continue
		}
		for _, n := range needles {
			if strings.Contains(line, n) {
				out = append(out, line)
				break
			}
		}
	}
	if len(out) > max {
		out = append([]string{"[...]"}, out[len(out)-max:]...)
	}
	return strings.Join(out, "\n")
}
