package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/inps/sportello/internal/store"
)

// throttleScript is store.Rate.GCRA on one key, on the Redis server's clock (TIME), so every
// broker instance counts against the same time whatever its own clock says. The key holds
// the theoretical arrival time in microseconds, expiring with it.
// ARGV: 1 the emission interval in microseconds, 2 the limit (the burst, in intervals).
// Returns {1, 0} when the request passes, {0, microseconds to wait} when it does not.
var throttleScript = goredis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = now
local v = redis.call('GET', KEYS[1])
if v then
  tat = tonumber(v)
  if not tat then return redis.error_reply('ERR the key does not hold a throttle') end
  if tat < now then tat = now end
end
local interval = tonumber(ARGV[1])
local nxt = tat + interval
local wait = nxt - now - tonumber(ARGV[2]) * interval
if wait > 0 then return {0, wait} end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, 0}
`)

// Throttle applies store.Rate.GCRA to key in one script (one round trip).
func (s *Store) Throttle(ctx context.Context, key string, rate store.Rate) (bool, time.Duration, error) {
	if err := rate.Check(); err != nil {
		return false, 0, err
	}
	if err := s.check(ctx, 0); err != nil {
		return false, 0, err
	}
	cmd, err := s.write(ctx, key, func(c goredis.Cmdable) goredis.Cmder {
		return runScript(ctx, c, throttleScript, s.key(key), rate.Interval().Microseconds(), rate.Limit)
	})
	if err != nil {
		return false, 0, s.wrap("throttle", err)
	}
	reply, err := cmd.(*goredis.Cmd).Int64Slice()
	if err == nil && len(reply) != 2 {
		err = errors.New("unexpected reply")
	}
	if err != nil {
		return false, 0, s.wrap("throttle", fmt.Errorf("throttle script: %w", err))
	}
	return reply[0] == 1, time.Duration(reply[1]) * time.Microsecond, nil
}
