// Package store keeps zonekeeper's state in SQLite: zones and their roles,
// TSIG keys, autoprimaries, per-zone metadata and the activity log.
// It arrives with the control-plane work; it imports nothing of the project.
package store
