package answer

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The zone state option (docs/architecture.md, "Content digests and the
// zone state option"): an EDNS(0) option of the local/experimental range
// (RFC 6891 §9) that a zonekeeper node adds, empty, to the SOA queries it
// sends its peers, and that a node answering such a query from one of its
// peers adds to the reply, carrying what it serves of the zone: its role,
// its serial, the content digest of that version (RFC 8976 ZONEMD
// SHA-384, empty until computed) and, for a secondary, the primary it
// follows.
//
// Wire form of the reply's option data:
//
//	version (1) = 1 | role (1) | serial (4) | digest length (1) | digest | primary length (1) | primary
//
// A query carries the option with no data.

// OptionZoneState is the EDNS(0) option code of the zone state option.
const OptionZoneState = 65309

// zoneStateVersion is the version of the option's wire form.
const zoneStateVersion = 1

// Roles in the zone state option.
const (
	ZoneRoleUnknown   uint8 = 0
	ZoneRolePrimary   uint8 = 1
	ZoneRoleSecondary uint8 = 2
	ZoneRoleNative    uint8 = 3
)

// ZoneState is what a node says of one zone in the zone state option.
type ZoneState struct {
	Role    uint8  // ZoneRolePrimary, ZoneRoleSecondary, ...
	Serial  uint32 // the serial it serves
	Digest  []byte // the content digest of that version; empty until computed
	Primary string // a secondary's primary: a peer name or an address; "" otherwise
}

// AppendZoneState appends the option data of s to b. A digest or a
// primary longer than 255 bytes is cut (neither ever is).
func AppendZoneState(b []byte, s ZoneState) []byte {
	d, p := s.Digest, s.Primary
	if len(d) > 255 {
		d = d[:255]
	}
	if len(p) > 255 {
		p = p[:255]
	}
	b = append(b, zoneStateVersion, s.Role)
	b = binary.BigEndian.AppendUint32(b, s.Serial)
	b = append(b, byte(len(d)))
	b = append(b, d...)
	b = append(b, byte(len(p)))
	return append(b, p...)
}

// ParseZoneState reads the option data of a zone state option; the
// digest it returns is a copy.
func ParseZoneState(b []byte) (ZoneState, error) {
	var s ZoneState
	if len(b) == 0 {
		return s, errors.New("zone state option: empty (a query's, not an answer's)")
	}
	if b[0] != zoneStateVersion {
		return s, fmt.Errorf("zone state option: version %d, not %d", b[0], zoneStateVersion)
	}
	if len(b) < 7 {
		return s, fmt.Errorf("zone state option: %d bytes, too short", len(b))
	}
	s.Role, s.Serial = b[1], binary.BigEndian.Uint32(b[2:])
	n := int(b[6])
	b = b[7:]
	if len(b) < n+1 {
		return s, errors.New("zone state option: the digest runs past the end")
	}
	if n > 0 {
		s.Digest = append([]byte(nil), b[:n]...)
	}
	b = b[n:]
	m := int(b[0])
	b = b[1:]
	if len(b) != m {
		return s, fmt.Errorf("zone state option: primary of %d bytes in %d", m, len(b))
	}
	s.Primary = string(b)
	return s, nil
}
