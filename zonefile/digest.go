package zonefile

import (
	"crypto/sha256"

	"github.com/miekg/dns"
)

// digestBlock is how many records are hashed together; block digests
// are then hashed in order, so the digest does not depend on how many
// goroutines computed it. Tests lower it.
var digestBlock = 1 << 16

// Digest returns a SHA-256 digest of a zone's content: its origin and
// its records, in Records order, each in wire form (owner in lower case,
// type, class, TTL, data). Zones with equal digests serve the same
// records. A reload compares digests to skip files that were touched but
// not changed; hashing wire form instead of the zone written as text
// makes that cheap.
//
// Like dns.PackRR, which it uses, it sets each record's Rdlength: do not
// call it while other goroutines read the records.
func Digest(z *Zone) [sha256.Size]byte {
	return digestBlocks(z.Origin, len(z.Records), func(lo, hi int, buf []byte) [sha256.Size]byte {
		return digestRecords(z.Records[lo:hi], buf)
	})
}

// maxPacked is the most a record can take in wire form.
const maxPacked = 255 + 10 + 65535

// digestRecords hashes records packed one after the other, using buf
// to gather them.
func digestRecords(rrs []dns.RR, buf []byte) [sha256.Size]byte {
	h := sha256.New()
	off := 0
	for _, rr := range rrs {
		if len(buf)-off < maxPacked {
			h.Write(buf[:off])
			off = 0
		}
		end, err := dns.PackRR(rr, buf, off, nil, false)
		if err != nil {
			// Not packable (the parser let it through): its text stands
			// in, marked so that it cannot read as wire form.
			h.Write(buf[:off])
			off = 0
			h.Write([]byte{0xff})
			h.Write([]byte(rr.String()))
			h.Write([]byte{0})
			continue
		}
		// Fold the owner to lower case; label lengths are below 'A'.
		for i := off; i < end && buf[i] != 0; i += int(buf[i]) + 1 {
			for j := i + 1; j <= i+int(buf[i]) && j < end; j++ {
				if c := buf[j]; 'A' <= c && c <= 'Z' {
					buf[j] = c + 'a' - 'A'
				}
			}
		}
		off = end
	}
	h.Write(buf[:off])
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}
