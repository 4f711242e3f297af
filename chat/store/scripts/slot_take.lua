-- Take one of a client's waiting slots (a start on Redis Cluster, where start.lua's keys span
-- slots: this is its first step, alone on the client's key). Expired slots are dropped first.
-- KEYS: the client's waiting slots. ARGV: now, most waiting starts per client, slot id, slot
-- expiry. Returns 1 taken; 0 refused (as many waiting starts as allowed).
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[4]) - now) + 1)
return 1
