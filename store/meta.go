package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Well-known metadata kinds. Any other kind may be stored as well.
const (
	MetaTSIGAllowAXFR  = "TSIG-ALLOW-AXFR"  // keys that may transfer the zone
	MetaAXFRMasterTSIG = "AXFR-MASTER-TSIG" // key signing requests to the primaries
	MetaAlsoNotify     = "ALSO-NOTIFY"      // extra NOTIFY targets
	MetaAllowAXFRFrom  = "ALLOW-AXFR-FROM"  // addresses that may transfer the zone
	MetaLuaAXFRScript  = "LUA-AXFR-SCRIPT"  // filter script for incoming transfers
	MetaSOAEdit        = "SOA-EDIT"         // SOA serial rewriting on the way out
)

// MetaStore holds per-zone metadata: for each zone, kinds that each hold
// an ordered list of values. Zone names are lower-cased and kinds
// upper-cased on the way in (metadata kinds are conventionally upper case,
// so "also-notify" and "ALSO-NOTIFY" are one kind). Deleting a zone
// deletes its metadata.
type MetaStore interface {
	// Set replaces the values of kind for zone; an empty list deletes
	// the kind. ErrNotFound if the zone does not exist.
	Set(ctx context.Context, zone, kind string, values []string) error
	// Get returns the values of kind for zone, in the order they were
	// set; nil if the kind has none. ErrNotFound if the zone does not
	// exist.
	Get(ctx context.Context, zone, kind string) ([]string, error)
	// List returns every kind of zone with its values; an empty map if it
	// has none. ErrNotFound if the zone does not exist.
	List(ctx context.Context, zone string) (map[string][]string, error)
	// Values returns every distinct value of kind over all zones, sorted;
	// nil when no zone has it.
	Values(ctx context.Context, kind string) ([]string, error)
}

// metaTable is the SQLite MetaStore.
type metaTable struct{ db *DB }

// Set implements MetaStore.
func (t metaTable) Set(ctx context.Context, zone, kind string, values []string) error {
	zone, kind = strings.ToLower(zone), strings.ToUpper(kind)
	return t.db.write(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM zones WHERE name = ?)`, zone).Scan(&exists); err != nil {
			return fmt.Errorf("store: set metadata %s of %q: %w", kind, zone, err)
		}
		if !exists {
			return zoneNotFound(zone)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM zone_meta WHERE zone = ? AND kind = ?`, zone, kind); err != nil {
			return fmt.Errorf("store: set metadata %s of %q: %w", kind, zone, err)
		}
		for i, v := range values {
			if _, err := tx.ExecContext(ctx, `INSERT INTO zone_meta (zone, kind, pos, value) VALUES (?, ?, ?, ?)`,
				zone, kind, i, v); err != nil {
				return fmt.Errorf("store: set metadata %s of %q: %w", kind, zone, err)
			}
		}
		return nil
	})
}

// Get implements MetaStore.
func (t metaTable) Get(ctx context.Context, zone, kind string) ([]string, error) {
	zone, kind = strings.ToLower(zone), strings.ToUpper(kind)
	// The outer join tells an unknown zone (no row) from a zone without
	// this kind (one row, NULL value) in one statement.
	rows, err := t.db.sql.QueryContext(ctx, `SELECT m.value FROM zones z
		LEFT JOIN zone_meta m ON m.zone = z.name AND m.kind = ?
		WHERE z.name = ? ORDER BY m.pos`, kind, zone)
	if err != nil {
		return nil, fmt.Errorf("store: metadata %s of %q: %w", kind, zone, err)
	}
	defer rows.Close()
	var (
		values []string
		found  bool
	)
	for rows.Next() {
		found = true
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: metadata %s of %q: %w", kind, zone, err)
		}
		if v.Valid {
			values = append(values, v.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: metadata %s of %q: %w", kind, zone, err)
	}
	if !found {
		return nil, zoneNotFound(zone)
	}
	return values, nil
}

// List implements MetaStore.
func (t metaTable) List(ctx context.Context, zone string) (map[string][]string, error) {
	zone = strings.ToLower(zone)
	rows, err := t.db.sql.QueryContext(ctx, `SELECT m.kind, m.value FROM zones z
		LEFT JOIN zone_meta m ON m.zone = z.name
		WHERE z.name = ? ORDER BY m.kind, m.pos`, zone)
	if err != nil {
		return nil, fmt.Errorf("store: metadata of %q: %w", zone, err)
	}
	defer rows.Close()
	var (
		meta  map[string][]string
		found bool
	)
	for rows.Next() {
		if !found {
			found = true
			meta = make(map[string][]string)
		}
		var k, v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("store: metadata of %q: %w", zone, err)
		}
		if k.Valid {
			meta[k.String] = append(meta[k.String], v.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: metadata of %q: %w", zone, err)
	}
	if !found {
		return nil, zoneNotFound(zone)
	}
	return meta, nil
}

// Values implements MetaStore.
func (t metaTable) Values(ctx context.Context, kind string) ([]string, error) {
	kind = strings.ToUpper(kind)
	rows, err := t.db.sql.QueryContext(ctx, `SELECT DISTINCT value FROM zone_meta WHERE kind = ? ORDER BY value`, kind)
	if err != nil {
		return nil, fmt.Errorf("store: metadata %s of every zone: %w", kind, err)
	}
	defer rows.Close()
	var values []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: metadata %s of every zone: %w", kind, err)
		}
		values = append(values, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: metadata %s of every zone: %w", kind, err)
	}
	return values, nil
}
