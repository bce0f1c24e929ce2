// Package store keeps zonekeeper's state in SQLite (DATA/state.db): the
// zones and their roles, TSIG keys, autoprimaries, per-zone metadata and
// the activity log. Zone records are not here: zonefiles hold them.
//
// Each table is reached through a small interface (ZoneStore, KeyStore,
// AutoprimaryStore, MetaStore, EventLog) obtained from a *DB; the SQLite
// implementation sits behind them. Every write runs in one transaction
// through a single helper. The schema is created and upgraded by the
// numbered scripts in migrations/, embedded in the binary; a database
// newer than the binary is refused rather than guessed at.
//
// Names are lower-cased and otherwise stored as given: the daemon
// validates input before it reaches the store. The package imports
// nothing of the project.
package store
