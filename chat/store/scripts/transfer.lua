-- Transfer an active conversation to a colleague or to another service's queue, in one step:
-- the hash, both nurses' slots, the active sets, the queue, the risk flag, the colleague's
-- inbox and the notices.
-- KEYS: meta, active set (from), queue (to), active set (to), sender's open set,
-- receiver's open set (the sender's again when to the queue), flags (from), flags (to),
-- receiver's inbox (the sender's when to the queue, unused).
-- ARGV: sources, target state, from nurse, to nurse ('' = the queue), to service, key bundle
-- ('' = keep), epoch, now, channel, state frame, history entry ('' = none), receiver's
-- capacity, from service, from service channel, to service channel.
-- Returns {1}; {0, state, holder (1/0)} refused; {-1} no such conversation; {-2} moved
-- service; {-3} the receiver's slots are full.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local holder = redis.call('HGET', KEYS[1], 'nurse') == ARGV[3] and 1 or 0
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok or holder == 0 then return {0, st, holder} end
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[13] then return {-2} end
local cid = string.match(KEYS[1], '{(.*)}')
local now = tonumber(ARGV[8])
if ARGV[4] ~= '' and redis.call('SISMEMBER', KEYS[6], cid) == 0 then
  if redis.call('SCARD', KEYS[6]) >= tonumber(ARGV[12]) then return {-3} end
end
if ARGV[4] == '' then
  redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', '', 'queued', ARGV[8])
else
  redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', ARGV[4], 'claimed_at', ARGV[8])
end
redis.call('HSET', KEYS[1], 'svc', ARGV[5], 'last', ARGV[8])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'kb', ARGV[6], 'ep', ARGV[7]) end
if ARGV[11] ~= '' then
  local h = redis.call('HGET', KEYS[1], 'hist')
  if h and h ~= '' then h = h .. ',' .. ARGV[11] else h = ARGV[11] end
  redis.call('HSET', KEYS[1], 'hist', h)
end
redis.call('SREM', KEYS[5], cid)
redis.call('ZREM', KEYS[2], cid)
if ARGV[4] == '' then
  -- Into the queue at the time of the transfer, moved up by its head start (urgency, acute).
  redis.call('ZADD', KEYS[3], now - (tonumber(redis.call('HGET', KEYS[1], 'hs') or '') or 0), cid)
else
  redis.call('SADD', KEYS[6], cid)
  redis.call('ZADD', KEYS[4], now, cid)
  redis.call('RPUSH', KEYS[9], cid)
  redis.call('EXPIRE', KEYS[9], 86400)
end
local flag = redis.call('HGET', KEYS[1], 'flag')
if flag and flag ~= '' and ARGV[5] ~= ARGV[13] then
  redis.call('HDEL', KEYS[7], cid)
  redis.call('HSET', KEYS[8], cid, flag)
end
redis.call('PUBLISH', ARGV[9], '0 ' .. ARGV[10])
redis.call('PUBLISH', ARGV[14], 'q')
if ARGV[15] ~= ARGV[14] then redis.call('PUBLISH', ARGV[15], 'q') end
return {1}
