// Package load is a batching DNS-over-UDP load generator for the peer
// benchmark: it pre-builds every query once, sends and receives them with
// sendmmsg/recvmmsg on a few connected sockets, keeps a bounded window of
// queries in flight per socket, and checks every answer against the
// expectation written in the query file, so that one generator core can
// keep a fast server core saturated while still proving the answers right.
//
// # Query file format
//
// The file is a dnsperf query file whose lines may carry the expected
// answer in a trailing comment (dnsperf ignores everything after ';'):
//
//	NAME TYPE [; RCODE [WHAT]]
//
// Blank lines and lines whose first non-blank character is ';' or '#' are
// skipped (dnsperf knows only ';': write that). Fields are separated by blanks. NAME is the query name; a
// missing trailing dot is added (dnsperf treats names as absolute too).
// TYPE is a type mnemonic (A, AAAA, MX, ...) or TYPEnnn. RCODE is an rcode
// mnemonic (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, NOTIMP, FORMERR, ...),
// compared with the 4-bit header rcode; without the comment the answer is
// counted but not checked. WHAT says what else is checked:
//
//	(absent)          only the rcode
//	-                 the answer section is empty
//	RRTYPE@auth       the answer section is empty and the first authority
//	                  record has type RRTYPE (NODATA: SOA@auth; a
//	                  referral: NS@auth)
//	RRTYPE            the first answer record has type RRTYPE
//	RRTYPE RDATA...   the first answer record has type RRTYPE and this
//	                  rdata, in presentation form as in a zonefile (names
//	                  absolute or relative to the root; compared
//	                  case-insensitively after decompression)
//
// One shorthand: with rcode NXDOMAIN a bare "SOA" (no rdata) means
// "SOA@auth", because an NXDOMAIN answer carries its SOA in the authority
// section.
//
// Examples:
//
//	h123.bench.test A ; NOERROR A 10.0.0.123
//	c25.bench.test A ; NOERROR CNAME h25.bench.test.
//	mx.bench.test MX ; NOERROR MX 10 mail.bench.test.
//	h123.bench.test TXT ; NOERROR SOA@auth
//	nope5.bench.test A ; NXDOMAIN SOA
//	x.sub.bench.test A ; NOERROR NS@auth
//	x.sub.bench.test A ; NOERROR -
//
// With Config.DO (zkload -D, as dnsperf -D) every query carries the DO
// bit, and an answer that meets its expectation must also carry the
// RRSIG of the checked RRset in the checked section (the first answer
// record's type, or TYPE@auth's in the authority section, where the
// record of that type may then come anywhere, as servers order a signed
// authority section differently), and a
// negative answer (NXDOMAIN, SOA@auth) an NSEC or NSEC3 record in the
// authority section; otherwise it counts as wrong. The signatures are
// not verified.
//
// The TTL and the record's owner name are never checked. Answers with TC
// set are counted as truncated and not checked further. Query.String
// writes a line in this format, so a generator of query files can use it.
//
// # Measuring
//
// Run keeps Config.Window queries in flight on each of Config.Sockets
// connected sockets and counts, for the queries sent during the measured
// period, how many were answered, lost (no answer within Config.Timeout),
// or answered wrongly. With Config.ServerPID set it also samples the
// server's CPU time (ProcCPU) at the start and end of the measured period
// and reports answers per second of server CPU, the figure the peer
// benchmark compares; Config.Mark lets a caller sample anything else at
// the same instants.
//
// The sockets are connected, so the server must answer from the address
// it was sent to (bind it to that address, not only to a wildcard).
// On loopback the kernel delivers a datagram in the sender's context: the
// generator's CPU pays for receiving the queries at the server, and the
// server's CPU for receiving its answers here.
package load
