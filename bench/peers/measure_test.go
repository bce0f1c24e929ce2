package main

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTransferClients checks the light AXFR client (messages, records
// and the closing SOA found without decoding) and the IXFR client against
// a miekg server on loopback that splits the AXFR over many messages.
func TestTransferClients(t *testing.T) {
	const zone = "x.test."
	soa := func(serial uint32) dns.RR {
		rr, _ := dns.NewRR(fmt.Sprintf("%s 300 IN SOA ns1.%s h.%s %d 3600 900 1209600 300", zone, zone, zone, serial))
		return rr
	}
	a := func(i int) dns.RR {
		rr, _ := dns.NewRR(fmt.Sprintf("h%d.%s 300 IN A 10.0.%d.%d", i, zone, i/256, i%256))
		return rr
	}
	const records = 5000
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		switch q.Question[0].Qtype {
		case dns.TypeAXFR:
			ch := make(chan *dns.Envelope)
			tr := new(dns.Transfer)
			go func() {
				rrs := []dns.RR{soa(2)}
				for i := range records {
					rrs = append(rrs, a(i))
					if len(rrs) == 100 {
						ch <- &dns.Envelope{RR: rrs}
						rrs = nil
					}
				}
				ch <- &dns.Envelope{RR: append(rrs, soa(2))}
				close(ch)
			}()
			tr.Out(w, q, ch)
		case dns.TypeIXFR:
			m := new(dns.Msg)
			m.SetReply(q)
			switch q.Ns[0].(*dns.SOA).Serial {
			case 2:
				m.Answer = []dns.RR{soa(2)}
			case 1:
				m.Answer = []dns.RR{soa(2), soa(1), a(1), soa(2), a(2), soa(2)}
			default:
				// Two sequences over two messages, the first ending on
				// an SOA that is not the end.
				m.Answer = []dns.RR{soa(2), soa(0), a(0), soa(1)}
				w.WriteMsg(m)
				m.Answer = []dns.RR{a(1), soa(1), a(1), soa(2), a(2), soa(2)}
			}
			w.WriteMsg(m)
		}
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{Listener: l, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	defer srv.Shutdown()
	<-started
	addr := l.Addr().String()

	x, err := axfr(addr, zone, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if x.Records != records+2 || x.Messages < 2 || x.Bytes == 0 {
		t.Errorf("AXFR: %+v, want %d records over several messages", x, records+2)
	}
	x, err = ixfr(addr, zone, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if x.Records != 6 || x.Messages != 1 {
		t.Errorf("IXFR from 1: %+v, want 6 records in 1 message", x)
	}
	x, err = ixfr(addr, zone, 0, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if x.Records != 10 || x.Messages != 2 {
		t.Errorf("IXFR from 0: %+v, want 10 records in 2 messages", x)
	}
	x, err = ixfr(addr, zone, 2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if x.Records != 1 {
		t.Errorf("IXFR from the current serial: %+v, want the SOA alone", x)
	}
}
