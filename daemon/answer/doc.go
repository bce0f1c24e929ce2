// Package answer is the query path: it compiles zones into immutable
// snapshots, keeps the served snapshots in a lock-free zone table and
// turns a query message into its reply.
//
// The query path takes no lock and copies no map: a reader loads the zone
// table through an atomic pointer, finds the zone by walking the query
// name's label suffixes, and answers from data that Compile laid out in
// advance (wire-format owner names and rdata, delegation and wildcard
// pointers, additional-section targets). Replies are packed directly into
// a per-goroutine buffer, with name compression and RFC 2181 §9 / RFC 9471
// truncation; a ready-answer cache (ready.go) serves repeated plain
// queries with the bytes made for them before.
//
// Signed zones are answered as RFC 4035 §3 and RFC 5155 §7.2 have it,
// their signatures and denial proofs found at compile time (dnssec.go,
// nsec3.go).
//
// Answering follows RFC 1034 §4.3.2 and RFC 4592 and matches NSD 4.6 where
// the RFCs leave a choice; lookup.go and handler.go list the choices made
// and where they differ from NSD.
//
// The package imports only zonefile and miekg/dns (cmd/zonekeeper's
// deps_test.go enforces it). Messages that need more than a lookup
// (NOTIFY, TSIG, transfers, EDNS EXPIRE) are left to the caller's slow
// path (ResponderConfig.Handoff); who may change the zone table is the
// daemon's commit path (docs/architecture.md).
package answer
