package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// casScript is CompareAndSwap on one key.
// ARGV: 1 "1" when old is nil (the key must be absent), 2 old, 3 "1" when next is nil
// (delete), 4 next, 5 ttl in milliseconds ("0": no expiry).
var casScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
elseif ARGV[5] == '0' then
  redis.call('SET', KEYS[1], ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
end
return 1
`)

// incrScript is INCRBY that sets the ttl only on the counter it creates, returning the new
// value as text (a Lua number is a double and would lose precision past 2^53).
// ARGV: 1 delta, 2 ttl in milliseconds ("0": no expiry).
var incrScript = goredis.NewScript(`
local created = redis.call('EXISTS', KEYS[1]) == 0
redis.call('INCRBY', KEYS[1], ARGV[1])
if created and ARGV[2] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('GET', KEYS[1])
`)

// runScript runs script on key with EVALSHA, falling back to EVAL when Redis does not have it
// cached. Queued in a pipeline (durable writes) it uses EVAL directly: the fallback needs the
// reply, which a pipeline gives only at the end.
func runScript(ctx context.Context, c goredis.Cmdable, script *goredis.Script, key string, args ...any) *goredis.Cmd {
	if _, queued := c.(goredis.Pipeliner); queued {
		return script.Eval(ctx, c, []string{key}, args...)
	}
	return script.Run(ctx, c, []string{key}, args...)
}
