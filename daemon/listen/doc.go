// Package listen holds the DNS listeners: UDP sockets (one per worker
// with SO_REUSEPORT, read and written in batches where the system allows,
// answering from the address each query came to) and TCP connections
// (RFC 7766 pipelining, idle and write timeouts, per-client limits, slots
// reserved for the servers the daemon replicates with, idle connections
// closed to make room). Each serving goroutine
// owns an answer.Responder; messages for the slow path go to the
// SpecialHandler the daemon sets.
//
// The package imports only daemon/answer and zonefile.
package listen
