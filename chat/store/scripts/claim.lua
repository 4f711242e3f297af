-- Claim a waiting or later conversation, all in one step: state, the nurse's slot (exact
-- capacity), the queue or the answer-later list, the service's active set, the recent-waits
-- sample (not for a later one: its wait says nothing about the live queue), and both notices.
-- (On Redis Cluster these keys would need one slot; the scale-out work addresses that.)
-- KEYS: meta, queue, active set, nurse's open set, recent waits, answer-later list, the
-- service's later conversations.
-- ARGV: sources (comma-separated state names), target, nurse, service, capacity, now, channel, state frame,
-- service channel, the later state.
-- Returns {1, waited, state claimed from}; {0, state} not from a source state; {-1} no such
-- conversation; {-2} not in that service (any more); {-3} the nurse's slots are full.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok then return {0, st} end
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[4] then return {-2} end
local cid = string.match(KEYS[1], '{(.*)}')
if redis.call('SISMEMBER', KEYS[4], cid) == 0 then
  if redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[5]) then return {-3} end
  redis.call('SADD', KEYS[4], cid)
end
local now = tonumber(ARGV[6])
local since = tonumber(redis.call('HGET', KEYS[1], 'queued') or '') or 0
if since == 0 then since = tonumber(redis.call('HGET', KEYS[1], 'created') or '') or now end
local waited = math.max(0, now - since)
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', ARGV[3], 'claimed_at', ARGV[6], 'last', ARGV[6])
redis.call('ZADD', KEYS[3], now, cid)
if st == ARGV[10] then
  redis.call('ZREM', KEYS[6], cid)
  redis.call('ZREM', KEYS[7], cid)
else
  redis.call('ZREM', KEYS[2], cid)
  redis.call('LPUSH', KEYS[5], waited)
  redis.call('LTRIM', KEYS[5], 0, 19)
end
redis.call('PUBLISH', ARGV[7], '0 ' .. ARGV[8])
redis.call('PUBLISH', ARGV[9], 'q')
return {1, waited, st}
