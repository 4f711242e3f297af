-- Set a waiting conversation aside: its youth has had no connection since longer than the
-- grace. Re-checked here (still waiting in this service's queue, still not connected, still
-- absent since then), so a youth who came back meanwhile keeps its place.
-- KEYS: meta, queue, set-aside set, absent set, online set.
-- ARGV: waiting state, service, now, absent at or before (now - grace), service channel.
-- Returns 1 set aside; 0 not (any more) due.
local cid = string.match(KEYS[1], '{(.*)}')
local place = redis.call('ZSCORE', KEYS[2], cid)
if not place then return 0 end
if redis.call('HGET', KEYS[1], 'st') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'svc') ~= ARGV[2] then
  return 0
end
local here = tonumber(redis.call('ZSCORE', KEYS[5], cid) or '')
if here and here >= tonumber(ARGV[3]) then return 0 end
local since = tonumber(redis.call('ZSCORE', KEYS[4], cid) or '')
if not since or since > tonumber(ARGV[4]) then return 0 end
redis.call('ZREM', KEYS[2], cid)
redis.call('ZREM', KEYS[4], cid)
redis.call('ZADD', KEYS[3], place, cid)
redis.call('PUBLISH', ARGV[5], 'q')
return 1
