package listen

// Tests of the query counters and of the fast path's settings and Server
// wiring (ready.go, server.go, config.go).

import (
	"context"
	"runtime"
	"testing"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
)

// TestServerQueryStats checks that the Server sums the counters of the
// responders its pool makes, and that the FastPath setting reaches them.
func TestServerQueryStats(t *testing.T) {
	zs := testZones(t)
	for _, on := range []bool{true, false} {
		s := NewServer(ServerConfig{FastPath: on, FastPathEntries: 256}, zs)
		var held []*answer.Responder
		q := packedQuery(t, "www.example.org.", 1)
		for i := range 3 {
			r := s.pool.Get().(*answer.Responder)
			held = append(held, r) // distinct responders, each counted
			if want := map[bool]int{true: 256, false: 0}[on]; r.ReadySlots() != want {
				t.Fatalf("FastPath %t: responder cache size %d, want %d", on, r.ReadySlots(), want)
			}
			for range i + 1 {
				r.Respond(q, false)
			}
		}
		bad := []byte{0, 1, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0} // UPDATE: NOTIMP
		held[0].Respond(bad, false)
		st := s.QueryStats()
		// The responders share the table's cache: the first fills it.
		want := answer.QueryStats{Fast: 5, Full: 2}
		if !on {
			want = answer.QueryStats{Full: 7}
		}
		if st != want {
			t.Errorf("FastPath %t: %+v, want %+v", on, st, want)
		}
		runtime.KeepAlive(held)
	}
}

// TestQueryCountersRetired checks that counts survive their responder.
func TestQueryCountersRetired(t *testing.T) {
	s := NewServer(ServerConfig{}, testZones(t))
	r := s.pool.Get().(*answer.Responder)
	r.Respond(packedQuery(t, "www.example.org.", 1), false)
	s.retireCounters(r.Counters()) // what the cleanup does once the responder is gone
	s.retireCounters(r.Counters()) // and only once
	if st := s.QueryStats(); st != (answer.QueryStats{Full: 1}) {
		t.Errorf("%+v, want the retired responder's one query", st)
	}
	if len(s.live) != 0 {
		t.Errorf("%d counters still live", len(s.live))
	}

	// For real: a responder dropped by the pool is collected and its
	// counts move to the retired total.
	s = NewServer(ServerConfig{}, testZones(t))
	func() {
		r := s.pool.Get().(*answer.Responder)
		r.Respond(packedQuery(t, "www.example.org.", 1), false)
		r.Respond(packedQuery(t, "www.example.org.", 2), false)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		s.statsMu.Lock()
		n := len(s.live)
		s.statsMu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dropped responder's counters were not retired")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.QueryStats(); st != (answer.QueryStats{Full: 2}) {
		t.Errorf("after collection: %+v, want the two queries", st)
	}
}

// TestServerFastPathOverSockets asks a running server the same question
// over UDP and TCP, in two letter cases: the repeats come from the cache
// and the replies echo each query's case.
func TestServerFastPathOverSockets(t *testing.T) {
	s := NewServer(ServerConfig{Listen: []string{"127.0.0.1:0"}, FastPath: true}, testZones(t))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}()
	addr := s.Addrs()[0].String()
	for i, name := range []string{"www.example.org.", "WWW.example.ORG.", "www.example.org.", "wWw.ExAmPlE.oRg."} {
		proto := []string{"udp", "tcp"}[i%2]
		m := exchange(t, proto, addr, question(name, dns.TypeA))
		if m.Question[0].Name != name || len(m.Answer) != 1 || m.Answer[0].Header().Name != name {
			t.Errorf("%s %s: question %v, answer %v", proto, name, m.Question, m.Answer)
		}
	}
	if st := s.QueryStats(); st != (answer.QueryStats{Fast: 3, Full: 1}) {
		t.Errorf("%+v, want one full reply and three from the cache", st)
	}
}

// packedQuery is an A query for name with EDNS, in wire form.
func packedQuery(t *testing.T, name string, id uint16) []byte {
	t.Helper()
	m := question(name, dns.TypeA)
	m.Id = id
	m.SetEdns0(1232, false)
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
