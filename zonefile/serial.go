package zonefile

import "fmt"

// serialHalf is 2^(SERIAL_BITS-1) of RFC 1982 for 32-bit serials.
const serialHalf = 1 << 31

// MaxSerialIncrement is the largest amount a serial may be increased by in
// one step (RFC 1982 §3.1: 2^31 - 1).
const MaxSerialIncrement = serialHalf - 1

// SerialLess reports whether serial a precedes serial b in RFC 1982
// sequence space arithmetic. Two serials exactly 2^31 apart are not
// comparable; SerialLess reports false for both orders.
func SerialLess(a, b uint32) bool {
	return a != b && ((a < b && b-a < serialHalf) || (a > b && a-b > serialHalf))
}

// SerialGreater reports whether serial a follows serial b (RFC 1982).
func SerialGreater(a, b uint32) bool { return SerialLess(b, a) }

// SerialAdd adds n to serial s as RFC 1982 §3.1 defines it: n must be at
// most 2^31 - 1, and the sum wraps around 2^32.
func SerialAdd(s, n uint32) (uint32, error) {
	if n > MaxSerialIncrement {
		return s, fmt.Errorf("zonefile: serial increment %d exceeds 2147483647 (RFC 1982)", n)
	}
	return s + n, nil
}
