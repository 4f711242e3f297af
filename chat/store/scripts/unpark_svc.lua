-- The service's part of unpark.lua on Redis Cluster: the caller read the conversation's hash
-- just before (its own slot) and says whether it still waits in this service.
-- KEYS: queue, set-aside set, absent set. ARGV: conversation, '1' = still waiting here,
-- service channel. Returns 1 back in the queue; 0 nothing to do.
redis.call('ZREM', KEYS[3], ARGV[1])
local place = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not place then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '1' then return 0 end
redis.call('ZADD', KEYS[1], place, ARGV[1])
redis.call('PUBLISH', ARGV[3], 'q')
return 1
