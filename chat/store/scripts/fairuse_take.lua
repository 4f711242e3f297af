-- Fair use per capability token: check a start against the token's pause, its open
-- conversations and its recent starts, and take one of each, in one step on the token's slot
-- (every key shares the fair-use tag's hash tag). A start refused later (start.lua) gives
-- them back (chat/store/fairuse.py: release).
-- KEYS: open conversations (zset cid -> lapses at), recent starts (zset id -> at), pause.
-- ARGV: now, cid, most open, most new per period, period seconds, open entry lapses at,
-- start id.
-- Returns {1} taken; {-1, pause value} paused; {-2} too many open; {-3} too many new.
local now = tonumber(ARGV[1])
local paused = redis.call('GET', KEYS[3])
if paused then return {-1, paused} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return {-2} end
local period = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - period)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return {-3} end
local lapses = tonumber(ARGV[6])
redis.call('ZADD', KEYS[1], lapses, ARGV[2])
local ttl = math.ceil(lapses - now) + 1
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
redis.call('ZADD', KEYS[2], now, ARGV[7])
redis.call('EXPIRE', KEYS[2], math.ceil(period) + 1)
return {1}
