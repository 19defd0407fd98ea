package broker

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

// Redis Sentinel with two replicas and durable writes (WAIT 1): the primary is killed while
// users keep refreshing. Every refresh token the broker handed out (a 200 answer, hence a
// write a replica acknowledged) still works on the promoted replica, and the broker recovers
// by itself through the Sentinel. A refresh whose outcome the failover made unknown (the
// primary applied the rotation and died before answering, and the replica that had it was
// promoted) is the client's retry within tokens.refresh_reuse_grace, not reuse: it works too.
func TestSurvivalSentinelFailoverLosesNoCommittedRefreshToken(t *testing.T) {
	primary := redistest.StartProcess(t, "--repl-diskless-sync-delay", "0")
	_, pport, _ := strings.Cut(primary.Addr(), ":")
	redistest.StartProcess(t, "--replicaof", "127.0.0.1", pport)
	redistest.StartProcess(t, "--replicaof", "127.0.0.1", pport)
	sentinel := redistest.StartSentinel(t, "sportello", primary)
	st, err := redisstore.New(context.Background(), redisstore.Options{Addrs: []string{sentinel.Addr()}, MasterName: "sportello",
		Prefix: redistest.UniquePrefix(), WaitReplicas: 1, WaitTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	// Wait until the replica acknowledges writes.
	if !eventually(20*time.Second, func() bool { return st.Put(context.Background(), "probe", []byte("x"), time.Minute) == nil }) {
		t.Fatal("the replica never acknowledged a write")
	}
	tb := newTestBroker(t, st, withReuseGrace(2*time.Minute))

	// Users that logged in before the failover keep rotating their refresh tokens during it.
	const users = 4
	latest := make([]string, users)
	for i := range latest {
		latest[i] = survivalLogin(t, tb.URL).RefreshToken
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		stop     = make(chan struct{})
		ok, fail int
		refused  [users]int
	)
	for i := 0; i < users; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				rt := latest[i]
				mu.Unlock()
				code, _, body := tokenPost(t, tb.URL, refreshForm(rt))
				mu.Lock()
				if next, _ := body["refresh_token"].(string); code == 200 && next != "" {
					latest[i] = next // committed: it must survive
					ok++
				} else {
					fail++ // refused (503 during the failover): the old token stays the live one
					refused[i]++
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	primary.Kill()
	var ready int
	recovered := eventually(30*time.Second, func() bool { ready, _ = status(t, tb.URL, "/readyz"); return ready == 200 })
	// Let the refreshers run on the new primary a little, then stop them.
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if !recovered {
		t.Fatalf("/readyz = %d 30s after the primary died", ready)
	}
	t.Logf("refreshes during the test: %d answered 200, %d refused", ok, fail)
	for i, rt := range latest {
		// Right after the failover the other replica is still being re-pointed at the new
		// primary, so durable writes may answer 503 for a moment: retry those.
		var code int
		var e string
		var body map[string]any
		eventually(15*time.Second, func() bool { code, e, body = tokenPost(t, tb.URL, refreshForm(rt)); return code != 503 })
		desc, _ := body["error_description"].(string)
		if code != 200 {
			t.Errorf("user %d (%d refreshes refused during the failover): the last refresh token handed out does not work after it: %d %s %s", i, refused[i], code, e, desc)
		}
	}
	// Service is back: a new login and its refresh work through the new primary.
	fresh := survivalLogin(t, tb.URL)
	var code int
	eventually(15*time.Second, func() bool { code, _, _ = tokenPost(t, tb.URL, refreshForm(fresh.RefreshToken)); return code != 503 })
	if code != 200 {
		t.Fatalf("refresh after recovery: %d", code)
	}
}
