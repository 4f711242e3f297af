-- The conversation's part of a release on Redis Cluster (release.lua does it all on one
-- Redis): the same checks, the state, the notice by sharded pub/sub. The queue and the active
-- set follow on the service's slot, the holder's slot on hers.
-- KEYS: meta. ARGV: sources, target, nurse, service, channel, state frame.
-- Returns {1, its place in the queue}; {0, state, holder (1/0)} refused; {-1} no such
-- conversation; {-2} moved service.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local holder = redis.call('HGET', KEYS[1], 'nurse') == ARGV[3] and 1 or 0
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok or holder == 0 then return {0, st, holder} end
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[4] then return {-2} end
local since = tonumber(redis.call('HGET', KEYS[1], 'queued') or '') or 0
if since == 0 then since = tonumber(redis.call('HGET', KEYS[1], 'created') or '') or 0 end
since = since - (tonumber(redis.call('HGET', KEYS[1], 'hs') or '') or 0)  -- its head start
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', '')
redis.call('SPUBLISH', ARGV[5], '0 ' .. ARGV[6])
return {1, tostring(since)}
