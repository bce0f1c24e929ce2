// Package api holds the wire types of zonekeeper's control API: the JSON
// bodies exchanged over the daemon's unix socket by the daemon, the
// command-line client and the TUI. It uses the standard library only, so
// that every side shares one definition of every message.
package api

import (
	"fmt"
	"time"
)

// Version is the path prefix of this revision of the API.
const Version = "/v1"

// Zone kinds.
const (
	KindPrimary   = "primary"   // served from DATA/zones, notifies and serves transfers
	KindSecondary = "secondary" // transferred from its primaries into DATA/secondary
	KindNative    = "native"    // served from DATA/zones, never notifies nor transfers in
)

// Serial policies: how an edit through the daemon raises a zone's serial.
const (
	SerialIncrement = "increment" // serial + 1
	SerialDate      = "date"      // YYYYMMDDnn
	SerialUnixtime  = "unixtime"  // seconds since 1970, or serial + 1 when that is not higher
)

// Zone states as shown by `zone list`.
const (
	StateServing  = "serving" // loaded and answered
	StateBroken   = "broken"  // the file failed to load and nothing was ever served
	StatePending  = "pending" // a secondary not transferred yet
	StateExpired  = "expired" // a secondary past its SOA expire
	StateNotFound = "missing" // registered but its file is gone

	// A secondary zone that holds a version is in one of these states.
	StateFresh    = "fresh"    // its primaries were checked less than a refresh ago
	StateChecking = "checking" // its primaries are being checked or it is being transferred
	StateStale    = "stale"    // the last check failed or is overdue; retrying
	StateExpiring = "expiring" // as stale, and it expires before its next refresh; Error says when

	// A primary zone that a peer serves with a higher serial: two
	// primaries. Error says which peer and how to resolve it.
	StateSplitBrain = "split-brain"

	// A zone that a peer serves with our serial but another content
	// digest: same serial, different data. Error names the peer, both
	// digests and how to resolve it.
	StateDiverged = "diverged"
)

// Zone is one zone as the daemon knows it.
type Zone struct {
	Name           string    `json:"name"`
	Kind           string    `json:"kind"`
	State          string    `json:"state"`
	Serial         uint32    `json:"serial"`       // served serial, 0 when not served
	Records        int       `json:"record_count"` // served records
	Primaries      []string  `json:"primaries,omitempty"`
	TSIGKey        string    `json:"tsig_key,omitempty"` // key that signs requests to the primaries
	SerialPolicy   string    `json:"serial_policy"`
	Account        string    `json:"account,omitempty"`
	File           string    `json:"file,omitempty"`
	LastCheck      time.Time `json:"last_check,omitzero"`
	LastSerial     uint32    `json:"last_serial,omitempty"`
	NotifiedSerial uint32    `json:"notified_serial,omitempty"`
	Error          string    `json:"error,omitempty"` // the last load error, file:line: rule: detail
	Created        time.Time `json:"created,omitzero"`
	Updated        time.Time `json:"updated,omitzero"`

	// Catalog says why a zone that left the catalog of the peer it was
	// provisioned from is still here ("left the catalog of a; still
	// primary on b"); "" when it did not.
	Catalog string `json:"catalog,omitempty"`

	// Failover (health.go in the daemon): the zone at each peer, how many
	// peers serve our serial ("2/2"), and for a secondary when it expires.
	Peers       []PeerState `json:"peers,omitempty"`
	PeersInSync string      `json:"peers_in_sync,omitempty"`
	Digest      string      `json:"digest,omitempty"` // content digest of the served version (ZONEMD SHA-384, hex); "" until computed
	ExpiresAt   time.Time   `json:"expires_at,omitzero"`
	ExpireIn    *int64      `json:"expire_in,omitempty"` // seconds left before a secondary expires; 0 when expired

	// Secondary health (issue 8): every server that should hold the zone,
	// as last checked, and the live lint findings of `zone health`.
	Servers []ServerState `json:"servers,omitempty"`
	Lint    []LintFinding `json:"lint,omitempty"`

	// Signatures is the signature watch of a signed zone (issue 17):
	// nil for a zone without DNSKEY at its apex and RRSIGs.
	Signatures *Signatures `json:"signatures,omitempty"`
}

// Signatures says when the served version of a signed zone stops
// validating: its earliest RRSIG expiration, and the DNSKEY RRset's.
type Signatures struct {
	Serial    uint32    `json:"serial"`     // the version they were read from
	RRSIGs    int       `json:"rrsigs"`     // RRSIG records in it
	Expires   time.Time `json:"expires"`    // the earliest RRSIG expiration
	ExpiresIn int64     `json:"expires_in"` // seconds left until then; negative once past
	Earliest  string    `json:"earliest"`   // the RRset it signs: "www.example.com. A"
	// DNSKEYExpires is the earliest expiration of the apex DNSKEY
	// RRset's signatures; zero when none signs it.
	DNSKEYExpires   time.Time `json:"dnskey_expires,omitzero"`
	DNSKEYExpiresIn int64     `json:"dnskey_expires_in,omitempty"`
}

// Record is one resource record in presentation form, split into fields.
type Record struct {
	Name string `json:"name"` // absolute
	TTL  uint32 `json:"ttl"`
	Type string `json:"type"`
	Data string `json:"data"`
}

// ZoneDetail is a zone with its records and metadata (`zone show`).
type ZoneDetail struct {
	Zone
	Records []Record            `json:"records"`
	Meta    map[string][]string `json:"meta,omitempty"`
}

// AddSecondaryRequest registers a secondary zone and its primaries.
type AddSecondaryRequest struct {
	Name      string   `json:"name"`
	Primaries []string `json:"primaries"` // IP[:port] or peer names, tried in order
	TSIGKey   string   `json:"tsig_key,omitempty"`
}

// ZoneSetRequest changes a zone's settings; empty fields are left alone.
type ZoneSetRequest struct {
	Kind         string `json:"kind,omitempty"`
	SerialPolicy string `json:"serial_policy,omitempty"`
}

// Edit operations on records.
const (
	EditAdd    = "add"    // add one record
	EditSet    = "set"    // replace the RRset NAME/TYPE with the records given
	EditDelete = "delete" // delete one record, or the RRset when Data is empty
)

// EditRequest changes records of a primary zone. Name is absolute or
// relative to the zone; Data holds the record data in zonefile syntax
// with $ORIGIN the zone, one element per record for set (add and delete
// take at most one).
type EditRequest struct {
	Op       string   `json:"op"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Data     []string `json:"data,omitempty"`
	TTL      *uint32  `json:"ttl,omitempty"`
	IfSerial *uint32  `json:"if_serial,omitempty"` // refuse unless the zone is at this serial
}

// EditResult says what an edit did.
type EditResult struct {
	Zone      string   `json:"zone"`
	OldSerial uint32   `json:"old_serial"`
	NewSerial uint32   `json:"new_serial"`
	Added     []Record `json:"added,omitempty"`
	Removed   []Record `json:"removed,omitempty"`
}

// Key is a TSIG key. Secret is sent by the daemon only when it generated
// the secret (key add without one); listings leave it empty.
type Key struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Secret    string `json:"secret,omitempty"`
}

// MetaRequest replaces the values of one metadata kind of a zone; no
// values removes the kind.
type MetaRequest struct {
	Values []string `json:"values"`
}

// Autoprimary is a trusted primary whose NOTIFY may provision zones.
type Autoprimary struct {
	IP         string `json:"ip"`
	Nameserver string `json:"nameserver"`
	Account    string `json:"account,omitempty"`
}

// Event outcomes.
const (
	OutcomeOK      = "ok"
	OutcomeWarning = "warning"
	OutcomeError   = "error"
)

// Event is one entry of the activity log.
type Event struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Zone    string    `json:"zone,omitempty"`
	Kind    string    `json:"kind"` // reload, reload-error, edit, key-add, ...
	Peer    string    `json:"peer,omitempty"`
	Serial  uint32    `json:"serial,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	Outcome string    `json:"outcome"`
	// Traffic marks an event caused by unauthenticated DNS traffic (an
	// unsigned NOTIFY, a refused transfer, a bad TSIG): it is rate-limited
	// per source and kept within a bound of its own in the log.
	Traffic bool `json:"traffic,omitempty"`
	// Dropped is set on a notice line of an event stream: this many
	// events were not delivered because the follower read too slowly.
	Dropped int64 `json:"dropped,omitempty"`
}

// EventKindDropped marks a stream notice that events were lost.
const EventKindDropped = "events-dropped"

// Status is the daemon's state at a glance (`zonekeeper status`).
type Status struct {
	Version    string         `json:"version"`
	Started    time.Time      `json:"started"`
	Uptime     string         `json:"uptime"`
	Listen     []string       `json:"listen"`
	Control    string         `json:"control"`
	Data       string         `json:"data"`
	Catalog    string         `json:"catalog,omitempty"` // the name this node serves its catalog under (catalog-zone)
	Zones      int            `json:"zones"`
	ByKind     map[string]int `json:"by_kind"`
	ByState    map[string]int `json:"by_state"`
	LastErrors []Event        `json:"last_errors,omitempty"`
	Queries    QueryCounts    `json:"queries"`
	TCP        TCPCounts      `json:"tcp"`
	// Alerts are the zones whose state needs the operator: split-brain,
	// diverged, and signatures past a signature-warn threshold.
	Alerts []ZoneAlert `json:"alerts,omitempty"`
	// Signed counts the signed zones served (the signature watch).
	Signed int `json:"signed_zones,omitempty"`
}

// AlertSignatures is the State of a ZoneAlert about a signed zone whose
// signatures pass a signature-warn threshold or have expired.
const AlertSignatures = "signatures"

// ZoneAlert is a zone in a state that needs the operator (`status`).
type ZoneAlert struct {
	Zone   string `json:"zone"`
	State  string `json:"state"`  // StateSplitBrain, StateDiverged, or AlertSignatures
	Detail string `json:"detail"` // the zone's Error: which peers, serials and digests
}

// QueryCounts counts the DNS queries answered since the daemon started,
// by the path that answered them.
type QueryCounts struct {
	Fast    uint64 `json:"fast"`    // copied from the cache of ready replies
	Full    uint64 `json:"full"`    // looked up and packed
	Special uint64 `json:"special"` // the slow path: NOTIFY, TSIG, transfers, EDNS EXPIRE
	// RRLDropped and RRLSlipped count the UDP responses response rate
	// limiting dropped and sent truncated instead (rrl-responses-per-second).
	RRLDropped int64 `json:"rrl_dropped,omitempty"`
	RRLSlipped int64 `json:"rrl_slipped,omitempty"`
}

// TCPCounts gives the DNS-over-TCP connections open now and counts what
// their limits did since the daemon started.
type TCPCounts struct {
	Open             int    `json:"open"`
	RefusedFull      uint64 `json:"refused_full"`       // refused: every slot busy, none idle
	RefusedPerAddr   uint64 `json:"refused_per_addr"`   // refused: tcp-max-conns-per-addr reached
	RefusedPerPrefix uint64 `json:"refused_per_prefix"` // refused: tcp-max-conns-per-prefix reached
	Evicted          uint64 `json:"evicted"`            // idle connections closed to make room for a new one
	PressureClosed   uint64 `json:"pressure_closed"`    // idle connections closed by the shorter idle timeout when nearly full
}

// Error codes carried by Error.
const (
	CodeBadRequest   = "bad-request"   // malformed body, argument or value
	CodeNotFound     = "not-found"     // unknown zone, key, autoprimary
	CodeExists       = "exists"        // already there
	CodeConflict     = "conflict"      // stale --if-serial
	CodeInvalidZone  = "invalid-zone"  // the edit would make the zone invalid
	CodeNotPermitted = "not-permitted" // not allowed for this zone kind or state
	CodeForbidden    = "forbidden"     // the caller may only read: the request needs the admin capability
	CodeUpstream     = "upstream"      // another server (a primary) failed or refused
	CodeStorage      = "storage"       // the data directory's disk is full or cannot be written
	CodeInternal     = "internal"      // the daemon failed; see its log
)

// Error is the body of every non-2xx reply.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"` // one line: what is wrong and what to do
	Status  int    `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorBody wraps an Error on the wire: {"error": {...}}.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// NotifyRequest asks the daemon to send NOTIFY for a zone now: to Addr
// only (IP[:port]) or, when Addr is empty, to every target of the zone.
type NotifyRequest struct {
	Addr string `json:"addr,omitempty"`
}

// NotifyResult reports the NOTIFYs sent on demand, one per target.
type NotifyResult struct {
	Zone    string         `json:"zone"`
	Serial  uint32         `json:"serial"`
	Targets []NotifyTarget `json:"targets"`
}

// NotifyTarget is the outcome of one NOTIFY.
type NotifyTarget struct {
	Addr   string `json:"addr"`
	Source string `json:"source"`          // why it is a target: ns NAME, also-notify, ALSO-NOTIFY, notify-host
	Rcode  string `json:"rcode,omitempty"` // the answer's rcode, when one came
	Error  string `json:"error,omitempty"` // why no answer came
}

// Peer roles (docs/architecture.md, "Peers, keys and access").
const (
	RolePeer      = "peer"      // another zonekeeper node: trusted for every zone, catalogs exchanged
	RoleSecondary = "secondary" // any other server: may transfer and is NOTIFYed, nothing more
	RoleCatalog   = "catalog"   // a catalog producer that is no zonekeeper node (Knot, BIND): its catalog's zones are transferred from it, nothing more
)

// Peer is a server this node replicates with (`peer add`, `peer list`).
// Addr is an IP with an optional port in requests (port 53 when absent),
// always with its port in replies.
type Peer struct {
	Name    string    `json:"name"`
	Addr    string    `json:"addr"`
	TSIGKey string    `json:"tsig_key,omitempty"` // signs all traffic with the peer
	Role    string    `json:"role,omitempty"`     // RolePeer (default), RoleSecondary or RoleCatalog (the default with Catalog)
	Catalog string    `json:"catalog,omitempty"`  // the catalog read from it: configured (peer add --catalog), else in replies the one learned
	Learned bool      `json:"learned,omitempty"`  // in replies: Catalog was learned from the peer, not configured
	Created time.Time `json:"created,omitzero"`
}

// PeerState is what the last health check saw of a zone at one peer.
type PeerState struct {
	Peer      string    `json:"peer"`             // the peer's name
	Addr      string    `json:"addr"`             // where it was asked
	Reachable bool      `json:"reachable"`        // it answered the SOA query
	Serves    bool      `json:"serves"`           // it answered authoritatively with the zone's SOA
	Serial    uint32    `json:"serial,omitempty"` // its serial, when Serves
	Lag       int64     `json:"lag"`              // our serial minus its serial (RFC 1982); negative: it is ahead
	InSync    bool      `json:"in_sync"`          // it serves our serial
	LastSync  time.Time `json:"last_in_sync,omitzero"`
	Checked   time.Time `json:"checked,omitzero"`
	Error     string    `json:"error,omitempty"` // why it did not answer or does not serve the zone

	// What a zonekeeper peer said of the zone in the zone state option
	// (docs/architecture.md, "Content digests and the zone state option").
	Role    string `json:"role,omitempty"`    // primary, secondary or native there; "" when it did not say
	Digest  string `json:"digest,omitempty"`  // its content digest of its serial (ZONEMD SHA-384, hex); "" until computed there
	Primary string `json:"primary,omitempty"` // a secondary's primary there: a peer name or an address
	// Diverged: it serves our serial with another digest than ours.
	Diverged bool `json:"diverged,omitempty"`
}

// PromoteRequest asks to promote every secondary zone (POST /v1/promote),
// or with From only those whose primaries include From: an IP with an
// optional port, or a peer name.
//
// Force overrides the guard (docs/architecture.md, "Guarded role
// changes"): without it a zone whose current primary is alive, or that
// another node already serves as primary, is not promoted.
type PromoteRequest struct {
	From  string `json:"from,omitempty"`
	Force bool   `json:"force,omitempty"`
}

// PromoteResult reports each zone a promotion turned, or failed to turn,
// into a primary.
type PromoteResult struct {
	Zones []Promoted `json:"zones"`
}

// Promoted is one zone's promotion.
type Promoted struct {
	Zone            string   `json:"zone"`
	Serial          uint32   `json:"serial,omitempty"`
	FormerPrimaries []string `json:"former_primaries,omitempty"` // also in the zone's FORMER-PRIMARIES metadata
	File            string   `json:"file,omitempty"`             // DATA/zones/<zone>.zone, now served as a primary
	Backup          string   `json:"backup,omitempty"`           // where the transferred file went
	Millis          float64  `json:"ms"`                         // from the request to serving as a primary
	Overrode        string   `json:"overrode,omitempty"`         // with Force: the guard's refusal it overrode
	Error           string   `json:"error,omitempty"`
}

// DemoteRequest turns a primary zone into a secondary of Primaries (IP
// with an optional port, or peer names, tried in order), signed with
// TSIGKey when set. Force overrides the guard (docs/architecture.md,
// "Guarded role changes"): without it a new primary that does not serve
// the zone as a primary is refused.
type DemoteRequest struct {
	Primaries []string `json:"primaries"`
	TSIGKey   string   `json:"tsig_key,omitempty"`
	Force     bool     `json:"force,omitempty"`
}

// DemoteResult reports a demotion: the zone as now served, the serial it
// had as a primary and where its zonefile was kept.
type DemoteResult struct {
	Zone      Zone   `json:"zone"`
	OldSerial uint32 `json:"old_serial"`
	Backup    string `json:"backup"`
	From      string `json:"from"`               // the primary that transferred the zone
	Overrode  string `json:"overrode,omitempty"` // with Force: the guard's refusal it overrode
}

// Export formats and roles (`zonekeeper export`).
const (
	ExportBIND = "bind" // named.conf
	ExportKnot = "knot" // knot.conf (Knot DNS 3.2)
	ExportNSD  = "nsd"  // nsd.conf (NSD 4.6)

	ExportRoleSecondary = "secondary" // the foreign server transfers the zones from this node
	ExportRolePrimary   = "primary"   // the foreign server serves them to this node and its peers
)

// ExportResult is a configuration fragment for a foreign server, TSIG
// secrets included: `zonekeeper export`.
type ExportResult struct {
	Format string   `json:"format"`         // ExportBIND, ExportKnot or ExportNSD
	Role   string   `json:"role"`           // ExportRoleSecondary or ExportRolePrimary
	Peer   string   `json:"peer,omitempty"` // the peer it is for (`--peer`); "" any server
	Zones  []string `json:"zones"`          // the zones in the fragment
	Config string   `json:"config"`         // the fragment, ready to include
}

// SetSerialRequest asks for a primary zone's serial to be set
// (`zonekeeper zone set-serial`, RFC 2182 §7): an increase at once, a
// decrease through the fewest RFC 1982 increments.
type SetSerialRequest struct {
	Serial uint32 `json:"serial"`
	// DryRun plans the steps and changes nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// TimeoutSeconds bounds the wait for every server to follow one
	// step; 0 means the default (60 s).
	TimeoutSeconds float64 `json:"timeout_seconds,omitempty"`
}

// SetSerialResult says what a serial reset planned and did.
type SetSerialResult struct {
	Zone      string   `json:"zone"`
	OldSerial uint32   `json:"old_serial"`
	Serial    uint32   `json:"serial"` // the zone's serial afterwards
	Plan      []uint32 `json:"plan"`   // the serials of the steps, in order
	DryRun    bool     `json:"dry_run,omitempty"`
	Log       []string `json:"log"` // progress, one line per event
}

// ServerState is what the last health check saw of a zone at one server
// that should hold it: NS-listed, or stealth (also-notify, peers).
type ServerState struct {
	Addr          string    `json:"addr"`                  // ip:port asked
	Sources       []string  `json:"sources"`               // why it should hold the zone: self, ns NAME, ALSO-NOTIFY, also-notify, peer NAME
	Stealth       bool      `json:"stealth"`               // a secondary not NS-listed (RFC 2182 §5.1); never this node itself
	Reachable     bool      `json:"reachable"`             // it answered the SOA query
	Authoritative bool      `json:"authoritative"`         // the answer had AA set
	Rcode         string    `json:"rcode,omitempty"`       // the answer's RCODE, when reachable
	HasSerial     bool      `json:"has_serial"`            // the answer held the zone's SOA
	Serial        uint32    `json:"serial,omitempty"`      // its serial, when HasSerial
	Lag           int64     `json:"lag"`                   // our serial minus its serial (RFC 1982); negative: it is ahead
	InSync        bool      `json:"in_sync"`               // it serves our serial authoritatively
	LastSync      time.Time `json:"last_in_sync,omitzero"` // the last check that saw it in sync
	Checked       time.Time `json:"checked,omitzero"`      // when it was last asked
	Error         string    `json:"error,omitempty"`       // why it did not answer or does not serve the zone
}

// Lint severities.
const (
	LintError   = "error"
	LintWarning = "warning"
)

// LintFinding is one breach of RFC 2182 / RFC 1912 operational practice.
type LintFinding struct {
	Severity string `json:"severity"` // LintError or LintWarning
	Rule     string `json:"rule"`     // short rule name, e.g. "lame-ns"
	RFC      string `json:"rfc"`      // the RFC section, e.g. "RFC 1912 §2.8"
	Detail   string `json:"detail"`
}
