package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// write runs the write command that queue builds on key. Without WaitReplicas it is sent
// straight away. With it, the command and a WAIT are pipelined on one connection to the
// primary that owns key (WAIT counts the writes of its own connection), and a write that too
// few replicas acknowledged fails with ErrNotDurable.
//
// During a Cluster resharding the pipeline does not follow MOVED redirections: the write
// fails and the caller retries.
func (s *Store) write(ctx context.Context, key string, queue func(c goredis.Cmdable) goredis.Cmder) (goredis.Cmder, error) {
	if s.waitN == 0 {
		cmd := queue(s.client)
		return cmd, cmd.Err()
	}
	var node goredis.Cmdable = s.client
	if cluster, ok := s.client.(*goredis.ClusterClient); ok {
		primary, err := cluster.MasterForKey(ctx, s.key(key))
		if err != nil {
			return nil, err
		}
		node = primary
	}
	pipe := node.Pipeline()
	cmd := queue(pipe)
	wait := pipe.Do(ctx, "WAIT", s.waitN, s.waitTimeout.Milliseconds())
	_, _ = pipe.Exec(ctx) // errors are read from each command below
	if err := cmd.Err(); err != nil {
		return cmd, err
	}
	acked, err := wait.Int64()
	if err != nil {
		return cmd, fmt.Errorf("WAIT: %w", err)
	}
	s.lastAcked.Store(acked + 1)
	if acked < int64(s.waitN) {
		return cmd, fmt.Errorf("%w: %d of %d replicas within %v", ErrNotDurable, acked, s.waitN, s.waitTimeout)
	}
	return cmd, nil
}
