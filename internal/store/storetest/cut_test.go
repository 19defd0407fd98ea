package storetest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
)

func TestCutStore(t *testing.T) {
	ctx := context.Background()
	mem := memory.New(memory.Options{})
	defer mem.Close()
	c := storetest.NewCutStore(mem)
	c.After(storetest.Once("Put", "k"))
	if err := c.Put(ctx, "k", []byte("1"), 0); !errors.Is(err, storetest.ErrCut) {
		t.Fatalf("cut after: %v", err)
	}
	if v, err := mem.Get(ctx, "k"); err != nil || string(v) != "1" {
		t.Fatalf("a command cut after it ran keeps its effect: %q %v", v, err)
	}
	if err := c.Put(ctx, "k", []byte("2"), 0); err != nil {
		t.Fatalf("Once cuts once: %v", err)
	}
	c.Before(func(op, key string) bool { return op == "Incr" })
	if _, err := c.Incr(ctx, "n", 1, 0); !errors.Is(err, storetest.ErrCut) {
		t.Fatalf("cut before: %v", err)
	}
	if n, _ := mem.Incr(ctx, "n", 0, 0); n != 0 {
		t.Fatalf("a command cut before it ran has no effect: %d", n)
	}
	rate := store.Rate{Limit: 1, Period: time.Minute}
	c.Before(func(op, key string) bool { return op == "Throttle" })
	if _, _, err := c.Throttle(ctx, "t", rate); !errors.Is(err, storetest.ErrCut) {
		t.Fatalf("Throttle cut before: %v", err)
	}
	if ok, _, _ := mem.Throttle(ctx, "t", rate); !ok {
		t.Fatal("a Throttle cut before it ran counted")
	}
}
