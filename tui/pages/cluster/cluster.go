// Package cluster is the cluster view. Until the replication and
// failover API is in, it says what it will show (peers, reachability,
// per-zone lag, expire countdowns, "promote every zone from PRIMARY")
// and shows what the API gives today: this node, and the primaries its
// secondary zones transfer from, each with the promote-all dialog ready.
package cluster

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/dialog"
	"zonekeeper/tui/components/failover"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/keymap"
)

// Plans lists what the view will show once the API has it.
var Plans = []string{
	"peers: name, address, role, reachable or not, last contact",
	"per zone: the serial each peer serves and its lag behind this node",
	"expire countdown of every zone whose primaries are unreachable",
	"\"promote every zone from PRIMARY\" in one confirmed action",
}

// Model is the cluster view.
type Model struct {
	common.Common
	table  *table.Model
	dialog *dialog.Model
	keys   keys

	status *api.Status
	zones  []api.Zone
	byPrim map[string][]api.Zone
}

type keys struct {
	promoteAll key.Binding
}

// New returns the cluster view.
func New(c common.Common) *Model {
	k := c.KeyMap
	m := &Model{
		Common: c,
		keys: keys{
			promoteAll: k.PromoteAll,
		},
	}
	m.table = table.New(c, []table.Column{
		{Title: "PRIMARY", Width: 21, Flex: 1},
		{Title: "ZONES", Width: 6, Align: table.Right},
		{Title: "REACHABLE", Width: 17},
		{Title: "FIRST EXPIRY", Width: 17},
	})
	m.table.Empty = "no secondary zones here: this node transfers from no primary"
	return m
}

// Title names the view.
func (m *Model) Title() string { return "Cluster" }

// Modal reports whether a dialog has the keyboard.
func (m *Model) Modal() bool { return m.dialog != nil }

// SetSize sets the view's size.
func (m *Model) SetSize(width, height int) {
	m.Common.SetSize(width, height)
	m.table.SetSize(width, max(2, height-len(Plans)-6))
	if m.dialog != nil {
		m.dialog.SetSize(min(width, 90), height)
	}
}

// Keys lists the keys of the view.
func (m *Model) Keys() []key.Binding {
	if m.dialog != nil {
		return m.dialog.Keys()
	}
	p := m.keys.promoteAll
	if _, ok := m.Daemon.(common.Promoter); !ok {
		p = keymap.Describe(p, p.Help().Desc+" ("+common.NotAvailable+")")
	}
	return append(m.table.Keys()[:2], p)
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.ConnectedMsg:
		m.status = msg.Status
	case common.DaemonStatusMsg:
		m.status = msg.Status
	case common.ZonesMsg:
		if msg.Err == nil {
			m.zones = msg.Zones
			m.rebuild()
		}
	case tea.KeyMsg:
		if m.dialog != nil {
			if m.dialog.Update(msg) != dialog.Open {
				m.dialog = nil
			}
			return nil
		}
		if m.table.HandleKey(msg) {
			return nil
		}
		if key.Matches(msg, m.keys.promoteAll) {
			if r, _ := m.table.Selected(); r != nil {
				plan := failover.PromotePlan{Zones: m.byPrim[r.Key], From: r.Key}
				m.dialog = dialog.New(m.Common, plan.Title(), plan.Lines()...)
				m.dialog.Danger = true
				m.dialog.Disabled = failover.Unavailable
				m.dialog.SetSize(min(m.Width, 90), m.Height)
			} else {
				return common.Info("no primary to promote from: this node has no secondary zones")
			}
		}
	}
	return nil
}

func (m *Model) rebuild() {
	prims, by := failover.Groups(m.zones)
	sort.Strings(prims)
	m.byPrim = by
	rows := make([]table.Row, len(prims))
	for i, p := range prims {
		rows[i] = table.Row{Key: p, Cells: []string{p, strconv.Itoa(len(by[p])), common.NotAvailable, common.NotAvailable}}
	}
	m.table.SetRows(rows)
}

// View renders the view.
func (m *Model) View() string {
	st := m.Styles
	w := m.Width
	fit := func(s string) string { return table.Fit(s, w, table.Left) }
	lines := []string{
		st.Header.Render(fit("Cluster: peers, reachability and failover — " + common.NotAvailable)),
		fit("With the replication and failover API, this view will show:"),
	}
	for _, p := range Plans {
		lines = append(lines, st.Dim.Render(fit("  • "+p)))
	}
	node := "this node: " + common.None
	if s := m.status; s != nil {
		up := common.Duration(m.Now().Sub(s.Started))
		node = fmt.Sprintf("this node: zonekeeper %s · up %s · DNS on %s · %d zones", s.Version, up, strings.Join(s.Listen, ", "), s.Zones)
	}
	lines = append(lines, "", fit(node), fit("Primaries this node's secondary zones transfer from (P: promote all of one):"))
	body := m.table.View()
	if m.dialog != nil {
		body = m.dialog.View()
	}
	return strings.Join(lines, "\n") + "\n" + body
}
