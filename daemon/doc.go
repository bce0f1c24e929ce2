// Package daemon is the running server: it compiles zones into immutable
// snapshots, keeps the live set of snapshots in a lock-free registry and
// answers DNS queries for them over UDP and TCP.
//
// The query path takes no lock and copies no map: a reader loads the zone
// table through an atomic pointer, finds the zone by walking the query
// name's label suffixes, and answers from data that Compile laid out in
// advance (wire-format owner names and rdata, delegation and wildcard
// pointers, additional-section targets). Replies are packed directly into
// a per-goroutine buffer, with name compression and RFC 2181 §9 / RFC 9471
// truncation.
//
// Answering follows RFC 1034 §4.3.2 and RFC 4592 and matches NSD 4.6 where
// the RFCs leave a choice; lookup.go and handler.go list the choices made
// and where they differ from NSD.
package daemon
