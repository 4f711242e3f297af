-- The service's part of park.lua on Redis Cluster: the caller read the conversation's hash
-- just before (its own slot) and says whether it still waits in this service.
-- KEYS: queue, set-aside set, absent set, online set.
-- ARGV: conversation, '1' = still waiting here, now, absent at or before, service channel.
-- Returns 1 set aside; 0 not (any more) due.
local cid = ARGV[1]
local place = redis.call('ZSCORE', KEYS[1], cid)
if not place or ARGV[2] ~= '1' then return 0 end
local here = tonumber(redis.call('ZSCORE', KEYS[4], cid) or '')
if here and here >= tonumber(ARGV[3]) then return 0 end
local since = tonumber(redis.call('ZSCORE', KEYS[3], cid) or '')
if not since or since > tonumber(ARGV[4]) then return 0 end
redis.call('ZREM', KEYS[1], cid)
redis.call('ZREM', KEYS[3], cid)
redis.call('ZADD', KEYS[2], place, cid)
redis.call('PUBLISH', ARGV[5], 'q')
return 1
