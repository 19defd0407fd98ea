package spid

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// secondInstance is another SP replica of e on the same store (same config, own registry).
func secondInstance(t *testing.T, e *env) *Provider {
	t.Helper()
	p, err := New(e.sp.cfg, Deps{Store: e.store, Now: e.clock.Now, HTTPClient: e.srv.Client(), BaseURL: e.base})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func replayThroughSecondInstance(t *testing.T, e *env) {
	p := e.start(t, "cluster", loa.SpidL2, "")
	xml := e.build(t, p, hostile{})
	if _, o := e.post(t, p.RelayState, xml); o.Identity == nil {
		t.Fatalf("first delivery refused: %v", o.Err)
	}
	first := e.sp
	e.sp = secondInstance(t, e)
	defer func() { e.sp = first }()
	status, o := e.post(t, p.RelayState, xml)
	if status != http.StatusForbidden || o.Identity != nil || !errors.Is(o.Err, providers.ErrLoginExpired) {
		t.Fatalf("replay on the second instance: %d %+v", status, o)
	}
}

func TestReplayIsRefusedByASecondInstanceOnTheSameMemoryStore(t *testing.T) {
	replayThroughSecondInstance(t, newEnv(t))
}

// TestReplayIsRefusedByASecondInstanceOnRedis runs two SP replicas on a real redis-server.
func TestReplayIsRefusedByASecondInstanceOnRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("SPORTELLO_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server is required in CI")
		}
		t.Skip("redis-server not installed")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var st store.Store
	deadline := time.Now().Add(10 * time.Second)
	for {
		rs, err := redis.NewFromURL(context.Background(), "unix://"+sock)
		if err == nil {
			if err = rs.Ping(context.Background()); err == nil {
				st = rs
				break
			}
			_ = rs.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := newEnvWithStore(t, st)
	replayThroughSecondInstance(t, e)
	// The assertion-ID replay cache is in Redis too.
	first := e.sp
	p := e.start(t, "cluster-2", loa.SpidL2, "")
	e.sp = secondInstance(t, e)
	xml := e.build(t, p, hostile{})
	if _, o := e.post(t, p.RelayState, xml); o.Identity == nil {
		t.Fatalf("second login refused: %v", o.Err)
	}
	// That assertion, accepted by the second replica, comes back to the first one answering a
	// new request of its own: refused as a replay from the shared cache.
	e.sp = first
	p3 := e.start(t, "cluster-3", loa.SpidL2, "")
	_, o := e.post(t, p3.RelayState, e.build(t, p3, hostile{Params: func(rp *samlx.ResponseParams) {
		rp.AssertionID = "_assert" + p.RequestID[1:12]
	}}))
	var re *RejectError
	if o.Identity != nil || !errors.As(o.Err, &re) || re.Rule != "replay" {
		t.Fatalf("an assertion accepted by another replica: %+v", o)
	}
}
