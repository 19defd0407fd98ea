package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
)

var basicRules = []rule{
	{"Get returns what Put stored", func(t *testing.T, h *harness) {
		h.put("k", "v1", 0)
		h.wantValue("k", "v1")
	}},
	{"Put overwrites the previous value", func(t *testing.T, h *harness) {
		h.put("k", "v1", 0)
		h.put("k", "v2", 0)
		h.wantValue("k", "v2")
	}},
	{"Get of an absent key is ErrNotFound", func(t *testing.T, h *harness) {
		h.wantAbsent("never-written")
	}},
	{"Delete removes the key", func(t *testing.T, h *harness) {
		h.put("k", "v", 0)
		if err := h.s.Delete(h.ctx, "k"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		h.wantAbsent("k")
	}},
	{"Delete of an absent key is not an error", func(t *testing.T, h *harness) {
		if err := h.s.Delete(h.ctx, "never-written"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}},
	{"stored values do not alias the caller's slices", func(t *testing.T, h *harness) {
		in := []byte("value")
		if err := h.s.Put(h.ctx, "k", in, 0); err != nil {
			t.Fatal(err)
		}
		in[0] = 'X'
		got, err := h.s.Get(h.ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		got[0] = 'Y'
		h.wantValue("k", "value")
	}},
	{"an empty value is present, not absent", func(t *testing.T, h *harness) {
		h.put("empty", "", 0)
		got, err := h.s.Get(h.ctx, "empty")
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("Get(empty) = %q (nil: %t), %v; want a non-nil empty slice", got, got == nil, err)
		}
		if h.putIfAbsent("empty", "x", 0) {
			t.Fatal("PutIfAbsent over an empty value succeeded")
		}
		if h.cas("empty", nil, []byte("x"), 0) {
			t.Fatal("CompareAndSwap(old=nil) over an empty value succeeded")
		}
		if !h.cas("empty", []byte{}, []byte("x"), 0) {
			t.Fatal("CompareAndSwap(old=empty) over an empty value refused")
		}
		h.wantValue("empty", "x")
	}},
	{"a nil value is stored as empty", func(t *testing.T, h *harness) {
		if err := h.s.Put(h.ctx, "k", nil, 0); err != nil {
			t.Fatal(err)
		}
		got, err := h.s.Take(h.ctx, "k")
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("Take = %q (nil: %t), %v; want a non-nil empty slice", got, got == nil, err)
		}
	}},
	{"a negative ttl is refused", func(t *testing.T, h *harness) {
		if err := h.s.Put(h.ctx, "k", []byte("v"), -time.Second); err == nil {
			t.Error("Put accepted a negative ttl")
		}
		if _, err := h.s.PutIfAbsent(h.ctx, "k", []byte("v"), -time.Second); err == nil {
			t.Error("PutIfAbsent accepted a negative ttl")
		}
		if _, err := h.s.CompareAndSwap(h.ctx, "k", nil, []byte("v"), -time.Second); err == nil {
			t.Error("CompareAndSwap accepted a negative ttl")
		}
		if _, err := h.s.Incr(h.ctx, "n", 1, -time.Second); err == nil {
			t.Error("Incr accepted a negative ttl")
		}
		h.wantAbsent("k")
		h.wantAbsent("n")
	}},
}

var takeRules = []rule{
	{"Take returns the value then deletes it", func(t *testing.T, h *harness) {
		h.put("code", "payload", time.Minute)
		got, err := h.s.Take(h.ctx, "code")
		if err != nil || !bytes.Equal(got, []byte("payload")) {
			t.Fatalf("Take = %q, %v; want payload", got, err)
		}
		h.wantAbsent("code")
		if got, err := h.s.Take(h.ctx, "code"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second Take = %q, %v; want ErrNotFound", got, err)
		}
	}},
	{"Take of an absent key is ErrNotFound", func(t *testing.T, h *harness) {
		if got, err := h.s.Take(h.ctx, "never-written"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Take = %q, %v; want ErrNotFound", got, err)
		}
	}},
}

var putIfAbsentRules = []rule{
	{"PutIfAbsent writes only when the key is absent", func(t *testing.T, h *harness) {
		if !h.putIfAbsent("id", "first", time.Hour) {
			t.Fatal("first PutIfAbsent refused")
		}
		if h.putIfAbsent("id", "second", time.Minute) {
			t.Fatal("second PutIfAbsent succeeded")
		}
		h.wantValue("id", "first")
		h.wantTTL("id", time.Hour)
	}},
	{"PutIfAbsent succeeds again after Delete", func(t *testing.T, h *harness) {
		h.putIfAbsent("id", "first", 0)
		if err := h.s.Delete(h.ctx, "id"); err != nil {
			t.Fatal(err)
		}
		if !h.putIfAbsent("id", "again", 0) {
			t.Fatal("PutIfAbsent after Delete refused")
		}
		h.wantValue("id", "again")
		h.wantTTL("id", 0)
	}},
}

var casRules = []rule{
	{"CompareAndSwap with old nil creates an absent key", func(t *testing.T, h *harness) {
		if !h.cas("k", nil, []byte("v1"), 0) {
			t.Fatal("refused")
		}
		h.wantValue("k", "v1")
	}},
	{"CompareAndSwap with old nil is refused when the key exists", func(t *testing.T, h *harness) {
		h.put("k", "v1", 0)
		if h.cas("k", nil, []byte("v2"), 0) {
			t.Fatal("swapped")
		}
		h.wantValue("k", "v1")
	}},
	{"CompareAndSwap swaps when old matches", func(t *testing.T, h *harness) {
		h.put("k", "v1", 0)
		if !h.cas("k", []byte("v1"), []byte("v2"), 0) {
			t.Fatal("refused")
		}
		h.wantValue("k", "v2")
	}},
	{"CompareAndSwap refuses a mismatch", func(t *testing.T, h *harness) {
		h.put("k", "v1", 0)
		if h.cas("k", []byte("v0"), []byte("v2"), 0) {
			t.Fatal("swapped")
		}
		if h.cas("k", []byte("v1\x00"), []byte("v2"), 0) {
			t.Fatal("swapped on a longer old value")
		}
		h.wantValue("k", "v1")
	}},
	{"CompareAndSwap with old set is refused when the key is absent", func(t *testing.T, h *harness) {
		if h.cas("k", []byte("v1"), []byte("v2"), 0) {
			t.Fatal("swapped")
		}
		h.wantAbsent("k")
	}},
	{"CompareAndSwap with next nil deletes the key", func(t *testing.T, h *harness) {
		h.put("k", "v1", 0)
		if !h.cas("k", []byte("v1"), nil, 0) {
			t.Fatal("refused")
		}
		h.wantAbsent("k")
	}},
	{"CompareAndSwap applies the ttl to the new value", func(t *testing.T, h *harness) {
		h.put("k", "v1", 0)
		if !h.cas("k", []byte("v1"), []byte("v2"), time.Hour) {
			t.Fatal("refused")
		}
		h.wantTTL("k", time.Hour)
		if !h.cas("k", []byte("v2"), []byte("v3"), 0) {
			t.Fatal("refused")
		}
		h.wantTTL("k", 0)
	}},
}

var incrRules = []rule{
	{"Incr creates the counter at delta with the ttl", func(t *testing.T, h *harness) {
		if n := h.incr("fails", 1, time.Hour); n != 1 {
			t.Fatalf("Incr = %d, want 1", n)
		}
		h.wantTTL("fails", time.Hour)
	}},
	{"Incr keeps the ttl of an existing counter", func(t *testing.T, h *harness) {
		h.incr("fails", 1, time.Minute)
		if n := h.incr("fails", 1, time.Hour); n != 2 {
			t.Fatalf("Incr = %d, want 2", n)
		}
		h.wantTTL("fails", time.Minute)
		h.incr("forever", 1, 0)
		h.incr("forever", 1, time.Minute)
		h.wantTTL("forever", 0)
	}},
	{"Incr with a negative delta decrements", func(t *testing.T, h *harness) {
		h.incr("n", 5, 0)
		if n := h.incr("n", -7, 0); n != -2 {
			t.Fatalf("Incr = %d, want -2", n)
		}
		if n := h.incr("m", -3, 0); n != -3 {
			t.Fatalf("Incr on a new key = %d, want -3", n)
		}
	}},
	{"a counter is stored as decimal text", func(t *testing.T, h *harness) {
		h.incr("n", 42, 0)
		h.wantValue("n", "42")
		h.put("m", "-10", 0)
		if n := h.incr("m", 3, 0); n != -7 {
			t.Fatalf("Incr = %d, want -7", n)
		}
	}},
	{"Incr of a value that is not an integer fails", func(t *testing.T, h *harness) {
		h.put("k", "not a number", 0)
		if n, err := h.s.Incr(h.ctx, "k", 1, 0); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Incr = %d, %v; want a type error", n, err)
		}
		h.wantValue("k", "not a number")
	}},
	{"Incr past the int64 range fails", func(t *testing.T, h *harness) {
		h.put("k", "9223372036854775807", 0)
		if n, err := h.s.Incr(h.ctx, "k", 1, 0); err == nil {
			t.Fatalf("Incr = %d, want an overflow error", n)
		}
		h.wantValue("k", "9223372036854775807")
	}},
}

var ttlRules = []rule{
	{"TTL is 0 for a key without expiry", func(t *testing.T, h *harness) {
		h.put("k", "v", 0)
		h.wantTTL("k", 0)
	}},
	{"TTL of an absent key is ErrNotFound", func(t *testing.T, h *harness) {
		h.wantAbsent("never-written")
	}},
	{"TTL reports the remaining time", func(t *testing.T, h *harness) {
		h.put("k", "v", 10*time.Minute)
		h.wantTTL("k", 10*time.Minute)
		if h.adv != nil {
			h.wait(4 * time.Minute)
			h.wantTTL("k", 6*time.Minute)
		}
	}},
	{"Put with ttl 0 removes a previous expiry", func(t *testing.T, h *harness) {
		h.put("k", "v1", time.Hour)
		h.put("k", "v2", 0)
		h.wantTTL("k", 0)
	}},
	{"Put replaces a previous expiry", func(t *testing.T, h *harness) {
		h.put("k", "v1", time.Minute)
		h.put("k", "v2", time.Hour)
		h.wantTTL("k", time.Hour)
	}},
	{"a sub-millisecond ttl still expires the key", func(t *testing.T, h *harness) {
		h.put("k", "v", time.Microsecond)
		h.wait(2 * time.Millisecond)
		h.wantAbsent("k")
	}},
}
