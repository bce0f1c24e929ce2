package daemon

// What `zone list` and the messages of events show of a secondary zone
// (docs/architecture.md, "Transfer in → commit").

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"zonekeeper/daemon/api"
)

// joinAddrs renders addresses for a message.
func joinAddrs(addrs []netip.AddrPort) string {
	parts := make([]string, len(addrs))
	for i, a := range addrs {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// secOrNone is s, or "none" when empty.
func secOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// secDur rounds a duration for messages.
func secDur(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// secondaryView is what `zone list` shows of a secondary zone.
type secondaryView struct {
	state   string
	detail  string // why it is not fresh
	serial  uint32 // held, 0 when pending
	records int
	file    string
}

// view describes a secondary zone's state; ok is false for a zone that
// is not a registered secondary.
func (s *secondaries) view(zone string) (v secondaryView, ok bool) {
	now := time.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	z := s.zones[strings.ToLower(zone)]
	if z == nil {
		return v, false
	}
	if z.snap == nil {
		v.state, v.detail = api.StatePending, z.lastErr
		return v, true
	}
	v.serial, v.records, v.file = z.snap.Serial(), z.records, s.secondaryPath(z.name)
	t := timersOf(z.snap.SOA())
	left := z.expireAt.Sub(now)
	switch {
	case z.expired:
		v.state = api.StateExpired
		v.detail = "answering SERVFAIL: " + secOrNone(z.lastErr)
	case z.running || z.retrieving:
		v.state = api.StateChecking
	case z.failures == 0 && now.Sub(z.lastOK) < t.refresh:
		v.state = api.StateFresh
	case left < t.refresh:
		v.state = api.StateExpiring
		v.detail = fmt.Sprintf("expires in %s; last error: %s", secDur(max(left, 0)), secOrNone(z.lastErr))
	default:
		v.state = api.StateStale
		v.detail = z.lastErr
	}
	return v, true
}
