package main

// The chaos test of failover (docs/architecture.md, "Tests and peers"):
// three real nodes, a seeded random sequence of kill -9 and restarts,
// stops and continues (a node cut off from the others), promotes,
// demotes to a live primary and edits on whichever node is primary, with
// invariants checked after every step:
//
//   - the zone is answered authoritatively by at least one running node;
//   - once the cluster has settled, every acknowledged edit is served, or
//     its version is in some node's DATA/backup/ and named by an event;
//   - two primaries at once are flagged (split-brain or diverged) within
//     two health rounds on a node that holds the zone as primary.
//
// ZK_CHAOS_STEPS sets the length (make test runs a short sequence, make
// chaos a long one); ZK_CHAOS_SEED replays a sequence, and the seed is
// printed first.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

const chaosZone = "chaos.failover.test."

// chaosNode is what the test knows of one node.
type chaosNode struct {
	*foNode
	dead, stopped bool
}

func (n *chaosNode) up() bool { return !n.dead && !n.stopped }

// chaosEdit is an acknowledged edit: name A ip, at serial.
type chaosEdit struct {
	name, ip string
	serial   uint32
	on       string
}

type chaos struct {
	t     *testing.T
	c     *foCluster
	nodes []*chaosNode
	r     *rand.Rand
	edits []chaosEdit
	log   []string // the steps, for a failure's message
}

// chaosDefaultSteps is the length inside make test (docs/architecture.md,
// "Tests and peers"); `make chaos` runs 200. Its promotes go through the
// guard (docs/architecture.md, "Guarded role changes"): a promote while
// the primary lives is refused and noted, demoteExtra demotes only onto a
// running primary, which the guard allows, and settle promotes with
// --force only when no node is primary any more.
const chaosDefaultSteps = 30

func TestChaos(t *testing.T) {
	steps := chaosDefaultSteps
	if s := os.Getenv("ZK_CHAOS_STEPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("ZK_CHAOS_STEPS=%q: %v", s, err)
		}
		steps = n
	}
	if steps == 0 || testing.Short() {
		t.Skip("no steps (ZK_CHAOS_STEPS=0 or -short): ZK_CHAOS_STEPS=200 (make chaos) runs it")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ZK_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ZK_CHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("chaos: seed %d, %d steps (ZK_CHAOS_SEED=%d ZK_CHAOS_STEPS=%d replays it)", seed, steps, seed, steps)
	c := startFailoverCluster(t, map[string]string{chaosZone: replicationZone(t, 1)})
	x := &chaos{t: t, c: c, r: rand.New(rand.NewPCG(seed, 7))}
	for _, n := range c.nodes() {
		x.nodes = append(x.nodes, &chaosNode{foNode: n})
	}
	t.Cleanup(func() {
		for _, n := range x.nodes {
			if n.stopped {
				syscall.Kill(-n.pgid, syscall.SIGCONT)
			}
		}
		t.Logf("chaos: seed %d; steps:\n%s", seed, strings.Join(x.log, "\n"))
	})
	c.peerMesh()
	for _, n := range []*foNode{c.b, c.c} {
		waitSerial(t, n.dns, chaosZone, 1, provisionTimeout, c.diag(chaosZone))
	}
	for i := range steps {
		x.step(i)
		x.checkServed()
		if i%10 == 9 || i == steps-1 {
			x.settle()
		}
	}
}

// step does one random action.
func (x *chaos) step(i int) {
	up := x.running()
	n := x.nodes[x.r.IntN(len(x.nodes))]
	switch k := x.r.IntN(10); {
	case k < 4: // an edit on a primary that runs
		for _, p := range up {
			if p.kindOf(chaosZone) == api.KindPrimary {
				x.edit(i, p)
				return
			}
		}
		x.note("no running primary to edit")
	case k < 5 && n.up() && len(up) > 1:
		x.note("kill -9 " + n.Name)
		n.kill()
		n.dead = true
	case k < 6 && n.up() && len(up) > 1:
		x.note("SIGSTOP " + n.Name + " (cut off)")
		if err := syscall.Kill(-n.pgid, syscall.SIGSTOP); err != nil {
			x.t.Fatal(err)
		}
		n.stopped = true
	case k < 8 && (n.dead || n.stopped):
		x.revive(n)
	case k < 9 && n.up() && n.kindOf(chaosZone) == api.KindSecondary:
		r := n.run("zone", "promote", chaosZone)
		x.note(fmt.Sprintf("promote on %s: exit %d %s", n.Name, r.code, firstLine(r.stderr+r.stdout)))
	default:
		x.demoteExtra()
	}
}

// edit adds a record on primary p; an edit acknowledged is one that
// must survive.
func (x *chaos) edit(i int, p *chaosNode) {
	name := fmt.Sprintf("e%d", i)
	ip := fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250)
	r := p.run("record", "add", chaosZone, name, "A", ip, "--json")
	if r.code != 0 {
		x.note(fmt.Sprintf("edit %s on %s refused: %s", name, p.Name, firstLine(r.stderr)))
		return
	}
	x.edits = append(x.edits, chaosEdit{name: name, ip: ip, on: p.Name})
	x.note(fmt.Sprintf("edit %s A %s on %s", name, ip, p.Name))
}

// revive continues a stopped node or restarts a dead one.
func (x *chaos) revive(n *chaosNode) {
	if n.stopped {
		x.note("SIGCONT " + n.Name)
		syscall.Kill(-n.pgid, syscall.SIGCONT)
		n.stopped = false
		return
	}
	x.note("restart " + n.Name)
	n.start()
	n.dead = false
}

// demoteExtra demotes, when two running nodes are primaries, the one
// with the lower serial onto the other: what an operator does after a
// split-brain.
func (x *chaos) demoteExtra() {
	var prim []*chaosNode
	for _, n := range x.running() {
		if n.kindOf(chaosZone) == api.KindPrimary {
			prim = append(prim, n)
		}
	}
	if len(prim) < 2 {
		x.note("nothing to demote")
		return
	}
	lo, hi := prim[0], prim[1]
	if s0, s1 := lo.zone(chaosZone).Serial, hi.zone(chaosZone).Serial; s0 > s1 {
		lo, hi = hi, lo
	}
	r := lo.run("zone", "demote", chaosZone, "--primary", hi.dns, "--tsig", x.c.key.Name)
	x.note(fmt.Sprintf("demote %s onto %s: exit %d %s", lo.Name, hi.Name, r.code, firstLine(r.stderr+r.stdout)))
}

// running returns the nodes that run and are not stopped.
func (x *chaos) running() []*chaosNode {
	var out []*chaosNode
	for _, n := range x.nodes {
		if n.up() {
			out = append(out, n)
		}
	}
	return out
}

func (x *chaos) note(s string) {
	x.log = append(x.log, fmt.Sprintf("%3d %s", len(x.log), s))
}

// checkServed: some running node answers the zone authoritatively,
// within two health rounds of the step (a restarted node loads first).
func (x *chaos) checkServed() {
	x.t.Helper()
	foWaitFor(x.t, 2*failoverHealthInterval+5*time.Second, "the zone answered authoritatively by a running node", x.diag, func() string {
		var why []string
		for _, n := range x.running() {
			if _, err := foAuthoritative(n.dns, chaosZone); err == nil {
				return ""
			} else {
				why = append(why, n.Name+": "+err.Error())
			}
		}
		return strings.Join(why, "; ")
	})
}

// settle revives every node, waits for one primary (demoting extras),
// then checks that every node serves one version and that each
// acknowledged edit is served or kept in a backup named by an event.
func (x *chaos) settle() {
	x.t.Helper()
	x.note("settle")
	for _, n := range x.nodes {
		if !n.up() {
			x.revive(n)
		}
	}
	// Two primaries at once are flagged within two health rounds.
	deadline := time.Now().Add(2*failoverHealthInterval + 5*time.Second)
	for {
		var prim []*chaosNode
		for _, n := range x.nodes {
			if n.kindOf(chaosZone) == api.KindPrimary {
				prim = append(prim, n)
			}
		}
		if len(prim) < 2 {
			break
		}
		flagged := false
		for _, p := range prim {
			st := strings.ToLower(p.zone(chaosZone).State + " " + p.eventsText(chaosZone))
			flagged = flagged || strings.Contains(st, "split") || strings.Contains(st, "diverged")
		}
		if flagged {
			x.demoteExtra()
			continue
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("two primaries (%s, %s) and neither flags it within two health rounds%s", prim[0].Name, prim[1].Name, x.diag())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(x.primaries()) == 0 {
		// Every node a secondary of a dead primary: promote one, as an
		// operator would.
		n := x.nodes[x.r.IntN(len(x.nodes))]
		n.need("zone", "promote", chaosZone, "--force")
		x.note("promote --force on " + n.Name + " (no primary left)")
	}
	p := x.primaries()[0]
	want := p.zone(chaosZone).Serial
	for _, n := range x.nodes {
		waitSerial(x.t, n.dns, chaosZone, want, propagationTimeout, x.diag)
	}
	for _, e := range x.edits {
		if got := lookupA(x.t, p.dns, e.name+"."+chaosZone); len(got) == 1 && got[0] == e.ip {
			continue
		}
		if !x.keptInBackup(e) {
			x.t.Fatalf("edit %s A %s (on %s) is lost: not served by the primary %s, in no backup named by an event%s", e.name, e.ip, e.on, p.Name, x.diag())
		}
	}
}

func (x *chaos) primaries() []*chaosNode {
	var out []*chaosNode
	for _, n := range x.nodes {
		if n.kindOf(chaosZone) == api.KindPrimary {
			out = append(out, n)
		}
	}
	return out
}

// keptInBackup reports whether some node keeps e in a backup file that
// one of its events names.
func (x *chaos) keptInBackup(e chaosEdit) bool {
	for _, n := range x.nodes {
		events := n.eventsText(chaosZone)
		for _, b := range n.backups(chaosZone) {
			text, err := os.ReadFile(filepath.Join(n.data, "backup", b))
			if err == nil && strings.Contains(string(text), e.ip) && strings.Contains(events, b) {
				return true
			}
		}
	}
	return false
}

func (x *chaos) diag() string {
	for _, n := range x.nodes {
		if n.stopped { // the diagnosis asks every node that runs
			syscall.Kill(-n.pgid, syscall.SIGCONT)
			n.stopped = false
		}
	}
	return "\nsteps:\n" + strings.Join(x.log, "\n") + x.c.diag(chaosZone)()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
