package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite" // the "sqlite" database/sql driver, and its errors
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors returned by the store. They are wrapped with the name of what
// was looked up; test for them with errors.Is.
var (
	// ErrNotFound means the zone, key, autoprimary or other row asked for
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means an Add would have replaced a row that already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid means a value the schema constrains (a zone kind, a
	// serial policy, an event outcome) is not one it allows.
	ErrInvalid = errors.New("invalid")
	// ErrSchemaTooNew means state.db was written by a newer zonekeeper
	// whose schema this binary does not know; the error returned is a
	// *SchemaTooNewError.
	ErrSchemaTooNew = errors.New("store: schema version newer than this zonekeeper knows")
)

// DefaultMaxEvents is how many activity log rows are kept when Open is not
// given WithMaxEvents (the `events-max` setting's default).
const DefaultMaxEvents = 100_000

// busyTimeoutMS is how long a statement waits for another process's lock
// before failing with SQLITE_BUSY. Writers inside this process never wait
// on it: they queue on DB.writeSem first.
const busyTimeoutMS = 5000

// DB is zonekeeper's state database. It is safe for concurrent use; reads
// run in parallel (WAL), writes are serialised by one transaction helper.
type DB struct {
	sql  *sql.DB
	path string

	// writeSem holds one token: the right to run a write transaction.
	// Queuing here rather than in SQLite's busy handler keeps concurrent
	// writers from sleeping in its back-off, and lets a waiting writer
	// give up when its context ends.
	writeSem chan struct{}

	maxEvents atomic.Int64

	// pending holds the Appends waiting for a writer: whichever Append
	// gets writeSem commits all of them in one transaction (see
	// eventTable.Append).
	pendingMu sync.Mutex
	pending   []*appendReq
}

// Option changes how Open sets up the database.
type Option func(*DB)

// WithMaxEvents bounds the activity log to n rows, the oldest dropped
// first; n <= 0 means DefaultMaxEvents.
func WithMaxEvents(n int) Option {
	return func(db *DB) { db.SetMaxEvents(n) }
}

// Open opens (creating it when missing) the state database at path,
// usually DATA/state.db, and brings its schema up to date. A database
// written by a newer zonekeeper is refused with a *SchemaTooNewError.
func Open(path string, opts ...Option) (*DB, error) {
	return openAt(path, len(migrations), opts...)
}

// openAt is Open with the schema brought up to version upto rather than
// the latest; tests use it to build databases as older releases left them.
func openAt(path string, upto int, opts ...Option) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	// The file holds TSIG secrets: create it private, before SQLite
	// creates it with the umask's mode. SQLite gives the -wal and -shm
	// files the mode of the database file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f.Close()

	sqldb, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// A few idle connections avoid re-running the connection pragmas on
	// every query; readers beyond that come and go.
	sqldb.SetMaxIdleConns(4)

	db := &DB{sql: sqldb, path: abs, writeSem: make(chan struct{}, 1)}
	db.maxEvents.Store(DefaultMaxEvents)
	for _, o := range opts {
		o(db)
	}

	ctx := context.Background()
	if err := db.setWAL(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	if err := db.migrate(ctx, upto); err != nil {
		sqldb.Close()
		return nil, err
	}
	if upto >= len(migrations) {
		// A lowered events-max takes effect now rather than at the next Append.
		if err := db.trimEvents(ctx); err != nil {
			sqldb.Close()
			return nil, err
		}
	}
	return db, nil
}

// dsn builds the driver's URI for the database file at the absolute path
// abs. Every connection of the pool runs these pragmas when it opens,
// busy_timeout first. _txlock=immediate makes every transaction take the
// write lock at BEGIN: a deferred transaction that reads and then writes
// can fail at once with SQLITE_BUSY in WAL mode, which busy_timeout does
// not cover. synchronous=NORMAL is the WAL setting that keeps the
// database consistent across a power loss while fsyncing only at
// checkpoints, not at each commit, which keeps the activity log cheap.
// journal_mode is not here: it is a property of the file, set once by
// setWAL.
func dsn(abs string) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}
	return u.String()
}

// setWAL switches the file to write-ahead logging (it stays so) and
// checks that the connection settings took. Switching needs the file to
// itself, and SQLite reports SQLITE_BUSY at once, without its busy
// handler, when another process is opening it at the same moment: so
// the switch is retried for as long as busy_timeout would have waited.
func (db *DB) setWAL(ctx context.Context) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", db.path, err)
	}
	defer conn.Close()

	var mode string
	deadline := time.Now().Add(busyTimeoutMS * time.Millisecond)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err = conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			break
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("store: open %s: %w", db.path, ctx.Err())
		}
	}
	if err != nil {
		return fmt.Errorf("store: open %s: journal_mode: %w", db.path, err)
	}
	var fk int
	if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("store: open %s: %w", db.path, err)
	}
	// A driver that silently ignored these would leave the database
	// without WAL or without cascading deletes.
	if mode != "wal" || fk != 1 {
		return fmt.Errorf("store: open %s: journal_mode %q, foreign_keys %d: want wal and 1", db.path, mode, fk)
	}
	return nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any variant.
func isBusy(err error) bool {
	var serr *sqlite.Error
	return errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Close closes the database. Operations started after Close fail.
func (db *DB) Close() error {
	return db.sql.Close()
}

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// SetMaxEvents changes the activity log's bound to n rows (n <= 0 means
// DefaultMaxEvents); the excess is dropped by the next Append.
func (db *DB) SetMaxEvents(n int) {
	if n <= 0 {
		n = DefaultMaxEvents
	}
	db.maxEvents.Store(int64(n))
}

// Zones returns the zone table.
func (db *DB) Zones() ZoneStore { return zoneTable{db} }

// Keys returns the TSIG key table.
func (db *DB) Keys() KeyStore { return keyTable{db} }

// Autoprimaries returns the autoprimary table.
func (db *DB) Autoprimaries() AutoprimaryStore { return autoprimaryTable{db} }

// Meta returns the per-zone metadata table.
func (db *DB) Meta() MetaStore { return metaTable{db} }

// Events returns the activity log.
func (db *DB) Events() EventLog { return eventTable{db} }

// querier is what both *sql.DB and *sql.Tx offer, so that a read can run
// alone or inside a write transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in a write transaction, committed when fn returns nil and
// rolled back otherwise. With inTx below, it is the only way the store
// changes the database. Writers of this process queue on writeSem;
// other processes are waited for by busy_timeout.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	select {
	case db.writeSem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("store: %w", ctx.Err())
	}
	defer func() { <-db.writeSem }()
	return db.inTx(ctx, fn)
}

// inTx runs fn in a transaction; the caller holds writeSem.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
