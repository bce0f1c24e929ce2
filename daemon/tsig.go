package daemon

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// TSIG (RFC 8945) on the DNS side: the keyring caches the store's keys;
// requests are verified and replies signed with miekg/dns's TsigVerify
// and TsigGenerate through the keyring's TsigProvider, which adds
// hmac-md5 (miekg/dns dropped it; BIND, Knot and NSD still offer it).
// Key names are compared case-insensitively. A request's time must lie
// within its own fudge and within tsigFudge of our clock.

// tsigFudge is the fudge of the TSIG RRs we generate, and the largest
// clock difference we accept from a signer, whatever its fudge says.
const tsigFudge = 300

// keyring holds the TSIG keys of the store for the DNS side: verifying
// signed requests and signing outgoing ones. Names are compared
// case-insensitively. Readers take no lock: the set of keys is swapped
// whole on reload.
type keyring struct {
	store store.KeyStore
	log   *slog.Logger
	keys  atomic.Pointer[map[string]store.Key] // fully qualified lower-case name -> key
}

// newKeyring returns the keys of st, read now and again on reload.
func newKeyring(st store.KeyStore, log *slog.Logger) *keyring {
	k := &keyring{store: st, log: log}
	empty := map[string]store.Key{}
	k.keys.Store(&empty)
	k.reload()
	return k
}

// lookup returns the key of that name.
func (k *keyring) lookup(name string) (store.Key, bool) {
	key, ok := (*k.keys.Load())[canonicalKeyName(name)]
	return key, ok
}

// secrets returns name → base64 secret for miekg/dns (fully qualified,
// lower-case names). miekg/dns's own HMAC code knows no hmac-md5: prefer
// provider, which handles every algorithm.
func (k *keyring) secrets() map[string]string {
	keys := *k.keys.Load()
	out := make(map[string]string, len(keys))
	for name, key := range keys {
		out[name] = key.Secret
	}
	return out
}

// provider returns a TsigProvider over every key of the ring, for
// dns.Client, dns.Transfer and TsigGenerateWithProvider: the key is
// found by the TSIG RR's owner name, whatever its letter case, and must
// be of the RR's algorithm.
func (k *keyring) provider() dns.TsigProvider { return ringProvider{k} }

// reload re-reads the keys after the control API changed them. When the
// store cannot be read the keys in use stay.
func (k *keyring) reload() {
	ks, err := k.store.List(context.Background())
	if err != nil {
		k.log.Error("reading TSIG keys: " + err.Error() + "; keeping the keys in use")
		return
	}
	m := make(map[string]store.Key, len(ks))
	for _, key := range ks {
		m[canonicalKeyName(key.Name)] = key
	}
	k.keys.Store(&m)
}

// canonicalKeyName is the form key names are compared in: fully
// qualified, lower case.
func canonicalKeyName(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// tsigWireAlgorithm returns the algorithm name that goes in a TSIG RR for
// a store algorithm ("hmac-sha256" → "hmac-sha256."; hmac-md5 keeps its
// historical name, RFC 8945 §6).
func tsigWireAlgorithm(alg string) string {
	alg = tsigStoreAlgorithm(alg)
	if alg == "hmac-md5" {
		return dns.HmacMD5
	}
	return alg + "."
}

// tsigStoreAlgorithm returns the store's name of a TSIG RR's algorithm:
// lower case, no trailing dot, "hmac-md5" for either name of MD5.
func tsigStoreAlgorithm(alg string) string {
	alg = strings.TrimSuffix(strings.ToLower(alg), ".")
	if alg == strings.TrimSuffix(dns.HmacMD5, ".") {
		return "hmac-md5"
	}
	return alg
}

// newHMAC returns the HMAC of a store algorithm, or nil for an unknown one.
func newHMAC(alg string, secret []byte) hash.Hash {
	switch alg {
	case "hmac-md5":
		return hmac.New(md5.New, secret)
	case "hmac-sha1":
		return hmac.New(sha1.New, secret)
	case "hmac-sha224":
		return hmac.New(sha256.New224, secret)
	case "hmac-sha256":
		return hmac.New(sha256.New, secret)
	case "hmac-sha384":
		return hmac.New(sha512.New384, secret)
	case "hmac-sha512":
		return hmac.New(sha512.New, secret)
	}
	return nil
}

// keyProvider is the TsigProvider of one key.
type keyProvider store.Key

// Generate implements dns.TsigProvider.
func (k keyProvider) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	if !strings.EqualFold(dns.Fqdn(t.Hdr.Name), dns.Fqdn(k.Name)) || tsigStoreAlgorithm(t.Algorithm) != k.Algorithm {
		return nil, dns.ErrKeyAlg
	}
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return nil, fmt.Errorf("TSIG key %s: secret is not base64", k.Name)
	}
	h := newHMAC(k.Algorithm, secret)
	if h == nil {
		return nil, dns.ErrKeyAlg
	}
	h.Write(msg)
	return h.Sum(nil), nil
}

// Verify implements dns.TsigProvider.
func (k keyProvider) Verify(msg []byte, t *dns.TSIG) error {
	mac, err := k.Generate(msg, t)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(mac, got) {
		return dns.ErrSig
	}
	return nil
}

// ringProvider is the TsigProvider of a whole keyring.
type ringProvider struct{ k *keyring }

// Generate implements dns.TsigProvider.
func (p ringProvider) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	key, ok := p.k.lookup(t.Hdr.Name)
	if !ok {
		return nil, dns.ErrSecret
	}
	return keyProvider(key).Generate(msg, t)
}

// Verify implements dns.TsigProvider.
func (p ringProvider) Verify(msg []byte, t *dns.TSIG) error {
	key, ok := p.k.lookup(t.Hdr.Name)
	if !ok {
		return dns.ErrSecret
	}
	return keyProvider(key).Verify(msg, t)
}

// signer signs the replies to one signed request (RFC 8945 §5.3): the
// first with the request's MAC in its digest, each later message of a
// multi-message reply with the MAC of the message before and the timers
// only (§5.3.1). A nil signer packs unsigned. For a request that failed
// verification it adds the TSIG error: unsigned for BADKEY and BADSIG,
// signed for BADTIME (§5.2.3).
type signer struct {
	provider dns.TsigProvider
	name     string // the key name as the request wrote it
	alg      string // the algorithm as the request wrote it
	mac      string // hex MAC that the next digest starts with
	later    bool   // a message was sent: timers only from now on
	last     string // MAC of the message signed last

	tsigErr    uint16 // TSIG error of the replies; 0 normally
	timeSigned uint64 // for BADTIME: the request's time
	other      string // for BADTIME: our time, hex
}

// sign packs m (which must not carry a TSIG RR) and signs it. The MAC is
// kept for advance.
func (s *signer) sign(m *dns.Msg) ([]byte, error) {
	if s == nil {
		return m.Pack()
	}
	t := &dns.TSIG{
		Hdr:        dns.RR_Header{Name: s.name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm:  s.alg,
		Fudge:      tsigFudge,
		TimeSigned: uint64(time.Now().Unix()),
		OrigId:     m.Id,
		Error:      s.tsigErr,
	}
	switch s.tsigErr {
	case dns.RcodeBadKey, dns.RcodeBadSig:
		// Unsigned (§5.3.2): the RR goes out as it is, with our time, not
		// the zero miekg/dns's TsigGenerate leaves there, which makes dig
		// blame the clocks.
		m.Extra = append(m.Extra, t)
		b, err := m.Pack()
		m.Extra = m.Extra[:len(m.Extra)-1]
		return b, err
	case dns.RcodeBadTime:
		t.TimeSigned = s.timeSigned
		t.OtherLen, t.OtherData = uint16(len(s.other)/2), s.other
	}
	m.Extra = append(m.Extra, t)
	b, mac, err := dns.TsigGenerateWithProvider(m, s.provider, s.mac, s.later)
	if err != nil {
		return nil, fmt.Errorf("signing with TSIG key %s: %w", s.name, err)
	}
	s.last = mac
	return b, nil
}

// advance chains the next message to the one signed last.
func (s *signer) advance() {
	if s != nil {
		s.mac, s.later = s.last, true
	}
}

// keyName returns the canonical name of the signing key; "" for none.
func (s *signer) keyName() string {
	if s == nil {
		return ""
	}
	return canonicalKeyName(s.name)
}

// tsigFailure is a request whose TSIG RR did not verify.
type tsigFailure struct {
	code   uint16 // BADKEY, BADSIG or BADTIME
	detail string
}

// verifyTSIG checks the TSIG RR of req, received as raw. It returns the
// signer of the replies (nil when req is unsigned) and, when the RR does
// not verify, the failure, which the reply reports (RCODE NOTAUTH, RFC
// 8945 §5.2) through that signer. Every failure is logged as a
// tsig-error event. raw is not modified.
func (d *Daemon) verifyTSIG(req *dns.Msg, raw []byte, from netip.AddrPort) (*signer, *tsigFailure) {
	t := req.IsTsig()
	if t == nil {
		return nil, nil
	}
	s := &signer{provider: d.keys.provider(), name: dns.Fqdn(t.Hdr.Name), alg: dns.Fqdn(t.Algorithm)}
	fail := func(code uint16, detail string) (*signer, *tsigFailure) {
		s.tsigErr = code
		f := &tsigFailure{code: code, detail: detail}
		zone := ""
		if len(req.Question) == 1 {
			zone = strings.ToLower(req.Question[0].Name)
		}
		// Anyone can send a message with a TSIG that fails: traffic.
		d.traffic.report(from.Addr(), "messages with a TSIG that does not verify", slog.LevelWarn, api.Event{Kind: "tsig-error", Outcome: api.OutcomeError, Zone: zone, Peer: from.Addr().Unmap().String(),
			Detail: fmt.Sprintf("%s from %s, key %s (%s): %s", dns.RcodeToString[int(code)], from.Addr().Unmap(), canonicalKeyName(t.Hdr.Name), tsigStoreAlgorithm(t.Algorithm), detail)})
		return s, f
	}
	key, ok := d.keys.lookup(t.Hdr.Name)
	if !ok {
		return fail(dns.RcodeBadKey, "no such key")
	}
	if tsigStoreAlgorithm(t.Algorithm) != key.Algorithm {
		return fail(dns.RcodeBadKey, "the key is "+key.Algorithm+", not "+tsigStoreAlgorithm(t.Algorithm))
	}
	s.provider = keyProvider(key)
	// miekg/dns rewrites the message it verifies.
	err := dns.TsigVerifyWithProvider(append([]byte(nil), raw...), s.provider, "", false)
	now := time.Now().Unix()
	skew := now - int64(t.TimeSigned)
	if err == nil && (skew > tsigFudge || skew < -tsigFudge) {
		err = dns.ErrTime
	}
	switch {
	case err == nil:
		s.mac = t.MAC
		return s, nil
	case errors.Is(err, dns.ErrTime):
		// The MAC is good: the reply is signed, carries our time, and is
		// chained to the request (§5.2.3).
		s.mac = t.MAC
		s.timeSigned = t.TimeSigned
		s.other = fmt.Sprintf("%012x", now)
		return fail(dns.RcodeBadTime, fmt.Sprintf("signed at %s, our clock says %s (%+ds)",
			time.Unix(int64(t.TimeSigned), 0).UTC().Format(time.RFC3339), time.Unix(now, 0).UTC().Format(time.RFC3339), -skew))
	case errors.Is(err, dns.ErrSig):
		return fail(dns.RcodeBadSig, "the MAC does not verify (wrong secret?)")
	default:
		return fail(dns.RcodeBadSig, err.Error())
	}
}
