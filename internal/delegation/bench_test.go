package delegation

import (
	"testing"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
)

// BenchmarkRegisterAndActiveFor measures a registration (four CAS writes and a put-if-absent)
// and the login-time lookup, on memory and on a real Redis.
func BenchmarkRegisterAndActiveFor(b *testing.B) {
	run := func(b *testing.B, st store.Store) {
		f := newFixtureOn(b, st, storetest.NewClock(t0))
		i := 0
		b.Run("Register", func(b *testing.B) {
			for b.Loop() {
				if _, err := f.reg.Register(ctx, online(cf(i), cf(i+1))); err != nil {
					b.Fatal(err)
				}
				i += 2
			}
		})
		b.Run("ActiveFor", func(b *testing.B) {
			for b.Loop() {
				if _, err := f.reg.ActiveFor(ctx, cf(1)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("memory", func(b *testing.B) {
		st := memory.New(memory.Options{})
		defer st.Close()
		run(b, st)
	})
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b)
		st, err := redis.New(ctx, redis.Options{URL: srv.URL, Prefix: srv.Prefix})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		run(b, st)
	})
}
