package daemon

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/store"
)

// notifyConn is the UDP socket one target's NOTIFYs go out on, again and
// again (notify_out.go). Every try is signed afresh with the key, when
// there is one: miekg/dns's Conn.WriteMsg takes the TSIG RR off the
// message it signs, so a message written twice goes out unsigned the
// second time, and it signs a second write as the answer to the first.
// An answer is verified against the signature of each try sent, so that
// a late answer to an earlier try verifies too.
type notifyConn struct {
	conn     *net.UDPConn
	key      *store.Key       // signs every try; nil unsigned
	provider dns.TsigProvider // of key
	macs     []string         // the MAC of each signed try, oldest first
}

// write sends m, a copy of it signed now when the connection has a key.
func (c *notifyConn) write(m *dns.Msg) error {
	var out []byte
	var err error
	if c.key == nil {
		out, err = m.Pack()
	} else {
		signed := m.Copy()
		signed.SetTsig(dns.CanonicalName(c.key.Name), tsigWireAlgorithm(c.key.Algorithm), tsigFudge, time.Now().Unix())
		var mac string
		out, mac, err = dns.TsigGenerateWithProvider(signed, c.provider, "", false)
		if err == nil {
			c.macs = append(c.macs, mac)
		}
	}
	if err != nil {
		return err
	}
	_, err = c.conn.Write(out)
	return err
}

// await reads until an answer with id arrives or the deadline passes. A
// message with another ID (a stray, or an answer to an older NOTIFY) is
// skipped. The answer comes back with the error of its TSIG check, if any.
func (c *notifyConn) await(ctx context.Context, id uint16, deadline time.Time) (*dns.Msg, error) {
	buf := make([]byte, dns.MaxMsgSize)
	for {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.conn.SetReadDeadline(deadline)
		n, err := c.conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, errNoAnswer
			}
			// Connection refused and the like: this send failed.
			return nil, err
		}
		r := new(dns.Msg)
		if r.Unpack(buf[:n]) != nil || r.Id != id || !r.Response {
			continue
		}
		return r, c.verify(buf[:n], r)
	}
}

// verify checks the TSIG of the answer r (raw on the wire) against each
// try's signature, newest first; nil when r is unsigned (answered()
// judges that) or one of them verifies it.
func (c *notifyConn) verify(raw []byte, r *dns.Msg) error {
	if r.IsTsig() == nil {
		return nil
	}
	if c.key == nil {
		return dns.ErrSecret // signed, although we did not sign
	}
	var first error
	for i := len(c.macs) - 1; i >= 0; i-- {
		// The check rewrites the header of the buffer it is given.
		err := dns.TsigVerifyWithProvider(append([]byte(nil), raw...), c.provider, c.macs[i], false)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
