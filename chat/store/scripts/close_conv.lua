-- The conversation's part of a close on Redis Cluster (close.lua does it all on one Redis):
-- the same checks, the state, the retention TTLs and the notices. The service's lists and the
-- holder's slot follow on their own slots. The notices go out by sharded pub/sub.
-- KEYS: meta, log, dedup, resume attempts, notes.
-- ARGV: sources, target, outcome, now, ttl, channel, state frame, required holder ('' = any),
-- service, holder seen by the caller ('' = none), only if last == this ('' = always), notice
-- frame sent before the state ('' = none).
-- Returns {1, previous state}; {0, state, holder (1/0)} refused; {-1}; {-2} as close.lua.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local nurse = redis.call('HGET', KEYS[1], 'nurse') or ''
local holder = (ARGV[8] ~= '' and nurse == ARGV[8]) and 1 or 0
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok or (ARGV[8] ~= '' and holder == 0) then return {0, st, holder} end
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[9] or nurse ~= ARGV[10] then return {-2} end
if ARGV[11] ~= '' and redis.call('HGET', KEYS[1], 'last') ~= ARGV[11] then return {-2} end
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'outcome', ARGV[3], 'closed_at', ARGV[4], 'last', ARGV[4])
local ttl = tonumber(ARGV[5])
for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
if ARGV[12] ~= '' then redis.call('SPUBLISH', ARGV[6], '0 ' .. ARGV[12]) end
redis.call('SPUBLISH', ARGV[6], '0 ' .. ARGV[7])
return {1, st}
