package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema, one numbered script per version:
// migrations/NNNN_what.sql brings a database from version NNNN-1 to NNNN.
// A released script is never edited; a schema change is a new script.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema step.
type migration struct {
	version int
	name    string // file name, recorded in schema_version
	sql     string
}

// migrations is every step in version order, versions 1..len(migrations).
var migrations = mustLoadMigrations(migrationFiles)

// mustLoadMigrations reads and orders the embedded scripts. A gap or a
// duplicate in the numbering is a build mistake, so it panics at init
// (and so in every test) rather than at some user's upgrade.
func mustLoadMigrations(fsys fs.FS) []migration {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, path := range names {
		name := filepath.Base(path)
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			panic(fmt.Sprintf("store: migration %s: name is not NNNN_what.sql", name))
		}
		body, err := fs.ReadFile(fsys, path)
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			panic(fmt.Sprintf("store: migration %s: expected version %d", m.name, i+1))
		}
	}
	return ms
}

// LatestSchemaVersion is the schema version this binary creates and
// upgrades databases to.
func LatestSchemaVersion() int { return len(migrations) }

// SchemaTooNewError is returned by Open for a database whose schema is
// newer than this binary knows: it was written by a newer zonekeeper, and
// using it could lose what that version stores. errors.Is(err,
// ErrSchemaTooNew) reports it.
type SchemaTooNewError struct {
	Path    string // the database file
	Version int    // the database's schema version
	Known   int    // the newest version this binary knows
}

// Error says what is wrong and what to do.
func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("store: %s has schema version %d, this zonekeeper knows up to %d: upgrade zonekeeper",
		filepath.Base(e.Path), e.Version, e.Known)
}

// Is makes errors.Is(err, ErrSchemaTooNew) true.
func (e *SchemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// createVersionTable is run before anything else: it is the one piece of
// schema that cannot itself be a migration. One row per applied step.
const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_version (
	version INTEGER NOT NULL PRIMARY KEY,
	name    TEXT    NOT NULL,
	applied INTEGER NOT NULL
)`

// SchemaVersion returns the version of the database's schema.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, db.sql)
}

func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// migrate brings the schema to version upto, each pending step in its own
// transaction, or refuses a database newer than this binary knows before
// changing anything. The version is read again inside each step's
// transaction, so two processes opening the same file at once apply each
// step only once.
func (db *DB) migrate(ctx context.Context, upto int) error {
	if _, err := db.sql.ExecContext(ctx, createVersionTable); err != nil {
		return fmt.Errorf("store: open %s: schema_version: %w", db.path, err)
	}
	cur, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if cur > len(migrations) {
		return &SchemaTooNewError{Path: db.path, Version: cur, Known: len(migrations)}
	}
	for _, m := range migrations[:upto] {
		if m.version <= cur {
			continue
		}
		err := db.write(ctx, func(tx *sql.Tx) error {
			v, err := schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			if v >= m.version {
				return nil // another process got there first
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: %s: migration %s: %w", filepath.Base(db.path), m.name, err)
		}
	}
	return nil
}
