-- Link a conversation to a logged-in youth, in one step: the person's tag, login level and key
-- on the hash; the anonymous token and resume code stop working; the person's thread set; the
-- login's pending link; the state notice.
-- KEYS: meta, the person's threads, the login session (Redis Cluster: meta only, see ARGV 11).
-- ARGV: person tag, acr, age, now, youth key, person ttl, channel, the state the caller saw,
-- its state frame, the closed state, '1' when only the conversation's part is done here (Redis
-- Cluster: the thread set and the login session are on their own slots, left to the caller;
-- the notice goes out by sharded pub/sub).
-- Returns {1}; {0, state} closed or changed since the caller looked; {-1} no such
-- conversation; {-2} linked to someone else.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
if st == ARGV[10] or st ~= ARGV[8] then return {0, st} end
local tag = redis.call('HGET', KEYS[1], 'ptag')
if tag and tag ~= '' and tag ~= ARGV[1] then return {-2} end
local cid = string.match(KEYS[1], '{(.*)}')
redis.call('HSET', KEYS[1], 'ptag', ARGV[1], 'auth', 'idporten', 'acr', ARGV[2], 'age', ARGV[3],
           'linked_at', ARGV[4], 'ypk', ARGV[5])
redis.call('HDEL', KEYS[1], 'th', 'rh', 'rb')
if ARGV[11] == '1' then
  redis.call('SPUBLISH', ARGV[7], '0 ' .. ARGV[9])
  return {1}
end
redis.call('SADD', KEYS[2], cid)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
redis.call('HDEL', KEYS[3], 'lc')
redis.call('PUBLISH', ARGV[7], '0 ' .. ARGV[9])
return {1}
