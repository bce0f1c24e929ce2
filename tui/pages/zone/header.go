package zone

// The lines above the record table: zone, SOA, peers and expire
// countdown, and the texts they are made of.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/styles"
)

// soaSummary renders the SOA's fields with their names.
func soaSummary(r api.Record) string {
	f := strings.Fields(r.Data)
	if len(f) != 7 {
		return "SOA " + r.Data
	}
	dur := func(s string) string {
		n, err := strconv.Atoi(s)
		if err != nil {
			return s
		}
		return common.Duration(time.Duration(n) * time.Second)
	}
	return fmt.Sprintf("SOA refresh %s · retry %s · expire %s · minimum %s · %s %s",
		dur(f[3]), dur(f[4]), dur(f[5]), dur(f[6]), f[0], f[1])
}

// header renders the lines above the table.
func (m *Model) header() []string {
	st := m.Styles
	w := m.Width
	if m.detail == nil {
		title := "no zone open"
		if m.name != "" {
			title = m.name
		}
		return []string{st.Header.Render(table.Fit(title, w, table.Left)), "", "", ""}
	}
	z := m.detail
	serial := common.None
	if z.Serial != 0 || z.State == api.StateServing {
		serial = strconv.FormatUint(uint64(z.Serial), 10)
	}
	l1 := fmt.Sprintf("%s · %s · %s · serial %s (%s) · %d records", z.Name, z.Kind, common.StateText(z.State, z.Error), serial, z.SerialPolicy, len(z.Records))
	if z.Kind == api.KindSecondary {
		// A secondary takes its primary's serials: no policy of its own.
		l1 = fmt.Sprintf("%s · %s · %s · serial %s · %d records · read-only", z.Name, z.Kind, common.StateText(z.State, z.Error), serial, max(len(z.Records), z.Zone.Records))
	}
	l2 := table.Fit(m.soaOrNone(), w, table.Left)
	if z.Account != "" {
		l1 += " · account " + z.Account
	}
	l3 := st.Dim.Render(table.Fit(PeersLine(z.Zone), w, table.Left))
	if z.Kind == api.KindSecondary {
		prim := common.None
		if len(z.Primaries) > 0 {
			prim = strings.Join(z.Primaries, ", ")
		}
		l2 = table.Fit(fmt.Sprintf("primaries %s · expires %s · last check %s · %s", prim, ExpireText(z.Zone), common.Ago(m.Now(), z.LastCheck), m.soaOrNone()), w, table.Left)
	}
	if z.Signatures != nil {
		// A signed zone: when its earliest signature expires, before the SOA.
		l2 = table.Fit(SignaturesText(z.Zone, m.Now())+" · "+l2, w, table.Left)
	}
	if z.Catalog != "" && z.Error == "" {
		// Kept after leaving its peer's catalog: why (catalog_remove.go in the daemon).
		l3 = st.Severity(styles.Warning).Render(table.Fit(z.Catalog, w, table.Left))
	}
	if z.Error != "" {
		l3 = st.Severity(common.StateSeverity(z.State)).Render(table.Fit(z.Error, w, table.Left))
		if z.Kind != api.KindSecondary || common.StateSeverity(z.State) >= styles.Error {
			l3 = st.StatusError.Render(table.Fit("error: "+z.Error, w, table.Left))
		}
	}
	var l4 string
	switch {
	case m.filter.Typing():
		l4 = m.filter.View(w)
	case m.filter.Query() != "":
		l4 = table.Fit(fmt.Sprintf("filter: %s · %d of %d records · esc clears", m.filter.Query(), m.table.Len(), m.table.Total()), w, table.Left)
	default:
		pos := 0
		if m.table.Len() > 0 {
			pos = m.table.Cursor() + 1
		}
		hint := "a add · e edit · d delete · / filter · esc back"
		if z.Kind == api.KindSecondary {
			hint = "read-only · r retrieve · p promote · / filter · esc back"
		}
		if z.Signatures != nil && z.Kind != api.KindSecondary {
			hint = "signed: edit at the signer · / filter · esc back"
		}
		l4 = st.Dim.Render(table.Fit(fmt.Sprintf("record %d of %d · %s", pos, m.table.Len(), hint), w, table.Left))
	}
	return []string{st.Header.Render(table.Fit(l1, w, table.Left)), l2, l3, l4}
}

func (m *Model) soaOrNone() string {
	if m.soa == "" {
		return "SOA " + common.None
	}
	return m.soa
}

// View renders the view; a form or dialog takes the place of the table.
func (m *Model) View() string {
	head := strings.Join(m.header(), "\n")
	switch {
	case m.form != nil:
		return m.form.View()
	case m.demote != nil:
		return m.demote.View()
	case m.reset != nil:
		return m.resetView(head)
	case m.dialog != nil:
		return head + "\n" + m.dialog.View()
	}
	return head + "\n" + m.table.View()
}

// PeersLine says, per peer, whether it answered, the serial it serves
// and its lag behind this node: "peers 2/2 in sync: b 127.0.0.2 ✓ 2024010101 lag 0 · …".
func PeersLine(z api.Zone) string {
	if len(z.Peers) == 0 {
		return "peers: " + common.None + " (no peer checked for this zone)"
	}
	parts := make([]string, len(z.Peers))
	for i, p := range z.Peers {
		parts[i] = PeerText(p)
	}
	head := "peers"
	if z.PeersInSync != "" {
		head += " " + z.PeersInSync + " in sync"
	}
	return head + ": " + strings.Join(parts, " · ")
}

// PeerText is one peer's state of a zone: name, reachable or not,
// serial, lag.
func PeerText(p api.PeerState) string {
	name := p.Peer
	if name == "" {
		name = p.Addr
	}
	switch {
	case !p.Reachable:
		return name + " unreachable"
	case !p.Serves:
		return name + " reachable, does not serve it"
	case p.Diverged:
		return fmt.Sprintf("%s ≠ %d DIVERGED, digest %s", name, p.Serial, p.Digest[:min(12, len(p.Digest))])
	case p.InSync:
		return fmt.Sprintf("%s ✓ %d", name, p.Serial)
	case p.Lag < 0:
		return fmt.Sprintf("%s %d ahead by %d", name, p.Serial, -p.Lag)
	}
	return fmt.Sprintf("%s %d lag %d", name, p.Serial, p.Lag)
}

// ExpireText is the expire countdown of a secondary: "in 6d23h", "expired",
// or — when the daemon gives none.
func ExpireText(z api.Zone) string {
	if z.ExpireIn == nil {
		return common.None
	}
	if *z.ExpireIn <= 0 {
		return "expired"
	}
	return "in " + common.Duration(time.Duration(*z.ExpireIn)*time.Second)
}

// SignaturesText is the signature watch of a signed zone: "signatures
// expire in 1d23h (DNSKEY 1d23h)", "signatures EXPIRED".
func SignaturesText(z api.Zone, now time.Time) string {
	s := z.Signatures
	if s == nil {
		return "unsigned"
	}
	left := s.Expires.Sub(now)
	if left <= 0 {
		return "signatures EXPIRED"
	}
	text := "signatures expire in " + common.Duration(left)
	if !s.DNSKEYExpires.IsZero() {
		text += " (DNSKEY " + common.Duration(s.DNSKEYExpires.Sub(now)) + ")"
	}
	return text
}
