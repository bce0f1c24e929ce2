package main

// A large zone replicated zonekeeper → zonekeeper (issue 4, "Must
// show"): 200 000 records of several types travel by AXFR (many
// messages, TSIG on each) and the secondary holds exactly the primary's
// records.

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// largeZoneRecords is how many records the large zone has besides those
// of testdata/replication.
const largeZoneRecords = 200_000

// largeZone returns the replication zone with largeZoneRecords more
// records: A, AAAA, TXT and MX in turn, under distinct names.
func largeZone(t *testing.T, serial uint32) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(replicationZone(t, serial))
	for i := range largeZoneRecords {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "h%06d IN A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		case 1:
			fmt.Fprintf(&b, "h%06d IN AAAA 2001:db8::%x:%x\n", i, i>>16, i&0xffff)
		case 2:
			fmt.Fprintf(&b, "h%06d IN TXT \"record %d of the large zone\"\n", i, i)
		case 3:
			fmt.Fprintf(&b, "h%06d IN MX %d h%06d\n", i, i%100, i-1)
		}
	}
	return b.String()
}

// TestReplicationLargeZone: the secondary's copy of a 200 000-record
// zone has the same number of records and the same records as the
// primary's, compared through dig's AXFR from each (dig verifies the
// TSIG of every message, and does the printing faster than the test
// could under -race).
func TestReplicationLargeZone(t *testing.T) {
	const zone = "large.test."
	const serial = 42
	key := newTSIGKey(t, "large.key", "hmac-sha256")
	want := countZoneRecords(t, replicationZone(t, serial), zone) + largeZoneRecords
	bin := buildZonekeeper(t, t.TempDir())
	primary := startZKNode(t, bin, zkOptions{IP: primaryIP, Zones: map[string]string{zone: largeZone(t, serial)}})
	secondary := startZKNode(t, bin, zkOptions{IP: secondaryIP, Flags: []string{"--allow-axfr", "127.0.0.1"}})
	primary.addKey(key)
	primary.ok("meta", "set", zone, "TSIG-ALLOW-AXFR", key.Name)
	secondary.addKey(key)

	start := time.Now()
	secondary.ok("zone", "add-secondary", zone, primary.dns, "--tsig", key.Name)
	waitSerial(t, secondary.dns, zone, serial, 60*time.Second, func() string {
		return "secondary events:\n" + secondary.eventsText(zone) + "\nsecondary log:\n" + secondary.proc.Output()
	})
	t.Logf("%d records transferred in %v", want, time.Since(start))
	if n := secondary.zones()[zone].Records; n != want {
		t.Errorf("zone list on the secondary: %d records, want %d", n, want)
	}

	p := digAXFR(t, primary.dns, zone, &key)
	s := digAXFR(t, secondary.dns, zone, nil)
	for _, x := range []digXfr{p, s} {
		// dig counts the closing SOA too.
		if x.Records != want+1 || len(x.Lines) != want+1 || x.Messages < 2 {
			t.Errorf("AXFR from %s: %d records (%d printed) in %d messages, want %d in many", x.Addr, x.Records, len(x.Lines), x.Messages, want+1)
		}
	}
	if !slices.Equal(p.Lines, s.Lines) {
		diffs := 0
		for i := 0; i < len(p.Lines) && i < len(s.Lines) && diffs < 10; i++ {
			if p.Lines[i] != s.Lines[i] {
				t.Errorf("a difference: primary %q, secondary %q", p.Lines[i], s.Lines[i])
				diffs++
			}
		}
		t.Errorf("the secondary's copy differs: %d records against the primary's %d", len(s.Lines), len(p.Lines))
	}
}

// digXfr is an AXFR as dig printed it: the record lines, sorted, and
// its own count of records and messages.
type digXfr struct {
	Addr              string
	Lines             []string
	Records, Messages int
}

// digAXFR runs dig's AXFR of zone from addr (from 127.0.0.1, signed with
// key when not nil); the test fails if dig reports any error.
func digAXFR(t *testing.T, addr, zone string, key *tsigKey) digXfr {
	t.Helper()
	host, p, _ := net.SplitHostPort(addr)
	args := []string{"+time=10", "+tries=1", "-b", "127.0.0.1", "@" + host, "-p", p, zone, "AXFR"}
	if key != nil {
		args = append(args, "-y", key.digY())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, peerBinary(t, "dig", "bind9-dnsutils"), args...).Output()
	if err != nil {
		t.Fatalf("dig %s: %v", strings.Join(args, " "), err)
	}
	x := digXfr{Addr: addr}
	size := regexp.MustCompile(`^;; XFR size: (\d+) records \(messages (\d+),`)
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, ";"):
			if m := size.FindStringSubmatch(line); m != nil {
				x.Records, _ = strconv.Atoi(m[1])
				x.Messages, _ = strconv.Atoi(m[2])
			} else if strings.Contains(line, "failed") || strings.Contains(line, "verify") || strings.Contains(line, "rror") {
				t.Fatalf("dig %s: %s", strings.Join(args, " "), line)
			}
		case strings.Contains(line, "\tTSIG\t"):
		default:
			x.Lines = append(x.Lines, line)
		}
	}
	slices.Sort(x.Lines)
	return x
}
