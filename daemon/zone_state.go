package daemon

import (
	"context"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/api"
)

// The zone state peers exchange over DNS (docs/architecture.md, "Content
// digests and the zone state option"): every SOA query a node sends a
// peer (health rounds, a secondary's refresh) carries the empty zone
// state option (answer.OptionZoneState); a node answering such a query
// from one of its peers, matched as every peer is (its key when it has
// one, else its address), adds the option to its authoritative answer
// with its role, serial and content digest of the zone, and for a
// secondary the primary it follows. Nobody else ever gets it.

// zoneState is what one peer said of one zone.
type zoneState struct {
	Reachable bool   // it answered the SOA query
	Serves    bool   // authoritatively, with the zone's SOA
	Serial    uint32 // its SOA serial, when Serves
	// What the zone state option said; Role is "" when the answer had
	// none (not a zonekeeper node, or one that predates the option).
	Role    string // api.KindPrimary, api.KindSecondary or api.KindNative
	Digest  []byte // its content digest of that version; nil until computed there
	Primary string // a secondary's primary: a peer name (as that node calls it) or an address
	Why     string // why it is not Reachable or does not Serve
}

// DigestHex returns the digest in hex, "" when unknown.
func (z zoneState) DigestHex() string { return hex.EncodeToString(z.Digest) }

// peerZoneState asks peer p for its state of zone, signed with the
// peer's key when it has one. The error says why p could not be asked
// or did not answer; a peer that answers without serving the zone is no
// error (Serves is false and Why says why).
func (d *Daemon) peerZoneState(ctx context.Context, p peer, zone string) (zoneState, error) {
	return d.secondaries.peerZoneState(ctx, p, zone)
}

// peerZoneState is Daemon.peerZoneState.
func (s *secondaries) peerZoneState(ctx context.Context, p peer, zone string) (zoneState, error) {
	var key *xfrKey
	if p.Key != "" {
		var err error
		if key, err = s.keyNamed(ctx, p.Key); err != nil {
			return zoneState{Why: err.Error()}, err
		}
	}
	st := s.askZoneState(ctx, p.Addr, dns.Fqdn(strings.ToLower(zone)), key)
	if !st.Reachable {
		return st, errors.New(st.Why)
	}
	return st, nil
}

// askZoneState sends one SOA query with the zone state option to a peer
// at addr (UDP, TCP when truncated) and reads the answer.
func (s *secondaries) askZoneState(ctx context.Context, addr netip.AddrPort, zone string, key *xfrKey) zoneState {
	ctx, cancel := context.WithTimeout(ctx, healthQueryTimeout)
	defer cancel()
	r, err := s.exchangeSOAOpts(ctx, "udp", addr, zone, key, true)
	if err == nil && r.Truncated {
		r, err = s.exchangeSOAOpts(ctx, "tcp", addr, zone, key, true)
	}
	if err != nil {
		return zoneState{Why: err.Error()}
	}
	st := zoneState{Reachable: true}
	switch {
	case r.Rcode != dns.RcodeSuccess:
		st.Why = "does not serve the zone: answered " + dns.RcodeToString[r.Rcode]
	case !r.Authoritative:
		st.Why = "does not serve the zone: the answer is not authoritative"
	default:
		for _, rr := range r.Answer {
			if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(dns.Fqdn(soa.Hdr.Name), zone) {
				st.Serves, st.Serial = true, soa.Serial
			}
		}
		if !st.Serves {
			st.Why = "does not serve the zone: the answer holds no SOA"
			break
		}
		if zs, ok := zoneStateOption(r); ok {
			st.Role, st.Digest, st.Primary = zoneRoleName(zs.Role), zs.Digest, zs.Primary
		}
	}
	return st
}

// zoneStateOption returns the zone state option of an answer, when it
// has a well-formed one.
func zoneStateOption(r *dns.Msg) (answer.ZoneState, bool) {
	o := r.IsEdns0()
	if o == nil {
		return answer.ZoneState{}, false
	}
	for _, e := range o.Option {
		if l, ok := e.(*dns.EDNS0_LOCAL); ok && l.Code == answer.OptionZoneState {
			zs, err := answer.ParseZoneState(l.Data)
			return zs, err == nil
		}
	}
	return answer.ZoneState{}, false
}

// addZoneState adds our state of the zone snap serves to m, the
// authoritative answer to a peer's SOA query.
func (d *Daemon) addZoneState(m *dns.Msg, snap *answer.Snapshot) {
	o := m.IsEdns0()
	if o == nil {
		return
	}
	zs := answer.ZoneState{Serial: snap.Serial(), Digest: snap.ContentDigest()}
	if primary, ok := d.following(snap.Origin()); ok { // guard_state.go
		zs.Role, zs.Primary = answer.ZoneRoleSecondary, primary
	} else {
		zs.Role = zoneRoleCode(d.zoneKind(snap.Origin()))
	}
	o.Option = append(o.Option, &dns.EDNS0_LOCAL{Code: answer.OptionZoneState, Data: answer.AppendZoneState(nil, zs)})
}

// following reports whether zone is a secondary zone here and which
// primary it follows: the one that answered its last check, by peer name
// when it is a peer, else by address; "" before any, and while its last
// check failed (a promote's guard counts the peers whose primary answers
// them: docs/architecture.md, "Guarded role changes").
func (s *secondaries) following(zone string) (string, bool) {
	s.mu.RLock()
	z := s.zones[strings.ToLower(zone)]
	var at netip.AddrPort
	if z != nil && !z.lastOK.IsZero() && z.failures == 0 && z.lastGood < len(z.primaries.addrs) {
		at = z.primaries.addrs[z.lastGood]
	}
	s.mu.RUnlock()
	if z == nil {
		return "", false
	}
	if !at.IsValid() {
		return "", true
	}
	for _, p := range s.peers.list() {
		if p.Addr == at {
			return p.Name, true
		}
	}
	return at.String(), true
}

// zoneRoles pairs the zone kinds with their roles in the zone state
// option.
var zoneRoles = []struct {
	kind string
	code uint8
}{
	{api.KindPrimary, answer.ZoneRolePrimary},
	{api.KindSecondary, answer.ZoneRoleSecondary},
	{api.KindNative, answer.ZoneRoleNative},
}

// zoneRoleCode is a zone kind's role in the zone state option.
func zoneRoleCode(kind string) uint8 {
	for _, r := range zoneRoles {
		if r.kind == kind {
			return r.code
		}
	}
	return answer.ZoneRoleUnknown
}

// zoneRoleName is the zone kind of a role in the zone state option; ""
// for one it does not know.
func zoneRoleName(code uint8) string {
	for _, r := range zoneRoles {
		if r.code == code {
			return r.kind
		}
	}
	return ""
}
