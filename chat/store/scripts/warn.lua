-- Warn a silent conversation once per period of silence.
-- KEYS: meta. ARGV: the active state, last seen by the sweep, channel, frame, '1' = by
-- sharded pub/sub (Redis Cluster).
if redis.call('HGET', KEYS[1], 'st') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'last') ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[1], 'warned') == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'warned', ARGV[2])
redis.call(ARGV[5] == '1' and 'SPUBLISH' or 'PUBLISH', ARGV[3], '0 ' .. ARGV[4])
return 1
