package answer

import (
	"github.com/miekg/dns"
)

// Names inside this package are kept in uncompressed wire format
// (length-prefixed labels ending in a zero byte). Lower-cased wire names
// are map keys: unlike presentation format they have a single spelling
// (no escapes), and a query's name needs no conversion to be looked up.

// MaxNameLen is the longest wire-format name (RFC 1035 §2.3.4).
const MaxNameLen = 255

// lowerTable maps every byte to its ASCII lower-case form. DNS compares
// names case-insensitively in ASCII only (RFC 4343).
var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// LowerInPlace lower-cases a wire-format name. Length bytes are below 64
// and therefore never change.
func LowerInPlace(b []byte) {
	for i, c := range b {
		b[i] = lowerTable[c]
	}
}

// EqualFold reports whether two wire-format names are equal, ignoring
// ASCII case.
func EqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lowerTable[a[i]] != lowerTable[b[i]] {
			return false
		}
	}
	return true
}

// WireName converts a presentation-format name to wire format.
func WireName(s string) ([]byte, error) {
	var buf [MaxNameLen + 1]byte
	n, err := dns.PackDomainName(dns.Fqdn(s), buf[:], 0, nil, false)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), buf[:n]...), nil
}

// NameLen returns the length of the wire-format name at the start of b,
// or -1 when b does not start with one.
func NameLen(b []byte) int {
	off := 0
	for off < len(b) {
		l := int(b[off])
		if l == 0 {
			return off + 1
		}
		if l > 63 {
			return -1
		}
		off += l + 1
	}
	return -1
}

// IsSubdomain reports whether wire-format name child equals parent or lies
// below it. Both must be lower-cased.
func IsSubdomain(child, parent []byte) bool {
	if len(child) < len(parent) {
		return false
	}
	for off := 0; off < len(child); off += int(child[off]) + 1 {
		if len(child)-off == len(parent) {
			return string(child[off:]) == string(parent)
		}
		if len(child)-off < len(parent) {
			return false
		}
	}
	return false
}

// parentName returns name with its first label removed; the root stays
// the root.
func parentName(name []byte) []byte {
	if len(name) <= 1 {
		return name
	}
	return name[int(name[0])+1:]
}

// isWildcard reports whether name's first label is "*" (RFC 4592 §2.1.1).
func isWildcard(name []byte) bool {
	return len(name) >= 2 && name[0] == 1 && name[1] == '*'
}
