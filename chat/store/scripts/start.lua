-- Start a conversation: its hash and its place in the queue, in one step, if the client has
-- fewer starts still counting in a queue than allowed (its slots; expired ones are dropped).
-- A later start (START_LATER: closed, or no nurse on duty) takes no place in the queue and no
-- slot: it goes into the service's set of later conversations (not its answer-later list,
-- which only holds those with an answer owed: none yet).
-- KEYS: meta, queue, the client's waiting slots, the service's later conversations.
-- ARGV: ttl, now, service channel, most waiting starts per client, slot id, slot expiry,
-- later ('1' = a later start: no queue, no slot), then field/value pairs of the hash.
-- Returns 1 started; 0 refused (the client has as many waiting starts as allowed).
local now = tonumber(ARGV[2])
if ARGV[7] == '1' then
  redis.call('HSET', KEYS[1], unpack(ARGV, 8))
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
  redis.call('ZADD', KEYS[4], now, string.match(KEYS[1], '{(.*)}'))
  return 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
-- The place: the start time moved up by the hash's head start (chat/domain/ordering.py).
local head = tonumber(redis.call('HGET', KEYS[1], 'hs') or '') or 0
redis.call('ZADD', KEYS[2], now - head, string.match(KEYS[1], '{(.*)}'))
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
redis.call('EXPIRE', KEYS[3], math.ceil(tonumber(ARGV[6]) - now) + 1)
redis.call('PUBLISH', ARGV[3], 'q')
return 1
