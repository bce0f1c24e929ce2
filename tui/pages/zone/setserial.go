package zone

// Setting a primary zone's serial (`zonekeeper zone set-serial`, the
// serial reset of RFC 2182 §7) in four steps: a form asks for the new
// serial and how long each step may wait; the daemon's dry run gives the
// plan, shown for confirmation; the procedure runs in a command while
// the panel shows each step from the activity feed (the daemon's answer
// comes only at the end); then the outcome, or which server is stuck,
// as the daemon says it. Esc cancels until the procedure starts.

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
	"zonekeeper/tui/components/form"
	"zonekeeper/tui/keymap"
)

// spinEvery is the spinner's frame time while the procedure runs.
const spinEvery = 120 * time.Millisecond

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// resetPhase is where the serial reset is.
type resetPhase int

const (
	phaseForm     resetPhase = iota // asking for the serial
	phasePlanning                   // the dry run is under way
	phaseConfirm                    // the plan is shown: y runs it
	phaseRunning                    // the daemon carries it out
	phaseDone                       // finished: the daemon's log
	phaseFailed                     // refused or stopped: the daemon's error
)

// serialReset is the state of one serial reset.
type serialReset struct {
	phase   resetPhase
	form    *form.Model
	target  uint32
	timeout time.Duration
	plan    *api.SetSerialResult // the dry run
	res     *api.SetSerialResult // the outcome
	err     error
	step    int // the last step the activity feed reported done, 1-based
	spin    int
	gen     int // numbers the runs: ticks and answers of another are ignored
}

// Messages of the serial reset.
type (
	serialPlanMsg struct {
		gen int
		res *api.SetSerialResult
		err error
	}
	serialDoneMsg struct {
		gen int
		res *api.SetSerialResult
		err error
	}
	spinMsg struct{ gen int }
)

// openSetSerial opens the set-serial form.
func (m *Model) openSetSerial() tea.Cmd {
	if m.detail.Kind == api.KindSecondary {
		return common.Info(m.name + " is a secondary: set its serial on its primary")
	}
	if _, ok := m.Daemon.(common.SerialSetter); !ok {
		return common.Info("set-serial: " + common.NotAvailable)
	}
	if m.detail.State != api.StateServing {
		return common.Info(m.name + " is " + m.detail.State + ": fix its zonefile first")
	}
	f := form.New(m.Common, "Set the serial of "+m.name+" (RFC 2182 §7)",
		form.Text("serial", "New serial", "0 to 4294967295"),
		form.Text("timeout", "Wait per step", "how long every server may take to follow one step"))
	f.Field("timeout").SetValue("60s") // the daemon's default
	f.SetSize(min(m.Width, 100), m.Height)
	m.resets++
	m.reset = &serialReset{form: f, gen: m.resets}
	m.validateSetSerial()
	return nil
}

// localPlan is the daemon's plan, computed here to preview it as the
// serial is typed: the fewest RFC 1982 increments (each less than 2^31)
// that lead from cur to target.
func localPlan(cur, target uint32) []uint32 {
	var plan []uint32
	for cur != target && len(plan) < 3 {
		if serialGreater(target, cur) {
			return append(plan, target)
		}
		cur += 1<<31 - 1
		plan = append(plan, cur)
	}
	return plan
}

// planText shows a plan as "1000 → 2147484647 → 11".
func planText(cur uint32, plan []uint32) string {
	parts := []string{strconv.FormatUint(uint64(cur), 10)}
	for _, s := range plan {
		parts = append(parts, strconv.FormatUint(uint64(s), 10))
	}
	return strings.Join(parts, " → ")
}

// readSetSerial reads the form: the serial, the wait per step, and why
// a value is refused.
func (m *Model) readSetSerial() (serial uint32, timeout time.Duration, serialErr, timeoutErr string) {
	f := m.reset.form
	v := strings.TrimSpace(f.Field("serial").Value())
	n, err := strconv.ParseUint(v, 10, 32)
	switch {
	case v == "":
		serialErr = "give the new serial"
	case err != nil:
		serialErr = fmt.Sprintf("%q is not a number from 0 to 4294967295", v)
	case uint32(n) == m.detail.Serial:
		serialErr = fmt.Sprintf("the zone is at serial %d already", n)
	}
	serial = uint32(n)
	tv := strings.TrimSpace(f.Field("timeout").Value())
	timeout, err = time.ParseDuration(tv)
	if err != nil {
		if secs, nerr := strconv.ParseUint(tv, 10, 32); nerr == nil {
			timeout, err = time.Duration(secs)*time.Second, nil
		}
	}
	if err != nil || timeout <= 0 {
		timeoutErr = fmt.Sprintf("%q is not a positive duration (60s, 2m)", tv)
	}
	return serial, timeout, serialErr, timeoutErr
}

// validateSetSerial marks the form's fields and previews the plan.
func (m *Model) validateSetSerial() {
	f := m.reset.form
	serial, _, serr, terr := m.readSetSerial()
	f.Field("serial").Err, f.Field("timeout").Err = serr, terr
	f.Field("serial").Hint, f.Field("timeout").Hint = "", "every server must serve each step's serial within this"
	cur := m.detail.Serial
	if serr == "" {
		plan := localPlan(cur, serial)
		if len(plan) == 1 && serialGreater(serial, cur) {
			f.Field("serial").Hint = "an increase: one step, applied at once"
		} else {
			f.Field("serial").Hint = fmt.Sprintf("a decrease: %d steps, %s (RFC 1982)", len(plan), planText(cur, plan))
		}
	}
	f.Lines = []string{
		fmt.Sprintf("%s is at serial %d (policy %s). A decrease goes in RFC 1982 steps; after each, every server of the zone (NS addresses, ALSO-NOTIFY, also-notify, peers) must serve it before the next.", m.name, cur, m.detail.SerialPolicy),
		"enter asks the daemon for the plan (a dry run: nothing changes yet)",
	}
}

// setSerialKey handles a key while the serial reset is open.
func (m *Model) setSerialKey(msg tea.KeyMsg) tea.Cmd {
	r := m.reset
	k := m.KeyMap
	switch r.phase {
	case phaseForm:
		act, cmd := r.form.Update(msg)
		switch act {
		case form.Cancel:
			m.reset = nil
		case form.Changed:
			r.form.Message = ""
			m.validateSetSerial()
		case form.Submit:
			serial, timeout, serr, terr := m.readSetSerial()
			if serr != "" || terr != "" {
				r.form.Message, r.form.Failed = "not sent: fix what is marked ✗ first", true
				return cmd
			}
			r.target, r.timeout = serial, timeout
			r.phase = phasePlanning
			r.form.Busy = true
			r.form.Message, r.form.Failed = "asking the daemon for the plan…", false
			return tea.Batch(cmd, m.callSetSerial(true))
		}
		return cmd
	case phasePlanning:
		if key.Matches(msg, k.Back) {
			m.reset = nil // its answer is ignored: it changes nothing
		}
	case phaseConfirm:
		switch {
		case key.Matches(msg, k.Cancel):
			m.reset = nil
		case key.Matches(msg, k.Confirm):
			r.phase = phaseRunning
			return tea.Batch(m.callSetSerial(false), m.spinTick())
		}
	case phaseRunning:
		// The daemon is changing the zone: the panel stays until it
		// answers, so that the outcome is seen.
	case phaseDone, phaseFailed:
		if key.Matches(msg, k.Back, k.Cancel, k.Open) {
			m.reset = nil
			return m.load()
		}
	}
	return nil
}

// callSetSerial runs the set-serial request, a dry run or the procedure,
// bounded by the wait of every step plus a margin.
func (m *Model) callSetSerial(dryRun bool) tea.Cmd {
	r := m.reset
	d := m.Daemon.(common.SerialSetter)
	zone, gen := m.name, r.gen
	req := api.SetSerialRequest{Serial: r.target, DryRun: dryRun, TimeoutSeconds: r.timeout.Seconds()}
	limit := common.RequestTimeout
	if !dryRun && r.plan != nil {
		limit += time.Duration(len(r.plan.Plan)) * r.timeout
	}
	parent := m.Ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, limit)
		defer cancel()
		res, err := d.SetSerial(ctx, zone, req)
		if dryRun {
			return serialPlanMsg{gen: gen, res: res, err: err}
		}
		return serialDoneMsg{gen: gen, res: res, err: err}
	}
}

func (m *Model) spinTick() tea.Cmd {
	gen := m.reset.gen
	return tea.Tick(spinEvery, func(time.Time) tea.Msg { return spinMsg{gen} })
}

// updateSetSerial handles the serial reset's messages and the activity
// events that report its steps.
func (m *Model) updateSetSerial(msg tea.Msg) tea.Cmd {
	r := m.reset
	switch msg := msg.(type) {
	case serialPlanMsg:
		if r == nil || msg.gen != r.gen || r.phase != phasePlanning {
			return nil
		}
		r.form.Busy = false
		if msg.err != nil {
			r.phase = phaseForm
			r.form.Message, r.form.Failed = "the daemon refused: "+msg.err.Error(), true
			return common.Fail("set-serial of "+m.name, msg.err)
		}
		if len(msg.res.Plan) == 0 {
			m.reset = nil
			return common.Info(strings.Join(msg.res.Log, "; "))
		}
		r.plan = msg.res
		r.phase = phaseConfirm
	case serialDoneMsg:
		if r == nil || msg.gen != r.gen {
			return nil
		}
		r.res, r.err = msg.res, msg.err
		if msg.err != nil {
			r.phase = phaseFailed
			return tea.Batch(common.Fail("set-serial of "+m.name+" stopped", msg.err), m.load())
		}
		r.phase = phaseDone
		return tea.Batch(common.Info(fmt.Sprintf("%s: serial %d → %d", m.name, msg.res.OldSerial, msg.res.Serial)), m.load())
	case spinMsg:
		if r == nil || msg.gen != r.gen || r.phase != phaseRunning {
			return nil
		}
		r.spin++
		return m.spinTick()
	case common.EventsMsg:
		if r == nil || r.phase != phaseRunning {
			return nil
		}
		for _, ev := range msg.Events {
			var i, n int
			if ev.Kind != "set-serial" || ev.Outcome != api.OutcomeOK || !strings.EqualFold(ev.Zone, m.name) {
				continue
			}
			if _, err := fmt.Sscanf(ev.Detail, "step %d of %d", &i, &n); err == nil && i > r.step {
				r.step = i
			}
		}
	}
	return nil
}

// decrease reports whether the plan goes down: each step then waits for
// every server.
func (r *serialReset) decrease() bool {
	return r.plan != nil && !serialGreater(r.target, r.plan.OldSerial)
}

// resetLines are the panel's lines after the form: the plan, the
// progress, the outcome.
func (m *Model) resetLines() (title string, lines []string) {
	r := m.reset
	p := r.plan
	title = fmt.Sprintf("Set the serial of %s: %d → %d", m.name, p.OldSerial, r.target)
	for _, l := range p.Log {
		if !strings.HasPrefix(l, "dry run") {
			lines = append(lines, strings.ReplaceAll(l, " -> ", " → "))
		}
	}
	wait := fmt.Sprintf("every server of the zone (NS addresses, ALSO-NOTIFY, also-notify, peers) must serve it within %s before the next; the first that does not stops the procedure at that step's serial, and is named.", common.Duration(r.timeout))
	switch r.phase {
	case phaseConfirm:
		if r.decrease() {
			lines = append(lines, "Each step is written, served and NOTIFYed; then "+wait)
		} else {
			lines = append(lines, "An increase is applied at once: written, served and NOTIFYed, no wait.")
		}
		return title, lines
	case phaseRunning:
		lines = append(lines, "")
		for i, s := range p.Plan {
			mark := "  "
			text := fmt.Sprintf("step %d/%d: serial %d", i+1, len(p.Plan), s)
			switch {
			case i < r.step-1 || (i == r.step-1 && !r.decrease()):
				mark = "✓ "
			case i == r.step-1:
				mark = spinFrames[r.spin%len(spinFrames)] + " "
				text = fmt.Sprintf("step %d/%d: waiting for servers to reach %d…", i+1, len(p.Plan), s)
			case i == r.step:
				if r.step == 0 || !r.decrease() {
					mark = spinFrames[r.spin%len(spinFrames)] + " "
					text += " being written…"
				}
			}
			lines = append(lines, mark+text)
		}
		return title, lines
	case phaseDone:
		lines = append(lines, "")
		for _, l := range r.res.Log[min(1, len(r.res.Log)):] {
			// The daemon indents what each server did under its step;
			// wrapping drops leading spaces, a bullet survives it.
			if t, ok := strings.CutPrefix(l, "  "); ok {
				l = "• " + t
			}
			lines = append(lines, strings.ReplaceAll(l, " -> ", " → "))
		}
		// The daemon's last line says where the zone is: marked done.
		last := fmt.Sprintf("zone %s is at serial %d", r.res.Zone, r.res.Serial)
		if n := len(lines); n > 0 && lines[n-1] == last {
			lines = lines[:n-1]
		}
		lines = append(lines, "✓ "+last)
		return title, lines
	}
	// Failed: the daemon's error says which server is stuck and the
	// serial the zone is left at.
	lines = append(lines, "")
	for i := 0; i < r.step && p != nil && i < len(p.Plan); i++ {
		lines = append(lines, fmt.Sprintf("step %d/%d: serial %d set", i+1, len(p.Plan), p.Plan[i]))
	}
	lines = append(lines, "✗ stopped: "+r.err.Error())
	return title, lines
}

// resetKeys lists the keys of the serial reset as it is now.
func (m *Model) resetKeys() []key.Binding {
	k := m.KeyMap
	switch m.reset.phase {
	case phaseForm:
		return m.reset.form.Keys()
	case phasePlanning:
		return []key.Binding{keymap.Describe(k.Back, "cancel")}
	case phaseConfirm:
		return []key.Binding{keymap.Describe(k.Confirm, "run the plan"), k.Cancel}
	case phaseRunning:
		return nil
	}
	return []key.Binding{keymap.Describe(keymap.Only(k.Back, "esc", "enter", "q"), "close")}
}

// resetView renders the panel: the form, or a box under the header.
func (m *Model) resetView(head string) string {
	r := m.reset
	if r.phase == phaseForm || r.phase == phasePlanning {
		return r.form.View()
	}
	st := m.Styles
	inner := max(20, min(m.Width, 90)-4)
	title, lines := m.resetLines()
	if r.decrease() {
		title = "⚠ " + title
	}
	var body []string
	for _, l := range lines {
		style := st.HelpDesc
		switch {
		case strings.HasPrefix(l, "✗"):
			style = st.StatusError
		case strings.HasPrefix(l, "✓ ") && r.phase == phaseDone:
			style = st.StatusInfo
		}
		for _, w := range form.Wrap(l, inner) {
			body = append(body, style.Render(w))
		}
	}
	var foot string
	switch r.phase {
	case phaseConfirm:
		foot = st.Bold.Render("y") + " run · " + st.Bold.Render("n") + "/esc cancel"
	case phaseRunning:
		foot = st.Dim.Render("running: the daemon answers when every step is done or a server is stuck")
	default:
		foot = st.Dim.Render("enter/esc close")
	}
	// The box fits under the header: the oldest progress lines give way.
	room := m.Height - headerLines - 5
	if len(body) > room && room > 0 {
		body = append([]string{st.Dim.Render("…")}, body[len(body)-room+1:]...)
	}
	box := st.Box.Width(inner + 2).Render(st.BoxTitle.Render(title) + "\n" + strings.Join(body, "\n") + "\n\n" + foot)
	return head + "\n" + box
}
