package daemon

import (
	"crypto/sha256"

	"zonekeeper/daemon/answer"
)

// packSnapshot returns the served records in uncompressed wire form, in
// canonical order (answer.Snapshot.EachRecord's).
func packSnapshot(s *answer.Snapshot) *packedZone {
	size, count := 0, 0
	s.EachRecord(func(owner []byte, _, _ uint16, _ uint32, rdata []byte) bool {
		size += len(owner) + 10 + len(rdata)
		count++
		return true
	})
	p := &packedZone{buf: make([]byte, 0, size), offs: make([]int, 0, count+1), serial: s.Serial()}
	s.EachRecord(func(owner []byte, rtype, class uint16, ttl uint32, rdata []byte) bool {
		p.offs = append(p.offs, len(p.buf))
		p.buf = answer.AppendWireRR(p.buf, owner, rtype, class, ttl, rdata)
		return true
	})
	p.offs = append(p.offs, len(p.buf))
	p.digest = sha256.Sum256(p.buf)
	return p
}
