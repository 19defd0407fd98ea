package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
)

// oddKeys are keys a careless implementation would mangle: Redis Cluster hash tags, bytes that
// are not UTF-8, separators, glob characters and long keys.
var oddKeys = []string{
	"pin:{RSSMRA80A01H501U}:lock",
	"pin:{RSSMRA80A01H501U}:fails",
	"{}",
	"{",
	"}{",
	"a{b}c{d}",
	"*",
	"?[ab]",
	"with space",
	"line\nbreak\r\n",
	"nul\x00byte",
	"\xff\xfe not utf-8",
	"città ✓",
	"%s %d %%",
	string(bytes.Repeat([]byte("long/"), 200)),
}

var keyValueRules = []rule{
	{"keys with hash-tag braces and odd bytes stay distinct and intact", func(t *testing.T, h *harness) {
		for i, k := range oddKeys {
			h.put(k, fmt.Sprintf("value %d", i), 0)
		}
		for i, k := range oddKeys {
			h.wantValue(k, fmt.Sprintf("value %d", i))
		}
		if n := h.incr("n{x}", 2, time.Minute); n != 2 {
			t.Fatalf("Incr on a hash-tagged key = %d, want 2", n)
		}
		if !h.cas("c{x}", nil, []byte("v"), time.Minute) {
			t.Fatal("CompareAndSwap on a hash-tagged key refused")
		}
	}},
	{"values keep every byte", func(t *testing.T, h *harness) {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		h.put("bytes", string(all), 0)
		h.wantValue("bytes", string(all))
		if !h.cas("bytes", all, []byte("\x00"), 0) {
			t.Fatal("CompareAndSwap with a binary old value refused")
		}
		h.wantValue("bytes", "\x00")
	}},
	{"a 1 MiB value round-trips", func(t *testing.T, h *harness) {
		big := make([]byte, 1<<20)
		_, _ = rand.Read(big)
		if err := h.s.Put(h.ctx, "big", big, time.Minute); err != nil {
			t.Fatal(err)
		}
		h.wantValue("big", string(big))
		next := append(bytes.Clone(big), 'x')
		if !h.cas("big", big, next, time.Minute) {
			t.Fatal("CompareAndSwap of a 1 MiB value refused")
		}
		got, err := h.s.Take(h.ctx, "big")
		if err != nil || !bytes.Equal(got, next) {
			t.Fatalf("Take: len %d, %v; want %d bytes", len(got), err, len(next))
		}
	}},
}

var expiryRules = []rule{
	{"every write with a ttl expires, and the key is then absent for every operation", func(t *testing.T, h *harness) {
		ttl := h.expiryTTL()
		h.put("put", "v", ttl)
		h.put("take", "v", ttl)
		h.putIfAbsent("pia", "v", ttl)
		h.cas("cas", nil, []byte("v"), ttl)
		h.incr("incr", 5, ttl)
		h.put("forever", "v", 0)
		for _, k := range []string{"put", "take", "pia", "cas"} {
			h.wantValue(k, "v")
		}
		if h.adv != nil {
			h.wait(ttl - time.Nanosecond)
			h.wantValue("put", "v")
			h.wantTTL("put", time.Nanosecond)
			h.wait(time.Nanosecond)
		} else {
			h.wait(ttl + ttl/5)
		}
		for _, k := range []string{"put", "take", "pia", "cas", "incr"} {
			h.wantAbsent(k)
		}
		if got, err := h.s.Take(h.ctx, "take"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Take of an expired key = %q, %v; want ErrNotFound", got, err)
		}
		if !h.putIfAbsent("pia", "again", 0) {
			t.Fatal("PutIfAbsent over an expired key refused")
		}
		if !h.cas("cas", nil, []byte("again"), 0) {
			t.Fatal("CompareAndSwap(old=nil) over an expired key refused")
		}
		if n := h.incr("incr", 1, 0); n != 1 {
			t.Fatalf("Incr over an expired counter = %d, want 1", n)
		}
		h.wantValue("forever", "v")
	}},
}

var lifecycleRules = []rule{
	{"Ping succeeds on an open store", func(t *testing.T, h *harness) {
		if err := h.s.Ping(h.ctx); err != nil {
			t.Fatal(err)
		}
	}},
	{"a cancelled context returns an error", func(t *testing.T, h *harness) {
		h.put("k", "v", 0)
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		ops := map[string]func() error{
			"Put":            func() error { return h.s.Put(ctx, "k", []byte("x"), 0) },
			"Get":            func() error { _, err := h.s.Get(ctx, "k"); return err },
			"Take":           func() error { _, err := h.s.Take(ctx, "k"); return err },
			"PutIfAbsent":    func() error { _, err := h.s.PutIfAbsent(ctx, "new", []byte("x"), 0); return err },
			"CompareAndSwap": func() error { _, err := h.s.CompareAndSwap(ctx, "k", []byte("v"), []byte("x"), 0); return err },
			"Delete":         func() error { return h.s.Delete(ctx, "k") },
			"Incr":           func() error { _, err := h.s.Incr(ctx, "n", 1, 0); return err },
			"TTL":            func() error { _, err := h.s.TTL(ctx, "k"); return err },
			"Throttle": func() error {
				_, _, err := h.s.Throttle(ctx, "t", store.Rate{Limit: 1, Period: time.Minute})
				return err
			},
			"Ping": func() error { return h.s.Ping(ctx) },
			"Update": func() error {
				_, err := store.Update(ctx, h.s, "k", 0, func([]byte) ([]byte, error) { return []byte("x"), nil })
				return err
			},
		}
		for name, op := range ops {
			if err := op(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
			}
		}
		h.wantValue("k", "v")
		h.wantAbsent("new")
		h.wantAbsent("n")
		h.wantAbsent("t")
	}},
	{"operations after Close fail and Close is idempotent", func(t *testing.T, h *harness) {
		h.put("k", "v", 0)
		if err := h.s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := h.s.Get(h.ctx, "k"); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get after Close: %v, want a closed error", err)
		}
		if err := h.s.Put(h.ctx, "k", []byte("x"), 0); err == nil {
			t.Error("Put after Close succeeded")
		}
		if err := h.s.Ping(h.ctx); err == nil {
			t.Error("Ping after Close succeeded")
		}
		if err := h.s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}},
}
