package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
)

func TestMeta(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	ms := db.Meta()
	if err := db.Zones().Add(ctx, Zone{Name: "x.example.", Kind: KindPrimary}); err != nil {
		t.Fatal(err)
	}

	if m, err := ms.List(ctx, "x.example."); err != nil || m == nil || len(m) != 0 {
		t.Errorf("List with no metadata: %v %v, want an empty map", m, err)
	}
	if v, err := ms.Get(ctx, "x.example.", MetaAlsoNotify); err != nil || v != nil {
		t.Errorf("Get of an unset kind: %v %v, want nil, nil", v, err)
	}

	// Values keep their order; kinds are upper-cased, zones lower-cased.
	if err := ms.Set(ctx, "X.Example.", "also-notify", []string{"127.0.0.4", "127.0.0.3:5300", "127.0.0.2"}); err != nil {
		t.Fatal(err)
	}
	if err := ms.Set(ctx, "x.example.", MetaTSIGAllowAXFR, []string{"k1."}); err != nil {
		t.Fatal(err)
	}
	v, err := ms.Get(ctx, "x.example.", MetaAlsoNotify)
	if err != nil || !slices.Equal(v, []string{"127.0.0.4", "127.0.0.3:5300", "127.0.0.2"}) {
		t.Errorf("Get: %v %v", v, err)
	}

	// Set replaces.
	if err := ms.Set(ctx, "x.example.", MetaAlsoNotify, []string{"127.0.0.7"}); err != nil {
		t.Fatal(err)
	}
	m, err := ms.List(ctx, "x.example.")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{MetaAlsoNotify: {"127.0.0.7"}, MetaTSIGAllowAXFR: {"k1."}}
	if !maps.EqualFunc(m, want, slices.Equal) {
		t.Errorf("List: %v, want %v", m, want)
	}

	// An empty list deletes the kind.
	if err := ms.Set(ctx, "x.example.", MetaAlsoNotify, nil); err != nil {
		t.Fatal(err)
	}
	if v, err := ms.Get(ctx, "x.example.", MetaAlsoNotify); err != nil || v != nil {
		t.Errorf("Get after deleting: %v %v", v, err)
	}
	if m, _ := ms.List(ctx, "x.example."); len(m) != 1 {
		t.Errorf("List after deleting: %v", m)
	}

	// Unknown zones.
	if err := ms.Set(ctx, "nope.", MetaAlsoNotify, []string{"127.0.0.1"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Set on an unknown zone: %v, want ErrNotFound", err)
	}
	if _, err := ms.Get(ctx, "nope.", MetaAlsoNotify); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get on an unknown zone: %v, want ErrNotFound", err)
	}
	if _, err := ms.List(ctx, "nope."); !errors.Is(err, ErrNotFound) {
		t.Errorf("List on an unknown zone: %v, want ErrNotFound", err)
	}
}

func TestMetaValuesOfEveryZone(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	ms := db.Meta()
	for _, z := range []string{"a.example.", "b.example.", "c.example."} {
		if err := db.Zones().Add(ctx, Zone{Name: z, Kind: KindPrimary}); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := ms.Values(ctx, MetaAlsoNotify); err != nil || v != nil {
		t.Errorf("Values with none set: %v %v, want nil, nil", v, err)
	}
	ms.Set(ctx, "a.example.", MetaAlsoNotify, []string{"127.0.0.4", "127.0.0.3:5300"})
	ms.Set(ctx, "b.example.", "also-notify", []string{"127.0.0.4"})
	ms.Set(ctx, "c.example.", MetaAllowAXFRFrom, []string{"127.0.0.9"})
	v, err := ms.Values(ctx, "Also-Notify")
	if err != nil || !slices.Equal(v, []string{"127.0.0.3:5300", "127.0.0.4"}) {
		t.Errorf("Values: %v %v; want each value once, sorted", v, err)
	}
	if err := db.Zones().Delete(ctx, "a.example."); err != nil {
		t.Fatal(err)
	}
	if v, _ := ms.Values(ctx, MetaAlsoNotify); !slices.Equal(v, []string{"127.0.0.4"}) {
		t.Errorf("Values after a zone is deleted: %v", v)
	}
}
