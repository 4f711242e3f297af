-- Release an active conversation back to its queue, in one step: state, the nurse's slot, the
-- active set, the queue (at its old place, head start included), and both notices.
-- KEYS: meta, queue, active set, nurse's open set.
-- ARGV: sources, target, nurse, service, channel, state frame, service channel.
-- Returns {1}; {0, state, holder (1/0)} refused; {-1} no such conversation; {-2} moved service.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local holder = redis.call('HGET', KEYS[1], 'nurse') == ARGV[3] and 1 or 0
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok or holder == 0 then return {0, st, holder} end
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[4] then return {-2} end
local cid = string.match(KEYS[1], '{(.*)}')
local since = tonumber(redis.call('HGET', KEYS[1], 'queued') or '') or 0
if since == 0 then since = tonumber(redis.call('HGET', KEYS[1], 'created') or '') or 0 end
since = since - (tonumber(redis.call('HGET', KEYS[1], 'hs') or '') or 0)  -- its head start
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', '')
redis.call('SREM', KEYS[4], cid)
redis.call('ZREM', KEYS[3], cid)
redis.call('ZADD', KEYS[2], since, cid)
redis.call('PUBLISH', ARGV[5], '0 ' .. ARGV[6])
redis.call('PUBLISH', ARGV[7], 'q')
return {1}
