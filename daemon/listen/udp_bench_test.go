package listen

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// BenchmarkUDPServe measures queries per second through one UDP worker
// on loopback, answered by the recvmmsg/sendmmsg loop (batch=64) and by
// the one-datagram-at-a-time loop (batch=1). The client keeps a window
// of 64 queries in flight and sends and receives them in batches too,
// so that the server, not the client, is the bottleneck as far as two
// CPUs allow. allocs/op counts the whole process: the 2 are the
// client's (x/net's ReadBatch allocates each reply's source address);
// both server loops allocate nothing.
func BenchmarkUDPServe(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the batching client needs recvmmsg")
	}
	for _, batch := range []int{udpBatchMax, 1} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			benchUDPServe(b, batch)
		})
	}
}

func benchUDPServe(b *testing.B, batch int) {
	s := NewServer(ServerConfig{Listen: []string{"127.0.0.1:0"}, UDPWorkers: 1, udpBatch: batch}, testZones(b))
	if err := s.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	c, err := net.DialUDP("udp4", nil, s.Addrs()[0].(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pc := ipv4.NewPacketConn(c)

	// A mix of names: existing, NXDOMAIN, a referral, another zone.
	var queries [][]byte
	for _, name := range []string{"www.example.org.", "nope.example.org.", "www.child.example.org.", "www.example.net."} {
		raw, err := question(name, dns.TypeA).Pack()
		if err != nil {
			b.Fatal(err)
		}
		queries = append(queries, raw)
	}
	const window = 64
	out := make([]ipv4.Message, window)
	in := make([]ipv4.Message, window)
	for i := range window {
		q := append([]byte(nil), queries[i%len(queries)]...)
		out[i].Buffers = [][]byte{q}
		in[i].Buffers = [][]byte{make([]byte, 1500)}
	}

	lost := 0
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		n := min(window, b.N-sent)
		for i := range n {
			id := uint16(sent + i)
			q := out[i].Buffers[0]
			q[0], q[1] = byte(id>>8), byte(id)
		}
		for w := 0; w < n; {
			k, err := pc.WriteBatch(out[w:n], 0)
			if err != nil {
				b.Fatal(err)
			}
			w += k
		}
		sent += n
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		for got := 0; got < n; {
			k, err := pc.ReadBatch(in[:n-got], 0)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					lost += n - got
					break
				}
				b.Fatal(err)
			}
			got += k
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "queries/s")
	b.ReportMetric(float64(lost), "lost")
}
