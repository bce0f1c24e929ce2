// Package ports finds loopback ports for the benchmarks' servers.
package ports

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// Free returns a port free for UDP and TCP on every one of ips.
func Free(ips ...string) (int, error) {
	for range 100 {
		u, err := net.ListenPacket("udp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			return 0, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		u.Close()
		if free(port, ips) {
			return port, nil
		}
	}
	return 0, errors.New("no port free on " + strings.Join(ips, ", "))
}

// free reports whether port can be bound for UDP and TCP on each ip.
func free(port int, ips []string) bool {
	for _, ip := range ips {
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		l, err := net.Listen("tcp", addr)
		u.Close()
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}
