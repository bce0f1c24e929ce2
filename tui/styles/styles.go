// Package styles is the TUI's one style sheet. Colour only ever repeats
// what the text already says (severity words, markers, brackets), so the
// UI reads the same under NO_COLOR.
package styles

import (
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Severity ranks what a state or an event means for the operator.
type Severity int

// Severities, from nothing to say to act now.
const (
	Plain Severity = iota
	OK
	Info
	Warning
	Error
	Critical
)

// Styles holds every style the TUI renders with.
type Styles struct {
	Renderer *lipgloss.Renderer

	App       lipgloss.Style // the title in the tab bar
	Tab       lipgloss.Style
	ActiveTab lipgloss.Style
	Connected lipgloss.Style
	Offline   lipgloss.Style

	Header      lipgloss.Style // a view's first lines
	Dim         lipgloss.Style // secondary text, "—", "not available yet"
	Bold        lipgloss.Style
	TableHeader lipgloss.Style
	Selected    lipgloss.Style // the row under the cursor (also marked ›)

	StatusInfo  lipgloss.Style
	StatusError lipgloss.Style
	HelpKey     lipgloss.Style
	HelpDesc    lipgloss.Style

	Box        lipgloss.Style // dialogs and forms
	BoxTitle   lipgloss.Style
	FieldLabel lipgloss.Style
	FieldError lipgloss.Style
	FieldOK    lipgloss.Style

	severity [Critical + 1]lipgloss.Style
}

// New returns the style sheet for r. With noColor, or when r's profile
// has no colour, the styles carry no colour (and the renderer emits no
// escape codes at all).
func New(r *lipgloss.Renderer, noColor bool) *Styles {
	if noColor {
		r.SetColorProfile(termenv.Ascii)
	}
	ns := r.NewStyle
	s := &Styles{Renderer: r}
	accent := lipgloss.AdaptiveColor{Light: "25", Dark: "75"}
	dim := lipgloss.AdaptiveColor{Light: "245", Dark: "243"}
	green := lipgloss.AdaptiveColor{Light: "28", Dark: "78"}
	cyan := lipgloss.AdaptiveColor{Light: "31", Dark: "80"}
	yellow := lipgloss.AdaptiveColor{Light: "136", Dark: "220"}
	red := lipgloss.AdaptiveColor{Light: "160", Dark: "203"}

	s.App = ns().Bold(true).Foreground(accent)
	s.Tab = ns().Foreground(dim)
	s.ActiveTab = ns().Bold(true).Underline(true)
	s.Connected = ns().Foreground(green)
	s.Offline = ns().Bold(true).Foreground(red)

	s.Header = ns().Bold(true)
	s.Dim = ns().Foreground(dim)
	s.Bold = ns().Bold(true)
	s.TableHeader = ns().Bold(true).Foreground(accent)
	s.Selected = ns().Reverse(true)

	s.StatusInfo = ns().Foreground(green)
	s.StatusError = ns().Bold(true).Foreground(red)
	s.HelpKey = ns().Bold(true).Foreground(accent)
	s.HelpDesc = ns()

	s.Box = ns().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1)
	s.BoxTitle = ns().Bold(true)
	s.FieldLabel = ns().Foreground(dim)
	s.FieldError = ns().Foreground(red)
	s.FieldOK = ns().Foreground(green)

	s.severity = [...]lipgloss.Style{
		Plain:    ns(),
		OK:       ns().Foreground(green),
		Info:     ns().Foreground(cyan),
		Warning:  ns().Foreground(yellow),
		Error:    ns().Foreground(red),
		Critical: ns().Bold(true).Foreground(red),
	}
	return s
}

// Severity returns the style of a severity.
func (s *Styles) Severity(v Severity) lipgloss.Style {
	if v < Plain || v > Critical {
		v = Plain
	}
	return s.severity[v]
}
