// Package cluster is the cluster view: this node, its peers with their
// reachability and the serial lag of each zone they serve (from the
// health checks the zones carry), the expire countdown of every
// secondary zone whose primaries do not answer, and the primaries this
// node's secondaries transfer from, each with "promote every zone from
// PRIMARY" in one confirmed action. A second pane (h) shows the health of
// one zone: every server that should hold it, and the lint findings of
// RFC 2182 and RFC 1912 practice (health.go).
package cluster

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/dialog"
	"zonekeeper/tui/components/failover"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/keymap"
	"zonekeeper/tui/styles"
)

// maxPeerLines and maxExpiryLines bound the lists above the table.
const (
	maxPeerLines   = 4
	maxExpiryLines = 4
)

// Messages of this view.
type (
	peersMsg struct {
		peers []api.Peer
		err   error
	}
	promotedMsg struct {
		from    string
		text    string
		err     error
		refused []string // the guard's refusal of each zone it refused
	}
)

// Model is the cluster view.
type Model struct {
	common.Common
	table  *table.Model
	dialog *dialog.Model
	keys   keys

	status  *api.Status
	zones   []api.Zone
	byPrim  map[string][]api.Zone
	peers   []api.Peer
	peerErr error
	onYes   func() tea.Cmd

	pane   pane   // failover or zone health
	active bool   // the view is on screen: the health pane polls only then
	health health // the zone health pane
}

// pane is one of the view's two panes.
type pane int

const (
	paneFailover pane = iota // peers, expiry, primaries: the default
	paneHealth               // one zone's servers and lint
)

type keys struct {
	promoteAll, health, prevZone, nextZone, refresh key.Binding
}

// New returns the cluster view.
func New(c common.Common) *Model {
	k := c.KeyMap
	m := &Model{
		Common: c,
		keys: keys{
			promoteAll: k.PromoteAll,
			health:     k.Health,
			prevZone:   keymap.Describe(k.PrevZone, "zone health of the previous zone"),
			nextZone:   keymap.Describe(k.NextZone, "zone health of the next zone"),
			refresh:    keymap.Describe(k.Refresh, "check every server of the zone again"),
		},
	}
	m.health.table = table.New(c, healthColumns())
	m.health.table.Empty = "no zone to check yet"
	m.table = table.New(c, []table.Column{
		{Title: "PRIMARY", Width: 21, Flex: 1},
		{Title: "ZONES", Width: 6, Align: table.Right},
		{Title: "REACHABLE", Width: 17},
		{Title: "FIRST EXPIRY", Width: 26},
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
	m.table.SetSize(width, max(3, height-len(m.above())))
	if m.health.table != nil {
		th, _ := m.healthLayout()
		m.health.table.SetSize(width, th)
	}
	if m.dialog != nil {
		m.dialog.SetSize(min(width, 90), height)
	}
}

// Keys lists the keys of the view.
func (m *Model) Keys() []key.Binding {
	if m.dialog != nil {
		return m.dialog.Keys()
	}
	if m.pane == paneHealth {
		h := keymap.Describe(m.keys.health, "back to the failover pane")
		return append(m.health.table.Keys(), m.keys.prevZone, m.keys.nextZone, m.keys.refresh, h)
	}
	p := m.keys.promoteAll
	if _, ok := m.Daemon.(common.Promoter); !ok {
		p = keymap.Describe(p, p.Help().Desc+" ("+common.NotAvailable+")")
	}
	return append(m.table.Keys()[:2], p, m.keys.health)
}

// SetActive is told when the view is entered and left: the health pane
// checks the servers on entering and polls only while shown.
func (m *Model) SetActive(active bool) tea.Cmd {
	m.active = active
	if active && m.pane == paneHealth {
		return m.enterHealth()
	}
	return nil
}

// fetchPeers lists the peers, when the daemon can.
func (m *Model) fetchPeers() tea.Cmd {
	pl, ok := m.Daemon.(common.PeerLister)
	if !ok {
		return nil
	}
	return m.Call(func(ctx context.Context) tea.Msg {
		ps, err := pl.Peers(ctx)
		return peersMsg{peers: ps, err: err}
	})
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.ConnectedMsg:
		m.status = msg.Status
		if msg.Again && m.showingHealth() {
			return tea.Batch(m.fetchPeers(), m.checkHealth())
		}
		return m.fetchPeers()
	case common.OpenZoneMsg:
		// The zone opened last is the one whose health is wanted.
		return m.setHealthZone(msg.Name)
	case healthMsg, healthTickMsg:
		return m.updateHealth(msg)
	case common.DaemonStatusMsg:
		m.status = msg.Status
	case common.ZonesMsg:
		if msg.Err == nil {
			m.zones = msg.Zones
			m.rebuild()
			if m.health.zone == "" && m.showingHealth() {
				// The pane was entered before there was a zone to check.
				return tea.Batch(m.fetchPeers(), m.enterHealth())
			}
		}
		return m.fetchPeers()
	case peersMsg:
		m.peers, m.peerErr = msg.peers, msg.err
		sort.Slice(m.peers, func(i, j int) bool { return m.peers[i].Name < m.peers[j].Name })
		m.SetSize(m.Width, m.Height)
	case promotedMsg:
		m.dialog = nil
		if len(msg.refused) > 0 {
			// The guard's reasons are longer than a status line.
			m.dialog = dialog.New(m.Common, "Refused: promoting every zone from "+msg.from, msg.refused...)
			m.dialog.Disabled = failover.RefusedNote
			m.dialog.SetSize(min(m.Width, 90), m.Height)
		}
		if msg.err != nil {
			return common.Fail("promoting every zone from "+msg.from, msg.err)
		}
		return common.Info(msg.text)
	case tea.KeyMsg:
		if m.dialog != nil {
			switch m.dialog.Update(msg) {
			case dialog.Cancelled:
				m.dialog = nil
			case dialog.Confirmed:
				m.dialog.Busy = true
				return m.onYes()
			}
			return nil
		}
		if m.pane == paneHealth {
			return m.healthKey(msg)
		}
		if m.table.HandleKey(msg) {
			return nil
		}
		if key.Matches(msg, m.keys.health) {
			m.pane = paneHealth
			return m.enterHealth()
		}
		if key.Matches(msg, m.keys.promoteAll) {
			r, _ := m.table.Selected()
			if r == nil {
				return common.Info("no primary to promote from: this node has no secondary zones")
			}
			m.openPromoteAll(r.Key)
		}
	}
	return nil
}

// healthKey handles a key of the health pane.
func (m *Model) healthKey(msg tea.KeyMsg) tea.Cmd {
	if m.health.table.HandleKey(msg) {
		m.SetSize(m.Width, m.Height) // the detail of another server
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.health):
		m.pane = paneFailover
		m.health.tickGen++ // stops the polling
	case key.Matches(msg, m.keys.prevZone):
		return m.stepZone(-1)
	case key.Matches(msg, m.keys.nextZone):
		return m.stepZone(1)
	case key.Matches(msg, m.keys.refresh):
		if m.health.checking {
			return common.Info("a check of " + m.health.zone + " is under way")
		}
		return m.checkHealth()
	case key.Matches(msg, m.keys.promoteAll):
		return common.Info("P promotes from the failover pane: h goes back to it")
	}
	return nil
}

// openPromoteAll asks to confirm "promote every zone from PRIMARY".
func (m *Model) openPromoteAll(from string) {
	plan := failover.PromotePlan{Zones: m.byPrim[from], From: from, Peers: m.peers, PeersErr: m.peerErr}
	m.dialog = dialog.New(m.Common, plan.Title(), plan.Lines()...)
	m.dialog.Danger = true
	m.dialog.SetSize(min(m.Width, 90), m.Height)
	p, ok := m.Daemon.(common.Promoter)
	if !ok {
		m.dialog.Disabled = failover.Unavailable
		return
	}
	m.onYes = func() tea.Cmd {
		return m.Call(func(ctx context.Context) tea.Msg {
			r, err := p.PromoteAll(ctx, from)
			if err != nil {
				return promotedMsg{from: from, err: err}
			}
			text, err := failover.PromoteOutcome(r)
			return promotedMsg{from: from, text: text, err: err, refused: failover.RefusedZones(r)}
		})
	}
}

// unreachable reports whether a secondary's primaries do not answer: its
// last refresh failed (stale, or an error is on record), or it is about
// to expire, or has.
func unreachable(z api.Zone) bool {
	switch z.State {
	case api.StateStale, api.StateExpiring, api.StateExpired:
		return true
	}
	if z.Kind != api.KindSecondary {
		return false
	}
	if z.Error != "" {
		return true
	}
	// The health checks of the peers: every primary that is a peer, and
	// only such primaries, did not answer the last check.
	down := 0
	for _, p := range z.Primaries {
		for _, ps := range z.Peers {
			if sameAddr(ps.Addr, p) || ps.Peer == p {
				if !ps.Reachable {
					down++
				}
				break
			}
		}
	}
	return len(z.Primaries) > 0 && down == len(z.Primaries)
}

// sameAddr compares two IP[:port] addresses, port 53 when absent.
func sameAddr(a, b string) bool {
	norm := func(s string) string {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return net.JoinHostPort(s, "53")
		}
		return s
	}
	return norm(a) == norm(b)
}

// expiry is a secondary's expire countdown.
func expiry(z api.Zone) string {
	if z.ExpireIn == nil {
		if z.Serial == 0 {
			return common.None + " (never transferred)"
		}
		return common.None
	}
	if *z.ExpireIn <= 0 {
		return "expired"
	}
	return "in " + common.Duration(time.Duration(*z.ExpireIn)*time.Second)
}

func (m *Model) rebuild() {
	prims, by := failover.Groups(m.zones)
	sort.Strings(prims)
	m.byPrim = by
	rows := make([]table.Row, len(prims))
	for i, p := range prims {
		zs := by[p]
		down := 0
		first := int64(-1)
		firstText := common.None
		for _, z := range zs {
			if unreachable(z) {
				down++
			}
			if z.ExpireIn != nil && (first < 0 || *z.ExpireIn < first) {
				first = *z.ExpireIn
				firstText = z.Name + " " + expiry(z)
			}
		}
		reach := "yes"
		sev := styles.OK
		switch {
		case down == len(zs):
			reach = "no"
			sev = styles.Error
		case down > 0:
			reach = fmt.Sprintf("no for %d of %d", down, len(zs))
			sev = styles.Warning
		}
		rows[i] = table.Row{Key: p, Cells: []string{p, strconv.Itoa(len(zs)), reach, firstText}, Severity: sev}
	}
	m.table.SetRows(rows)
	m.SetSize(m.Width, m.Height)
}

// peerLines renders one line per peer: address, role, reachability and
// the lag of each zone it serves behind this node, from the zones'
// health checks.
func (m *Model) peerLines() []string {
	if m.peerErr != nil {
		return []string{"peers: cannot list them: " + m.peerErr.Error()}
	}
	if len(m.peers) == 0 {
		return []string{"peers: " + common.None + " (zonekeeper peer add NAME ADDR)"}
	}
	out := []string{fmt.Sprintf("Peers (%d): reachability and serial lag per zone", len(m.peers))}
	for i, p := range m.peers {
		if i == maxPeerLines {
			out = append(out, fmt.Sprintf("  … and %d more peers", len(m.peers)-maxPeerLines))
			break
		}
		out = append(out, "  "+m.peerLine(p))
	}
	return out
}

func (m *Model) peerLine(p api.Peer) string {
	var checked, reachable, inSync int
	var lagging []string
	for _, z := range m.zones {
		for _, ps := range z.Peers {
			if ps.Peer != p.Name && (p.Name != "" || ps.Addr != p.Addr) {
				continue
			}
			checked++
			if ps.Reachable {
				reachable++
			}
			switch {
			case ps.Diverged:
				lagging = append(lagging, z.Name+" diverged")
			case ps.InSync:
				inSync++
			case !ps.Reachable:
			case !ps.Serves:
				lagging = append(lagging, z.Name+" not served")
			case ps.Lag < 0:
				lagging = append(lagging, fmt.Sprintf("%s ahead %d", z.Name, -ps.Lag))
			default:
				lagging = append(lagging, fmt.Sprintf("%s lag %d", z.Name, ps.Lag))
			}
		}
	}
	role := p.Role
	if role == "" {
		role = api.RolePeer
	}
	reach := "not checked yet"
	switch {
	case role == api.RoleCatalog:
		// Not in the peers' health rounds: its zones' servers are checked.
		reach = "catalog " + p.Catalog + " read from it"
	case checked == 0:
	case reachable == checked:
		reach = "reachable"
	case reachable == 0:
		reach = "UNREACHABLE"
	default:
		reach = fmt.Sprintf("reachable for %d of %d zones", reachable, checked)
	}
	line := fmt.Sprintf("%s %s (%s) · %s", p.Name, p.Addr, role, reach)
	if checked > 0 {
		line += fmt.Sprintf(" · %d/%d zones in sync", inSync, checked)
	}
	if len(lagging) > 0 {
		line += " · " + strings.Join(lagging, ", ")
	}
	return line
}

// expiryLines lists the secondaries whose primaries do not answer, the
// soonest to expire first.
func (m *Model) expiryLines() []string {
	var zs []api.Zone
	for _, z := range m.zones {
		if z.Kind == api.KindSecondary && unreachable(z) {
			zs = append(zs, z)
		}
	}
	if len(zs) == 0 {
		return []string{"Unreachable primaries: " + common.None + " (every secondary's primaries answer)"}
	}
	left := func(z api.Zone) int64 {
		if z.ExpireIn == nil {
			return 1 << 62
		}
		return *z.ExpireIn
	}
	sort.SliceStable(zs, func(i, j int) bool {
		if left(zs[i]) != left(zs[j]) {
			return left(zs[i]) < left(zs[j])
		}
		return zs[i].Name < zs[j].Name
	})
	what := fmt.Sprintf("%d zones", len(zs))
	if len(zs) == 1 {
		what = "1 zone"
	}
	out := []string{"Primaries unreachable (" + what + "): expire countdown, soonest first"}
	for i, z := range zs {
		if i == maxExpiryLines {
			out = append(out, fmt.Sprintf("  … and %d more zones", len(zs)-maxExpiryLines))
			break
		}
		out = append(out, fmt.Sprintf("  %s expires %s · %s · primaries %s", z.Name, expiry(z), z.State, strings.Join(z.Primaries, ", ")))
	}
	return out
}

// above is the text above the table, unstyled.
func (m *Model) above() []string {
	node := "this node: " + common.None
	if s := m.status; s != nil {
		up := common.Duration(m.Now().Sub(s.Started))
		node = fmt.Sprintf("this node: zonekeeper %s · up %s · DNS on %s · %d zones", s.Version, up, strings.Join(s.Listen, ", "), s.Zones)
	}
	lines := []string{"Cluster: peers, reachability and failover · h zone health", node}
	lines = append(lines, m.peerLines()...)
	lines = append(lines, m.alertLines()...) // alerts.go
	lines = append(lines, m.expiryLines()...)
	lines = append(lines, "Primaries of this node's secondaries (P: promote every zone from one):")
	return lines
}

// View renders the view.
func (m *Model) View() string {
	if m.pane == paneHealth && m.dialog == nil {
		return m.healthView()
	}
	st := m.Styles
	w := m.Width
	fit := func(s string) string { return table.Fit(s, w, table.Left) }
	var lines []string
	above := m.above()
	if m.dialog != nil {
		// The dialog says what it needs to: the lists make room for it.
		above = above[:2]
	}
	for i, l := range above {
		switch {
		case i == 0:
			l = st.Header.Render(fit(l))
		case strings.Contains(l, " SPLIT-BRAIN · ") || strings.Contains(l, " DIVERGED · "):
			l = st.Severity(styles.Critical).Render(fit(l))
		case strings.Contains(l, "UNREACHABLE") || strings.HasPrefix(l, "  ") && strings.Contains(l, " expires "):
			l = st.Severity(styles.Warning).Render(fit(l))
		default:
			l = fit(l)
		}
		lines = append(lines, l)
	}
	body := m.table.View()
	if m.dialog != nil {
		body = m.dialog.View()
	}
	return strings.Join(lines, "\n") + "\n" + body
}
