package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Key is a TSIG key (RFC 8945).
type Key struct {
	Name      string    // FQDN, stored lower case
	Algorithm string    // e.g. "hmac-sha256", stored lower case
	Secret    string    // base64, stored as given
	Created   time.Time // set by the store
}

// KeyStore holds the TSIG keys. The daemon checks algorithm and secret
// before calling; the store only lower-cases the names.
type KeyStore interface {
	// Add stores a new key; ErrExists if the name is taken.
	Add(ctx context.Context, k Key) error
	// Get returns the key called name; ErrNotFound if there is none.
	Get(ctx context.Context, name string) (Key, error)
	// List returns every key, sorted by name.
	List(ctx context.Context) ([]Key, error)
	// Delete removes the key; ErrNotFound if there is none.
	Delete(ctx context.Context, name string) error
}

// keyTable is the SQLite KeyStore.
type keyTable struct{ db *DB }

func keyNotFound(name string) error {
	return fmt.Errorf("store: key %q: %w", name, ErrNotFound)
}

// Add implements KeyStore.
func (t keyTable) Add(ctx context.Context, k Key) error {
	k.Name = strings.ToLower(k.Name)
	k.Algorithm = strings.ToLower(k.Algorithm)
	return t.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO tsig_keys (name, algorithm, secret, created)
			VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
			k.Name, k.Algorithm, k.Secret, time.Now().UnixNano())
		if err != nil {
			return fmt.Errorf("store: add key %q: %w", k.Name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: key %q: %w", k.Name, ErrExists)
		}
		return nil
	})
}

// Get implements KeyStore.
func (t keyTable) Get(ctx context.Context, name string) (Key, error) {
	name = strings.ToLower(name)
	row := t.db.sql.QueryRowContext(ctx, `SELECT name, algorithm, secret, created FROM tsig_keys WHERE name = ?`, name)
	k, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, keyNotFound(name)
	}
	if err != nil {
		return Key{}, fmt.Errorf("store: key %q: %w", name, err)
	}
	return k, nil
}

// List implements KeyStore.
func (t keyTable) List(ctx context.Context) ([]Key, error) {
	rows, err := t.db.sql.QueryContext(ctx, `SELECT name, algorithm, secret, created FROM tsig_keys ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
	}
	defer rows.Close()
	var ks []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list keys: %w", err)
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
	}
	return ks, nil
}

// Delete implements KeyStore.
func (t keyTable) Delete(ctx context.Context, name string) error {
	name = strings.ToLower(name)
	return t.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tsig_keys WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("store: delete key %q: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return keyNotFound(name)
		}
		return nil
	})
}

func scanKey(s scanner) (Key, error) {
	var k Key
	var created int64
	if err := s.Scan(&k.Name, &k.Algorithm, &k.Secret, &created); err != nil {
		return Key{}, err
	}
	k.Created = time.Unix(0, created).UTC()
	return k, nil
}
