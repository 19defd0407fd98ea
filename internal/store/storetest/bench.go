package storetest

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
)

// benchValue is the size of a typical pending authorisation record.
var benchValue = bytes.Repeat([]byte("x"), 512)

// Bench measures Put, Get, Take, Incr and Throttle on s, sequentially and in parallel. Keys are
// prefixed with "bench:"; s is not closed.
func Bench(b *testing.B, s store.Store) {
	ctx := context.Background()
	must := func(b *testing.B, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Put", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			must(b, s.Put(ctx, "bench:put:"+strconv.Itoa(i), benchValue, time.Minute))
		}
	})
	b.Run("Get", func(b *testing.B) {
		must(b, s.Put(ctx, "bench:get", benchValue, time.Minute))
		b.ReportAllocs()
		for b.Loop() {
			_, err := s.Get(ctx, "bench:get")
			must(b, err)
		}
	})
	b.Run("Take", func(b *testing.B) {
		keys := make([]string, b.N)
		for i := range keys {
			keys[i] = "bench:take:" + strconv.Itoa(i)
			must(b, s.Put(ctx, keys[i], benchValue, time.Minute))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			_, err := s.Take(ctx, keys[i])
			must(b, err)
		}
	})
	b.Run("Incr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := s.Incr(ctx, "bench:incr", 1, time.Minute)
			must(b, err)
		}
	})
	b.Run("Throttle", func(b *testing.B) {
		rate := store.Rate{Limit: 1 << 30, Period: time.Minute}
		b.ReportAllocs()
		for b.Loop() {
			_, _, err := s.Throttle(ctx, "bench:throttle", rate)
			must(b, err)
		}
	})
	b.Run("GetParallel", func(b *testing.B) {
		for i := range 64 {
			must(b, s.Put(ctx, "bench:pget:"+strconv.Itoa(i), benchValue, time.Minute))
		}
		var n atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			key := "bench:pget:" + strconv.Itoa(int(n.Add(1)%64))
			for pb.Next() {
				if _, err := s.Get(ctx, key); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("IncrParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Incr(ctx, "bench:pincr", 1, time.Minute); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("ThrottleParallel", func(b *testing.B) {
		rate := store.Rate{Limit: 1 << 30, Period: time.Minute}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := s.Throttle(ctx, "bench:pthrottle", rate); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
