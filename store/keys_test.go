package store

import (
	"context"
	"errors"
	"testing"
)

func TestKeys(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	ks := db.Keys()

	if l, err := ks.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("List of an empty table: %v %v", l, err)
	}
	if err := ks.Add(ctx, Key{Name: "Xfer.Example.", Algorithm: "HMAC-SHA256", Secret: "c2VjcmV0MQ=="}); err != nil {
		t.Fatal(err)
	}
	if err := ks.Add(ctx, Key{Name: "a-key.", Algorithm: "hmac-md5", Secret: "c2VjcmV0Mg=="}); err != nil {
		t.Fatal(err)
	}
	if err := ks.Add(ctx, Key{Name: "xfer.example.", Algorithm: "hmac-sha1", Secret: "b3RoZXI="}); !errors.Is(err, ErrExists) {
		t.Errorf("Add of a duplicate: %v, want ErrExists", err)
	}

	k, err := ks.Get(ctx, "XFER.example.")
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "xfer.example." || k.Algorithm != "hmac-sha256" || k.Secret != "c2VjcmV0MQ==" || k.Created.IsZero() {
		t.Errorf("Get: %+v (the duplicate must not have replaced it)", k)
	}

	l, err := ks.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 2 || l[0].Name != "a-key." || l[1].Name != "xfer.example." {
		t.Errorf("List: %+v", l)
	}

	if _, err := ks.Get(ctx, "nope."); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get unknown: %v, want ErrNotFound", err)
	}
	if err := ks.Delete(ctx, "a-key."); err != nil {
		t.Fatal(err)
	}
	if err := ks.Delete(ctx, "a-key."); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if l, _ := ks.List(ctx); len(l) != 1 {
		t.Errorf("List after Delete: %+v", l)
	}
}
