package samltest

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/inps/sportello/providers"
)

// Clock is a settable test clock.
type Clock struct {
	mu sync.Mutex
	T  time.Time
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.T
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.T = c.T.Add(d)
}

// Finisher stands in for the broker: it records the last outcome and answers 200 (Finish) or
// 403 (Fail).
type Finisher struct {
	mu     sync.Mutex
	n      int
	latest *Outcome
}

var _ providers.Finisher = (*Finisher)(nil)

func (f *Finisher) record(o Outcome) {
	f.mu.Lock()
	f.n++
	f.latest = &o
	f.mu.Unlock()
}

// Finish records a login that ended with an identity.
func (f *Finisher) Finish(w http.ResponseWriter, _ *http.Request, loginID string, id *providers.Identity) {
	f.record(Outcome{LoginID: loginID, Identity: id})
	_, _ = io.WriteString(w, "finished "+loginID)
}

// Fail records a login that ended with an error.
func (f *Finisher) Fail(w http.ResponseWriter, _ *http.Request, loginID string, err error) {
	f.record(Outcome{LoginID: loginID, Err: err})
	http.Error(w, "failed", http.StatusForbidden)
}

// LoginRequest knows no pending login.
func (f *Finisher) LoginRequest(context.Context, string) (*providers.LoginRequest, error) {
	return nil, providers.ErrLoginExpired
}

// Last is the last outcome; t fails when there is none.
func (f *Finisher) Last(t testing.TB) Outcome {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.latest == nil {
		t.Fatal("the finisher was not called")
	}
	return *f.latest
}

// Count is how many outcomes were recorded.
func (f *Finisher) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}
