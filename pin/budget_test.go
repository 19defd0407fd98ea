package pin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/providers"
)

// A burst of 1,000 simultaneous PIN logins never runs more Argon2id computations at once than
// the memory budget allows; the attempts that find no slot in time get ErrOverloaded (a
// temporary unavailability, never counted as a wrong PIN).
func TestBurstStaysWithinTheHashingMemoryBudget(t *testing.T) {
	var inflight, peak atomic.Int64
	e := newEnv(t, func(c *Config) {
		c.Argon2 = Argon2Params{Time: 1, MemoryKiB: 4 * 1024, Threads: 1, KeyLen: 32}
		c.HashMemoryBudgetMiB = 8 // two 4 MiB computations at once
		c.HashWait = 20 * time.Millisecond
	})
	if got := cap(e.svc.slots); got != 2 {
		t.Fatalf("%d hashing slots, want 2 for an 8 MiB budget at 4 MiB each", got)
	}
	e.svc.onHash = func() {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // keep the slot long enough for the burst to queue
		inflight.Add(-1)
	}
	var wg sync.WaitGroup
	var overloaded, refused atomic.Int64
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			first15 := fmt.Sprintf("RSSMRA80A01H%03d", i%1000)
			c, _ := fiscalcode.CheckLetter(first15)
			_, err := e.svc.Authenticate(context.Background(), first15+string(c), "A1B2C3D4")
			switch {
			case errors.Is(err, ErrOverloaded):
				if !errors.Is(err, providers.ErrUnavailable) || errors.Is(err, providers.ErrBadCredentials) {
					t.Errorf("overload must be a temporary unavailability, not a wrong PIN: %v", err)
				}
				overloaded.Add(1)
			case err != nil:
				refused.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if p := peak.Load(); p > 2 {
		t.Fatalf("%d Argon2id computations ran at once; the budget allows 2", p)
	}
	if overloaded.Load() == 0 || overloaded.Load() != int64(e.svc.Overloaded()) {
		t.Fatalf("overloaded attempts = %d (counter %d): the burst never hit the cap", overloaded.Load(), e.svc.Overloaded())
	}
	t.Logf("1000 attempts: %d refused as wrong/unknown after hashing, %d told to try again; peak %d at once",
		refused.Load(), overloaded.Load(), peak.Load())
}
