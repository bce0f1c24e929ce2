package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

func TestNotifyTargets(t *testing.T) {
	// A port of a listener on 127.0.0.9; on the other addresses the
	// start-up NOTIFYs are sent once and go unanswered.
	_, port := listenNotify(t, "127.0.0.9")
	p := fmt.Sprint(port)
	td := startDaemonWith(t, map[string]string{
		"example.org.zone": notifyZone(1, `
@ IN NS ns3.example.net.
@ IN NS ns4.nowhere.test.
@ IN NS ns5
ns5 IN A 127.0.0.2
ns5 IN A 127.0.0.6
deleg IN NS ns.deleg
ns.deleg IN A 127.0.0.7
`),
		"example.net.zone": `$TTL 300
@ IN SOA ns1.example.org. hostmaster.example.org. 1 3600 900 604800 60
@ IN NS ns1.example.org.
ns3 IN A 127.0.0.3
`,
	}, func(c *Config) {
		c.NSPort = port
		c.AlsoNotify = []string{"127.0.0.5:" + p, "127.0.0.4:" + p}
	}, func(d *Daemon) {
		d.notifier.tries = 1
		// Our own listening socket is never a target.
		d.cfg.AlsoNotify = append(d.cfg.AlsoNotify, d.Server().Addrs()[0].String())
	})
	if err := td.store.Meta().Set(context.Background(), "example.org.", "ALSO-NOTIFY",
		[]string{"127.0.0.4:" + p, "127.0.0.2:" + p, "bogus", "127.0.0.8"}); err != nil {
		t.Fatal(err)
	}
	targets, problems := td.notifier.targets(context.Background(), "example.org.", td.zones.Get("example.org."))
	var got []string
	for _, tg := range targets {
		got = append(got, tg.addr.String()+" "+tg.source)
	}
	want := []string{
		"127.0.0.2:" + p + " ns ns2.example.org.",
		"127.0.0.3:" + p + " ns ns3.example.net.", // from the other served zone
		"127.0.0.6:" + p + " ns ns5.example.org.", // 127.0.0.2 is already there
		"127.0.0.4:" + p + " ALSO-NOTIFY",
		"127.0.0.8:53 ALSO-NOTIFY", // port 53 when absent
		"127.0.0.5:" + p + " also-notify",
	}
	if !slices.Equal(got, want) {
		t.Errorf("targets\n got %q\nwant %q", got, want)
	}
	if len(problems) != 2 || !strings.Contains(problems[0], "ns4.nowhere.test.") || !strings.Contains(problems[0], "notify-resolve is off") ||
		!strings.Contains(problems[1], `"bogus"`) {
		t.Errorf("problems %q", problems)
	}
	// example.net's only NS is its MNAME.
	if tg, _ := td.notifier.targets(context.Background(), "example.net.", td.zones.Get("example.net.")); len(tg) != 2 {
		t.Errorf("example.net. targets %v, want only also-notify", tg)
	}
}

func TestNotifyRetriesUntilAnswered(t *testing.T) {
	ls, port := listenNotify(t, "127.0.0.2")
	l := ls[0]
	l.set(func(l *notifyListener) { l.ignore = 2 })
	td := startDaemonWith(t, map[string]string{"example.org.zone": notifyZone(7, "")},
		func(c *Config) { c.NSPort, c.Listen = port, []string{"127.0.0.6:0"} },
		func(d *Daemon) { d.notifier.firstWait = 200 * time.Millisecond })
	waitFor(t, "NOTIFY answered", func() bool {
		return hasEvent(td.notifyEvents(t, "example.org."), api.OutcomeOK, "answered NOERROR", "after 3 tries")
	})
	got := l.received(7)
	if len(got) != 3 {
		t.Fatalf("%d NOTIFYs, want 3 (2 ignored)", len(got))
	}
	for i, r := range got {
		if r.from.Addr() != netip.MustParseAddr("127.0.0.6") {
			t.Errorf("NOTIFY %d from %s, want our service address 127.0.0.6", i, r.from)
		}
		m := r.msg
		if m.Id != got[0].msg.Id || !m.Authoritative || m.Response || len(m.Question) != 1 ||
			m.Question[0] != (dns.Question{Name: "example.org.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET}) || m.IsTsig() != nil {
			t.Errorf("NOTIFY %d: %v", i, m)
		}
	}
	// The wait doubles: 200ms, then 400ms. The times are of arrival, and
	// one NOTIFY may arrive late on a busy machine, shortening the gap
	// after it: hence the slack.
	second, third := got[1].at.Sub(got[0].at), got[2].at.Sub(got[1].at)
	if second < 150*time.Millisecond {
		t.Errorf("second send %v after the first, want about 200ms", second)
	}
	if third < 300*time.Millisecond || third < second {
		t.Errorf("third send %v after the second (%v after the first), want about 400ms", third, second)
	}
	evs := td.notifyEvents(t, "example.org.")
	if n := len(slices.DeleteFunc(slices.Clone(evs), func(e api.Event) bool { return !strings.Contains(e.Detail, "sent to") })); n != 3 {
		t.Errorf("%d send events, want 3: %v", n, evs)
	}
	for _, e := range evs {
		if e.Peer != "127.0.0.2" || e.Serial != 7 {
			t.Errorf("event %+v", e)
		}
	}
	z, err := td.store.Zones().Get(context.Background(), "example.org.")
	if err != nil || z.NotifiedSerial != 7 {
		t.Errorf("notified serial %d (%v)", z.NotifiedSerial, err)
	}
}

func TestNotifyGivesUp(t *testing.T) {
	ls, port := listenNotify(t, "127.0.0.2")
	ls[0].set(func(l *notifyListener) { l.silent = true })
	td := startDaemonWith(t, map[string]string{"example.org.zone": notifyZone(1, "")},
		func(c *Config) { c.NSPort = port },
		func(d *Daemon) { d.notifier.tries, d.notifier.firstWait = 3, 100*time.Millisecond })
	waitFor(t, "give-up event", func() bool {
		return hasEvent(td.notifyEvents(t, "example.org."), api.OutcomeError, "given up", "no answer after 3 tries")
	})
	if n := len(ls[0].received(1)); n != 3 {
		t.Errorf("%d NOTIFYs, want 3", n)
	}
}

// TestNotifyAfterServed: when a NOTIFY arrives the daemon already serves
// its serial, after a zonefile edit and after an edit through the API;
// and a newer version replaces the retries of an older one.
func TestNotifyAfterServed(t *testing.T) {
	ls, port := listenNotify(t, "127.0.0.2")
	l := ls[0]
	td := startDaemonWith(t, map[string]string{"example.org.zone": notifyZone(1, "")},
		func(c *Config) { c.NSPort = port },
		func(d *Daemon) {
			d.notifier.firstWait = 300 * time.Millisecond
			l.set(func(l *notifyListener) { l.daemon = d.Server().Addrs()[0].String() })
		})
	waitFor(t, "start-up NOTIFY", func() bool { return len(l.received(1)) > 0 })

	// Serial 2 goes unanswered for a while, then serial 3 replaces it.
	l.set(func(l *notifyListener) { l.silent = true })
	if err := os.WriteFile(filepath.Join(td.dir, "example.org.zone"), []byte(notifyZone(2, "new IN A 127.0.0.9\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "NOTIFY of serial 2 retried", func() bool { return len(l.received(2)) >= 2 })
	l.set(func(l *notifyListener) { l.silent = false })
	res, err := td.loader.edit("example.org.", api.EditRequest{Op: api.EditAdd, Name: "api", Type: "A", Data: []string{"127.0.0.10"}}, api.SerialIncrement, time.Now())
	if err != nil || res.NewSerial != 3 {
		t.Fatalf("edit: %v %v", res, err)
	}
	waitFor(t, "NOTIFY of serial 3", func() bool { return len(l.received(3)) > 0 })
	first3 := l.received(3)[0].at
	time.Sleep(1500 * time.Millisecond) // past serial 2's next retry
	for _, r := range l.received(2) {
		if r.at.After(first3.Add(100 * time.Millisecond)) {
			t.Errorf("NOTIFY of serial 2 sent at %v, after serial 3's at %v", r.at, first3)
		}
	}
	for _, r := range l.received(0) {
		if r.served != int64(notifySerial(r.msg)) {
			t.Errorf("NOTIFY of serial %d arrived while the daemon served %d", notifySerial(r.msg), r.served)
		}
	}
}

func TestNotifySigned(t *testing.T) {
	for _, tc := range []struct {
		alg         string
		provider    bool // verify with the keyring's provider (miekg/dns has no hmac-md5)
		wrongSecret bool
		zoneKey     bool   // named by the zone's TSIG key, not metadata
		meta        string // the metadata kind naming the key, when not zoneKey
	}{
		{alg: "hmac-sha256", meta: store.MetaTSIGAllowAXFR},
		{alg: "hmac-sha384", meta: store.MetaAXFRMasterTSIG},
		{alg: "hmac-sha1", zoneKey: true},
		{alg: "hmac-sha512", meta: store.MetaTSIGAllowAXFR},
		{alg: "hmac-md5", provider: true, meta: store.MetaTSIGAllowAXFR},
		{alg: "hmac-sha256", wrongSecret: true, meta: store.MetaTSIGAllowAXFR},
	} {
		name := tc.alg
		if tc.wrongSecret {
			name += " wrong secret"
		}
		if tc.zoneKey {
			name += " zone key"
		} else {
			name += " " + tc.meta
		}
		t.Run(name, func(t *testing.T) {
			key := store.Key{Name: "notify-key.", Algorithm: tc.alg, Secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="}
			ls, port := listenNotify(t, "127.0.0.2")
			l := ls[0]
			theirs := key
			if tc.wrongSecret {
				theirs.Secret = "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMzI="
			}
			l.set(func(l *notifyListener) {
				l.key = &theirs
				if tc.provider {
					l.provider = keyProvider(theirs)
				}
			})
			td := startDaemonWith(t, map[string]string{"example.org.zone": notifyZone(1, "")},
				func(c *Config) { c.NSPort = port },
				func(d *Daemon) {
					d.notifier.tries = 1
					ctx := context.Background()
					if err := d.store.Keys().Add(ctx, key); err != nil {
						t.Fatal(err)
					}
					d.keys.reload()
					z := store.Zone{Name: "example.org.", Kind: store.KindPrimary}
					if tc.zoneKey {
						z.TSIGKey = "NOTIFY-KEY."
					}
					if err := d.store.Zones().Put(ctx, z); err != nil {
						t.Fatal(err)
					}
					if tc.zoneKey {
						return
					}
					if err := d.store.Meta().Set(ctx, "example.org.", tc.meta, []string{"Notify-Key"}); err != nil {
						t.Fatal(err)
					}
				})
			res, err := td.notifier.notifyHost(context.Background(), "example.org.", l.addr)
			if err != nil {
				t.Fatal(err)
			}
			got := l.received(1)
			if len(got) == 0 {
				t.Fatal("no NOTIFY")
			}
			for _, r := range got {
				tsig := r.msg.IsTsig()
				if tsig == nil || tsig.Hdr.Name != "notify-key." {
					t.Fatalf("NOTIFY not signed with notify-key.: %v", r.msg)
				}
				if (r.tsigErr != nil) != tc.wrongSecret {
					t.Errorf("TSIG verification: %v", r.tsigErr)
				}
			}
			tg := res.Targets[0]
			if tc.wrongSecret {
				if tg.Rcode != "NOTAUTH" || !strings.Contains(tg.Error, "BADSIG") {
					t.Errorf("result %+v, want NOTAUTH with BADSIG", tg)
				}
			} else if tg.Rcode != "NOERROR" || tg.Error != "" {
				t.Errorf("result %+v", tg)
			}
		})
	}
}

func TestNotifyOnDemand(t *testing.T) {
	ls, port := listenNotify(t, "127.0.0.2", "127.0.0.3", "127.0.0.4")
	ls[1].set(func(l *notifyListener) { l.rcode = dns.RcodeRefused })
	td := startDaemonWith(t, map[string]string{"example.org.zone": notifyZone(5, "@ IN NS ns3\nns3 IN A 127.0.0.3\n@ IN NS ns9.nowhere.test.\n")},
		func(c *Config) { c.NSPort = port },
		func(d *Daemon) {
			d.notifier.tries, d.notifier.demandTries, d.notifier.firstWait = 1, 2, 200*time.Millisecond
		})
	ctx := context.Background()
	res, err := td.notifier.notifyAll(ctx, "example.org.")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range res.Targets {
		got = append(got, fmt.Sprintf("%s|%s|%s|%v", tg.Addr, tg.Source, tg.Rcode, tg.Error != ""))
	}
	p := fmt.Sprint(port)
	want := []string{
		"127.0.0.2:" + p + "|ns ns2.example.org.|NOERROR|false",
		"127.0.0.3:" + p + "|ns ns3.example.org.|REFUSED|false",
		"|-||true", // ns9.nowhere.test. has no address
	}
	if res.Zone != "example.org." || res.Serial != 5 || !slices.Equal(got, want) {
		t.Errorf("notifyAll %s %d\n got %q\nwant %q", res.Zone, res.Serial, got, want)
	}

	res, err = td.notifier.notifyHost(ctx, "example.org.", ls[2].addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 1 || res.Targets[0].Source != "notify-host" || res.Targets[0].Rcode != "NOERROR" || res.Targets[0].Addr != ls[2].addr.String() {
		t.Errorf("notifyHost %+v", res.Targets)
	}
	// Nothing listens: the tries run out.
	dead := netip.MustParseAddrPort("127.0.0.5:" + p)
	res, err = td.notifier.notifyHost(ctx, "example.org.", dead)
	if err != nil {
		t.Fatal(err)
	}
	if tg := res.Targets[0]; tg.Rcode != "" || !strings.Contains(tg.Error, "after 2 tries") {
		t.Errorf("dead target %+v", tg)
	}
	if _, err := td.notifier.notifyAll(ctx, "unknown.test."); err == nil {
		t.Error("NOTIFY of a zone not served")
	}
}

// TestNotifyKeyChoice: TSIG-ALLOW-AXFR's first key wins over
// AXFR-MASTER-TSIG and the zone's key; a missing key is reported.
func TestNotifyKeyChoice(t *testing.T) {
	td := startDaemonWith(t, map[string]string{"example.org.zone": zoneText(1, "")}, nil, nil)
	ctx := context.Background()
	for _, k := range []string{"a.", "b.", "c."} {
		if err := td.store.Keys().Add(ctx, store.Key{Name: k, Algorithm: "hmac-sha256", Secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="}); err != nil {
			t.Fatal(err)
		}
	}
	td.keys.reload()
	if err := td.store.Zones().Update(ctx, "example.org.", func(z *store.Zone) error { z.TSIGKey = "c."; return nil }); err != nil {
		t.Fatal(err)
	}
	key := func() string {
		k, ok := td.notifier.zoneKey(ctx, "example.org.")
		if !ok {
			return ""
		}
		return k.Name
	}
	if got := key(); got != "c." {
		t.Errorf("zone key only: %q", got)
	}
	td.store.Meta().Set(ctx, "example.org.", store.MetaAXFRMasterTSIG, []string{"b."})
	if got := key(); got != "b." {
		t.Errorf("with AXFR-MASTER-TSIG: %q", got)
	}
	td.store.Meta().Set(ctx, "example.org.", store.MetaTSIGAllowAXFR, []string{"a.", "b."})
	if got := key(); got != "a." {
		t.Errorf("with TSIG-ALLOW-AXFR: %q", got)
	}
	td.store.Meta().Set(ctx, "example.org.", store.MetaTSIGAllowAXFR, []string{"gone."})
	if got := key(); got != "" {
		t.Errorf("a missing key: %q, want unsigned", got)
	}
}

// TestNotifyRetriesSigned: a NOTIFY to a peer with a key is signed with
// that key on every try, the retries too, and each signature verifies
// (miekg/dns strips the TSIG from a message it signs, so a message
// written twice went out unsigned the second time).
func TestNotifyRetriesSigned(t *testing.T) {
	key := store.Key{Name: "peer-key.", Algorithm: "hmac-sha256", Secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="}
	ls, port := listenNotify(t, "127.0.0.2")
	l := ls[0]
	l.set(func(l *notifyListener) { l.key, l.ignore, l.ignoreOf = &key, 2, "example.org." })
	td := startDaemonWith(t, map[string]string{"example.org.zone": notifyZone(7, "")},
		func(c *Config) { c.NSPort, c.Listen = port, []string{"127.0.0.6:0"} },
		func(d *Daemon) {
			d.notifier.firstWait = 200 * time.Millisecond
			ctx := context.Background()
			if err := d.store.Keys().Add(ctx, key); err != nil {
				t.Fatal(err)
			}
			d.keys.reload()
			if err := d.store.Peers().Add(ctx, store.Peer{Name: "sec", Addr: l.addr.String(), TSIGKey: "peer-key.", Role: roleSecondary}); err != nil {
				t.Fatal(err)
			}
			d.peers.reload()
		})
	deadline := time.Now().Add(10 * time.Second)
	for !hasEvent(td.notifyEvents(t, "example.org."), api.OutcomeOK, "answered NOERROR", "after 3 tries") {
		if time.Now().After(deadline) {
			t.Fatalf("NOTIFY not answered after 3 tries: %v", td.notifyEvents(t, "example.org."))
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := l.received(7)
	if len(got) != 3 {
		t.Fatalf("%d NOTIFYs, want 3 (2 ignored)", len(got))
	}
	for i, r := range got {
		tsig := r.msg.IsTsig()
		if tsig == nil || tsig.Hdr.Name != "peer-key." {
			t.Errorf("NOTIFY %d not signed with peer-key.: %v", i+1, r.msg)
			continue
		}
		if r.tsigErr != nil {
			t.Errorf("NOTIFY %d: its TSIG does not verify: %v", i+1, r.tsigErr)
		}
		if r.msg.Id != got[0].msg.Id {
			t.Errorf("NOTIFY %d has ID %d, the first %d: a retry keeps the ID", i+1, r.msg.Id, got[0].msg.Id)
		}
	}
	if evs := td.notifyEvents(t, "example.org."); hasEvent(evs, api.OutcomeError) {
		t.Errorf("error events: %v", evs)
	}
}
