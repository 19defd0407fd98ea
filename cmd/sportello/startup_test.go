package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/spid"
)

// served is dev mode run through serve with a configuration a test edited.
type served struct {
	issuer string
	done   chan struct{} // closed when serve has returned err
	err    error
	log    *storetest.Buffer
}

// serveDev runs serve in-process on dev mode's configuration and extras (with redisURL as
// the store), after edit changed the configuration and editExtras the extras.
func serveDev(t *testing.T, redisURL string, edit func(*config.Config), editExtras func(*devExtras)) *served {
	t.Helper()
	httpAddr, mtlsAddr := freeAddr(t), freeAddr(t)
	getenv := func(k string) string {
		if k == "SPORTELLO_REDIS_URL" {
			return redisURL
		}
		return ""
	}
	cfg, err := config.DevConfig(httpAddr, mtlsAddr, t.TempDir(), config.Options{ProviderTypes: configValidators(), Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	s := &served{issuer: "http://" + httpAddr, done: make(chan struct{}), log: &storetest.Buffer{}}
	logger := slog.New(slog.NewTextHandler(s.log, nil))
	td, _ := filepath.Abs("../../testdata")
	extras, err := devSetup(cfg, td, logger)
	if err != nil {
		t.Fatal(err)
	}
	extras.auditOut, extras.bannerOut = s.log, s.log
	if editExtras != nil {
		editExtras(extras)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { s.err = serve(ctx, cfg, logger, extras, nil); close(s.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	return s
}

// readyz returns /readyz's status and body; 0 while nothing listens.
func (s *served) readyz(t *testing.T) (int, readyBody) {
	t.Helper()
	resp, err := http.Get(s.issuer + "/readyz")
	if err != nil {
		return 0, readyBody{}
	}
	defer resp.Body.Close()
	var b readyBody
	_ = json.NewDecoder(resp.Body).Decode(&b)
	return resp.StatusCode, b
}

type readyBody struct {
	Status string                         `json:"status"`
	Reason string                         `json:"reason"`
	Checks map[string]providers.Readiness `json:"checks"`
}

// waitReadyz polls /readyz until want says so (or 30 s pass), failing the test if serve
// returns meanwhile.
func (s *served) waitReadyz(t *testing.T, what string, want func(code int, b readyBody) bool) readyBody {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var code int
	var b readyBody
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("%s: serve returned %v\n%s", what, s.err, s.log.String())
		default:
		}
		if code, b = s.readyz(t); code != 0 && want(code, b) {
			return b
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: /readyz %d %+v after 30s\n%s", what, code, b, s.log.String())
	return b
}

// refused waits for serve to return, and fails the test if it starts answering instead.
func (s *served) refused(t *testing.T) error {
	t.Helper()
	select {
	case <-s.done:
		if s.err == nil {
			t.Fatal("serve returned no error")
		}
		return s.err
	case <-time.After(30 * time.Second):
		code, b := s.readyz(t)
		t.Fatalf("serve did not refuse to start: /readyz %d %+v", code, b)
	}
	return nil
}

// A Redis without AOF loses PIN records and delegations on restart: outside dev mode
// (require_aof: refuse, the default) serve does not start on it, and a primary that loses its
// AOF later (a failover to a replica configured without it) makes /readyz 503.
func TestServeRefusesRedisWithoutAOF(t *testing.T) {
	refuse := func(c *config.Config) { c.Store.Redis.RequireAOF = config.RequireAOFRefuse }
	t.Run("RDB only: refused at start-up", func(t *testing.T) {
		p := redistest.StartProcess(t, "--save", "3600 1")
		err := serveDev(t, p.URL(), refuse, nil).refused(t)
		if !errors.Is(err, errNotDurable) || !strings.Contains(err.Error(), "AOF off") || !strings.Contains(err.Error(), "PIN records and delegations") {
			t.Fatalf("serve: %v, want the require_aof refusal naming what would be lost", err)
		}
	})
	t.Run("CONFIG and INFO refused: unknown is refused too", func(t *testing.T) {
		p := redistest.StartProcess(t, "--appendonly", "yes", "--rename-command", "CONFIG", "", "--rename-command", "INFO", "")
		if err := serveDev(t, p.URL(), refuse, nil).refused(t); !errors.Is(err, errNotDurable) || !strings.Contains(err.Error(), "AOF unknown") {
			t.Fatalf("serve: %v, want the require_aof refusal", err)
		}
	})
	t.Run("AOF on: ready, and not ready once the primary drops it", func(t *testing.T) {
		p := redistest.StartProcess(t, "--appendonly", "yes")
		s := serveDev(t, p.URL(), refuse, nil)
		b := s.waitReadyz(t, "AOF on", func(code int, b readyBody) bool { return code == 200 })
		if got := b.Checks["store_persistence"]; got.Status != "ok" || got.Detail != "AOF on, appendfsync everysec" {
			t.Fatalf("store_persistence %+v", got)
		}
		c := goredis.NewClient(&goredis.Options{Addr: p.Addr()})
		defer c.Close()
		if err := c.ConfigSet(t.Context(), "appendonly", "no").Err(); err != nil {
			t.Fatal(err)
		}
		s.waitReadyz(t, "AOF dropped", func(code int, b readyBody) bool {
			return code == 503 && b.Reason == "not ready: store_persistence" && b.Checks["store_persistence"].Status == "fail"
		})
	})
}

// require_aof: warn (dev mode's default) starts on RDB-only Redis, says so loudly in the log
// and keeps reporting it in /readyz, which stays 200.
func TestServeWarnsOnRedisWithoutAOF(t *testing.T) {
	p := redistest.StartProcess(t)
	s := serveDev(t, p.URL(), nil, nil)
	b := s.waitReadyz(t, "warn", func(code int, b readyBody) bool { return code == 200 })
	got := b.Checks["store_persistence"]
	if got.Status != "warn" || !strings.Contains(got.Detail, "AOF off") {
		t.Fatalf("store_persistence %+v, want a warning", got)
	}
	if !strings.Contains(s.log.String(), "REDIS IS NOT DURABLE") {
		t.Fatalf("no loud warning in the log:\n%s", s.log.String())
	}
}

// With wait_replicas, replicas that cannot acknowledge a write are a start-up failure: serve
// refuses (startup.on_not_ready: refuse) or waits not-ready until a replica acknowledges.
func TestServeChecksThatReplicasAcknowledge(t *testing.T) {
	wait1 := func(onNotReady string) func(*config.Config) {
		return func(c *config.Config) {
			one := 1
			c.Store.Redis.WaitReplicas, c.Store.Redis.WaitTimeout = &one, 100*time.Millisecond
			c.Startup.OnNotReady = onNotReady
		}
	}
	t.Run("refuse", func(t *testing.T) {
		p := redistest.StartProcess(t)
		err := serveDev(t, p.URL(), wait1(config.OnNotReadyRefuse), nil).refused(t)
		if !strings.Contains(err.Error(), "store_replication: replicas cannot acknowledge writes") {
			t.Fatalf("serve: %v", err)
		}
	})
	t.Run("wait", func(t *testing.T) {
		p := redistest.StartProcess(t, "--repl-diskless-sync-delay", "0")
		s := serveDev(t, p.URL(), wait1(config.OnNotReadyWait), nil)
		b := s.waitReadyz(t, "no replica", func(code int, b readyBody) bool { return code == 503 && b.Reason != "" })
		if b.Reason != "not ready: store_replication" || !strings.Contains(b.Checks["store_replication"].Detail, "acknowledged by 0") {
			t.Fatalf("no replica: %+v", b)
		}
		redistest.StartProcess(t, "--replicaof", "127.0.0.1", strings.TrimPrefix(p.Addr(), "127.0.0.1:"))
		b = s.waitReadyz(t, "a replica", func(code int, b readyBody) bool { return code == 200 })
		if !strings.Contains(b.Checks["store_replication"].Detail, "acknowledged by 1, 1 online") {
			t.Fatalf("with a replica: %+v", b.Checks["store_replication"])
		}
	})
}

// No reachable IdP metadata is no half-configured start: serve refuses
// (startup.on_not_ready: refuse) or answers /readyz 503 naming SPID instead of 200 with
// zero IdPs.
func TestServeWithoutIdPMetadata(t *testing.T) {
	unreachable := func(x *devExtras) {
		inner := x.providers
		x.providers = func(d deps) ([]opener, map[string]map[string]string, error) {
			ps, msgs, err := inner(d)
			if err != nil {
				return nil, nil, err
			}
			sc := spid.DevConfig("http://127.0.0.1:1", "../../testdata/spid")
			sc.IdPs = sc.IdPs[:1] // http://127.0.0.1:1/dev/spid/demo/metadata: nothing listens
			return append(ps[:0], newSPID(sc, "spid", "http://127.0.0.1:1", d)), msgs, nil
		}
	}
	t.Run("refuse", func(t *testing.T) {
		err := serveDev(t, "", func(c *config.Config) { c.Startup.OnNotReady = config.OnNotReadyRefuse }, unreachable).refused(t)
		if !strings.Contains(err.Error(), "provider:spid: no identity provider loaded") {
			t.Fatalf("serve: %v", err)
		}
	})
	t.Run("wait", func(t *testing.T) {
		s := serveDev(t, "", nil, unreachable)
		b := s.waitReadyz(t, "no IdP", func(code int, b readyBody) bool { return code != 0 })
		if b.Reason != "not ready: provider:spid" || b.Checks["provider:spid"].Status != "fail" {
			t.Fatalf("/readyz %+v, want 503 naming SPID", b)
		}
	})
}

// unix:// Redis URLs work as the README documents them, through dev mode's --redis.
func TestDevModeOnARedisUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "redis.sock")
	redistest.StartProcess(t, "--unixsocket", sock, "--unixsocketperm", "700")
	issuer, _ := devBroker(t, "--redis", "unix://"+sock)
	resp, err := http.Get(issuer + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b readyBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || b.Checks["store_persistence"].Status != "warn" {
		t.Fatalf("/readyz over a unix socket: %v %+v", err, b)
	}
}

// A listener that cannot be bound stops serve whole: the address taken is the error, and the
// listener already serving is closed (its address free again), never left answering alone.
func TestServeClosesWhatItBoundWhenTheMTLSAddressIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var httpAddr string
	s := serveDev(t, "", func(c *config.Config) { c.Listen.MTLS = taken.Addr().String(); httpAddr = c.Listen.HTTP }, nil)
	if err := s.refused(t); !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("serve: %v, want the taken address", err)
	}
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		t.Fatalf("the HTTP listener was left bound after serve returned: %v", err)
	}
	ln.Close()
}
