package broker

import (
	"context"
	"testing"
	"time"

	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

// A durable write (WaitReplicas) that no replica acknowledges in time fails with
// ErrNotDurable although the primary applied it. The refresh path then answers 503 and undoes
// its writes, so the client's retry with the same refresh token succeeds instead of being taken
// for reuse (which would revoke the whole family and log the user out).
func TestSurvivalARefreshRefusedForDurabilityCanBeRetried(t *testing.T) {
	p := redistest.StartProcess(t)
	prefix := redistest.UniquePrefix()
	plain, err := redisstore.New(context.Background(), redisstore.Options{URL: p.URL(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })
	// The same Redis seen through a Store that demands one replica acknowledgement: there is
	// no replica, so every write it makes is applied and then reported not durable.
	durable, err := redisstore.New(context.Background(), redisstore.Options{URL: p.URL(), Prefix: prefix, WaitReplicas: 1, WaitTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = durable.Close() })
	dir := t.TempDir()
	a := newTestBrokerIn(t, plain, dir)
	b := newTestBrokerIn(t, durable, dir, withIssuer(a.URL))
	tok := survivalLogin(t, a.URL)
	if code, e, _ := tokenPost(t, b.URL, refreshForm(tok.RefreshToken)); code != 503 || e != "temporarily_unavailable" {
		t.Fatalf("refresh with durability unavailable: %d %s, want 503 temporarily_unavailable", code, e)
	}
	if code, e, _ := tokenPost(t, a.URL, refreshForm(tok.RefreshToken)); code != 200 {
		t.Fatalf("the client's retry of a refresh answered 503: %d %s (the 503 left a half-written rotation)", code, e)
	}
}
