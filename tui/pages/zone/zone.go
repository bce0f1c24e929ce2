// Package zone is the zone view: one zone's records as a scrollable,
// filterable table under its SOA, serial policy and peers; on a primary
// or native zone, forms to add, edit and delete records, each sent with
// the serial it was based on; on a secondary, retrieve and promote.
package zone

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/dialog"
	"zonekeeper/tui/components/failover"
	"zonekeeper/tui/components/filter"
	"zonekeeper/tui/components/form"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/keymap"
	"zonekeeper/tui/styles"
)

// settle is how long activity on the open zone must pause before it is
// fetched again.
const settle = 500 * time.Millisecond

// headerLines are the lines above the table: zone, SOA, peers, filter.
const headerLines = 4

// Messages of this view.
type (
	loadedMsg struct {
		seq    int
		detail *api.ZoneDetail
		rows   []table.Row
		err    error
		peers  []api.Peer
		perr   error
	}
	reloadMsg   struct{ seq int }
	editDoneMsg struct {
		what string
		res  *api.EditResult
		err  error
	}
	actionDoneMsg struct {
		what string
		text string
		err  error
	}
)

// Model is the zone view.
type Model struct {
	common.Common
	table  *table.Model
	filter *filter.Model
	keys   keys

	name    string          // the zone shown; "" until one is opened
	detail  *api.ZoneDetail // as last loaded
	peers   []api.Peer      // this node's peers: a promotion NOTIFYs them
	peerErr error
	soa     string
	err     error
	seq     int    // numbers loads: only the latest counts
	loading bool   // a load is scheduled or under way
	again   bool   // activity arrived during the load
	expect  uint32 // the serial our last edit made: its events need no fetch

	form   *recordForm
	demote *form.Model // the demote form: the new primaries
	dialog *dialog.Model
	onYes  func() tea.Cmd // what the dialog does when confirmed
}

type keys struct {
	filter, back, add, edit, del, retrieve, notify, promote, demote, refresh key.Binding
}

// New returns the zone view, with no zone open.
func New(c common.Common) *Model {
	k := c.KeyMap
	m := &Model{
		Common: c,
		filter: filter.New(c, "name, type or data"),
		keys: keys{
			filter:   keymap.Describe(k.Filter, "filter the records"),
			back:     keymap.Describe(k.Back, "clear the filter, else back to the zones"),
			add:      keymap.Describe(k.Add, "add a record"),
			edit:     keymap.Describe(k.Edit, "edit the selected record"),
			del:      keymap.Describe(k.Delete, "delete the selected record"),
			retrieve: k.Retrieve,
			notify:   k.Notify,
			promote:  k.Promote,
			demote:   k.Demote,
			refresh:  keymap.Describe(k.Refresh, "fetch the zone again"),
		},
	}
	m.table = table.New(c, []table.Column{
		{Title: "NAME", Width: 12, Flex: 1},
		{Title: "TTL", Width: 7, Align: table.Right},
		{Title: "TYPE", Width: 6},
		{Title: "DATA", Width: 20, Flex: 3},
	})
	m.table.Empty = "no zone open: pick one in the zones view (1) and press enter"
	return m
}

// Title names the view.
func (m *Model) Title() string { return "Zone" }

// Name is the zone shown.
func (m *Model) Name() string { return m.name }

// Modal reports whether a form, dialog or the filter line has the keyboard.
func (m *Model) Modal() bool {
	return m.form != nil || m.demote != nil || m.dialog != nil || m.filter.Typing()
}

// SetSize sets the view's size.
func (m *Model) SetSize(width, height int) {
	m.Common.SetSize(width, height)
	m.table.SetSize(width, height-headerLines)
	if m.demote != nil {
		m.demote.SetSize(min(width, 100), height)
	}
	if m.form != nil {
		m.form.SetSize(min(width, 100), height)
	}
	if m.dialog != nil {
		m.dialog.SetSize(min(width, 90), height)
	}
}

func (m *Model) editable() bool {
	return m.detail != nil && m.detail.Kind != api.KindSecondary && m.detail.State == api.StateServing
}

// Keys lists the keys of the view as it is now.
func (m *Model) Keys() []key.Binding {
	switch {
	case m.form != nil:
		return m.form.Keys()
	case m.demote != nil:
		return m.demote.Keys()
	case m.dialog != nil:
		return m.dialog.Keys()
	}
	keys := append(m.table.Keys(), m.keys.filter, m.keys.back, m.keys.refresh)
	if m.detail == nil {
		return keys
	}
	if m.detail.Kind == api.KindSecondary {
		p := m.keys.promote
		if _, ok := m.Daemon.(common.Promoter); !ok {
			p = keymap.Describe(p, "promote to primary ("+common.NotAvailable+")")
		}
		return append(keys, m.keys.retrieve, p)
	}
	d := m.keys.demote
	if _, ok := m.Daemon.(common.Demoter); !ok {
		d = keymap.Describe(d, "demote to secondary ("+common.NotAvailable+")")
	}
	return append(keys, m.keys.add, m.keys.edit, m.keys.del, m.keys.notify, d)
}

// open shows the zone name, loading it.
func (m *Model) open(name string) tea.Cmd {
	if name != m.name {
		m.name = name
		m.detail, m.soa, m.err = nil, "", nil
		m.form, m.demote, m.dialog = nil, nil, nil
		m.filter.Clear()
		m.table.SetFilter(nil)
		m.table.SetRows(nil)
		m.table.Empty = "loading " + name + "…"
	}
	return m.load()
}

func (m *Model) load() tea.Cmd {
	if m.name == "" {
		return nil
	}
	m.seq++
	m.loading, m.again = true, false
	seq, name, d := m.seq, m.name, m.Daemon
	return m.Call(func(ctx context.Context) tea.Msg {
		z, err := d.Zone(ctx, name)
		if err != nil {
			return loadedMsg{seq: seq, err: err}
		}
		msg := loadedMsg{seq: seq, detail: z, rows: Rows(z)}
		if pl, ok := d.(common.PeerLister); ok {
			msg.peers, msg.perr = pl.Peers(ctx)
		}
		return msg
	})
}

// Rows makes the table rows of a zone's records. It runs in a command:
// for 100 000 records it is the one costly step, done once per load.
func Rows(z *api.ZoneDetail) []table.Row {
	rows := make([]table.Row, len(z.Records))
	for i, r := range z.Records {
		name := common.RelativeName(r.Name, z.Name)
		rows[i] = table.Row{
			Key:   r.Name + "\x00" + r.Type + "\x00" + r.Data,
			Cells: []string{name, strconv.FormatUint(uint64(r.TTL), 10), r.Type, r.Data},
			Lower: strings.ToLower(name + " " + r.Name + " " + r.Type + " " + r.Data),
		}
	}
	return rows
}

// schedule loads the zone again once activity on it settles.
func (m *Model) schedule() tea.Cmd {
	if m.loading {
		m.again = true
		return nil
	}
	m.loading = true
	seq := m.seq
	return tea.Tick(settle, func(time.Time) tea.Msg { return reloadMsg{seq} })
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.OpenZoneMsg:
		return m.open(msg.Name)
	case common.ConnectedMsg:
		if msg.Again {
			return m.load()
		}
	case reloadMsg:
		if msg.seq == m.seq {
			return m.load()
		}
	case loadedMsg:
		if msg.seq != m.seq {
			return nil
		}
		m.loading = false
		var cmd tea.Cmd
		if msg.err != nil {
			m.err = msg.err
			if m.detail == nil {
				m.table.Empty = "cannot show " + m.name + ": " + msg.err.Error()
			}
			cmd = common.Fail("loading "+m.name, msg.err)
		} else {
			m.peers, m.peerErr = msg.peers, msg.perr
			m.setDetail(msg.detail, msg.rows)
		}
		if m.again {
			return tea.Batch(cmd, m.schedule())
		}
		return cmd
	case common.EventsMsg:
		// Records are fetched again only when the serial moved (or the
		// zone was changed or removed): a 100 000-record zone is not
		// fetched for every refresh check. Its state, error and last
		// check come with the zone list (ZonesMsg).
		if m.name == "" || m.detail == nil {
			return nil
		}
		for _, ev := range msg.Events {
			if !strings.EqualFold(ev.Zone, m.name) {
				continue
			}
			moved := ev.Serial != 0 && ev.Serial != m.detail.Serial && ev.Serial != m.expect
			if moved || ev.Kind == "zone-set" || ev.Kind == "zone-remove" || ev.Kind == "zone-unload" || ev.Kind == "reload-error" {
				return m.schedule()
			}
		}
	case common.ZonesMsg:
		if m.detail == nil || msg.Err != nil {
			return nil
		}
		for _, z := range msg.Zones {
			if !strings.EqualFold(z.Name, m.name) {
				continue
			}
			if z.Serial != m.detail.Serial || z.Kind != m.detail.Kind {
				return m.schedule()
			}
			m.detail.Zone = z
		}
	case editDoneMsg:
		return m.editDone(msg)
	case actionDoneMsg:
		if m.dialog != nil {
			m.dialog = nil
		}
		if msg.err != nil {
			return tea.Batch(common.Fail(msg.what, msg.err), m.load())
		}
		return tea.Batch(common.Info(msg.text), m.load())
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

// setDetail shows a freshly loaded zone.
func (m *Model) setDetail(z *api.ZoneDetail, rows []table.Row) {
	m.err = nil
	m.detail = z
	m.soa = ""
	for _, r := range z.Records {
		if r.Type == "SOA" && strings.EqualFold(r.Name, z.Name) {
			m.soa = soaSummary(r)
			break
		}
	}
	switch {
	case z.Kind == api.KindSecondary && len(z.Records) == 0 && z.Serial != 0:
		m.table.Empty = fmt.Sprintf("%d records at serial %d (not listed by the daemon for a %s secondary)", z.Zone.Records, z.Serial, z.State)
	case z.State != api.StateServing && z.Kind == api.KindSecondary:
		m.table.Empty = "no records: the zone has not been transferred yet (r retrieves it now)"
	case z.State != api.StateServing:
		m.table.Empty = "no records served: the zone is " + z.State
	default:
		m.table.Empty = "no record matches the filter"
	}
	m.table.SetRows(rows)
}

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

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	switch {
	case m.form != nil:
		return m.formKey(msg)
	case m.demote != nil:
		return m.demoteKey(msg)
	case m.dialog != nil:
		switch m.dialog.Update(msg) {
		case dialog.Cancelled:
			m.dialog = nil
		case dialog.Confirmed:
			m.dialog.Busy = true
			return m.onYes()
		}
		return nil
	case m.filter.Typing():
		if m.filter.Update(msg) {
			m.table.SetFilter(table.MatchText(m.filter.Query()))
		}
		return nil
	}
	if m.table.HandleKey(msg) {
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.filter):
		m.filter.Start()
	case key.Matches(msg, m.keys.back):
		if m.filter.Query() != "" {
			m.filter.Clear()
			m.table.SetFilter(nil)
			return nil
		}
		m.Nav.Go(common.BackMsg{})
	case key.Matches(msg, m.keys.refresh):
		return m.load()
	case m.detail == nil:
		return nil
	case key.Matches(msg, m.keys.add):
		if cmd := m.readOnly(); cmd != nil {
			return cmd
		}
		m.openForm(nil)
	case key.Matches(msg, m.keys.edit):
		if cmd := m.readOnly(); cmd != nil {
			return cmd
		}
		if r := m.selected(); r != nil {
			m.openForm(r)
		}
	case key.Matches(msg, m.keys.del):
		if cmd := m.readOnly(); cmd != nil {
			return cmd
		}
		if r := m.selected(); r != nil {
			return m.confirmDelete(*r)
		}
	case key.Matches(msg, m.keys.retrieve):
		if m.detail.Kind != api.KindSecondary {
			return common.Info(m.name + " is a " + m.detail.Kind + " zone: only secondaries are retrieved")
		}
		return m.retrieve()
	case key.Matches(msg, m.keys.notify):
		if m.detail.Kind == api.KindSecondary {
			return common.Info(m.name + " is a secondary: its primary sends the NOTIFYs")
		}
		return m.notify()
	case key.Matches(msg, m.keys.promote):
		if m.detail.Kind != api.KindSecondary {
			return common.Info(m.name + " is already a " + m.detail.Kind + " zone")
		}
		m.openPromote()
	case key.Matches(msg, m.keys.demote):
		if m.detail.Kind == api.KindSecondary {
			return common.Info(m.name + " is already a secondary")
		}
		m.openDemote()
	}
	return nil
}

// readOnly explains why the zone cannot be edited, or returns nil.
func (m *Model) readOnly() tea.Cmd {
	switch {
	case m.detail.Kind == api.KindSecondary:
		return common.Info(m.name + " is a secondary zone: read-only here; edit it on its primary, or promote it (p)")
	case m.detail.State != api.StateServing:
		return common.Info(m.name + " is " + m.detail.State + ": fix its zonefile first")
	}
	return nil
}

// selected returns the record under the cursor.
func (m *Model) selected() *api.Record {
	_, i := m.table.Selected()
	if i < 0 || m.detail == nil || i >= len(m.detail.Records) {
		return nil
	}
	return &m.detail.Records[i]
}

func (m *Model) openForm(orig *api.Record) {
	m.form = newRecordForm(m.Common, m.detail, orig)
	m.form.Extra = []key.Binding{m.KeyMap.Rebase}
	m.form.SetSize(min(m.Width, 100), m.Height)
}

func (m *Model) formKey(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, m.KeyMap.Rebase) {
		if m.detail != nil {
			m.form.rebase(m.detail)
			m.form.Message, m.form.Failed = fmt.Sprintf("based on serial %d now: review and send again", m.detail.Serial), false
		}
		return nil
	}
	act, cmd := m.form.Update(msg)
	switch act {
	case form.Cancel:
		m.form = nil
	case form.Changed:
		m.form.Message = ""
		m.form.changed()
	case form.Submit:
		if !m.form.Ready() {
			m.form.Message, m.form.Failed = "not sent: fix what is marked ✗ first", true
			return cmd
		}
		m.form.Busy = true
		m.form.Message, m.form.Failed = "sending…", false
		return tea.Batch(cmd, m.send(m.form.req, describe(m.form.req)))
	}
	return cmd
}

// describe says what an edit request does, for the status line.
func describe(req *api.EditRequest) string {
	switch req.Op {
	case api.EditAdd:
		return fmt.Sprintf("added %s %s %s", req.Name, req.Type, strings.Join(req.Data, " "))
	case api.EditSet:
		return fmt.Sprintf("changed %s %s", req.Name, req.Type)
	}
	return fmt.Sprintf("deleted %s %s %s", req.Name, req.Type, strings.Join(req.Data, " "))
}

// send sends one edit.
func (m *Model) send(req *api.EditRequest, what string) tea.Cmd {
	d, zone, r := m.Daemon, m.name, *req
	return m.Call(func(ctx context.Context) tea.Msg {
		res, err := d.Edit(ctx, zone, r)
		return editDoneMsg{what: what, res: res, err: err}
	})
}

func (m *Model) editDone(msg editDoneMsg) tea.Cmd {
	if msg.err != nil {
		text := msg.err.Error()
		if common.ErrorCode(msg.err) == api.CodeConflict {
			text = "conflict, nothing was overwritten: " + text + ". The zone is being reloaded; ctrl+r bases the form on its current serial."
		}
		switch {
		case m.form != nil:
			m.form.Busy = false
			m.form.Message, m.form.Failed = text, true
		case m.dialog != nil:
			m.dialog = nil
		}
		return tea.Batch(common.Fail("edit of "+m.name, msg.err), m.load())
	}
	m.form, m.dialog = nil, nil
	m.expect = msg.res.NewSerial
	info := fmt.Sprintf("%s · serial %d → %d", msg.what, msg.res.OldSerial, msg.res.NewSerial)
	return tea.Batch(common.Info(info), m.load())
}

func (m *Model) confirmDelete(r api.Record) tea.Cmd {
	if r.Type == "SOA" {
		return common.Info("a zone keeps its one SOA: edit it (e) instead")
	}
	next := nextSerial(m.detail.Serial, m.detail.SerialPolicy, m.Now())
	m.dialog = dialog.New(m.Common, "Delete this record from "+m.name+"?",
		fmt.Sprintf("%s %d %s %s", r.Name, r.TTL, r.Type, r.Data),
		fmt.Sprintf("serial %d → %d (policy %s); refused if the zone changed meanwhile", m.detail.Serial, next, m.detail.SerialPolicy),
	)
	m.dialog.Danger = true
	m.dialog.SetSize(min(m.Width, 90), m.Height)
	base := m.detail.Serial
	req := &api.EditRequest{Op: api.EditDelete, Name: r.Name, Type: r.Type, Data: []string{r.Data}, IfSerial: &base}
	m.onYes = func() tea.Cmd { return m.send(req, describe(req)) }
	return nil
}

func (m *Model) retrieve() tea.Cmd {
	d, zone := m.Daemon, m.name
	return m.Call(func(ctx context.Context) tea.Msg {
		z, err := d.Retrieve(ctx, zone)
		if err != nil {
			return actionDoneMsg{what: "retrieving " + zone, err: err}
		}
		return actionDoneMsg{text: fmt.Sprintf("retrieved %s: serial %d", zone, z.Serial)}
	})
}

func (m *Model) notify() tea.Cmd {
	d, zone := m.Daemon, m.name
	return m.Call(func(ctx context.Context) tea.Msg {
		r, err := d.Notify(ctx, zone, "")
		if err != nil {
			return actionDoneMsg{what: "NOTIFY of " + zone, err: err}
		}
		answered := 0
		for _, t := range r.Targets {
			if t.Error == "" {
				answered++
			}
		}
		return actionDoneMsg{text: fmt.Sprintf("NOTIFY %s serial %d: %d of %d targets answered", zone, r.Serial, answered, len(r.Targets))}
	})
}

func (m *Model) openPromote() {
	plan := failover.PromotePlan{Zones: []api.Zone{m.detail.Zone}, Peers: m.peers, PeersErr: m.peerErr}
	m.dialog = dialog.New(m.Common, plan.Title(), plan.Lines()...)
	m.dialog.Danger = true
	m.dialog.SetSize(min(m.Width, 90), m.Height)
	p, ok := m.Daemon.(common.Promoter)
	if !ok {
		m.dialog.Disabled = failover.Unavailable
		return
	}
	zone := m.name
	m.onYes = func() tea.Cmd {
		return m.Call(func(ctx context.Context) tea.Msg {
			r, err := p.Promote(ctx, zone)
			if err != nil {
				return actionDoneMsg{what: "promoting " + zone, err: err}
			}
			text, err := failover.PromoteOutcome(r)
			if err != nil {
				return actionDoneMsg{what: "promoting " + zone, err: err}
			}
			return actionDoneMsg{text: text}
		})
	}
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
