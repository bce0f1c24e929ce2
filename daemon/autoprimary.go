package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// Autoprimary ("supermaster") provisioning: a NOTIFY for a zone this
// node does not serve, from an address in the autoprimary table, adds
// that zone as a secondary of the notifier when
//
//	(a) the notifier serves an SOA for the zone,
//	(b) its address is in the autoprimary table, and
//	(c) the zone's NS set, as the notifier serves it, holds a name server
//	    name registered with that address.
//
// The notifier is asked at its address on ns-port (the port DNS is
// served on: a NOTIFY's source port says nothing of it), and is then the
// zone's only primary, at that address and port. The zone records the
// account of the matching entry, is transferred at once and is logged as
// an autoprimary-provision event. When a condition fails the NOTIFY is
// refused and the event says which and why.

// autoprimaryQueryTimeout bounds each question to the notifier; the
// UDP reader runs special queries in their own goroutines, so this
// delays only the NOTIFY's answer.
const autoprimaryQueryTimeout = 2 * time.Second

// autoprimaryNotify decides on a NOTIFY for zone, not served here, from
// from, signed with key ("" when unsigned), and returns the rcode to
// answer with, the outcome and the detail of the notify-in event. A
// zone provisioned from a signed NOTIFY gets that key as its TSIG key:
// its requests to the primary are signed with it, so a primary that
// allows transfers to that key only still serves it.
func (d *Daemon) autoprimaryNotify(zone string, from netip.AddrPort, key string) (rcode int, outcome, detail string) {
	ip := from.Addr().Unmap()
	refuse := func(why string) (int, string, string) {
		return dns.RcodeRefused, api.OutcomeWarning, "autoprimary provisioning of " + zone + " refused: " + why
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*autoprimaryQueryTimeout+time.Second)
	defer cancel()

	switch _, file := d.loader.get(zone); {
	case isCatalogName(zone) || zone == d.cfg.CatalogZone:
		return refuse("the catalog of the cluster is never provisioned from an autoprimary")
	case file:
		return refuse("a zonefile for it is in DATA/zones (not served: see its load errors)")
	}

	// (b) first: it costs no query.
	entries, err := d.store.Autoprimaries().Lookup(ctx, ip.String())
	if err != nil {
		return dns.RcodeServerFailure, api.OutcomeError, "autoprimary table: " + err.Error()
	}
	if len(entries) == 0 {
		return refuse(fmt.Sprintf("condition (b) failed: %s is not in the autoprimary table", ip))
	}
	server := netip.AddrPortFrom(ip, uint16(d.cfg.NSPort))

	// (a) the notifier serves an SOA for the zone.
	if _, err := d.askNotifier(ctx, server, zone, dns.TypeSOA); err != nil {
		return refuse(fmt.Sprintf("condition (a) failed: %s serves no SOA for the zone: %v", server, err))
	}

	// (c) its NS set holds a name registered with the address.
	nsRRs, err := d.askNotifier(ctx, server, zone, dns.TypeNS)
	if err != nil {
		return refuse(fmt.Sprintf("condition (c) failed: the zone's NS set could not be read from %s: %v", server, err))
	}
	var nsNames []string
	for _, rr := range nsRRs {
		nsNames = append(nsNames, strings.ToLower(dns.Fqdn(rr.(*dns.NS).Ns)))
	}
	var match *store.Autoprimary
	for i, e := range entries {
		if slices.Contains(nsNames, strings.ToLower(dns.Fqdn(e.Nameserver))) {
			match = &entries[i]
			break
		}
	}
	if match == nil {
		var registered []string
		for _, e := range entries {
			registered = append(registered, e.Nameserver)
		}
		return refuse(fmt.Sprintf("condition (c) failed: the zone's NS set at %s (%s) does not hold %s, registered for %s",
			server, strings.Join(nsNames, ", "), strings.Join(registered, " or "), ip))
	}

	row := store.Zone{Name: zone, Kind: store.KindSecondary, Primaries: []string{server.String()}, Account: match.Account}
	signed := "unsigned"
	if k, ok := d.keys.lookup(key); ok && key != "" {
		row.TSIGKey, signed = k.Name, "signed with "+k.Name
	}
	if err := d.store.Zones().Add(ctx, row); err != nil {
		if errors.Is(err, store.ErrExists) {
			// Another NOTIFY provisioned it meanwhile.
			return dns.RcodeSuccess, api.OutcomeOK, "autoprimary: " + zone + " was provisioned meanwhile"
		}
		return dns.RcodeServerFailure, api.OutcomeError, "autoprimary provisioning of " + zone + ": " + err.Error()
	}
	d.secondaries.added(zone)
	account := match.Account
	if account == "" {
		account = "none"
	}
	d.events.Emit(api.Event{Zone: zone, Kind: "autoprimary-provision", Peer: ip.String(), Outcome: api.OutcomeOK,
		Detail: fmt.Sprintf("secondary zone provisioned from autoprimary %s (NS %s, account %s): primary %s, %s; transferring now",
			ip, match.Nameserver, account, server, signed)})
	return dns.RcodeSuccess, api.OutcomeOK, fmt.Sprintf("%s provisioned as a secondary of autoprimary %s", zone, server)
}

// askNotifier asks server for zone's records of type qtype at the apex
// and returns them; the answer must be authoritative and hold some. A
// truncated UDP answer is asked again over TCP.
func (d *Daemon) askNotifier(ctx context.Context, server netip.AddrPort, zone string, qtype uint16) ([]dns.RR, error) {
	m := new(dns.Msg)
	m.SetQuestion(zone, qtype)
	m.RecursionDesired = false
	m.SetEdns0(answer.DefaultUDPSize, false)
	var r *dns.Msg
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: autoprimaryQueryTimeout, UDPSize: answer.DefaultUDPSize,
			Dialer: d.secondaries.dialer(network, server.Addr(), autoprimaryQueryTimeout)}
		var err error
		r, _, err = c.ExchangeContext(ctx, m, server.String())
		if err != nil {
			return nil, errors.New(xfrNetReason(err))
		}
		if !r.Truncated {
			break
		}
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("it answered %s", dns.RcodeToString[r.Rcode])
	}
	if !r.Authoritative {
		return nil, errors.New("its answer is not authoritative")
	}
	var out []dns.RR
	for _, rr := range r.Answer {
		h := rr.Header()
		if h.Rrtype == qtype && h.Class == dns.ClassINET && strings.EqualFold(dns.Fqdn(h.Name), zone) {
			out = append(out, rr)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("its answer holds no %s record of the zone", dns.TypeToString[qtype])
	}
	return out, nil
}
