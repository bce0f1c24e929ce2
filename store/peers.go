package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The peer table: the servers this node replicates with, by name, each
// with its address, the TSIG key all traffic with it is signed with,
// and its role (docs/architecture.md, "Peers, keys and access").

// Peer roles, as the peers table stores them.
const (
	PeerRolePeer      = "peer"      // another zonekeeper node of the cluster
	PeerRoleSecondary = "secondary" // any other server that transfers from us
	PeerRoleCatalog   = "catalog"   // a catalog producer that is no zonekeeper node: its catalog's zones are transferred from it
)

// Peer is one server this node replicates with.
type Peer struct {
	Name    string    // the operator's name for it, stored lower case
	Addr    string    // IP:port where it answers DNS
	TSIGKey string    // key that signs all traffic with it; "" none
	Role    string    // PeerRolePeer, PeerRoleSecondary or PeerRoleCatalog
	Catalog string    // the name of the catalog read from it; "" learned (role peer)
	Created time.Time // set by the store
}

// PeerStore holds the peers. Names and addresses are unique.
type PeerStore interface {
	// Add stores a new peer; ErrExists if its name or address is taken,
	// ErrInvalid if its role is not one the schema allows.
	Add(ctx context.Context, p Peer) error
	// List returns every peer, sorted by name.
	List(ctx context.Context) ([]Peer, error)
	// Get returns the peer of that name; ErrNotFound if there is none.
	Get(ctx context.Context, name string) (Peer, error)
	// Delete removes the peer of that name; ErrNotFound if there is none.
	Delete(ctx context.Context, name string) error
}

// Peers returns the peer table.
func (db *DB) Peers() PeerStore { return peerTable{db} }

// peerTable is the SQLite PeerStore.
type peerTable struct{ db *DB }

// Add implements PeerStore.
func (t peerTable) Add(ctx context.Context, p Peer) error {
	p.Name = strings.ToLower(p.Name)
	if p.Role == "" {
		p.Role = PeerRolePeer
	}
	if p.Role != PeerRolePeer && p.Role != PeerRoleSecondary && p.Role != PeerRoleCatalog {
		return fmt.Errorf("store: peer %s: role %q: %w", p.Name, p.Role, ErrInvalid)
	}
	return t.db.write(ctx, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM peers WHERE name = ? OR addr = ?`, p.Name, p.Addr).Scan(&n)
		if err != nil {
			return fmt.Errorf("store: add peer %s: %w", p.Name, err)
		}
		if n > 0 {
			return fmt.Errorf("store: peer %s or address %s: %w", p.Name, p.Addr, ErrExists)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO peers (name, addr, tsig_key, role, catalog, created) VALUES (?, ?, ?, ?, ?, ?)`,
			p.Name, p.Addr, p.TSIGKey, p.Role, p.Catalog, time.Now().UnixNano())
		if err != nil {
			return fmt.Errorf("store: add peer %s: %w", p.Name, err)
		}
		return nil
	})
}

// List implements PeerStore.
func (t peerTable) List(ctx context.Context) ([]Peer, error) {
	rows, err := t.db.sql.QueryContext(ctx, `SELECT name, addr, tsig_key, role, catalog, created FROM peers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list peers: %w", err)
	}
	defer rows.Close()
	var ps []Peer
	for rows.Next() {
		p, err := scanPeer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list peers: %w", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list peers: %w", err)
	}
	return ps, nil
}

// Get implements PeerStore.
func (t peerTable) Get(ctx context.Context, name string) (Peer, error) {
	row := t.db.sql.QueryRowContext(ctx, `SELECT name, addr, tsig_key, role, catalog, created FROM peers WHERE name = ?`, strings.ToLower(name))
	p, err := scanPeer(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Peer{}, fmt.Errorf("store: peer %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Peer{}, fmt.Errorf("store: peer %s: %w", name, err)
	}
	return p, nil
}

// Delete implements PeerStore.
func (t peerTable) Delete(ctx context.Context, name string) error {
	return t.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM peers WHERE name = ?`, strings.ToLower(name))
		if err != nil {
			return fmt.Errorf("store: delete peer %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: peer %s: %w", name, ErrNotFound)
		}
		return nil
	})
}

// scanPeer reads one row of name, addr, tsig_key, role, catalog, created.
func scanPeer(s interface{ Scan(...any) error }) (Peer, error) {
	var p Peer
	var created int64
	if err := s.Scan(&p.Name, &p.Addr, &p.TSIGKey, &p.Role, &p.Catalog, &created); err != nil {
		return Peer{}, err
	}
	p.Created = time.Unix(0, created).UTC()
	return p, nil
}
