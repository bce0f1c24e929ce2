package answer

// The compiled cache of a zone: a Snapshot written to DATA/cache as the
// memory it occupies, so that a restart serves a big zone without
// parsing and compiling its zonefile again.

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"unsafe"

	"github.com/miekg/dns"
)

// cacheMagic starts every cache file.
const cacheMagic = "ZKSNAPC\x00"

// cacheVersion is the format of the cache files this binary writes and
// reads; raise it whenever the file's layout or meaning changes.
const cacheVersion = 1

// CacheExt is the extension of the cache files in DATA/cache.
const CacheExt = ".zkc"

// cacheHeaderLen is the length of the fixed header, a multiple of 8.
const cacheHeaderLen = 8 + 8 + 32 + 8 + 8 + 32 + 4 + 4 + 4 + 4 + 8 + 32 + 8*cacheSections

// The variable-length sections of a cache file, in file order; the
// header holds the length of each (bytes, or records for the arrays).
const (
	secOrigin = iota
	secSOA
	secNames
	secData
	secNodes
	secSets
	secTargets
	cacheSections
)

// cacheCRC is the checksum of cache files: CRC-32C, which amd64 and
// arm64 compute in hardware at several GB/s.
var cacheCRC = crc32.MakeTable(crc32.Castagnoli)

// errCacheStale says a cache file is of another file, format or binary.
var errCacheStale = errors.New("cache: stale")

// CacheStamp identifies the zonefile a cache was compiled from: the
// size and modification time find a stale cache without reading the
// zonefile, the SHA-256 of its bytes proves a matching one.
type CacheStamp struct {
	Size  int64
	Mtime int64 // nanoseconds since the Unix epoch
	Sum   [sha256.Size]byte
}

// CacheMeta is what the loader keeps of a served version besides its
// snapshot.
type CacheMeta struct {
	Records int
	Digest  [sha256.Size]byte // zonefile.Digest of the parsed zone
}

// layoutPrint fingerprints the memory layout of the records stored
// raw, the byte order and the build: a binary whose structs differ
// refuses the caches of another instead of misreading them.
var layoutPrint = sync.OnceValue(func() [sha256.Size]byte {
	var n nodeRec
	var s setRec
	var t targetRec
	one := uint16(1)
	// The binary's build ties a cache to the Compile that made it, so
	// that an upgrade never serves what an older compiler got wrong.
	build := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		build = bi.GoVersion + " " + bi.Main.Path + " " + bi.Main.Version
		for _, kv := range bi.Settings {
			if strings.HasPrefix(kv.Key, "vcs.") {
				build += " " + kv.Key + "=" + kv.Value
			}
		}
	}
	desc := fmt.Sprint(
		"build", build,
		"order", *(*byte)(unsafe.Pointer(&one)),
		"node", unsafe.Sizeof(n), unsafe.Offsetof(n.owner), unsafe.Offsetof(n.firstSet), unsafe.Offsetof(n.cut),
		unsafe.Offsetof(n.wild), unsafe.Offsetof(n.nsets), unsafe.Offsetof(n.a), unsafe.Offsetof(n.aaaa),
		unsafe.Offsetof(n.cname), unsafe.Offsetof(n.any), unsafe.Offsetof(n.nameLen), unsafe.Offsetof(n.keyAfter),
		"set", unsafe.Sizeof(s), unsafe.Offsetof(s.ttl), unsafe.Offsetof(s.data), unsafe.Offsetof(s.aux),
		unsafe.Offsetof(s.rtype), unsafe.Offsetof(s.class),
		"target", unsafe.Sizeof(t), unsafe.Offsetof(t.name), unsafe.Offsetof(t.node), unsafe.Offsetof(t.nameLen),
		unsafe.Offsetof(t.inDomain), unsafe.Offsetof(t.last),
	)
	return sha256.Sum256([]byte(desc))
})

// rawBytes returns the memory of a slice of pointer-free records.
func rawBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// rawSlice returns b, 8-byte aligned, as n records of type T.
func rawSlice[T any](b []byte, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// pad8 rounds n up to a multiple of 8.
func pad8(n int) int { return (n + 7) &^ 7 }

// WriteCache writes snap, the version compiled from the zonefile of
// stamp, with the loader's meta, to w.
func WriteCache(w io.Writer, snap *Snapshot, stamp CacheStamp, meta CacheMeta) error {
	// PackRR sets the record's Rdlength: pack a copy, not the SOA that
	// other goroutines read.
	rr := dns.Copy(snap.soa)
	soa := make([]byte, dns.Len(rr)+16)
	n, err := dns.PackRR(rr, soa, 0, nil, false)
	if err != nil {
		return fmt.Errorf("cache: packing the SOA: %w", err)
	}
	sections := [cacheSections][]byte{
		secOrigin:  []byte(snap.origin),
		secSOA:     soa[:n],
		secNames:   snap.names,
		secData:    snap.data,
		secNodes:   rawBytes(snap.nodes),
		secSets:    rawBytes(snap.sets),
		secTargets: rawBytes(snap.targets),
	}
	counts := [cacheSections]int{
		secOrigin: len(snap.origin), secSOA: n, secNames: len(snap.names), secData: len(snap.data),
		secNodes: len(snap.nodes), secSets: len(snap.sets), secTargets: len(snap.targets),
	}

	h := make([]byte, 0, cacheHeaderLen)
	h = append(h, cacheMagic...)
	h = binary.LittleEndian.AppendUint32(h, cacheVersion)
	h = binary.LittleEndian.AppendUint32(h, 0)
	fp := layoutPrint()
	h = append(h, fp[:]...)
	h = binary.LittleEndian.AppendUint64(h, uint64(stamp.Size))
	h = binary.LittleEndian.AppendUint64(h, uint64(stamp.Mtime))
	h = append(h, stamp.Sum[:]...)
	h = binary.LittleEndian.AppendUint32(h, snap.serial)
	h = binary.LittleEndian.AppendUint32(h, uint32(snap.soaNeg))
	h = binary.LittleEndian.AppendUint32(h, uint32(snap.ns))
	var expired uint32
	if snap.expired {
		expired = 1
	}
	h = binary.LittleEndian.AppendUint32(h, expired)
	h = binary.LittleEndian.AppendUint64(h, uint64(meta.Records))
	h = append(h, meta.Digest[:]...)
	for _, c := range counts {
		h = binary.LittleEndian.AppendUint64(h, uint64(c))
	}

	crc := uint32(0)
	put := func(b []byte) error {
		crc = crc32.Update(crc, cacheCRC, b)
		_, err := w.Write(b)
		return err
	}
	var zeros [8]byte
	if err := put(h); err != nil {
		return err
	}
	for _, b := range sections {
		if err := put(b); err != nil {
			return err
		}
		if err := put(zeros[:pad8(len(b))-len(b)]); err != nil {
			return err
		}
	}
	trailer := binary.LittleEndian.AppendUint32(nil, crc)
	_, err = w.Write(append(trailer, 0, 0, 0, 0))
	return err
}

// cacheHeader is the fixed start of a cache file, decoded.
type cacheHeader struct {
	stamp   CacheStamp
	meta    CacheMeta
	serial  uint32
	soaNeg  int32
	ns      int32
	expired bool
	counts  [cacheSections]int
}

// parseCacheHeader decodes the header at the start of b; errCacheStale
// when it is of another format or binary.
func parseCacheHeader(b []byte) (cacheHeader, error) {
	var h cacheHeader
	if len(b) < cacheHeaderLen || string(b[:8]) != cacheMagic {
		return h, fmt.Errorf("%w: not a cache file", errCacheStale)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != cacheVersion {
		return h, fmt.Errorf("%w: format %d, not %d", errCacheStale, v, cacheVersion)
	}
	fp := layoutPrint()
	if string(b[16:48]) != string(fp[:]) {
		return h, fmt.Errorf("%w: written by a binary of another layout", errCacheStale)
	}
	b = b[48:]
	h.stamp.Size = int64(binary.LittleEndian.Uint64(b))
	h.stamp.Mtime = int64(binary.LittleEndian.Uint64(b[8:]))
	copy(h.stamp.Sum[:], b[16:48])
	b = b[48:]
	h.serial = binary.LittleEndian.Uint32(b)
	h.soaNeg = int32(binary.LittleEndian.Uint32(b[4:]))
	h.ns = int32(binary.LittleEndian.Uint32(b[8:]))
	h.expired = binary.LittleEndian.Uint32(b[12:]) != 0
	h.meta.Records = int(binary.LittleEndian.Uint64(b[16:]))
	copy(h.meta.Digest[:], b[24:56])
	b = b[56:]
	for i := range h.counts {
		c := binary.LittleEndian.Uint64(b[8*i:])
		if c > 1<<40 {
			return h, errors.New("cache: corrupt header")
		}
		h.counts[i] = int(c)
	}
	return h, nil
}

// readCacheHeader reads the header of the cache file at path.
func readCacheHeader(path string) (cacheHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return cacheHeader{}, err
	}
	defer f.Close()
	b := make([]byte, cacheHeaderLen)
	if _, err := io.ReadFull(f, b); err != nil {
		return cacheHeader{}, fmt.Errorf("%w: short file", errCacheStale)
	}
	return parseCacheHeader(b)
}

// readAligned reads the file at path whole into memory aligned for any
// of the records stored raw.
func readAligned(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size < cacheHeaderLen+8 || size > 1<<40 {
		return nil, errors.New("cache: truncated")
	}
	words := make([]uint64, (size+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return b, nil
}

// decodeCache rebuilds the snapshot a cache file holds from its bytes b,
// 8-byte aligned (readAligned). The snapshot's arrays are slices of b,
// not copies: b must not be modified afterwards.
func decodeCache(b []byte) (*Snapshot, cacheHeader, error) {
	h, err := parseCacheHeader(b)
	if err != nil {
		return nil, h, err
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8 != 0 {
		return nil, h, errors.New("cache: buffer not aligned")
	}
	sizes := [cacheSections]int{
		secOrigin: h.counts[secOrigin], secSOA: h.counts[secSOA], secNames: h.counts[secNames], secData: h.counts[secData],
		secNodes:   h.counts[secNodes] * int(unsafe.Sizeof(nodeRec{})),
		secSets:    h.counts[secSets] * int(unsafe.Sizeof(setRec{})),
		secTargets: h.counts[secTargets] * int(unsafe.Sizeof(targetRec{})),
	}
	end := cacheHeaderLen
	for _, n := range sizes {
		end += pad8(n)
	}
	if len(b) != end+8 {
		return nil, h, fmt.Errorf("cache: %d bytes, the header says %d", len(b), end+8)
	}
	if sum := crc32.Checksum(b[:end], cacheCRC); sum != binary.LittleEndian.Uint32(b[end:]) {
		return nil, h, errors.New("cache: checksum mismatch")
	}
	var sec [cacheSections][]byte
	at := cacheHeaderLen
	for i, n := range sizes {
		sec[i] = b[at : at+n : at+n]
		at += pad8(n)
	}

	s := &Snapshot{
		origin:  string(sec[secOrigin]),
		serial:  h.serial,
		names:   sec[secNames],
		data:    sec[secData],
		nodes:   rawSlice[nodeRec](sec[secNodes], h.counts[secNodes]),
		sets:    rawSlice[setRec](sec[secSets], h.counts[secSets]),
		targets: rawSlice[targetRec](sec[secTargets], h.counts[secTargets]),
		index:   nameIndex{seed: maphash.MakeSeed()},
		soaNeg:  h.soaNeg,
		ns:      h.ns,
		digest:  new(digestSlot),
		expired: h.expired,
	}
	if s.wire, err = WireName(s.origin); err != nil || strings.ToLower(s.origin) != s.origin {
		return nil, h, fmt.Errorf("cache: bad origin %q", s.origin)
	}
	rr, _, err := dns.UnpackRR(sec[secSOA], 0)
	if err != nil {
		return nil, h, fmt.Errorf("cache: the SOA: %w", err)
	}
	soa, ok := rr.(*dns.SOA)
	if !ok || soa.Serial != h.serial {
		return nil, h, errors.New("cache: the SOA record does not match")
	}
	s.soa = soa
	if err := s.checkCached(); err != nil {
		return nil, h, err
	}
	s.apexOwner = s.key(0)
	// The index hashes with a seed of this process: it is rebuilt, not
	// stored.
	s.buildIndex()
	// Neither are the signature sets, which follow from the RRsets.
	s.linkDNSSEC()
	return s, h, nil
}

// checkCached makes sure the indices a decoded snapshot follows without
// bounds checks of their own stay inside its arrays. The checksum finds
// damage; this finds a cache that a buggy writer got wrong.
func (s *Snapshot) checkCached() error {
	bad := func(what string, i int) error { return fmt.Errorf("cache: corrupt %s %d", what, i) }
	if len(s.nodes) == 0 || s.soaNeg < 0 || int(s.soaNeg) >= len(s.sets) || s.ns < 0 || int(s.ns) >= len(s.sets) {
		return errors.New("cache: corrupt snapshot")
	}
	nodes, sets := int32(len(s.nodes)), len(s.sets)
	for i := range s.nodes {
		nd := &s.nodes[i]
		if int(nd.owner)+int(nd.keyAfter)+int(nd.nameLen) > len(s.names) || int(nd.firstSet)+int(nd.nsets) > sets ||
			nd.cut < -1 || nd.cut >= nodes || nd.wild < -1 || nd.wild >= nodes {
			return bad("node", i)
		}
	}
	for i := range s.sets {
		rs := &s.sets[i]
		if int(rs.data)+2 > len(s.data) {
			return bad("RRset", i)
		}
		switch rs.rtype {
		case dns.TypeCNAME:
			if int(rs.aux) > len(s.names) {
				return bad("RRset", i)
			}
		case dns.TypeNS, dns.TypeMX, dns.TypeSRV:
			if int(rs.aux) > len(s.targets) {
				return bad("RRset", i)
			}
		}
	}
	for i := range s.targets {
		t := &s.targets[i]
		if int(t.name)+int(t.nameLen) > len(s.data) || t.node < -1 || t.node >= nodes {
			return bad("target", i)
		}
	}
	return nil
}

// LoadCache reads the cache file at path and returns its snapshot when
// it was compiled from the zonefile of stamp. sum hashes that zonefile;
// it runs while the cache is read.
func LoadCache(path string, stamp CacheStamp, sum func() ([sha256.Size]byte, error)) (*Snapshot, CacheMeta, error) {
	h, err := readCacheHeader(path)
	if err != nil {
		return nil, CacheMeta{}, err
	}
	if h.stamp.Size != stamp.Size || h.stamp.Mtime != stamp.Mtime {
		return nil, CacheMeta{}, fmt.Errorf("%w: the zonefile's size or time changed", errCacheStale)
	}
	type hashed struct {
		sum [sha256.Size]byte
		err error
	}
	hc := make(chan hashed, 1)
	go func() {
		s, err := sum()
		hc <- hashed{s, err}
	}()
	b, rerr := readAligned(path)
	got := <-hc
	if got.err != nil {
		return nil, CacheMeta{}, got.err
	}
	if got.sum != h.stamp.Sum {
		return nil, CacheMeta{}, fmt.Errorf("%w: the zonefile's content changed", errCacheStale)
	}
	if rerr != nil {
		return nil, CacheMeta{}, rerr
	}
	snap, h2, err := decodeCache(b)
	if err != nil {
		return nil, CacheMeta{}, err
	}
	if h2.stamp != h.stamp {
		return nil, CacheMeta{}, fmt.Errorf("%w: replaced while read", errCacheStale)
	}
	return snap, h2.meta, nil
}

// HashFile returns the SHA-256 of the file at path.
func HashFile(path string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, err
		}
	}
	h.Sum(sum[:0])
	return sum, nil
}
