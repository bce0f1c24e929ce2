package listen

import (
	"testing"

	"zonekeeper/daemon/answer"
	"zonekeeper/daemon/answer/answertest"
	"zonekeeper/zonefile"
)

// The test zones of the query path (answertest), as the tests of this
// package use them.

var (
	question = answertest.Question
	testZone = answertest.Zone
)

// wwwQuestion is the question www.example.org/IN/A in wire format, in
// hex.
const wwwQuestion = answertest.WWWQuestion

func mustCompile(t testing.TB, z *zonefile.Zone) *answer.Snapshot {
	t.Helper()
	return answertest.MustCompile(t, answer.Compile, z)
}

// testZones serves answertest.Zones.
func testZones(t testing.TB) *answer.Zones {
	return answertest.Serve(t, answer.NewZones(), answer.Compile)
}
