-- The conversation's part of a claim on Redis Cluster (claim.lua does it all on one Redis):
-- state, holder, times, and the state notice. The nurse's slot was reserved before; the
-- queue, the active set and the wait sample follow on the service's slot. The notice goes out
-- by sharded pub/sub (chat/fanout/shards.py).
-- KEYS: meta. ARGV: sources, target, nurse, service, now, channel, state frame.
-- Returns {1, waited, state claimed from}; {0, state}; {-1} no such conversation; {-2} not in
-- that service (any more).
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok then return {0, st} end
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[4] then return {-2} end
local now = tonumber(ARGV[5])
local since = tonumber(redis.call('HGET', KEYS[1], 'queued') or '') or 0
if since == 0 then since = tonumber(redis.call('HGET', KEYS[1], 'created') or '') or now end
local waited = math.max(0, now - since)
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', ARGV[3], 'claimed_at', ARGV[5], 'last', ARGV[5])
redis.call('SPUBLISH', ARGV[6], '0 ' .. ARGV[7])
return {1, waited, st}
