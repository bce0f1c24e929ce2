package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ZoneKind is a zone's role on this server.
type ZoneKind string

// The zone kinds.
const (
	KindPrimary   ZoneKind = "primary"   // served from DATA/zones, NOTIFYs its secondaries
	KindSecondary ZoneKind = "secondary" // transferred from its primaries
	KindNative    ZoneKind = "native"    // served; replicated by something else
)

func (k ZoneKind) valid() bool {
	return k == KindPrimary || k == KindSecondary || k == KindNative
}

// SerialPolicy is how an edit through the daemon bumps a zone's serial.
type SerialPolicy string

// The serial policies.
const (
	SerialIncrement SerialPolicy = "increment" // serial + 1 (the default)
	SerialDate      SerialPolicy = "date"      // YYYYMMDDnn
	SerialUnixTime  SerialPolicy = "unixtime"  // seconds since 1970
)

func (p SerialPolicy) valid() bool {
	return p == SerialIncrement || p == SerialDate || p == SerialUnixTime
}

// Zone is one row of the zone table. The configuration fields are written
// by Add, Put and the setters; the state fields only by RecordCheck and
// SetNotifiedSerial (or Update); Created and Updated by the store.
type Zone struct {
	Name         string       // FQDN, stored lower case
	Kind         ZoneKind     // required
	Primaries    []string     // "IP:port" or peer names, in the order tried
	TSIGKey      string       // key signing traffic with the primaries; "" none
	SerialPolicy SerialPolicy // "" means SerialIncrement
	Account      string       // who provisioned it (autoprimary account); "" none

	LastCheck      time.Time // last successful check of the primaries; zero: never
	LastSerial     uint32    // the primaries' serial at LastCheck
	NotifiedAt     time.Time // when the secondaries were last NOTIFYed; zero: never
	NotifiedSerial uint32    // the serial they were NOTIFYed of

	Created time.Time // set by the store
	Updated time.Time // set by the store on every change
}

// ZoneStore holds the zones zonekeeper serves and their roles. Names are
// lower-cased on the way in; nothing else about them is checked.
type ZoneStore interface {
	// Add stores a new zone; ErrExists if the name is taken.
	Add(ctx context.Context, z Zone) error
	// Put stores z's configuration fields, adding the zone if it is new.
	// The state fields of an existing zone are kept.
	Put(ctx context.Context, z Zone) error
	// Get returns the zone called name; ErrNotFound if there is none.
	Get(ctx context.Context, name string) (Zone, error)
	// List returns every zone, sorted by name.
	List(ctx context.Context) ([]Zone, error)
	// Delete removes the zone and its metadata; ErrNotFound if there is none.
	Delete(ctx context.Context, name string) error
	// Update calls fn with the zone and stores what fn leaves in it, in
	// one transaction (promote, demote: several fields at once). Name and
	// Created cannot be changed. An error from fn is returned as is and
	// changes nothing.
	Update(ctx context.Context, name string, fn func(*Zone) error) error

	// SetKind changes the zone's role.
	SetKind(ctx context.Context, name string, kind ZoneKind) error
	// SetPrimaries replaces the zone's primaries and the key that signs
	// traffic with them.
	SetPrimaries(ctx context.Context, name string, primaries []string, tsigKey string) error
	// SetSerialPolicy changes how edits bump the zone's serial.
	SetSerialPolicy(ctx context.Context, name string, policy SerialPolicy) error
	// SetAccount changes the account the zone belongs to.
	SetAccount(ctx context.Context, name, account string) error
	// RecordCheck records a successful check of the zone's primaries at
	// the given time (zero: now), which found the given serial.
	RecordCheck(ctx context.Context, name string, at time.Time, serial uint32) error
	// SetNotifiedSerial records that the zone's secondaries were NOTIFYed
	// of serial at the given time (zero: now).
	SetNotifiedSerial(ctx context.Context, name string, serial uint32, at time.Time) error
}

// zoneTable is the SQLite ZoneStore.
type zoneTable struct{ db *DB }

const zoneColumns = `name, kind, primaries, tsig_key, serial_policy, account,
	last_check, last_serial, notified_at, notified_serial, created, updated`

// zoneNotFound is the error for a missing zone.
func zoneNotFound(name string) error {
	return fmt.Errorf("store: zone %q: %w", name, ErrNotFound)
}

// normalize lower-cases the name and fills defaults, then checks what the
// schema constrains, so that a bad value gets a clear error rather than
// a CHECK constraint failure.
func (z *Zone) normalize() error {
	z.Name = strings.ToLower(z.Name)
	if z.SerialPolicy == "" {
		z.SerialPolicy = SerialIncrement
	}
	if !z.Kind.valid() {
		return fmt.Errorf("store: zone %q: kind %q (want primary, secondary or native): %w", z.Name, z.Kind, ErrInvalid)
	}
	if !z.SerialPolicy.valid() {
		return fmt.Errorf("store: zone %q: serial policy %q (want increment, date or unixtime): %w", z.Name, z.SerialPolicy, ErrInvalid)
	}
	return nil
}

// Add implements ZoneStore.
func (t zoneTable) Add(ctx context.Context, z Zone) error {
	if err := z.normalize(); err != nil {
		return err
	}
	prim, err := encodePrimaries(z.Primaries)
	if err != nil {
		return err
	}
	now := time.Now().UnixNano()
	return t.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO zones
			(name, kind, primaries, tsig_key, serial_policy, account,
			 last_check, last_serial, notified_at, notified_serial, created, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO NOTHING`,
			z.Name, z.Kind, prim, z.TSIGKey, z.SerialPolicy, z.Account,
			nullTime(z.LastCheck), nullSerial(z.LastCheck, z.LastSerial),
			nullTime(z.NotifiedAt), nullSerial(z.NotifiedAt, z.NotifiedSerial),
			now, now)
		if err != nil {
			return fmt.Errorf("store: add zone %q: %w", z.Name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: zone %q: %w", z.Name, ErrExists)
		}
		return nil
	})
}

// Put implements ZoneStore.
func (t zoneTable) Put(ctx context.Context, z Zone) error {
	if err := z.normalize(); err != nil {
		return err
	}
	prim, err := encodePrimaries(z.Primaries)
	if err != nil {
		return err
	}
	now := time.Now().UnixNano()
	return t.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO zones
			(name, kind, primaries, tsig_key, serial_policy, account, created, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET
				kind = excluded.kind, primaries = excluded.primaries,
				tsig_key = excluded.tsig_key, serial_policy = excluded.serial_policy,
				account = excluded.account, updated = excluded.updated`,
			z.Name, z.Kind, prim, z.TSIGKey, z.SerialPolicy, z.Account, now, now)
		if err != nil {
			return fmt.Errorf("store: put zone %q: %w", z.Name, err)
		}
		return nil
	})
}

// Get implements ZoneStore.
func (t zoneTable) Get(ctx context.Context, name string) (Zone, error) {
	return getZone(ctx, t.db.sql, strings.ToLower(name))
}

// getZone reads one zone through q, alone or inside a transaction.
func getZone(ctx context.Context, q querier, name string) (Zone, error) {
	row := q.QueryRowContext(ctx, `SELECT `+zoneColumns+` FROM zones WHERE name = ?`, name)
	z, err := scanZone(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Zone{}, zoneNotFound(name)
	}
	if err != nil {
		return Zone{}, fmt.Errorf("store: zone %q: %w", name, err)
	}
	return z, nil
}

// List implements ZoneStore.
func (t zoneTable) List(ctx context.Context) ([]Zone, error) {
	rows, err := t.db.sql.QueryContext(ctx, `SELECT `+zoneColumns+` FROM zones ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list zones: %w", err)
	}
	defer rows.Close()
	var zs []Zone
	for rows.Next() {
		z, err := scanZone(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list zones: %w", err)
		}
		zs = append(zs, z)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list zones: %w", err)
	}
	return zs, nil
}

// Delete implements ZoneStore.
func (t zoneTable) Delete(ctx context.Context, name string) error {
	name = strings.ToLower(name)
	return t.db.write(ctx, func(tx *sql.Tx) error {
		// zone_meta rows go with it: ON DELETE CASCADE.
		res, err := tx.ExecContext(ctx, `DELETE FROM zones WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("store: delete zone %q: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return zoneNotFound(name)
		}
		return nil
	})
}

// Update implements ZoneStore.
func (t zoneTable) Update(ctx context.Context, name string, fn func(*Zone) error) error {
	name = strings.ToLower(name)
	return t.db.write(ctx, func(tx *sql.Tx) error {
		z, err := getZone(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := fn(&z); err != nil {
			return err
		}
		z.Name = name
		if err := z.normalize(); err != nil {
			return err
		}
		prim, err := encodePrimaries(z.Primaries)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE zones SET
				kind = ?, primaries = ?, tsig_key = ?, serial_policy = ?, account = ?,
				last_check = ?, last_serial = ?, notified_at = ?, notified_serial = ?,
				updated = ?
			WHERE name = ?`,
			z.Kind, prim, z.TSIGKey, z.SerialPolicy, z.Account,
			nullTime(z.LastCheck), nullSerial(z.LastCheck, z.LastSerial),
			nullTime(z.NotifiedAt), nullSerial(z.NotifiedAt, z.NotifiedSerial),
			time.Now().UnixNano(), name)
		if err != nil {
			return fmt.Errorf("store: update zone %q: %w", name, err)
		}
		return nil
	})
}

// SetKind implements ZoneStore.
func (t zoneTable) SetKind(ctx context.Context, name string, kind ZoneKind) error {
	if !kind.valid() {
		return fmt.Errorf("store: zone %q: kind %q (want primary, secondary or native): %w", name, kind, ErrInvalid)
	}
	return t.set(ctx, name, `kind = ?`, kind)
}

// SetPrimaries implements ZoneStore.
func (t zoneTable) SetPrimaries(ctx context.Context, name string, primaries []string, tsigKey string) error {
	prim, err := encodePrimaries(primaries)
	if err != nil {
		return err
	}
	return t.set(ctx, name, `primaries = ?, tsig_key = ?`, prim, tsigKey)
}

// SetSerialPolicy implements ZoneStore.
func (t zoneTable) SetSerialPolicy(ctx context.Context, name string, policy SerialPolicy) error {
	if policy == "" {
		policy = SerialIncrement
	}
	if !policy.valid() {
		return fmt.Errorf("store: zone %q: serial policy %q (want increment, date or unixtime): %w", name, policy, ErrInvalid)
	}
	return t.set(ctx, name, `serial_policy = ?`, policy)
}

// SetAccount implements ZoneStore.
func (t zoneTable) SetAccount(ctx context.Context, name, account string) error {
	return t.set(ctx, name, `account = ?`, account)
}

// RecordCheck implements ZoneStore.
func (t zoneTable) RecordCheck(ctx context.Context, name string, at time.Time, serial uint32) error {
	if at.IsZero() {
		at = time.Now()
	}
	return t.set(ctx, name, `last_check = ?, last_serial = ?`, at.UnixNano(), int64(serial))
}

// SetNotifiedSerial implements ZoneStore.
func (t zoneTable) SetNotifiedSerial(ctx context.Context, name string, serial uint32, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	return t.set(ctx, name, `notified_serial = ?, notified_at = ?`, int64(serial), at.UnixNano())
}

// set runs one targeted UPDATE of the zone name: assignments is the SET
// list (constant text from this file, never user input) and args its
// values.
func (t zoneTable) set(ctx context.Context, name, assignments string, args ...any) error {
	name = strings.ToLower(name)
	args = append(args, time.Now().UnixNano(), name)
	return t.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE zones SET `+assignments+`, updated = ? WHERE name = ?`, args...)
		if err != nil {
			return fmt.Errorf("store: update zone %q: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return zoneNotFound(name)
		}
		return nil
	})
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanZone(s scanner) (Zone, error) {
	var (
		z                          Zone
		prim                       string
		lastCheck, lastSerial      sql.NullInt64
		notifiedAt, notifiedSerial sql.NullInt64
		created, updated           int64
	)
	err := s.Scan(&z.Name, &z.Kind, &prim, &z.TSIGKey, &z.SerialPolicy, &z.Account,
		&lastCheck, &lastSerial, &notifiedAt, &notifiedSerial, &created, &updated)
	if err != nil {
		return Zone{}, err
	}
	if err := json.Unmarshal([]byte(prim), &z.Primaries); err != nil {
		return Zone{}, fmt.Errorf("primaries %q: %w", prim, err)
	}
	z.LastCheck = timeOf(lastCheck)
	z.LastSerial = uint32(lastSerial.Int64)
	z.NotifiedAt = timeOf(notifiedAt)
	z.NotifiedSerial = uint32(notifiedSerial.Int64)
	z.Created = time.Unix(0, created).UTC()
	z.Updated = time.Unix(0, updated).UTC()
	return z, nil
}

// encodePrimaries stores the ordered list as a JSON array: it is read
// and written whole, always with its zone.
func encodePrimaries(p []string) (string, error) {
	if p == nil {
		p = []string{}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("store: primaries: %w", err)
	}
	return string(b), nil
}

// nullTime stores the zero time as NULL ("never").
func nullTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// nullSerial stores a serial only when the time that qualifies it is set.
func nullSerial(at time.Time, serial uint32) sql.NullInt64 {
	if at.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(serial), Valid: true}
}

// timeOf reads a nullable Unix-nanosecond column.
func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
