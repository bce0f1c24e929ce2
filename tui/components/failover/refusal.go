package failover

import (
	"errors"
	"strings"

	"zonekeeper/daemon/api"
)

// The daemon's guard (docs/architecture.md, "Guarded role changes")
// refuses a promote or demote that would leave two primaries, none, or a
// loop; the TUI shows the reason in a dialog rather than a status line
// cut at the screen's width, and offers no override: --force is the
// CLI's.

// overrideHint ends every refusal of the daemon's guard.
const overrideHint = "(--force overrides)"

// RefusedNote is the dialog's closing note under a refusal.
const RefusedNote = "Nothing changed. To override, run the command with --force from a shell."

// isRefusal reports whether msg is a refusal of the guard.
func isRefusal(msg string) bool { return strings.HasSuffix(strings.TrimSpace(msg), overrideHint) }

// reason is a refusal without its hint.
func reason(msg string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(msg), overrideHint))
}

// Refused returns the dialog lines of a guard's refusal, when err is one.
func Refused(err error) ([]string, bool) {
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeNotPermitted || !isRefusal(ae.Message) {
		return nil, false
	}
	return []string{reason(ae.Message)}, true
}

// RefusedZones returns the dialog lines of the zones of a promotion that
// the guard refused, one each; none when it refused none.
func RefusedZones(r *api.PromoteResult) []string {
	if r == nil {
		return nil
	}
	var lines []string
	for _, z := range r.Zones {
		if z.Error != "" && isRefusal(z.Error) {
			lines = append(lines, "• "+reason(z.Error))
		}
	}
	return lines
}
