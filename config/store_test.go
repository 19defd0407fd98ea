package config

import (
	"testing"
	"time"
)

// The durability settings of the Redis store: WAIT on by default where a failover can promote
// a replica (Sentinel, Cluster), off for one server unless asked; an explicit 0 stays 0.
func TestRedisWaitReplicasDefaults(t *testing.T) {
	zero, two := 0, 2
	tests := []struct {
		name  string
		redis Redis
		topo  string
		want  int
	}{
		{"one server by url", Redis{URL: "redis://r:6379/0"}, TopologyServer, 0},
		{"one server by a unix socket", Redis{URL: "unix:///run/redis/redis.sock"}, TopologyServer, 0},
		{"one server by addrs", Redis{Addrs: []string{"r:6379"}}, TopologyServer, 0},
		{"sentinel by addrs and master_name", Redis{Addrs: []string{"s1:26379", "s2:26379"}, MasterName: "m"}, TopologySentinel, 1},
		{"sentinel with one sentinel", Redis{Addrs: []string{"s1:26379"}, MasterName: "m"}, TopologySentinel, 1},
		{"sentinel by url", Redis{URL: "redis://s1:26379?master_name=m&addr=s2:26379"}, TopologySentinel, 1},
		{"cluster by addrs", Redis{Addrs: []string{"c1:7000", "c2:7000", "c3:7000"}}, TopologyCluster, 1},
		{"cluster by url", Redis{URL: "redis://c1:7000?addr=c2:7000"}, TopologyCluster, 1},
		{"sentinel with an explicit 0 stays 0", Redis{Addrs: []string{"s1:26379"}, MasterName: "m", WaitReplicas: &zero}, TopologySentinel, 0},
		{"one server asking for 2 replicas", Redis{URL: "redis://r:6379/0", WaitReplicas: &two}, TopologyServer, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.redis.Topology(); got != tt.topo {
				t.Errorf("topology %q, want %q", got, tt.topo)
			}
			if got := tt.redis.Replicas(); got != tt.want {
				t.Errorf("replicas %d, want %d", got, tt.want)
			}
		})
	}
}

// AOF is required by default outside dev mode (the store holds PIN records and delegations);
// dev mode only warns. WAIT is bounded by 1s by default; serve waits when not ready.
func TestStoreDurabilityDefaults(t *testing.T) {
	m := baseConfig()
	set(m, "store", map[string]any{"type": "redis", "redis": map[string]any{"addrs": []any{"s1:26379"}, "master_name": "m"}})
	cfg, err := Parse(mustYAML(t, m), testOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Store.Redis
	if r.RequireAOF != RequireAOFRefuse || r.WaitTimeout != time.Second || r.Replicas() != 1 || cfg.Startup.OnNotReady != OnNotReadyWait {
		t.Errorf("require_aof %q wait_timeout %v replicas %d on_not_ready %q; want refuse, 1s, 1, wait",
			r.RequireAOF, r.WaitTimeout, r.Replicas(), cfg.Startup.OnNotReady)
	}
	dev, err := DevConfig("127.0.0.1:8080", "", t.TempDir(), devOptions(map[string]string{"SPORTELLO_REDIS_URL": "redis://127.0.0.1:6379/0"}))
	if err != nil {
		t.Fatal(err)
	}
	if dev.Store.Redis.RequireAOF != RequireAOFWarn {
		t.Errorf("dev mode require_aof %q, want warn", dev.Store.Redis.RequireAOF)
	}
}

func TestStoreDurabilityRules(t *testing.T) {
	redis := func(extra map[string]any) func(m map[string]any) {
		return func(m map[string]any) {
			r := map[string]any{"url": "redis://r:6379/0"}
			for k, v := range extra {
				r[k] = v
			}
			set(m, "store", map[string]any{"type": "redis", "redis": r})
		}
	}
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   []string
	}{
		{"wait_replicas is not negative", redis(map[string]any{"wait_replicas": -1}), []string{"store.redis.wait_replicas"}},
		{"wait_timeout is at most 10s", redis(map[string]any{"wait_timeout": "11s"}), []string{"store.redis.wait_timeout"}},
		{"wait_timeout is not negative", redis(map[string]any{"wait_timeout": "-1s"}), []string{"store.redis.wait_timeout"}},
		{"require_aof is refuse, warn or off", redis(map[string]any{"require_aof": "yes"}), []string{"store.redis.require_aof"}},
		{"on_not_ready is wait or refuse", func(m map[string]any) { set(m, "startup", map[string]any{"on_not_ready": "later"}) }, []string{"startup.on_not_ready"}},
		{"a unix URL names an absolute path", func(m map[string]any) {
			set(m, "store", map[string]any{"type": "redis", "redis": map[string]any{"url": "unix://redis.sock"}})
		}, []string{"store.redis.url"}},
		{"a unix URL has no host", func(m map[string]any) {
			set(m, "store", map[string]any{"type": "redis", "redis": map[string]any{"url": "unix://host/run/redis.sock"}})
		}, []string{"store.redis.url"}},
		{"a unix URL has a path", func(m map[string]any) {
			set(m, "store", map[string]any{"type": "redis", "redis": map[string]any{"url": "unix:///"}})
		}, []string{"store.redis.url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseConfig()
			tt.mutate(m)
			_, err := Parse(mustYAML(t, m), testOptions(t, nil))
			wantOnly(t, err, tt.want...)
		})
	}
}

// unix:// Redis URLs are accepted as the README documents them (the store dials the socket).
func TestRedisUnixURLAccepted(t *testing.T) {
	for _, u := range []string{"unix:///run/redis/redis.sock", "unix:///run/redis/redis.sock?db=2", "unix://:secret@/run/redis/redis.sock"} {
		m := baseConfig()
		set(m, "store", map[string]any{"type": "redis", "redis": map[string]any{"url": u, "wait_replicas": 0, "require_aof": "warn"}})
		cfg, err := Parse(mustYAML(t, m), testOptions(t, nil))
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if cfg.Store.Redis.Topology() != TopologyServer {
			t.Errorf("%s: topology %s", u, cfg.Store.Redis.Topology())
		}
	}
	// And from the environment, as dev mode's --redis takes it.
	cfg, err := DevConfig("127.0.0.1:8080", "", t.TempDir(), devOptions(map[string]string{"SPORTELLO_REDIS_URL": "unix:///run/redis/redis.sock"}))
	if err != nil || cfg.Store.Redis.URL != "unix:///run/redis/redis.sock" {
		t.Fatalf("dev mode with a unix URL: %v", err)
	}
}
