// Package client is the typed client of zonekeeper's control API, used by
// the command-line verbs and the TUI. It hides the socket, the paths and
// the JSON: every call takes and returns the types of package api.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"zonekeeper/daemon/api"
)

// Client talks to one daemon over its control socket.
type Client struct {
	sock string
	hc   *http.Client
}

// New returns a client for the daemon listening on the unix socket sock.
func New(sock string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableCompression: true,
	}
	return &Client{sock: sock, hc: &http.Client{Transport: tr}}
}

// Socket returns the path of the control socket.
func (c *Client) Socket() string { return c.sock }

// ErrNotRunning means nothing listens on the control socket.
var ErrNotRunning = errors.New("daemon not running")

// ErrPermission means the socket exists but this user may not use it.
var ErrPermission = errors.New("permission denied")

// connError turns a failure to reach the socket into a one-line reason.
func (c *Client) connError(err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("no zonekeeper daemon at %s: is it running? (%w)", c.sock, ErrNotRunning)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("cannot use the control socket %s: %w; run as root or as a member of the socket's group", c.sock, ErrPermission)
	}
	return fmt.Errorf("control socket %s: %w", c.sock, err)
}

// do sends one request and decodes a JSON reply into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("control API %s %s: bad reply: %w", method, path, err)
	}
	return nil
}

// send sends a request and returns a 2xx response; other statuses become
// the *api.Error the daemon sent.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://zonekeeper"+api.Version+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.connError(err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var eb api.ErrorBody
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&eb); err != nil || eb.Error == nil {
		return nil, fmt.Errorf("control API %s %s: %s", method, path, resp.Status)
	}
	eb.Error.Status = resp.StatusCode
	return nil, eb.Error
}

func esc(s string) string { return url.PathEscape(s) }

// Status returns the daemon's status.
func (c *Client) Status(ctx context.Context) (*api.Status, error) {
	var s api.Status
	return &s, c.do(ctx, http.MethodGet, "/status", nil, &s)
}

// Zones lists every zone.
func (c *Client) Zones(ctx context.Context) ([]api.Zone, error) {
	var zs []api.Zone
	return zs, c.do(ctx, http.MethodGet, "/zones", nil, &zs)
}

// Zone returns one zone with its records and metadata.
func (c *Client) Zone(ctx context.Context, name string) (*api.ZoneDetail, error) {
	var z api.ZoneDetail
	return &z, c.do(ctx, http.MethodGet, "/zones/"+esc(name), nil, &z)
}

// AddSecondary registers a secondary zone.
func (c *Client) AddSecondary(ctx context.Context, req api.AddSecondaryRequest) (*api.Zone, error) {
	var z api.Zone
	return &z, c.do(ctx, http.MethodPost, "/zones", req, &z)
}

// SetZone changes a zone's kind or serial policy.
func (c *Client) SetZone(ctx context.Context, name string, req api.ZoneSetRequest) (*api.Zone, error) {
	var z api.Zone
	return &z, c.do(ctx, http.MethodPatch, "/zones/"+esc(name), req, &z)
}

// RemoveZone stops serving a zone and forgets it; its file is moved to
// DATA/backup.
func (c *Client) RemoveZone(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/zones/"+esc(name), nil, nil)
}

// Edit adds, replaces or deletes records of a primary zone.
func (c *Client) Edit(ctx context.Context, zone string, req api.EditRequest) (*api.EditResult, error) {
	var r api.EditResult
	return &r, c.do(ctx, http.MethodPost, "/zones/"+esc(zone)+"/records", req, &r)
}

// SetMeta replaces the values of one metadata kind of a zone.
func (c *Client) SetMeta(ctx context.Context, zone, kind string, values []string) error {
	return c.do(ctx, http.MethodPut, "/zones/"+esc(zone)+"/meta/"+esc(kind), api.MetaRequest{Values: values}, nil)
}

// Keys lists the TSIG keys, without their secrets.
func (c *Client) Keys(ctx context.Context) ([]api.Key, error) {
	var ks []api.Key
	return ks, c.do(ctx, http.MethodGet, "/keys", nil, &ks)
}

// AddKey adds a TSIG key. Without a secret the daemon generates one and
// returns it, once.
func (c *Client) AddKey(ctx context.Context, k api.Key) (*api.Key, error) {
	var out api.Key
	return &out, c.do(ctx, http.MethodPost, "/keys", k, &out)
}

// RemoveKey removes a TSIG key.
func (c *Client) RemoveKey(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/keys/"+esc(name), nil, nil)
}

// Autoprimaries lists the autoprimary table.
func (c *Client) Autoprimaries(ctx context.Context) ([]api.Autoprimary, error) {
	var as []api.Autoprimary
	return as, c.do(ctx, http.MethodGet, "/autoprimaries", nil, &as)
}

// AddAutoprimary adds an entry to the autoprimary table.
func (c *Client) AddAutoprimary(ctx context.Context, a api.Autoprimary) error {
	return c.do(ctx, http.MethodPost, "/autoprimaries", a, nil)
}

// RemoveAutoprimary removes the autoprimary of that IP.
func (c *Client) RemoveAutoprimary(ctx context.Context, ip string) error {
	return c.do(ctx, http.MethodDelete, "/autoprimaries/"+esc(ip), nil, nil)
}

// EventQuery selects events of the activity log.
type EventQuery struct {
	Since  int64  // only events with a larger id
	Limit  int    // at most this many past events (the newest); 0: the daemon's default
	Zone   string // only this zone
	Kind   string // only this kind
	Follow bool   // after the past events, stream new ones until ctx ends
}

// Events calls fn for each event, oldest first, then, with Follow, for
// each new event as it happens. A notice of lost events arrives as an
// event of kind api.EventKindDropped. It returns when the stream ends,
// ctx is cancelled (returning nil) or fn returns an error.
func (c *Client) Events(ctx context.Context, q EventQuery, fn func(api.Event) error) error {
	v := url.Values{}
	if q.Since > 0 {
		v.Set("since", strconv.FormatInt(q.Since, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Zone != "" {
		v.Set("zone", q.Zone)
	}
	if q.Kind != "" {
		v.Set("kind", q.Kind)
	}
	if q.Follow {
		v.Set("follow", "1")
	}
	path := "/events"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// A Decoder reads each JSON line whole, however long: a Scanner
	// failed on an event over its buffer ("token too long"), as one
	// quoting a 10 MB zonefile token was.
	dec := json.NewDecoder(resp.Body)
	for {
		var ev api.Event
		switch err := dec.Decode(&ev); {
		case err == io.EOF:
			return nil
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil:
			return fmt.Errorf("event stream: %w", err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}

// Retrieve transfers a secondary zone from its primaries now, whatever
// the serial.
func (c *Client) Retrieve(ctx context.Context, zone string) (*api.Zone, error) {
	var z api.Zone
	return &z, c.do(ctx, http.MethodPost, "/zones/"+esc(zone)+"/retrieve", struct{}{}, &z)
}

// Notify sends NOTIFY for a zone to every target now, or only to addr
// when it is not empty.
func (c *Client) Notify(ctx context.Context, zone, addr string) (*api.NotifyResult, error) {
	var r api.NotifyResult
	return &r, c.do(ctx, http.MethodPost, "/zones/"+esc(zone)+"/notify", api.NotifyRequest{Addr: addr}, &r)
}

// Peers lists the peers.
func (c *Client) Peers(ctx context.Context) ([]api.Peer, error) {
	var ps []api.Peer
	return ps, c.do(ctx, http.MethodGet, "/peers", nil, &ps)
}

// AddPeer adds a peer and returns it as stored.
func (c *Client) AddPeer(ctx context.Context, p api.Peer) (*api.Peer, error) {
	var out api.Peer
	return &out, c.do(ctx, http.MethodPost, "/peers", p, &out)
}

// RemovePeer removes the peer of that name.
func (c *Client) RemovePeer(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/peers/"+esc(name), nil, nil)
}

// Promote turns a secondary zone into a primary on this node, unless
// the guard refuses (its primary is alive, or another node is primary).
func (c *Client) Promote(ctx context.Context, zone string) (*api.PromoteResult, error) {
	return c.PromoteWith(ctx, zone, api.PromoteRequest{})
}

// PromoteWith is Promote with req's Force (req.From must be empty).
func (c *Client) PromoteWith(ctx context.Context, zone string, req api.PromoteRequest) (*api.PromoteResult, error) {
	var r api.PromoteResult
	return &r, c.do(ctx, http.MethodPost, "/zones/"+esc(zone)+"/promote", req, &r)
}

// PromoteAll turns every secondary zone into a primary, or only those
// whose primaries include from (IP[:port] or peer name) when it is set.
func (c *Client) PromoteAll(ctx context.Context, from string) (*api.PromoteResult, error) {
	return c.PromoteAllWith(ctx, api.PromoteRequest{From: from})
}

// PromoteAllWith is PromoteAll with req's From and Force.
func (c *Client) PromoteAllWith(ctx context.Context, req api.PromoteRequest) (*api.PromoteResult, error) {
	var r api.PromoteResult
	return &r, c.do(ctx, http.MethodPost, "/promote", req, &r)
}

// Demote turns a primary zone into a secondary of the given primaries,
// keeping its zonefile in DATA/backup.
func (c *Client) Demote(ctx context.Context, zone string, req api.DemoteRequest) (*api.DemoteResult, error) {
	var r api.DemoteResult
	return &r, c.do(ctx, http.MethodPost, "/zones/"+esc(zone)+"/demote", req, &r)
}

// Export returns a configuration fragment making a BIND, Knot or NSD
// server (format) a secondary or a primary (role) of zones (all when
// empty), TSIG secrets included; for the peer of that name, with its key
// and address, when peer is not "".
func (c *Client) Export(ctx context.Context, format, role, peer string, zones []string) (*api.ExportResult, error) {
	q := url.Values{"format": {format}}
	if role != "" {
		q.Set("role", role)
	}
	if peer != "" {
		q.Set("peer", peer)
	}
	if len(zones) > 0 {
		q.Set("zones", strings.Join(zones, ","))
	}
	var r api.ExportResult
	return &r, c.do(ctx, http.MethodGet, "/export?"+q.Encode(), nil, &r)
}

// ZoneHealth asks every peer for a zone's SOA now and returns the zone
// with what each peer serves (Peers, PeersInSync, split-brain state).
func (c *Client) ZoneHealth(ctx context.Context, zone string) (*api.Zone, error) {
	var z api.Zone
	return &z, c.do(ctx, http.MethodGet, "/zones/"+esc(zone)+"/health", nil, &z)
}

// SetSerial sets a primary zone's serial, in RFC 1982 steps when it goes
// down, waiting for every server of the zone after each step.
func (c *Client) SetSerial(ctx context.Context, zone string, req api.SetSerialRequest) (*api.SetSerialResult, error) {
	var r api.SetSerialResult
	return &r, c.do(ctx, http.MethodPost, "/zones/"+esc(zone)+"/set-serial", req, &r)
}
