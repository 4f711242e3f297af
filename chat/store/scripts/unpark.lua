-- A youth whose waiting conversation was set aside is back: it counts in the queue again, at
-- its original place. Only while it still waits in this service.
-- KEYS: meta, queue, set-aside set, absent set.
-- ARGV: waiting state, service, service channel.
-- Returns 1 back in the queue; 0 nothing to do.
local cid = string.match(KEYS[1], '{(.*)}')
redis.call('ZREM', KEYS[4], cid)
local place = redis.call('ZSCORE', KEYS[3], cid)
if not place then return 0 end
redis.call('ZREM', KEYS[3], cid)
if redis.call('HGET', KEYS[1], 'st') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'svc') ~= ARGV[2] then
  return 0
end
redis.call('ZADD', KEYS[2], place, cid)
redis.call('PUBLISH', ARGV[3], 'q')
return 1
