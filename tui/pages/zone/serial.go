package zone

import (
	"time"

	"zonekeeper/daemon/api"
)

// nextSerial predicts the serial an edit will give the zone: the
// daemon's rule for each serial policy, always an RFC 1982 increase.
func nextSerial(old uint32, policy string, now time.Time) uint32 {
	next := old + 1
	var candidate uint32
	switch policy {
	case api.SerialDate:
		y, m, d := now.UTC().Date()
		candidate = uint32(y*1000000 + int(m)*10000 + d*100)
	case api.SerialUnixtime:
		candidate = uint32(now.Unix())
	}
	if candidate != 0 && serialGreater(candidate, old) {
		next = candidate
	}
	return next
}

// serialGreater reports whether a follows b in RFC 1982 arithmetic.
func serialGreater(a, b uint32) bool {
	return a != b && ((a > b && a-b < 1<<31) || (a < b && b-a > 1<<31))
}
