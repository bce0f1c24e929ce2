package answer

import (
	"fmt"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

func serialZone(t testing.TB, origin string, serial uint32) *Snapshot {
	return mustCompile(t, testZone(t, origin,
		fmt.Sprintf("@ SOA ns host %d 1 1 1 1", serial),
		"@ NS ns",
		"ns A 192.0.2.1",
	))
}

func TestZonesRegistry(t *testing.T) {
	zs := NewZones()
	if zs.Get("example.org.") != nil || len(zs.List()) != 0 {
		t.Fatal("new registry is not empty")
	}
	zs.Set(serialZone(t, "example.org.", 1))
	zs.Set(serialZone(t, "b.example.", 1))
	zs.Set(serialZone(t, "a.example.", 1))
	zs.Set(serialZone(t, "example.org.", 2))
	if s := zs.Get("Example.ORG"); s == nil || s.Serial() != 2 {
		t.Errorf("Get after replace: %v", s)
	}
	var origins []string
	for _, s := range zs.List() {
		origins = append(origins, s.Origin())
	}
	if fmt.Sprint(origins) != "[a.example. b.example. example.org.]" {
		t.Errorf("List: %v", origins)
	}
	if !zs.Delete("b.example.") || zs.Delete("b.example.") || zs.Get("b.example.") != nil || len(zs.List()) != 2 {
		t.Error("Delete")
	}
}

func TestZoneFor(t *testing.T) {
	zs := NewZones()
	for _, o := range []string{"example.org.", "sub.example.org.", "."} {
		zs.Set(serialZone(t, o, 1))
	}
	cases := []struct {
		name  string
		qtype uint16
		want  string
	}{
		{"www.example.org.", dns.TypeA, "example.org."},
		{"example.org.", dns.TypeA, "example.org."},
		{"a.b.sub.example.org.", dns.TypeA, "sub.example.org."},
		{"sub.example.org.", dns.TypeSOA, "sub.example.org."},
		{"sub.example.org.", dns.TypeDS, "example.org."},
		{"example.org.", dns.TypeDS, "."},
		{"org.", dns.TypeA, "."},
		{".", dns.TypeDS, "."},
	}
	t1 := zs.cur.Load()
	for _, c := range cases {
		key, _ := WireName(c.name)
		got := t1.zoneFor(key, c.qtype)
		if got == nil || got.Origin() != c.want {
			t.Errorf("zoneFor(%s, %s) = %v, want %s", c.name, dns.TypeToString[c.qtype], got, c.want)
		}
	}
	zs.Delete(".")
	key, _ := WireName("www.example.com.")
	if got := zs.cur.Load().zoneFor(key, dns.TypeA); got != nil {
		t.Errorf("zoneFor outside every zone: %v", got.Origin())
	}
}

// TestZonesConcurrentSwap has readers answer while writers replace the
// zone: under -race this checks that the query path needs no lock.
func TestZonesConcurrentSwap(t *testing.T) {
	zs := NewZones()
	zs.Set(serialZone(t, "example.org.", 0))
	snaps := make([]*Snapshot, 50)
	for i := range snaps {
		snaps[i] = serialZone(t, "example.org.", uint32(i+1))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			r := newResponder(zs, 1232, false)
			q := question("example.org.", dns.TypeSOA)
			b, _ := q.Pack()
			for {
				select {
				case <-stop:
					return
				default:
				}
				m := new(dns.Msg)
				if err := m.Unpack(r.Respond(b, false)); err != nil || len(m.Answer) != 1 {
					t.Errorf("answer during swap: %v %v", m, err)
					return
				}
			}
		})
	}
	for _, s := range snaps {
		zs.Set(s)
	}
	close(stop)
	wg.Wait()
	if zs.Get("example.org.").Serial() != 50 {
		t.Error("last Set did not win")
	}
}
