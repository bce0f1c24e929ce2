package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestZones(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	zs := db.Zones()

	if err := zs.Add(ctx, Zone{Name: "B.example.", Kind: KindPrimary}); err != nil {
		t.Fatal(err)
	}
	if err := zs.Add(ctx, Zone{Name: "a.example.", Kind: KindSecondary,
		Primaries: []string{"127.0.0.2:5300", "peer-b"}, TSIGKey: "k1.", Account: "acme"}); err != nil {
		t.Fatal(err)
	}
	if err := zs.Add(ctx, Zone{Name: "b.EXAMPLE.", Kind: KindNative}); !errors.Is(err, ErrExists) {
		t.Errorf("Add of a duplicate (other case): %v, want ErrExists", err)
	}

	b, err := zs.Get(ctx, "b.example.")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "b.example." || b.Kind != KindPrimary || b.SerialPolicy != SerialIncrement ||
		len(b.Primaries) != 0 || !b.LastCheck.IsZero() || !b.NotifiedAt.IsZero() ||
		b.Created.IsZero() || b.Updated.IsZero() {
		t.Errorf("Get b: %+v", b)
	}

	list, err := zs.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, z := range list {
		names = append(names, z.Name)
	}
	if !slices.Equal(names, []string{"a.example.", "b.example."}) {
		t.Errorf("List: %v", names)
	}
	a := list[0]
	if !slices.Equal(a.Primaries, []string{"127.0.0.2:5300", "peer-b"}) || a.TSIGKey != "k1." || a.Account != "acme" {
		t.Errorf("List a: %+v", a)
	}

	_, err = zs.Get(ctx, "nope.example.")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Get unknown: %v, want ErrNotFound", err)
	}
	if err == nil || err.Error() != `store: zone "nope.example.": not found` {
		t.Errorf("Get unknown message: %v", err)
	}

	for _, bad := range []Zone{
		{Name: "x.", Kind: "master"},
		{Name: "x.", Kind: KindPrimary, SerialPolicy: "random"},
	} {
		if err := zs.Add(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Add %+v: %v, want ErrInvalid", bad, err)
		}
		if err := zs.Put(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put %+v: %v, want ErrInvalid", bad, err)
		}
	}
}

func TestZonePutKeepsState(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	zs := db.Zones()

	// Put adds.
	if err := zs.Put(ctx, Zone{Name: "x.example.", Kind: KindSecondary, Primaries: []string{"127.0.0.2"}}); err != nil {
		t.Fatal(err)
	}
	checked := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := zs.RecordCheck(ctx, "x.example.", checked, 42); err != nil {
		t.Fatal(err)
	}
	before, _ := zs.Get(ctx, "x.example.")

	// Put replaces the configuration and keeps the state and Created.
	if err := zs.Put(ctx, Zone{Name: "X.example.", Kind: KindPrimary, SerialPolicy: SerialDate}); err != nil {
		t.Fatal(err)
	}
	z, err := zs.Get(ctx, "x.example.")
	if err != nil {
		t.Fatal(err)
	}
	if z.Kind != KindPrimary || z.SerialPolicy != SerialDate || len(z.Primaries) != 0 {
		t.Errorf("configuration after Put: %+v", z)
	}
	if !z.LastCheck.Equal(checked) || z.LastSerial != 42 {
		t.Errorf("state after Put: %v %d, want %v 42", z.LastCheck, z.LastSerial, checked)
	}
	if !z.Created.Equal(before.Created) || z.Updated.Before(before.Updated) {
		t.Errorf("Created %v -> %v, Updated %v -> %v", before.Created, z.Created, before.Updated, z.Updated)
	}
}

func TestZoneSetters(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	zs := db.Zones()
	if err := zs.Add(ctx, Zone{Name: "x.example.", Kind: KindSecondary, Primaries: []string{"127.0.0.2"}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	steps := []struct {
		name string
		do   func(name string) error
		want func(Zone) bool
	}{
		{"SetKind", func(n string) error { return zs.SetKind(ctx, n, KindPrimary) },
			func(z Zone) bool { return z.Kind == KindPrimary }},
		{"SetPrimaries", func(n string) error {
			return zs.SetPrimaries(ctx, n, []string{"[::1]:5300", "127.0.0.3", "peer-c"}, "k2.")
		}, func(z Zone) bool {
			return slices.Equal(z.Primaries, []string{"[::1]:5300", "127.0.0.3", "peer-c"}) && z.TSIGKey == "k2."
		}},
		{"SetSerialPolicy", func(n string) error { return zs.SetSerialPolicy(ctx, n, SerialUnixTime) },
			func(z Zone) bool { return z.SerialPolicy == SerialUnixTime }},
		{"SetAccount", func(n string) error { return zs.SetAccount(ctx, n, "acme") },
			func(z Zone) bool { return z.Account == "acme" }},
		{"RecordCheck", func(n string) error { return zs.RecordCheck(ctx, n, at, 4294967295) },
			func(z Zone) bool { return z.LastCheck.Equal(at) && z.LastSerial == 4294967295 }},
		{"SetNotifiedSerial", func(n string) error { return zs.SetNotifiedSerial(ctx, n, 0, at.Add(time.Second)) },
			func(z Zone) bool { return z.NotifiedAt.Equal(at.Add(time.Second)) && z.NotifiedSerial == 0 }},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.do("X.EXAMPLE."); err != nil {
				t.Fatal(err)
			}
			z, err := zs.Get(ctx, "x.example.")
			if err != nil {
				t.Fatal(err)
			}
			if !s.want(z) {
				t.Errorf("after %s: %+v", s.name, z)
			}
			if err := s.do("nope.example."); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s of an unknown zone: %v, want ErrNotFound", s.name, err)
			}
		})
	}
	if err := zs.SetKind(ctx, "x.example.", "slave"); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetKind slave: %v, want ErrInvalid", err)
	}
	if err := zs.SetSerialPolicy(ctx, "x.example.", "weekly"); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetSerialPolicy weekly: %v, want ErrInvalid", err)
	}
	// The setters touched only their own fields: check the whole row.
	z, _ := zs.Get(ctx, "x.example.")
	if z.Kind != KindPrimary || z.SerialPolicy != SerialUnixTime || z.Account != "acme" ||
		z.TSIGKey != "k2." || z.LastSerial != 4294967295 || !z.NotifiedAt.Equal(at.Add(time.Second)) {
		t.Errorf("final row: %+v", z)
	}
}

func TestZoneUpdate(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	zs := db.Zones()
	if err := zs.Add(ctx, Zone{Name: "x.example.", Kind: KindPrimary}); err != nil {
		t.Fatal(err)
	}
	// Demote: kind and primaries change together.
	err := zs.Update(ctx, "x.example.", func(z *Zone) error {
		z.Kind = KindSecondary
		z.Primaries = []string{"127.0.0.9"}
		z.TSIGKey = "k1."
		z.Name = "renamed.example." // ignored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	z, err := zs.Get(ctx, "x.example.")
	if err != nil {
		t.Fatal(err)
	}
	if z.Kind != KindSecondary || !slices.Equal(z.Primaries, []string{"127.0.0.9"}) || z.TSIGKey != "k1." {
		t.Errorf("after Update: %+v", z)
	}

	// An error from fn changes nothing and comes back as is.
	stop := errors.New("stop")
	err = zs.Update(ctx, "x.example.", func(z *Zone) error {
		z.Kind = KindNative
		return stop
	})
	if err != stop {
		t.Errorf("Update returning an error: %v", err)
	}
	// An invalid result changes nothing either.
	err = zs.Update(ctx, "x.example.", func(z *Zone) error {
		z.Kind = "bogus"
		return nil
	})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Update to an invalid kind: %v", err)
	}
	if z, _ := zs.Get(ctx, "x.example."); z.Kind != KindSecondary {
		t.Errorf("kind %s after failed updates", z.Kind)
	}
	if err := zs.Update(ctx, "nope.", func(*Zone) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update unknown: %v", err)
	}
}

func TestZoneDeleteCascades(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	zs := db.Zones()
	for _, n := range []string{"x.example.", "y.example."} {
		if err := zs.Add(ctx, Zone{Name: n, Kind: KindPrimary}); err != nil {
			t.Fatal(err)
		}
		if err := db.Meta().Set(ctx, n, MetaAlsoNotify, []string{"127.0.0.3", "127.0.0.4"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Events().Append(ctx, Event{Zone: "x.example.", Kind: "edit"}); err != nil {
		t.Fatal(err)
	}
	if err := zs.Delete(ctx, "X.example."); err != nil {
		t.Fatal(err)
	}
	if _, err := zs.Get(ctx, "x.example."); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := zs.Delete(ctx, "x.example."); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v", err)
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM zone_meta WHERE zone = 'x.example.'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d metadata rows left for the deleted zone (%v)", n, err)
	}
	if v, err := db.Meta().Get(ctx, "y.example.", MetaAlsoNotify); err != nil || len(v) != 2 {
		t.Errorf("other zone's metadata: %v %v", v, err)
	}
	// The log keeps the history of a deleted zone.
	if es, _ := db.Events().List(ctx, EventFilter{Zone: "x.example."}); len(es) != 1 {
		t.Errorf("%d events for the deleted zone, want 1", len(es))
	}
	// A re-added zone starts without the old metadata.
	if err := zs.Add(ctx, Zone{Name: "x.example.", Kind: KindPrimary}); err != nil {
		t.Fatal(err)
	}
	if m, err := db.Meta().List(ctx, "x.example."); err != nil || len(m) != 0 {
		t.Errorf("metadata of the re-added zone: %v %v", m, err)
	}
}
