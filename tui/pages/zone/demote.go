package zone

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/dialog"
	"zonekeeper/tui/components/failover"
	"zonekeeper/tui/components/form"
)

// Demoting a primary zone takes two steps: a form asks for the new
// primaries (and the TSIG key that signs the transfer), then a dialog
// says exactly what will happen and asks for confirmation.

// openDemote opens the demote form.
func (m *Model) openDemote() {
	if _, ok := m.Daemon.(common.Demoter); !ok {
		plan := failover.DemotePlan{Zone: m.detail.Zone, Peers: m.peers, PeersErr: m.peerErr}
		m.dialog = dialog.New(m.Common, plan.Title(), plan.Lines()...)
		m.dialog.Danger = true
		m.dialog.Disabled = failover.Unavailable
		m.dialog.SetSize(min(m.Width, 90), m.Height)
		return
	}
	f := form.New(m.Common, "Demote "+m.name+" to secondary",
		form.Text("primaries", "Primaries", "IP[:port] or peer names, comma-separated"),
		form.Text("tsig", "TSIG key", "optional: the key that signs the transfer"))
	f.SetSize(min(m.Width, 100), m.Height)
	m.demote = f
	m.validateDemote()
}

// demotePrimaries reads and checks the primaries field.
func (m *Model) demotePrimaries() ([]string, string) {
	v := strings.TrimSpace(m.demote.Field("primaries").Value())
	if v == "" {
		return nil, "give the new primary: an IP address with an optional port, or a peer name"
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, "empty primary in the list: separate primaries with single commas"
		}
		if _, err := netip.ParseAddrPort(p); err == nil {
			out = append(out, p)
			continue
		}
		if _, err := netip.ParseAddr(p); err == nil {
			out = append(out, p)
			continue
		}
		known := false
		for _, peer := range m.peers {
			if strings.EqualFold(peer.Name, p) {
				known = true
			}
		}
		if !known {
			return nil, fmt.Sprintf("%q is neither an IP address with an optional port nor a peer of this node", p)
		}
		out = append(out, p)
	}
	return out, ""
}

func (m *Model) validateDemote() {
	f := m.demote
	for _, fl := range f.Fields {
		fl.Err, fl.Hint = "", ""
	}
	prims, why := m.demotePrimaries()
	f.Field("primaries").Err = why
	if why == "" {
		f.Field("primaries").Hint = "tried in order"
	}
	plan := failover.DemotePlan{Zone: m.detail.Zone, Primaries: prims, Peers: m.peers, PeersErr: m.peerErr}
	f.Lines = append(plan.Lines(), "enter shows the confirmation")
}

// demoteKey handles a key of the demote form.
func (m *Model) demoteKey(msg tea.KeyMsg) tea.Cmd {
	act, cmd := m.demote.Update(msg)
	switch act {
	case form.Cancel:
		m.demote = nil
	case form.Changed:
		m.demote.Message = ""
		m.validateDemote()
	case form.Submit:
		if !m.demote.Valid() {
			m.demote.Message, m.demote.Failed = "not sent: fix what is marked ✗ first", true
			return cmd
		}
		prims, _ := m.demotePrimaries()
		req := api.DemoteRequest{Primaries: prims, TSIGKey: strings.TrimSpace(m.demote.Field("tsig").Value())}
		m.demote = nil
		m.confirmDemote(req)
	}
	return cmd
}

// confirmDemote opens the dialog that says what the demotion does.
func (m *Model) confirmDemote(req api.DemoteRequest) {
	plan := failover.DemotePlan{Zone: m.detail.Zone, Primaries: req.Primaries, Peers: m.peers, PeersErr: m.peerErr}
	lines := plan.Lines()
	if req.TSIGKey != "" {
		lines = append(lines, "The transfer is signed with "+req.TSIGKey+".")
	}
	m.dialog = dialog.New(m.Common, plan.Title(), lines...)
	m.dialog.Danger = true
	m.dialog.SetSize(min(m.Width, 90), m.Height)
	d := m.Daemon.(common.Demoter)
	zone := m.name
	m.onYes = func() tea.Cmd {
		return m.Call(func(ctx context.Context) tea.Msg {
			r, err := d.Demote(ctx, zone, req)
			if err != nil {
				return actionDoneMsg{what: "demoting " + zone, err: err}
			}
			return actionDoneMsg{text: fmt.Sprintf("%s is a secondary of %s now: serial %d → %d; the old zonefile is in %s", zone, r.From, r.OldSerial, r.Zone.Serial, r.Backup)}
		})
	}
}
