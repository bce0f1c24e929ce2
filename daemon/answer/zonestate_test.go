package answer

import (
	"bytes"
	"testing"
)

func TestZoneStateRoundTrip(t *testing.T) {
	digest := bytes.Repeat([]byte{0xab}, 48)
	for _, s := range []ZoneState{
		{Role: ZoneRolePrimary, Serial: 7, Digest: digest},
		{Role: ZoneRoleSecondary, Serial: 0xffffffff, Primary: "a"},
		{Role: ZoneRoleSecondary, Serial: 1, Digest: digest, Primary: "127.0.0.1:5300"},
		{},
	} {
		b := AppendZoneState(nil, s)
		got, err := ParseZoneState(b)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if got.Role != s.Role || got.Serial != s.Serial || !bytes.Equal(got.Digest, s.Digest) || got.Primary != s.Primary {
			t.Errorf("round trip: got %+v, want %+v", got, s)
		}
	}
}

func TestZoneStateBad(t *testing.T) {
	good := AppendZoneState(nil, ZoneState{Role: ZoneRolePrimary, Serial: 3, Digest: []byte{1, 2, 3}, Primary: "b"})
	for name, b := range map[string][]byte{
		"empty":       nil,
		"version":     append([]byte{9}, good[1:]...),
		"short":       good[:5],
		"digest cut":  good[:8],
		"primary cut": good[:len(good)-1],
		"trailing":    append(append([]byte(nil), good...), 0),
		"no primary":  good[:10],
	} {
		if _, err := ParseZoneState(b); err == nil {
			t.Errorf("%s: %x parsed", name, b)
		}
	}
}
