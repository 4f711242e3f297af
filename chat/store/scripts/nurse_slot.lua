-- Reserve a nurse's slot for a conversation (a claim on Redis Cluster, before the
-- conversation's own step; given back with SREM if that step refuses).
-- KEYS: the nurse's open set. ARGV: conversation, capacity.
-- Returns 1 reserved now; 2 she had it already; 0 her slots are full.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 2 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
