package answer

import (
	"testing"

	"zonekeeper/daemon/answer/answertest"
	"zonekeeper/zonefile"
)

// The test zones (answertest), as the tests of this package use them.

// wwwQuestion is the question www.example.org/IN/A in wire format, in
// hex.
const wwwQuestion = answertest.WWWQuestion

var (
	question   = answertest.Question
	testZone   = answertest.Zone
	exampleOrg = answertest.ExampleOrg
	spBigZone  = answertest.BigZone
	rrStrings  = answertest.RRStrings
	bigText    = answertest.BigText
)

func mustCompile(t testing.TB, z *zonefile.Zone) *Snapshot {
	t.Helper()
	return answertest.MustCompile(t, Compile, z)
}

// testZones serves answertest.Zones.
func testZones(t testing.TB) *Zones { return answertest.Serve(t, NewZones(), Compile) }
