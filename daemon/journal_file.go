package daemon

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"zonekeeper/daemon/answer"

	"github.com/miekg/dns"
)

// The journal file of one zone, DATA/journal/<zone>.jnl. Records are in
// uncompressed DNS wire form (exact, and fast to read back); numbers are
// unsigned varints unless said otherwise:
//
//	"ZKJNL1\n"
//	origin length, origin (presentation form, lower case)
//	serial of the last version (4 bytes, big-endian)
//	SHA-256 of the last version's packed records (32 bytes)
//	number of steps, then each step: its length, then
//	    number removed, number added, From SOA, To SOA, removed, added
//	    (each record: its length, its wire form)
//	length of the last version's packed records, the records back to back
//	SHA-256 of everything above (32 bytes)
//
// The trailing checksum catches a truncated or damaged file; the file is
// only ever replaced whole, so a valid checksum means a complete journal.

// journalMagic starts every journal file; the digit is the format version.
const journalMagic = "ZKJNL1\n"

// errJournalFormat reports a journal file that is not one this daemon wrote.
var errJournalFormat = errors.New("not a zonekeeper journal, or damaged")

// encodeJournal writes z in file form.
func encodeJournal(w io.Writer, z *zoneJournal) error {
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	var b []byte
	b = append(b, journalMagic...)
	b = binary.AppendUvarint(b, uint64(len(z.origin)))
	b = append(b, z.origin...)
	b = binary.BigEndian.AppendUint32(b, z.serial)
	b = append(b, z.digest[:]...)
	b = binary.AppendUvarint(b, uint64(len(z.blocks)))
	if _, err := mw.Write(b); err != nil {
		return err
	}
	for _, block := range z.blocks {
		b = binary.AppendUvarint(b[:0], uint64(len(block)))
		if _, err := mw.Write(b); err != nil {
			return err
		}
		if _, err := mw.Write(block); err != nil {
			return err
		}
	}
	b = binary.AppendUvarint(b[:0], uint64(len(z.last.buf)))
	if _, err := mw.Write(b); err != nil {
		return err
	}
	if _, err := mw.Write(z.last.buf); err != nil {
		return err
	}
	_, err := w.Write(h.Sum(nil))
	return err
}

// encodeDiff returns one step in file form (without its length).
func encodeDiff(d journalDiff) ([]byte, error) {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(d.Removed)))
	b = binary.AppendUvarint(b, uint64(len(d.Added)))
	scratch := make([]byte, dns.MaxMsgSize+answer.MaxNameLen+16)
	rrs := make([]dns.RR, 0, 2+len(d.Removed)+len(d.Added))
	rrs = append(append(append(rrs, d.From, d.To), d.Removed...), d.Added...)
	for _, rr := range rrs {
		n, err := dns.PackRR(rr, scratch, 0, nil, false)
		if err != nil {
			return nil, fmt.Errorf("journal: packing %s %s: %w", rr.Header().Name, dns.Type(rr.Header().Rrtype), err)
		}
		b = binary.AppendUvarint(b, uint64(n))
		b = append(b, scratch[:n]...)
	}
	return b, nil
}

// decodeJournal reads a journal file of zone origin and checks that its
// chain is whole: each step starts where the one before ended and the
// last ends at the recorded version.
func decodeJournal(data []byte, origin string) (*zoneJournal, error) {
	if len(data) < len(journalMagic)+sha256.Size || !bytes.HasPrefix(data, []byte(journalMagic)) {
		return nil, errJournalFormat
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) {
		return nil, fmt.Errorf("checksum mismatch: %w", errJournalFormat)
	}
	r := &journalReader{b: body[len(journalMagic):]}
	if name := string(r.bytes(r.uvarint())); name != origin {
		if r.err != nil {
			return nil, r.err
		}
		return nil, fmt.Errorf("it is the journal of %q", name)
	}
	z := &zoneJournal{origin: origin, serial: r.uint32()}
	copy(z.digest[:], r.bytes(sha256.Size))
	steps := r.uvarint()
	if r.err == nil && steps > uint64(len(r.b)) {
		r.fail()
	}
	for i := uint64(0); i < steps && r.err == nil; i++ {
		block := r.bytes(r.uvarint())
		if r.err != nil {
			break
		}
		d, err := decodeDiff(block)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", i+1, err)
		}
		z.diffs = append(z.diffs, d)
		z.blocks = append(z.blocks, block)
		z.size += diffSize(d)
	}
	buf := r.bytes(r.uvarint())
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("trailing bytes: %w", errJournalFormat)
	}
	last, err := unpackedZone(buf, z.serial)
	if err != nil {
		return nil, err
	}
	if last.digest != z.digest {
		return nil, fmt.Errorf("digest mismatch: %w", errJournalFormat)
	}
	if soa, err := last.soa(); err != nil || soa.Serial != z.serial {
		return nil, fmt.Errorf("the last version's SOA does not match: %w", errJournalFormat)
	}
	z.last = last
	for i, d := range z.diffs {
		next := z.serial
		if i+1 < len(z.diffs) {
			next = z.diffs[i+1].From.Serial
		}
		if d.To.Serial != next {
			return nil, fmt.Errorf("step %d ends at serial %d, the next version is %d: %w", i+1, d.To.Serial, next, errJournalFormat)
		}
	}
	return z, nil
}

// decodeDiff reads one step.
func decodeDiff(block []byte) (journalDiff, error) {
	r := &journalReader{b: block}
	nrem, nadd := r.uvarint(), r.uvarint()
	if r.err != nil || nrem+nadd > uint64(len(block)) {
		return journalDiff{}, errJournalFormat
	}
	var d journalDiff
	for i := uint64(0); i < 2+nrem+nadd; i++ {
		w := r.bytes(r.uvarint())
		if r.err != nil {
			return journalDiff{}, r.err
		}
		rr, _, err := dns.UnpackRR(w, 0)
		if err != nil {
			return journalDiff{}, fmt.Errorf("record %d: %w", i+1, err)
		}
		switch {
		case i < 2:
			soa, ok := rr.(*dns.SOA)
			if !ok {
				return journalDiff{}, fmt.Errorf("a step does not start with SOAs: %w", errJournalFormat)
			}
			if i == 0 {
				d.From = soa
			} else {
				d.To = soa
			}
		case i < 2+nrem:
			d.Removed = append(d.Removed, rr)
		default:
			d.Added = append(d.Added, rr)
		}
	}
	if len(r.b) != 0 {
		return journalDiff{}, fmt.Errorf("trailing bytes in a step: %w", errJournalFormat)
	}
	return d, nil
}

// unpackedZone indexes packed records read back from a file.
func unpackedZone(buf []byte, serial uint32) (*packedZone, error) {
	p := &packedZone{buf: buf, serial: serial}
	for off := 0; off < len(buf); {
		n := answer.NameLen(buf[off:])
		if n < 0 || off+n+10 > len(buf) {
			return nil, fmt.Errorf("last version: %w", errJournalFormat)
		}
		end := off + n + 10 + int(binary.BigEndian.Uint16(buf[off+n+8:]))
		if end > len(buf) {
			return nil, fmt.Errorf("last version: %w", errJournalFormat)
		}
		p.offs = append(p.offs, off)
		off = end
	}
	p.offs = append(p.offs, len(buf))
	p.digest = sha256.Sum256(buf)
	return p, nil
}

// journalReader reads the parts of a journal file, remembering the first
// error so that a sequence of reads is checked once.
type journalReader struct {
	b   []byte
	err error
}

func (r *journalReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("truncated: %w", errJournalFormat)
	}
	r.b = nil
}

func (r *journalReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *journalReader) uint32() uint32 {
	b := r.bytes(4)
	if r.err != nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (r *journalReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}
