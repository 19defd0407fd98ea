package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// What the primaries say of their AOF (Persistence.AOF).
const (
	// AOFOn: every primary appends each write to its AOF (appendonly yes).
	AOFOn = "on"
	// AOFOff: a primary keeps RDB snapshots only (the Debian default): a restart loses every
	// write since the last snapshot.
	AOFOff = "off"
	// AOFUnknown: a primary refused both CONFIG GET and INFO (managed Redis often renames
	// CONFIG), so nobody here can tell.
	AOFUnknown = "unknown"
)

// Persistence is what the primaries say of their persistence. With Cluster it is the worst
// answer of any primary.
type Persistence struct {
	// AOF is AOFOn, AOFOff or AOFUnknown.
	AOF string
	// Fsync is appendfsync (always, everysec or no) when CONFIG GET answered, else "".
	Fsync string
}

// Replication is what the primaries say of their replicas, set against WaitReplicas. With
// Cluster it is the worst primary's.
type Replication struct {
	// Wanted is WaitReplicas: how many replicas must acknowledge each write (0: no WAIT).
	Wanted int
	// Online is the fewest replicas connected and in sync (state=online) at a primary.
	Online int
	// NotPrimary is set when the server this Store writes to is a replica (a URL naming a
	// replica, or a failover not yet noticed): every write fails there.
	NotPrimary bool
	// MinReplicasToWrite is the highest min-replicas-to-write of the primaries (Redis refuses
	// writes itself below it), -1 when CONFIG GET was refused.
	MinReplicasToWrite int
	// LastAcked is how many replicas acknowledged the latest durable write of this Store (its
	// WAIT answer), -1 before the first one.
	LastAcked int
}

// Short reports whether writes cannot be durable now: fewer replicas online than Wanted, the
// latest WAIT short, or the Store writing to a replica.
func (r Replication) Short() bool {
	if r.Wanted == 0 {
		return r.NotPrimary
	}
	return r.NotPrimary || r.Online < r.Wanted || (r.LastAcked >= 0 && r.LastAcked < r.Wanted)
}

// Persistence asks every primary whether it appends to an AOF: CONFIG GET append*, or INFO
// persistence where CONFIG is refused. A refusal of both is AOFUnknown, not an error; an
// unreachable server is an error.
func (s *Store) Persistence(ctx context.Context) (Persistence, error) {
	if err := s.check(ctx, 0); err != nil {
		return Persistence{}, err
	}
	var mu sync.Mutex
	out := Persistence{AOF: AOFOn}
	err := s.eachPrimary(ctx, func(ctx context.Context, c goredis.Cmdable) error {
		p, err := persistenceOf(ctx, c)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if aofRank[p.AOF] > aofRank[out.AOF] {
			out.AOF = p.AOF
		}
		if fsyncRank[p.Fsync] > fsyncRank[out.Fsync] {
			out.Fsync = p.Fsync
		}
		return nil
	})
	if err != nil {
		return Persistence{}, s.wrap("persistence", err)
	}
	return out, nil
}

// Ranks of the answers, worst highest.
var (
	aofRank   = map[string]int{AOFOn: 0, AOFUnknown: 1, AOFOff: 2}
	fsyncRank = map[string]int{"": 0, "always": 1, "everysec": 2, "no": 3}
)

func persistenceOf(ctx context.Context, c goredis.Cmdable) (Persistence, error) {
	conf, err := c.ConfigGet(ctx, "append*").Result()
	switch {
	case err == nil && (conf["appendonly"] == "yes" || conf["appendonly"] == "no"):
		p := Persistence{AOF: AOFOff, Fsync: conf["appendfsync"]}
		if conf["appendonly"] == "yes" {
			p.AOF = AOFOn
		}
		return p, nil
	case err != nil && !refused(err):
		return Persistence{}, err
	}
	info, err := c.Info(ctx, "persistence").Result()
	if err != nil {
		if refused(err) {
			return Persistence{AOF: AOFUnknown}, nil
		}
		return Persistence{}, err
	}
	switch infoFields(info)["aof_enabled"] {
	case "1":
		return Persistence{AOF: AOFOn}, nil
	case "0":
		return Persistence{AOF: AOFOff}, nil
	}
	return Persistence{AOF: AOFUnknown}, nil
}

// Replication asks every primary for its replicas (INFO replication) and its
// min-replicas-to-write, and adds this Store's latest WAIT answer. It never writes.
func (s *Store) Replication(ctx context.Context) (Replication, error) {
	if err := s.check(ctx, 0); err != nil {
		return Replication{}, err
	}
	var mu sync.Mutex
	out := Replication{Wanted: s.waitN, Online: -1, MinReplicasToWrite: -1, LastAcked: int(s.lastAcked.Load()) - 1}
	err := s.eachPrimary(ctx, func(ctx context.Context, c goredis.Cmdable) error {
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		f := infoFields(info)
		online := 0
		for k, v := range f {
			if strings.HasPrefix(k, "slave") && strings.Contains(","+v+",", ",state=online,") {
				online++
			}
		}
		min := -1
		if conf, err := c.ConfigGet(ctx, "min-replicas-to-write").Result(); err == nil {
			if n, err := strconv.Atoi(conf["min-replicas-to-write"]); err == nil {
				min = n
			}
		} else if !refused(err) {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if f["role"] != "master" {
			out.NotPrimary = true
		}
		if out.Online < 0 || online < out.Online {
			out.Online = online
		}
		out.MinReplicasToWrite = max(out.MinReplicasToWrite, min)
		return nil
	})
	if err != nil {
		return Replication{}, s.wrap("replication", err)
	}
	return out, nil
}

// eachPrimary runs fn on every primary: each master of a Cluster (concurrently), else the
// one server the client writes to (the Sentinel's current master).
func (s *Store) eachPrimary(ctx context.Context, fn func(context.Context, goredis.Cmdable) error) error {
	if cc, ok := s.client.(*goredis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return fn(ctx, c) })
	}
	return fn(ctx, s.client)
}

// refused reports an error reply of the server (an unknown or renamed command, NOPERM), as
// opposed to a server that could not be reached.
func refused(err error) bool {
	var re goredis.Error
	return errors.As(err, &re) && !errors.Is(err, goredis.Nil)
}

// infoFields parses the "field:value" lines of an INFO answer.
func infoFields(info string) map[string]string {
	f := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
			f[k] = v
		}
	}
	return f
}
