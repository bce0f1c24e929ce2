package daemon

import (
	"testing"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/answer/answertest"
	"zonekeeper/zonefile"
)

// The test zones of the query path (answertest), as the tests of daemon/
// use them.

var (
	testZone  = answertest.Zone
	spBigZone = answertest.BigZone
	rrStrings = answertest.RRStrings
)

func mustCompile(t testing.TB, z *zonefile.Zone) *answer.Snapshot {
	t.Helper()
	return answertest.MustCompile(t, answer.Compile, z)
}

// testZones serves answertest.Zones.
func testZones(t testing.TB) *answer.Zones {
	return answertest.Serve(t, answer.NewZones(), answer.Compile)
}
