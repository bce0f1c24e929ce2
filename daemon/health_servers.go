package daemon

// Secondary health and live lint (issue 8): every server that should hold
// a zone — this node, the NS-listed servers (addresses from the data
// served here, on the ns-port setting's port), and the stealth ones of
// notify_targets.go (ALSO-NOTIFY, also-notify, peers) — asked for the
// zone's SOA each health round and by `zone health`, with whether it
// answers authoritatively, its serial, its lag (RFC 1982) and the last
// time it was seen in sync, kept in memory across rounds. The lint
// findings of RFC 2182 and RFC 1912 practice that need the network are
// computed from what the servers answered.

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
)

// healthServer is one server that should hold a zone, and why.
type healthServer struct {
	addr    netip.AddrPort
	sources []string
	stealth bool
	key     string // the peer's TSIG key name, signing the SOA query; "" none
}

// zoneServers returns the servers that should hold zone, served as snap,
// the apex NS names with the addresses known for each (nil: none
// anywhere), and whether the system resolver was asked.
func (h *health) zoneServers(ctx context.Context, zone string, snap *answer.Snapshot) (servers []*healthServer, nsAddrs map[string][]netip.Addr, resolved bool) {
	byAddr := make(map[netip.AddrPort]*healthServer)
	add := func(ap netip.AddrPort, source string, stealth bool) {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if s := byAddr[ap]; s != nil {
			if !slices.Contains(s.sources, source) {
				s.sources = append(s.sources, source)
			}
			s.stealth = s.stealth && stealth
			return
		}
		s := &healthServer{addr: ap, sources: []string{source}, stealth: stealth}
		for _, p := range h.peerSet.list() {
			if p.Addr == ap {
				s.key = p.Key
			}
		}
		byAddr[ap] = s
		servers = append(servers, s)
	}
	if h.listening != nil {
		for _, a := range h.listening() {
			if ua, ok := a.(*net.UDPAddr); ok && !ua.AddrPort().Addr().IsUnspecified() {
				add(ua.AddrPort(), "self", false)
			}
		}
	}
	n := h.notifier
	port := uint16(h.nsPort)
	nsAddrs = make(map[string][]netip.Addr)
	for _, name := range apexNSNames(snap) {
		addrs := n.knownAddrs(name, snap)
		if len(addrs) == 0 && h.resolveNS {
			resolved = true
			addrs, _ = n.resolve(ctx, name)
		}
		nsAddrs[name] = addrs
		for _, a := range addrs {
			add(netip.AddrPortFrom(a, port), "ns "+name, false)
		}
	}
	targets, _ := n.targets(ctx, zone, snap)
	for _, t := range targets {
		if !strings.HasPrefix(t.source, "ns ") {
			add(t.addr, t.source, true)
		}
	}
	return servers, nsAddrs, resolved
}

// askServer queries one server for a zone's SOA.
func (h *health) askServer(ctx context.Context, s *healthServer, zone string, ours uint32) api.ServerState {
	st := api.ServerState{Addr: s.addr.String(), Sources: s.sources, Stealth: s.stealth, Checked: time.Now().UTC()}
	var key *xfrKey
	if s.key != "" {
		var err error
		if key, err = h.secondaries.keyNamed(ctx, s.key); err != nil {
			st.Error = err.Error()
			return st
		}
	}
	ctx, cancel := context.WithTimeout(ctx, healthQueryTimeout)
	defer cancel()
	sec := h.secondaries
	r, err := sec.exchangeSOA(ctx, "udp", s.addr, zone, key)
	if err == nil && r.Truncated {
		r, err = sec.exchangeSOA(ctx, "tcp", s.addr, zone, key)
	}
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Reachable, st.Authoritative, st.Rcode = true, r.Authoritative, dns.RcodeToString[r.Rcode]
	if r.Rcode == dns.RcodeSuccess {
		for _, rr := range r.Answer {
			if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(dns.Fqdn(soa.Hdr.Name), zone) {
				st.HasSerial, st.Serial = true, soa.Serial
			}
		}
	}
	switch {
	case r.Rcode != dns.RcodeSuccess:
		st.Error = "does not serve the zone: answered " + st.Rcode
	case !r.Authoritative:
		st.Error = "does not serve the zone: the answer is not authoritative (AA not set)"
	case !st.HasSerial:
		st.Error = "does not serve the zone: the answer holds no SOA"
	}
	if st.HasSerial {
		st.Lag = int64(int32(ours - st.Serial))
		st.InSync = st.Authoritative && st.Serial == ours
	}
	return st
}

// checkServers asks every server that should hold zone for its SOA, keeps
// what they said, and the lint findings.
func (h *health) checkServers(ctx context.Context, zone string) {
	snap := h.zones.Get(zone)
	if snap == nil || snap.SOA() == nil || h.commits.isCatalog(zone) {
		return
	}
	ours := snap.Serial()
	servers, nsAddrs, resolved := h.zoneServers(ctx, zone, snap)
	states := make([]api.ServerState, len(servers))
	slots := make(chan struct{}, healthParallel)
	var wg sync.WaitGroup
	for i, s := range servers {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-slots }()
			states[i] = h.askServer(ctx, s, zone, ours)
		})
	}
	wg.Wait()
	lint := lintServers(zone, h.nsPort, nsAddrs, resolved, states)

	var events []api.Event
	h.mu.Lock()
	prev := h.servers[zone]
	next := make(map[string]*api.ServerState, len(states))
	for i := range states {
		st := &states[i]
		if p := prev[st.Addr]; p != nil {
			st.LastSync = p.LastSync
			if ev, ok := serverChange(zone, ours, p, st); ok {
				events = append(events, ev)
			}
		}
		if st.InSync {
			st.LastSync = st.Checked
		}
		next[st.Addr] = st
	}
	h.servers[zone] = next
	h.order[zone] = serverOrder(states)
	h.lint[zone] = lint
	h.mu.Unlock()
	for _, ev := range events {
		h.emit(ev)
	}
}

// serverChange returns the "server-health" event of a server that
// stopped, or started again, answering authoritatively with the zone's
// SOA since the previous check.
func serverChange(zone string, ours uint32, prev, cur *api.ServerState) (api.Event, bool) {
	was, is := prev.Authoritative && prev.HasSerial, cur.Authoritative && cur.HasSerial
	if was == is {
		return api.Event{}, false
	}
	host := cur.Addr
	if ap, err := netip.ParseAddrPort(cur.Addr); err == nil {
		host = ap.Addr().String()
	}
	ev := api.Event{Zone: zone, Kind: "server-health", Peer: host, Serial: ours}
	if is {
		ev.Outcome = api.OutcomeOK
		ev.Detail = fmt.Sprintf("server %s (%s) answers authoritatively again, at serial %d (lag %d)", cur.Addr, strings.Join(cur.Sources, ", "), cur.Serial, cur.Lag)
	} else {
		ev.Outcome = api.OutcomeWarning
		ev.Detail = fmt.Sprintf("server %s (%s) no longer answers authoritatively for the zone: %s", cur.Addr, strings.Join(cur.Sources, ", "), cur.Error)
	}
	return ev, true
}

// serverOrder returns the servers' addresses in the order they were listed.
func serverOrder(states []api.ServerState) []string {
	out := make([]string, len(states))
	for i, st := range states {
		out[i] = st.Addr
	}
	return out
}

// decorateServers adds the servers and lint findings last seen of a zone.
func (h *health) decorateServers(z api.Zone) api.Zone {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.servers[z.Name]
	for _, addr := range h.order[z.Name] {
		if st := m[addr]; st != nil {
			z.Servers = append(z.Servers, *st)
		}
	}
	z.Lint = slices.Clone(h.lint[z.Name])
	return z
}

// lintServers returns the live lint findings of a zone: nsAddrs maps each
// apex NS name to its known addresses (resolved: the system resolver was
// asked for those without a local one), states are what the servers
// answered, NS-listed ones on port.
func lintServers(zone string, port int, nsAddrs map[string][]netip.Addr, resolved bool, states []api.ServerState) []api.LintFinding {
	var out []api.LintFinding
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range nsAddrs {
			if !yield(n) {
				return
			}
		}
	})
	switch n := len(names); {
	case n < 2:
		out = append(out, api.LintFinding{Severity: api.LintError, Rule: "too-few-ns", RFC: "RFC 2182 §5",
			Detail: fmt.Sprintf("zone %s has %d NS record(s): at least two name servers are required", zone, n)})
	case n < 3 && !isReverseZone(zone):
		out = append(out, api.LintFinding{Severity: api.LintWarning, Rule: "few-ns", RFC: "RFC 2182 §5",
			Detail: fmt.Sprintf("zone %s has %d NS records: three or more are recommended", zone, n)})
	}
	var all []netip.Addr
	for _, name := range names {
		addrs := nsAddrs[name]
		if len(addrs) == 0 {
			where := "no A/AAAA for it in this zone nor in another served zone"
			if resolved {
				where += ", and the system resolver found none"
			} else {
				where += "; notify-resolve is off, so the system resolver was not asked"
			}
			out = append(out, api.LintFinding{Severity: api.LintError, Rule: "ns-no-address", RFC: "RFC 1912 §2.3",
				Detail: fmt.Sprintf("NS %s has no address anywhere: %s", name, where)})
		}
		all = append(all, addrs...)
		for _, a := range addrs {
			ap := netip.AddrPortFrom(a, uint16(port)).String()
			i := slices.IndexFunc(states, func(st api.ServerState) bool { return st.Addr == ap })
			if i < 0 {
				continue
			}
			st := states[i]
			switch {
			case !st.Reachable:
				out = append(out, api.LintFinding{Severity: api.LintError, Rule: "lame-ns", RFC: "RFC 1912 §2.8",
					Detail: fmt.Sprintf("NS %s (%s) is lame: it does not answer (%s)", name, ap, st.Error)})
			case !st.Authoritative || !st.HasSerial:
				out = append(out, api.LintFinding{Severity: api.LintError, Rule: "lame-ns", RFC: "RFC 1912 §2.8",
					Detail: fmt.Sprintf("NS %s (%s) is lame: it does not answer authoritatively for %s (%s)", name, ap, zone, st.Error)})
			}
		}
	}
	if len(names) >= 2 && len(all) >= 2 && sameNetwork(all) {
		out = append(out, api.LintFinding{Severity: api.LintWarning, Rule: "ns-one-network", RFC: "RFC 2182 §3.1",
			Detail: fmt.Sprintf("all NS addresses of %s are in one IPv4 /24 or IPv6 /48: no topological diversity", zone)})
	}
	return out
}

// sameNetwork reports whether all addresses are inside one IPv4 /24 or
// one IPv6 /48.
func sameNetwork(addrs []netip.Addr) bool {
	prefix := func(a netip.Addr) netip.Prefix {
		bits := 48
		if a.Is4() {
			bits = 24
		}
		p, _ := a.Prefix(bits)
		return p
	}
	first := prefix(addrs[0])
	for _, a := range addrs[1:] {
		if prefix(a) != first {
			return false
		}
	}
	return true
}

// isReverseZone reports whether zone is under in-addr.arpa or ip6.arpa.
func isReverseZone(zone string) bool {
	z := strings.ToLower(dns.Fqdn(zone))
	return dns.IsSubDomain("in-addr.arpa.", z) || dns.IsSubDomain("ip6.arpa.", z)
}

// lintFailed reports whether any finding is an error.
func lintFailed(lint []api.LintFinding) bool {
	return slices.ContainsFunc(lint, func(f api.LintFinding) bool { return f.Severity == api.LintError })
}

// roundServers checks the servers of every served zone, a few zones at
// once.
func (h *health) roundServers(ctx context.Context, snaps []*answer.Snapshot) {
	slots := make(chan struct{}, healthParallel)
	var wg sync.WaitGroup
	for _, snap := range snaps {
		if snap.SOA() == nil || h.commits.isCatalog(snap.Origin()) {
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-slots }()
			h.checkServers(ctx, snap.Origin())
		})
	}
	wg.Wait()
}
