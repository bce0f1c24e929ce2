// Package daemon is the running server around the query path: it loads
// and watches the zonefiles, runs the secondary zones (refresh, transfers
// in, NOTIFY in), keeps the IXFR journal, sends NOTIFY, answers transfers
// and the other messages the query path hands over (special.go), checks
// the peers' health, runs failover, and serves the control API.
//
// Every change of what a zone serves goes through one commit path
// (commit.go); the query path itself lives in daemon/answer and the
// sockets in daemon/listen. docs/architecture.md maps the packages and
// the data flows.
package daemon
