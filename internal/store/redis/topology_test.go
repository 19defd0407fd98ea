package redis_test

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
	"github.com/inps/sportello/internal/store/storetest"
)

func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3) // one cluster for every rule: forming it takes seconds
	t.Run("conformance", func(t *testing.T) {
		var n atomic.Int64
		storetest.Run(t, func(t *testing.T) store.Store {
			s := newStore(t, redis.Options{Addrs: c.Addrs(), Prefix: "c" + strconv.FormatInt(n.Add(1), 10) + ":"})
			if _, ok := s.Client().(*goredis.ClusterClient); !ok {
				t.Fatalf("several Addrs gave a %T, want a ClusterClient", s.Client())
			}
			return s
		})
	})
	t.Run("an addr= URL makes a Cluster client and hash-tagged keys share a slot", func(t *testing.T) {
		addrs := c.Addrs()
		s := newStore(t, redis.Options{URL: "redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]})
		ctx := t.Context()
		cc, ok := s.Client().(*goredis.ClusterClient)
		if !ok {
			t.Fatalf("addr= URL gave a %T, want a ClusterClient", s.Client())
		}
		lock, fails := "pin:{RSSMRA80A01H501U}:lock", "pin:{RSSMRA80A01H501U}:fails"
		if err := s.Put(ctx, lock, []byte("1"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Incr(ctx, fails, 1, time.Minute); err != nil {
			t.Fatal(err)
		}
		a, err1 := cc.ClusterKeySlot(ctx, redis.DefaultPrefix+lock).Result()
		b, err2 := cc.ClusterKeySlot(ctx, redis.DefaultPrefix+fails).Result()
		if err1 != nil || err2 != nil || a != b {
			t.Fatalf("slots %d and %d (%v, %v), want one slot", a, b, err1, err2)
		}
	})
	t.Run("durable writes WAIT on the primary that owns the key", func(t *testing.T) {
		s := newStore(t, redis.Options{Addrs: c.Addrs(), Prefix: "d:", WaitReplicas: 1, WaitTimeout: 20 * time.Millisecond})
		// No replicas: each node's WAIT answers 0. A WAIT sent to the wrong node, or a write
		// MOVED away, would fail differently.
		for i := range 20 {
			if err := s.Put(t.Context(), "k"+strconv.Itoa(i), []byte("v"), 0); !isNotDurable(err) {
				t.Fatalf("Put k%d: %v, want ErrNotDurable", i, err)
			}
		}
	})
	t.Run("persistence and replication are asked of every primary", func(t *testing.T) {
		s := newStore(t, redis.Options{Addrs: c.Addrs(), Prefix: "h:", WaitReplicas: 1})
		p, err := s.Persistence(t.Context())
		if err != nil || p.AOF != redis.AOFOff {
			t.Fatalf("persistence %+v %v, want off (the nodes run without AOF)", p, err)
		}
		// One primary switched to AOF does not make the cluster durable.
		if err := s.Client().(*goredis.ClusterClient).Do(t.Context(), "CONFIG", "SET", "appendonly", "yes").Err(); err != nil {
			t.Fatal(err)
		}
		if p, _ = s.Persistence(t.Context()); p.AOF != redis.AOFOff {
			t.Fatalf("persistence %+v with AOF on one primary only, want off", p)
		}
		r, err := s.Replication(t.Context())
		if err != nil || r.Online != 0 || !r.Short() || r.NotPrimary {
			t.Fatalf("replication %+v %v, want 0 replicas online and short", r, err)
		}
	})
}

func TestSentinel(t *testing.T) {
	primary := redistest.StartProcess(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.StartProcess(t, "--replicaof", "127.0.0.1", port(primary.Addr()))
	waitForReplicas(t, primary.URL(), 1)
	sentinel := redistest.StartSentinel(t, "sportello", primary)
	t.Run("conformance", func(t *testing.T) {
		var n atomic.Int64
		storetest.Run(t, func(t *testing.T) store.Store {
			return newStore(t, redis.Options{Addrs: []string{sentinel.Addr()}, MasterName: "sportello",
				Prefix: "s" + strconv.FormatInt(n.Add(1), 10) + ":"})
		})
	})
	t.Run("after the primary dies the store writes to the promoted replica", func(t *testing.T) {
		s := newStore(t, redis.Options{URL: "redis://" + sentinel.Addr() + "?master_name=sportello"})
		ctx := t.Context()
		if err := s.Put(ctx, "before", []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		waitForReplicaOffset(t, primary, replica)
		primary.Kill()
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := s.Put(ctx, "after", []byte("v"), 0)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no write accepted after failover: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if v, err := s.Get(ctx, "before"); err != nil || string(v) != "v" {
			t.Fatalf("replicated key after failover: %q, %v", v, err)
		}
	})
}

// waitForReplicaOffset waits until the replica has everything the primary wrote.
func waitForReplicaOffset(t *testing.T, primary, replica *redistest.Process) {
	t.Helper()
	p := newStore(t, redis.Options{URL: primary.URL()})
	r := newStore(t, redis.Options{URL: replica.URL()})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		want := infoField(t, p, "master_repl_offset")
		if got := infoField(t, r, "master_repl_offset"); got == want && want != "" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("replica did not catch up")
}

func infoField(t *testing.T, s *redis.Store, field string) string {
	info, err := s.Client().Info(t.Context(), "replication").Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

func isNotDurable(err error) bool { return errors.Is(err, redis.ErrNotDurable) }
