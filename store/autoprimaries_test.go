package store

import (
	"context"
	"errors"
	"testing"
)

func TestAutoprimaries(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	as := db.Autoprimaries()

	for _, a := range []Autoprimary{
		{IP: "127.0.0.5", Nameserver: "NS2.example.net.", Account: "acme"},
		{IP: "127.0.0.5", Nameserver: "ns1.example.net.", Account: "acme"},
		{IP: "::1", Nameserver: "ns.example.com."},
	} {
		if err := as.Add(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := as.Add(ctx, Autoprimary{IP: "127.0.0.5", Nameserver: "ns1.EXAMPLE.net.", Account: "other"}); !errors.Is(err, ErrExists) {
		t.Errorf("Add of a duplicate: %v, want ErrExists", err)
	}

	l, err := as.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 3 || l[0].Nameserver != "ns1.example.net." || l[1].Nameserver != "ns2.example.net." ||
		l[2].IP != "::1" || l[0].Account != "acme" || l[0].Created.IsZero() {
		t.Errorf("List: %+v", l)
	}

	got, err := as.Lookup(ctx, "127.0.0.5")
	if err != nil || len(got) != 2 {
		t.Errorf("Lookup: %+v %v", got, err)
	}
	if got, err := as.Lookup(ctx, "127.0.0.9"); err != nil || len(got) != 0 {
		t.Errorf("Lookup unknown: %+v %v", got, err)
	}

	if err := as.Delete(ctx, "127.0.0.5"); err != nil {
		t.Fatal(err)
	}
	if err := as.Delete(ctx, "127.0.0.5"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if l, _ := as.List(ctx); len(l) != 1 || l[0].IP != "::1" {
		t.Errorf("List after Delete: %+v", l)
	}
}
