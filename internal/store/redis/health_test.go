package redis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

// Persistence tells AOF from RDB-only, falls back to INFO where CONFIG is renamed (managed
// Redis) and says "unknown" where both are; a server that is down is an error, not "unknown".
func TestPersistenceReportsTheAOF(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		aof       string
		fsync     string
		fsyncKnow bool
	}{
		{"RDB snapshots only (the Debian default)", []string{"--save", "3600 1"}, redis.AOFOff, "everysec", true},
		{"AOF with fsync on every write", []string{"--appendonly", "yes", "--appendfsync", "always"}, redis.AOFOn, "always", true},
		{"CONFIG renamed away: INFO persistence answers (AOF on)", []string{"--appendonly", "yes", "--rename-command", "CONFIG", ""}, redis.AOFOn, "", false},
		{"CONFIG renamed away: INFO persistence answers (AOF off)", []string{"--rename-command", "CONFIG", ""}, redis.AOFOff, "", false},
		{"CONFIG and INFO renamed away: unknown", []string{"--appendonly", "yes", "--rename-command", "CONFIG", "", "--rename-command", "INFO", ""}, redis.AOFUnknown, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := redistest.StartProcess(t, tt.args...)
			s := newStore(t, redis.Options{URL: p.URL()})
			got, err := s.Persistence(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got.AOF != tt.aof || (tt.fsyncKnow && got.Fsync != tt.fsync) || (!tt.fsyncKnow && got.Fsync != "") {
				t.Fatalf("persistence %+v, want AOF %s fsync %q", got, tt.aof, tt.fsync)
			}
		})
	}
	t.Run("a server that is down is an error", func(t *testing.T) {
		p := redistest.StartProcess(t, "--appendonly", "yes")
		s := newStore(t, redis.Options{URL: p.URL()})
		p.Kill()
		if got, err := s.Persistence(t.Context()); err == nil {
			t.Fatalf("persistence of a dead server: %+v, want an error", got)
		}
	})
}

// Replication counts the replicas in sync against WaitReplicas, reads min-replicas-to-write
// and remembers the latest WAIT answer; a replica named as the primary is reported.
func TestReplicationReport(t *testing.T) {
	primary := redistest.StartProcess(t, "--repl-diskless-sync-delay", "0", "--min-replicas-to-write", "1")
	replica := redistest.StartProcess(t, "--replicaof", "127.0.0.1", port(primary.Addr()))
	waitForReplicas(t, primary.URL(), 1)
	s := newStore(t, redis.Options{URL: primary.URL(), WaitReplicas: 1, WaitTimeout: 2 * time.Second})
	r, err := s.Replication(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r.Wanted != 1 || r.Online != 1 || r.MinReplicasToWrite != 1 || r.LastAcked != -1 || r.NotPrimary || r.Short() {
		t.Fatalf("before any write: %+v, want 1 wanted, 1 online, min 1, no WAIT yet", r)
	}
	if err := s.Put(t.Context(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if r, _ = s.Replication(t.Context()); r.LastAcked != 1 || r.Short() {
		t.Fatalf("after a durable write: %+v, want the WAIT answer 1", r)
	}

	t.Run("the store names a replica", func(t *testing.T) {
		rs := newStore(t, redis.Options{URL: replica.URL()})
		r, err := rs.Replication(t.Context())
		if err != nil || !r.NotPrimary || !r.Short() {
			t.Fatalf("%+v %v, want NotPrimary", r, err)
		}
	})
	t.Run("the replica gone: writes cannot be durable", func(t *testing.T) {
		replica.Kill()
		short := func() bool { r, err = s.Replication(t.Context()); return err == nil && r.Online == 0 }
		deadline := time.Now().Add(10 * time.Second)
		for !short() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if r.Online != 0 || !r.Short() {
			t.Fatalf("%+v %v, want 0 online and short", r, err)
		}
	})
}

// A durable write no replica acknowledged leaves its answer in the report even when INFO
// still lists the replica (the link is up but not acknowledging in time).
func TestReplicationRemembersAShortWAIT(t *testing.T) {
	srv := redistest.StartProcess(t)
	s := newStore(t, redis.Options{URL: srv.URL(), WaitReplicas: 1, WaitTimeout: 20 * time.Millisecond})
	if err := s.Put(t.Context(), "k", []byte("v"), 0); !errors.Is(err, redis.ErrNotDurable) {
		t.Fatalf("Put: %v, want ErrNotDurable", err)
	}
	r, err := s.Replication(t.Context())
	if err != nil || r.LastAcked != 0 || !r.Short() {
		t.Fatalf("%+v %v, want the WAIT answer 0 and short", r, err)
	}
}

// WithoutWait writes on the same server and prefix without waiting for replicas (rate-limit
// counters), while the Store it came from still refuses writes nobody acknowledged.
func TestWithoutWaitSkipsWAIT(t *testing.T) {
	srv := redistest.StartProcess(t)
	s := newStore(t, redis.Options{URL: srv.URL(), Prefix: "ww:", WaitReplicas: 1, WaitTimeout: 20 * time.Millisecond})
	fast := s.WithoutWait()
	if fast.WaitReplicas() != 0 || s.WaitReplicas() != 1 {
		t.Fatalf("wait replicas %d and %d", fast.WaitReplicas(), s.WaitReplicas())
	}
	if _, err := fast.Incr(t.Context(), "n", 1, time.Minute); err != nil {
		t.Fatalf("Incr without WAIT: %v", err)
	}
	if _, err := s.Incr(t.Context(), "n", 1, time.Minute); !errors.Is(err, redis.ErrNotDurable) {
		t.Fatalf("Incr with WAIT: %v, want ErrNotDurable", err)
	}
	if v, err := fast.Get(t.Context(), "n"); err != nil || string(v) != "2" {
		t.Fatalf("the view sees %q %v, want the same key", v, err)
	}
	if err := fast.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("closing the view closed the client: %v", err)
	}
}
