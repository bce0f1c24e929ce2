package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Autoprimary lets a server provision secondary zones by NOTIFY: a NOTIFY
// for an unknown zone from IP, whose NS set holds Nameserver, adds that
// zone as a secondary recorded under Account.
type Autoprimary struct {
	IP         string    // the notifier's address, stored as given
	Nameserver string    // FQDN, stored lower case
	Account    string    // recorded on the zones it provisions
	Created    time.Time // set by the store
}

// AutoprimaryStore holds the autoprimaries. One IP may be registered
// with several name server names.
type AutoprimaryStore interface {
	// Add stores a new autoprimary; ErrExists if that IP is already
	// registered with that name server name.
	Add(ctx context.Context, a Autoprimary) error
	// List returns every autoprimary, sorted by IP then name server.
	List(ctx context.Context) ([]Autoprimary, error)
	// Lookup returns the autoprimaries registered for ip, sorted by name
	// server; none is not an error.
	Lookup(ctx context.Context, ip string) ([]Autoprimary, error)
	// Delete removes every autoprimary of ip; ErrNotFound if there is none.
	Delete(ctx context.Context, ip string) error
}

// autoprimaryTable is the SQLite AutoprimaryStore.
type autoprimaryTable struct{ db *DB }

// Add implements AutoprimaryStore.
func (t autoprimaryTable) Add(ctx context.Context, a Autoprimary) error {
	a.Nameserver = strings.ToLower(a.Nameserver)
	return t.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO autoprimaries (ip, nameserver, account, created)
			VALUES (?, ?, ?, ?) ON CONFLICT (ip, nameserver) DO NOTHING`,
			a.IP, a.Nameserver, a.Account, time.Now().UnixNano())
		if err != nil {
			return fmt.Errorf("store: add autoprimary %s %s: %w", a.IP, a.Nameserver, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: autoprimary %s %s: %w", a.IP, a.Nameserver, ErrExists)
		}
		return nil
	})
}

// List implements AutoprimaryStore.
func (t autoprimaryTable) List(ctx context.Context) ([]Autoprimary, error) {
	return t.query(ctx, `SELECT ip, nameserver, account, created FROM autoprimaries ORDER BY ip, nameserver`)
}

// Lookup implements AutoprimaryStore.
func (t autoprimaryTable) Lookup(ctx context.Context, ip string) ([]Autoprimary, error) {
	return t.query(ctx, `SELECT ip, nameserver, account, created FROM autoprimaries WHERE ip = ? ORDER BY nameserver`, ip)
}

func (t autoprimaryTable) query(ctx context.Context, query string, args ...any) ([]Autoprimary, error) {
	rows, err := t.db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list autoprimaries: %w", err)
	}
	defer rows.Close()
	var as []Autoprimary
	for rows.Next() {
		var a Autoprimary
		var created int64
		if err := rows.Scan(&a.IP, &a.Nameserver, &a.Account, &created); err != nil {
			return nil, fmt.Errorf("store: list autoprimaries: %w", err)
		}
		a.Created = time.Unix(0, created).UTC()
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list autoprimaries: %w", err)
	}
	return as, nil
}

// Delete implements AutoprimaryStore.
func (t autoprimaryTable) Delete(ctx context.Context, ip string) error {
	return t.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM autoprimaries WHERE ip = ?`, ip)
		if err != nil {
			return fmt.Errorf("store: delete autoprimary %s: %w", ip, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: autoprimary %s: %w", ip, ErrNotFound)
		}
		return nil
	})
}
