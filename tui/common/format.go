package common

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/tui/styles"
)

// None stands for a value the daemon does not have (yet).
const None = "—"

// NotAvailable marks data the control API does not provide yet.
const NotAvailable = "not available yet"

// Ago renders how long before now t was: "12s ago", "3h12m ago"; None
// for the zero time.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return None
	}
	d := now.Sub(t)
	if d < 0 {
		return "just now"
	}
	return Duration(d) + " ago"
}

// Duration renders d compactly with at most two units: 45s, 3m12s,
// 3h12m, 2d4h.
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		m := int(d.Minutes())
		if s := int(d.Seconds()) % 60; s != 0 {
			return fmt.Sprintf("%dm%ds", m, s)
		}
		return fmt.Sprintf("%dm", m)
	case d < 48*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) % 60; m != 0 {
			return fmt.Sprintf("%dh%dm", h, m)
		}
		return fmt.Sprintf("%dh", h)
	}
	days := int(d.Hours()) / 24
	if h := int(d.Hours()) % 24; h != 0 {
		return fmt.Sprintf("%dd%dh", days, h)
	}
	return fmt.Sprintf("%dd", days)
}

// StateSeverity ranks a zone state of the API. Secondaries report
// fresh, checking, stale, "expiring in 3h12m" and expired; any zone may
// be split-brain or diverged (a peer at our serial with other content);
// the rest report serving, pending, broken, expired and missing.
func StateSeverity(state string) styles.Severity {
	switch {
	case state == "serving" || state == "fresh":
		return styles.OK
	case state == "checking" || state == "pending" || state == "transferring":
		return styles.Info
	case state == "stale" || strings.HasPrefix(state, "expiring"):
		return styles.Warning
	case state == "split-brain" || state == "diverged":
		return styles.Critical
	case state == "expired" || state == "broken" || state == "missing":
		return styles.Error
	}
	return styles.Plain
}

// expiresIn finds the countdown in the Error of an expiring secondary:
// "expires in 3h12m; last error: …".
var expiresIn = regexp.MustCompile(`^expires in ([^;\s]+)`)

// StateText renders a zone's state for a table cell: the API's state,
// with the countdown of an expiring zone ("expiring in 3h12m").
func StateText(state, detail string) string {
	if state == "expiring" {
		if m := expiresIn.FindStringSubmatch(detail); m != nil {
			return "expiring in " + m[1]
		}
	}
	return state
}

// OutcomeSeverity ranks an event outcome.
func OutcomeSeverity(outcome string) styles.Severity {
	switch outcome {
	case "ok":
		return styles.OK
	case "warning":
		return styles.Warning
	case "error":
		return styles.Error
	}
	return styles.Plain
}

// RelativeName renders an absolute owner name relative to origin: "@"
// for the apex, "www" for www.origin, the absolute name otherwise.
func RelativeName(name, origin string) string {
	if strings.EqualFold(name, origin) {
		return "@"
	}
	if len(name) > len(origin) && strings.EqualFold(name[len(name)-len(origin):], origin) && name[len(name)-len(origin)-1] == '.' {
		return name[:len(name)-len(origin)-1]
	}
	return name
}

// SigsCell is a zone's signatures in a table cell: the time left before
// the earliest expires ("6d23h", "47h59m"), "expired", None when the
// zone is not signed.
func SigsCell(s *api.Signatures) string {
	switch {
	case s == nil:
		return None
	case s.ExpiresIn <= 0:
		return "expired"
	}
	return Duration(time.Duration(s.ExpiresIn) * time.Second)
}
