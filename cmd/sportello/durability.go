package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/store"
	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/providers"
)

// What durability must protect: the registry of delegations is part of every broker, PIN
// records come with a PIN provider.
const (
	holdsDelegations = "delegations"
	holdsPINs        = "PIN records and delegations"
)

// durabilityProbeKey is the key the replication check writes (with WAIT) to ask the replicas.
const durabilityProbeKey = "health:durability-probe"

// checkCacheFor bounds how often /readyz asks Redis: every probe of every replica would
// otherwise cost a durable write, which a flood of /readyz requests must not multiply.
const checkCacheFor = time.Second

// durability checks the Redis store's persistence (AOF) and replication (WAIT) at start-up
// and for /readyz.
type durability struct {
	st         *redisstore.Store
	requireAOF string
	// holds says what a restart without AOF would lose, for the messages.
	holds string
	now   func() time.Time
}

// newDurability returns the checks of a Redis store; nil for the memory store.
func newDurability(st store.Store, cfg *config.Config) *durability {
	rs, ok := st.(*redisstore.Store)
	if !ok {
		return nil
	}
	d := &durability{st: rs, requireAOF: cfg.Store.Redis.RequireAOF, holds: holdsDelegations, now: time.Now}
	for _, p := range cfg.Providers {
		if p.Type == "pin" && p.IsEnabled() {
			d.holds = holdsPINs
		}
	}
	return d
}

// readyChecks are the /readyz checks: persistence unless require_aof is off, replication when
// writes WAIT.
func (d *durability) readyChecks() []broker.ReadyCheck {
	if d == nil {
		return nil
	}
	var out []broker.ReadyCheck
	if d.requireAOF != config.RequireAOFOff {
		out = append(out, broker.ReadyCheck{Name: "store_persistence", Check: cached(d.now, d.persistence)})
	}
	if d.st.WaitReplicas() > 0 {
		out = append(out, broker.ReadyCheck{Name: "store_replication", Check: cached(d.now, d.replication)})
	}
	return out
}

// errNotDurable is the start-up refusal of store.redis.require_aof: refuse.
var errNotDurable = errors.New("store.redis.require_aof is refuse")

// checkPersistence runs the persistence check once at start-up: a refusal is an error (serve
// does not start), a warning is logged loudly.
func (d *durability) checkPersistence(ctx context.Context, log *slog.Logger) error {
	if d == nil || d.requireAOF == config.RequireAOFOff {
		return nil
	}
	r := d.persistence(ctx)
	switch r.Status {
	case providers.ReadyFail:
		return fmt.Errorf("%w: %s (turn on appendonly yes, or set store.redis.require_aof: warn to run anyway)", errNotDurable, r.Detail)
	case providers.ReadyWarn:
		log.Warn("REDIS IS NOT DURABLE: "+r.Detail, "setting", "store.redis.require_aof: warn")
	default:
		log.Info("store persistence", "detail", r.Detail)
	}
	return nil
}

// persistence is ok with AOF on; otherwise fail or warn as store.redis.require_aof says.
func (d *durability) persistence(ctx context.Context) providers.Readiness {
	p, err := d.st.Persistence(ctx)
	if err != nil {
		return providers.Readiness{Status: providers.ReadyFail, Detail: "the Redis primary did not answer"}
	}
	var detail string
	switch p.AOF {
	case redisstore.AOFOn:
		detail = "AOF on"
		if p.Fsync != "" {
			detail += ", appendfsync " + p.Fsync
		}
		return providers.Readiness{Status: providers.ReadyOK, Detail: detail}
	case redisstore.AOFOff:
		detail = "AOF off (RDB snapshots only): a Redis restart loses the " + d.holds + " written since the last snapshot"
	default:
		detail = "AOF unknown (the server refused CONFIG GET and INFO): nothing shows that a Redis restart keeps the " + d.holds
	}
	status := providers.ReadyFail
	if d.requireAOF == config.RequireAOFWarn {
		status = providers.ReadyWarn
	}
	return providers.Readiness{Status: status, Detail: detail}
}

// replication writes a probe with WAIT (the real path of every durable write) and reads the
// primaries' replicas: it fails when too few replicas acknowledge, are online, or the store
// writes to a replica.
func (d *durability) replication(ctx context.Context) providers.Readiness {
	probeErr := d.st.Put(ctx, durabilityProbeKey, []byte(strconv.FormatInt(d.now().UnixNano(), 10)), time.Minute)
	r, err := d.st.Replication(ctx)
	if err != nil {
		return providers.Readiness{Status: providers.ReadyFail, Detail: "the Redis primary did not answer"}
	}
	min := "unknown"
	if r.MinReplicasToWrite >= 0 {
		min = strconv.Itoa(r.MinReplicasToWrite)
	}
	detail := fmt.Sprintf("wait_replicas %d: the last write was acknowledged by %d, %d online, min-replicas-to-write %s",
		r.Wanted, max(r.LastAcked, 0), r.Online, min)
	switch {
	case r.NotPrimary:
		return providers.Readiness{Status: providers.ReadyFail, Detail: "the Redis server written to is a replica"}
	case probeErr != nil || r.Short():
		return providers.Readiness{Status: providers.ReadyFail, Detail: "replicas cannot acknowledge writes: " + detail}
	}
	return providers.Readiness{Status: providers.ReadyOK, Detail: detail}
}

// cached answers check at most once per checkCacheFor; concurrent callers share one answer.
func cached(now func() time.Time, check func(context.Context) providers.Readiness) func(context.Context) providers.Readiness {
	var mu sync.Mutex
	var last providers.Readiness
	var at time.Time
	return func(ctx context.Context) providers.Readiness {
		mu.Lock()
		defer mu.Unlock()
		if !at.IsZero() && now().Sub(at) < checkCacheFor {
			return last
		}
		last, at = check(ctx), now()
		return last
	}
}

// startupReadiness runs every readiness check once the listeners are up and the providers
// loaded: each one not ok is logged; with startup.on_not_ready: refuse a failing one stops
// serve, with wait /readyz keeps answering 503 until it passes.
func startupReadiness(ctx context.Context, b *broker.Broker, cfg *config.Config, log *slog.Logger) error {
	ok, checks := b.Readiness(ctx)
	var failed []string
	for name, r := range checks {
		switch r.Status {
		case providers.ReadyFail:
			failed = append(failed, name+": "+r.Detail)
			log.Error("start-up check failed", "check", name, "detail", r.Detail)
		case providers.ReadyWarn:
			log.Warn("start-up check warns", "check", name, "detail", r.Detail)
		}
	}
	if ok {
		return nil
	}
	slices.Sort(failed)
	if cfg.Startup.OnNotReady == config.OnNotReadyRefuse {
		return fmt.Errorf("not ready at start-up (startup.on_not_ready: refuse): %v", failed)
	}
	log.Warn("starting anyway: /readyz answers 503 until every check passes (startup.on_not_ready: wait)")
	return nil
}
