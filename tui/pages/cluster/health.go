package cluster

// The zone health pane (issue 8, `zonekeeper zone health` in the TUI):
// every server that should hold one zone — this node, the NS-listed
// servers, the stealth ones (ALSO-NOTIFY, also-notify, peers) — with its
// address, whether it answers authoritatively, its serial, its lag and
// when it was last in sync, then the RFC 2182 / RFC 1912 lint findings.
// The health endpoint probes every server live, so the pane asks for it
// on entering, on ctrl+r and on a slow tick while it is shown, never per
// frame, and one request at a time.

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/common"
	"zonekeeper/tui/components/form"
	"zonekeeper/tui/components/table"
	"zonekeeper/tui/styles"
)

// healthEvery is how often the shown pane checks again by itself: each
// check sends an SOA query to every server of the zone.
const healthEvery = 30 * time.Second

// maxDetailLines bounds the selected server's detail under the table.
const maxDetailLines = 3

// Messages of the health pane.
type (
	healthMsg struct {
		seq  int
		zone string
		z    *api.Zone
		err  error
	}
	healthTickMsg struct{ gen int }
)

// health is the state of the zone health pane.
type health struct {
	table    *table.Model
	zone     string    // the zone shown; "" until there is one
	z        *api.Zone // the last answer for zone
	err      error     // the last request's error
	at       time.Time // when z arrived
	checking bool      // a request is under way
	seq      int       // numbers requests: only the latest counts
	tickGen  int       // numbers tick chains: only the latest runs
}

// healthColumns are the server table's columns: at 80 columns SOURCE
// gets what is left; the error column shows at 110 and wider, and under
// the table for the selected server at any width.
func healthColumns() []table.Column {
	return []table.Column{
		{Title: "ADDR", Width: 15, Flex: 1},
		{Title: "SOURCE", Width: 10, Flex: 2},
		{Title: "AA", Width: 3},
		{Title: "SERIAL", Width: 10, Align: table.Right},
		{Title: "LAG", Width: 10, Align: table.Right}, // up to 2^31-1 in a serial reset
		{Title: "STATE", Width: 11, Colored: true},
		{Title: "LAST SYNC", Width: 9},
		{Title: "ERROR", Width: 12, Flex: 2, MinTable: 110},
	}
}

// checkHealth asks the daemon for the shown zone's health, unless a
// request is under way already.
func (m *Model) checkHealth() tea.Cmd {
	h := &m.health
	hc, ok := m.Daemon.(common.HealthChecker)
	if h.zone == "" || h.checking || !ok {
		return nil
	}
	h.checking = true
	h.seq++
	seq, zone := h.seq, h.zone
	return m.Call(func(ctx context.Context) tea.Msg {
		z, err := hc.ZoneHealth(ctx, zone)
		return healthMsg{seq: seq, zone: zone, z: z, err: err}
	})
}

// healthTick schedules the next check of a new tick chain.
func (m *Model) healthTick() tea.Cmd {
	m.health.tickGen++
	gen := m.health.tickGen
	return tea.Tick(healthEvery, func(time.Time) tea.Msg { return healthTickMsg{gen} })
}

// showingHealth reports whether the pane is on screen.
func (m *Model) showingHealth() bool { return m.active && m.pane == paneHealth }

// enterHealth starts checking: on entering the pane or the view.
func (m *Model) enterHealth() tea.Cmd {
	if m.health.zone == "" && len(m.zones) > 0 {
		m.health.zone = m.zones[0].Name
	}
	return tea.Batch(m.checkHealth(), m.healthTick())
}

// setHealthZone shows another zone, checking it at once when shown.
func (m *Model) setHealthZone(name string) tea.Cmd {
	h := &m.health
	if strings.EqualFold(name, h.zone) {
		return nil
	}
	h.zone, h.z, h.err = name, nil, nil
	h.checking = false // the answer for the old zone no longer counts
	h.seq++
	h.table.SetRows(nil)
	if !m.showingHealth() {
		return nil
	}
	return m.checkHealth()
}

// stepZone shows the zone dir places after the shown one in the list.
func (m *Model) stepZone(dir int) tea.Cmd {
	n := len(m.zones)
	if n == 0 {
		return common.Info("no zones to check")
	}
	i := -1
	for j, z := range m.zones {
		if strings.EqualFold(z.Name, m.health.zone) {
			i = j
		}
	}
	if i < 0 {
		i = 0
		if dir < 0 {
			i = n - 1
		}
		return m.setHealthZone(m.zones[i].Name)
	}
	return m.setHealthZone(m.zones[(i+dir+n)%n].Name)
}

// updateHealth handles the pane's messages.
func (m *Model) updateHealth(msg tea.Msg) tea.Cmd {
	h := &m.health
	switch msg := msg.(type) {
	case healthMsg:
		if msg.seq != h.seq {
			return nil
		}
		h.checking = false
		h.err = msg.err
		if msg.err == nil && msg.z == nil {
			msg.z = &api.Zone{Name: msg.zone}
		}
		if msg.err == nil {
			h.z, h.at = msg.z, m.Now()
			h.table.SetRows(serverRows(m.Now(), msg.z.Servers))
		}
		m.SetSize(m.Width, m.Height)
	case healthTickMsg:
		if msg.gen != h.tickGen || !m.showingHealth() {
			return nil
		}
		return tea.Batch(m.checkHealth(), m.healthTick())
	}
	return nil
}

// serverState names what a server's answer means, and how bad it is.
func serverState(s api.ServerState) (string, styles.Severity) {
	switch {
	case !s.Reachable:
		return "UNREACHABLE", styles.Error
	case !s.Authoritative:
		return "LAME no AA", styles.Error
	case !s.HasSerial:
		return "no zone", styles.Error
	case s.InSync:
		return "in sync", styles.OK
	case s.Lag < 0:
		return "ahead", styles.Critical
	}
	return "lagging", styles.Warning
}

// serverRows makes the table rows: the numbers as `zone health` prints
// them (lag is our serial minus its, RFC 1982; negative: it is ahead),
// with — where the CLI prints -.
func serverRows(now time.Time, servers []api.ServerState) []table.Row {
	rows := make([]table.Row, len(servers))
	for i, s := range servers {
		serial, lag, aa := common.None, common.None, common.None
		if s.HasSerial {
			serial, lag = fmt.Sprint(s.Serial), fmt.Sprint(s.Lag)
		}
		if s.Reachable {
			aa = "no"
			if s.Authoritative {
				aa = "yes"
			}
		}
		source := strings.Join(s.Sources, ", ")
		if s.Stealth {
			source += " (stealth)"
		}
		state, sev := serverState(s)
		rows[i] = table.Row{
			Key:      s.Addr,
			Cells:    []string{s.Addr, source, aa, serial, lag, state, common.Ago(now, s.LastSync), s.Error},
			Severity: sev,
		}
	}
	return rows
}

// healthHead is the pane's first two lines, unstyled: the zone, and what
// the last check found or that one is under way.
func (m *Model) healthHead() (string, string) {
	h := &m.health
	if h.zone == "" {
		return "Zone health: no zone yet", "the daemon serves no zone"
	}
	title := "Zone health: " + h.zone
	if z := h.z; z != nil {
		title = fmt.Sprintf("Zone health: %s · %s · %s · serial %d", z.Name, z.Kind, z.State, z.Serial)
	}
	var status string
	switch {
	case h.checking:
		status = "checking… (an SOA query to every server)"
	case h.err != nil:
		status = "error: " + oneLine(h.err.Error())
	case h.z == nil:
		if _, ok := m.Daemon.(common.HealthChecker); !ok {
			status = "zone health: " + common.NotAvailable
		} else {
			status = "not checked yet"
		}
	default:
		var inSync, down int
		for _, s := range h.z.Servers {
			if s.InSync {
				inSync++
			}
			if !s.Reachable {
				down++
			}
		}
		status = fmt.Sprintf("%s · %d in sync", plural(len(h.z.Servers), "server"), inSync)
		if down > 0 {
			status += fmt.Sprintf(" · %d UNREACHABLE", down)
		}
		status += " · checked " + common.Ago(m.Now(), h.at)
	}
	return title, status
}

// healthFooter is the pane's last line: where the cursor is, and the
// pane's keys.
func (m *Model) healthFooter() string {
	pos := 0
	if m.health.table.Len() > 0 {
		pos = m.health.table.Cursor() + 1
	}
	return fmt.Sprintf("server %d of %d · [ ] other zone · ctrl+r check again · h failover", pos, m.health.table.Len())
}

// plural is "1 error", "2 errors".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// detailLines says everything about the selected server, wrapped: the
// table cuts its sources and error.
func (m *Model) detailLines() []string {
	r, i := m.health.table.Selected()
	if r == nil || m.health.z == nil || i >= len(m.health.z.Servers) {
		return nil
	}
	var s api.ServerState
	for _, c := range m.health.z.Servers {
		if c.Addr == r.Key {
			s = c
		}
	}
	state, _ := serverState(s)
	text := fmt.Sprintf("%s: %s · %s", s.Addr, strings.Join(s.Sources, ", "), state)
	if s.Stealth {
		text += " · stealth (not NS-listed)"
	}
	if s.Rcode != "" && s.Rcode != "NOERROR" {
		text += " · rcode " + s.Rcode
	}
	if !s.LastSync.IsZero() {
		text += " · last in sync " + common.Ago(m.Now(), s.LastSync)
	}
	if s.Error != "" {
		text += " · " + s.Error
	}
	lines := form.Wrap(text, max(10, m.Width))
	if len(lines) > maxDetailLines {
		lines = lines[:maxDetailLines]
		lines[maxDetailLines-1] = table.Fit(lines[maxDetailLines-1]+" …", m.Width, table.Left)
	}
	return lines
}

// lintLines renders the findings in the daemon's order, in at most n
// lines: each in full when they all fit, else one line each.
func (m *Model) lintLines(n int) []string {
	z := m.health.z
	if z == nil || n <= 0 {
		return nil
	}
	if len(z.Lint) == 0 {
		return []string{"Lint (RFC 2182, RFC 1912): no findings"}
	}
	var errs, warns int
	for _, f := range z.Lint {
		if f.Severity == api.LintError {
			errs++
		} else {
			warns++
		}
	}
	out := []string{"Lint (RFC 2182, RFC 1912): " + plural(errs, "error") + ", " + plural(warns, "warning")}
	wrapped := out
	for _, f := range z.Lint {
		text := lintText(f)
		for j, l := range form.Wrap(text[5:], max(10, m.Width-7)) {
			if j == 0 {
				wrapped = append(wrapped, "  "+text[:5]+l)
			} else {
				wrapped = append(wrapped, "       "+l)
			}
		}
	}
	if len(wrapped) <= n {
		return wrapped
	}
	for i, f := range z.Lint {
		if len(out) == n-1 && i < len(z.Lint)-1 {
			out = append(out, fmt.Sprintf("  … and %d more (zonekeeper zone health %s)", len(z.Lint)-i, z.Name))
			break
		}
		if len(out) == n {
			break
		}
		out = append(out, "  "+lintText(f))
	}
	return out
}

// lintText is one finding on one line: severity, rule, RFC section,
// what was found.
func lintText(f api.LintFinding) string {
	sev := "warn"
	if f.Severity == api.LintError {
		sev = "ERR "
	}
	return fmt.Sprintf("%s %s (%s): %s", sev, f.Rule, f.RFC, oneLine(f.Detail))
}

// healthLayout sizes the server table so that the detail and as many
// lint findings as there are (or fit) show under it.
func (m *Model) healthLayout() (tableH, lintN int) {
	body := m.Height - 3 // the two head lines and the footer
	detail := len(m.detailLines())
	lint := 0
	if z := m.health.z; z != nil {
		lint = 1 + len(z.Lint)
	}
	rows := 1
	if z := m.health.z; z != nil && len(z.Servers) > 0 {
		rows = len(z.Servers)
	}
	tableH = min(1+rows, body-detail-lint)
	tableH = max(tableH, min(2, body-detail)) // the header and a row at least
	lintN = max(0, body-detail-tableH)
	return max(1, tableH), lintN
}

// healthView renders the pane in exactly its height.
func (m *Model) healthView() string {
	st := m.Styles
	w := m.Width
	fit := func(s string) string { return table.Fit(s, w, table.Left) }
	title, status := m.healthHead()
	statusStyle := st.Dim
	switch {
	case m.health.err != nil:
		statusStyle = st.StatusError
	case strings.Contains(status, "UNREACHABLE"):
		statusStyle = st.Severity(styles.Warning)
	}
	lines := []string{st.Header.Render(fit(title)), statusStyle.Render(fit(status))}
	switch h := &m.health; {
	case h.zone == "":
		h.table.Empty = "no zone to check: the daemon serves none"
	case h.checking && h.z == nil:
		h.table.Empty = "checking " + h.zone + "…"
	case h.err != nil && h.z == nil:
		h.table.Empty = "cannot check " + h.zone + ": see the error above"
	case h.z != nil:
		h.table.Empty = "no server should hold " + h.zone + " (no NS address, no peer, no also-notify)"
		// The ages are of now, as the detail line's: a handful of rows.
		h.table.SetRows(serverRows(m.Now(), h.z.Servers))
	default:
		h.table.Empty = "not checked yet: ctrl+r checks now"
	}
	_, lintN := m.healthLayout()
	body := m.health.table.View()
	for _, l := range m.detailLines() {
		body += "\n" + st.Dim.Render(fit(l))
	}
	sev := st.Severity(styles.Plain)
	for i, l := range m.lintLines(lintN) {
		switch {
		case i == 0:
			l = st.Bold.Render(fit(l))
		case strings.HasPrefix(l, "  ERR"):
			sev = st.Severity(styles.Error)
			l = sev.Render(fit(l))
		case strings.HasPrefix(l, "  warn"):
			sev = st.Severity(styles.Warning)
			l = sev.Render(fit(l))
		case strings.HasPrefix(l, "       "):
			l = sev.Render(fit(l)) // a wrapped finding's next line
		default:
			l = fit(l)
		}
		body += "\n" + l
	}
	out := strings.Join(lines, "\n") + "\n" + body
	if n := strings.Count(out, "\n") + 1; n < m.Height-1 {
		out += strings.Repeat("\n", m.Height-1-n)
	}
	return out + "\n" + st.Dim.Render(fit(m.healthFooter()))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
