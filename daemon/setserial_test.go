package daemon

// Tests of the serial reset procedure: the plan, an increase, the full
// decrease through two zonekeeper secondaries, a stuck secondary, and a
// dry run.

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

func TestSerialPlan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cur, target uint32
		want        []uint32
	}{
		{1000, 11, []uint32{2147484647, 11}},
		{1000, 1001, []uint32{1001}},
		{1000, 1000 + maxSerialStep, []uint32{1000 + maxSerialStep}},
		{1000, 1000, nil},
		{4294967295, 5, []uint32{5}},                   // wraps: an increase
		{0, 1 << 31, []uint32{maxSerialStep, 1 << 31}}, // undefined comparison: two steps
		{5, 4, []uint32{5 + maxSerialStep, 3, 4}},      // 2^32 - 1 apart: three steps
	} {
		got := serialPlan(tc.cur, tc.target)
		if !slices.Equal(got, tc.want) {
			t.Errorf("serialPlan(%d, %d) = %v, want %v", tc.cur, tc.target, got, tc.want)
		}
		prev := tc.cur
		for _, s := range got {
			if s-prev > maxSerialStep || s == prev {
				t.Errorf("serialPlan(%d, %d): step %d -> %d is not an RFC 1982 increment", tc.cur, tc.target, prev, s)
			}
			prev = s
		}
	}
}

// setSerialCluster starts a primary of zone at serial 1000 on 127.0.0.1
// and two zonekeeper secondaries, peers of it, that follow it.
func setSerialCluster(t *testing.T, zone string) (a, b, c *secondaryNode) {
	t.Helper()
	tune := func(c *Config) { c.HealthInterval = 300 * time.Millisecond }
	a = startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): peerZone(zone, 1000)}, tune)
	b = startNode(t, "127.0.0.2", "", nil, tune)
	c = startNode(t, "127.0.0.3", "", nil, tune)
	nodes := map[string]*secondaryNode{"a": a, "b": b, "c": c}
	for _, n := range nodes {
		addClusterKey(t, n)
	}
	for name, n := range nodes {
		for other, o := range nodes {
			if other != name {
				addPeer(t, n, other, o)
			}
		}
	}
	for _, n := range []*secondaryNode{b, c} {
		eventually(t, 20*time.Second, "serial 1000 on "+n.addr, func() bool { return n.servedSerial(t, zone) == 1000 },
			func() string { return eventDump(n.events(t, "", "")) })
	}
	return a, b, c
}

func TestSetSerialIncrease(t *testing.T) {
	t.Parallel()
	const zone = "up.test."
	a := startNode(t, "127.0.0.1", "", map[string]string{fileNameOf(zone): peerZone(zone, 1000)}, nil)
	res, err := a.client().SetSerial(context.Background(), zone, api.SetSerialRequest{Serial: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if res.OldSerial != 1000 || res.Serial != 2000 || !slices.Equal(res.Plan, []uint32{2000}) {
		t.Errorf("result: %+v", res)
	}
	if s := a.servedSerial(t, zone); s != 2000 {
		t.Errorf("served serial %d", s)
	}
	if text, err := os.ReadFile(filepath.Join(a.cfg.ZonesDir(), fileNameOf(zone))); err != nil || !strings.Contains(string(text), " 2000 ") {
		t.Errorf("zonefile: %v\n%s", err, text)
	}
	a.waitEvent(t, zone, "set-serial", "1000 -> 2000", 5*time.Second)

	// Equal: nothing to do.
	res, err = a.client().SetSerial(context.Background(), zone, api.SetSerialRequest{Serial: 2000})
	if err != nil || len(res.Plan) != 0 || res.Serial != 2000 {
		t.Errorf("equal: %+v %v", res, err)
	}
	// An unknown zone is refused.
	if _, err := a.client().SetSerial(context.Background(), "nothere.test.", api.SetSerialRequest{Serial: 1}); err == nil {
		t.Error("an unknown zone was accepted")
	}
}

func TestSetSerialDecrease(t *testing.T) {
	t.Parallel()
	const zone = "down.test."
	a, b, c := setSerialCluster(t, zone)

	// A dry run plans and changes nothing.
	res, err := a.client().SetSerial(context.Background(), zone, api.SetSerialRequest{Serial: 11, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Plan, []uint32{2147484647, 11}) || res.Serial != 1000 || !res.DryRun {
		t.Errorf("dry run: %+v", res)
	}
	if s := a.servedSerial(t, zone); s != 1000 {
		t.Errorf("the dry run changed the serial to %d", s)
	}

	res, err = a.client().SetSerial(context.Background(), zone, api.SetSerialRequest{Serial: 11, TimeoutSeconds: 30})
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, eventDump(b.events(t, zone, "")), eventDump(c.events(t, zone, "")))
	}
	if res.Serial != 11 || !slices.Equal(res.Plan, []uint32{2147484647, 11}) {
		t.Errorf("result: %+v", res)
	}
	log := strings.Join(res.Log, "\n")
	t.Logf("set-serial log:\n%s", log)
	for _, want := range []string{"1000 -> 2147484647 -> 11", b.addr, c.addr, "step 2/2"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, n := range []*secondaryNode{a, b, c} {
		if s := n.servedSerial(t, zone); s != 11 {
			t.Errorf("%s serves %d", n.addr, s)
		}
		r := n.ask(t, "www."+zone, dns.TypeA)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Errorf("%s: www: %v", n.addr, r)
		}
	}
}

func TestSetSerialStuck(t *testing.T) {
	t.Parallel()
	const zone = "stuck.test."
	a, _, c := setSerialCluster(t, zone)
	c.stopFn()

	_, err := a.client().SetSerial(context.Background(), zone, api.SetSerialRequest{Serial: 11, TimeoutSeconds: 3})
	if err == nil {
		t.Fatal("the procedure went on without a secondary")
	}
	for _, want := range []string{c.addr, "2147484647"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if s := a.servedSerial(t, zone); s != 2147484647 {
		t.Errorf("the primary serves %d, want the first step's serial", s)
	}
	a.waitEvent(t, zone, "set-serial", c.addr, 5*time.Second)
}
