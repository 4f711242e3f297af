-- Append a message. KEYS: meta, log, dedup. ARGV: cmid, role, sender, body, ts, ttl, channel,
-- frame prefix, frame suffix, writer (a nurse who must have the conversation, or ''),
-- the closed state, the active state.
-- Returns {status, seq}: 1 new, 0 duplicate (seq of the original), -1 no such conversation,
-- -2 closed, -3 the nurse does not have the conversation.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1, 0} end
if st == ARGV[11] then return {-2, 0} end
if ARGV[10] ~= '' and (st ~= ARGV[12] or redis.call('HGET', KEYS[1], 'nurse') ~= ARGV[10]) then
  return {-3, 0}
end
local prev = redis.call('HGET', KEYS[3], ARGV[1])
if prev then return {0, tonumber(prev)} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], '0-' .. seq, 'r', ARGV[2], 's', ARGV[3], 'c', ARGV[1], 'b', ARGV[4], 't', ARGV[5])
redis.call('HSET', KEYS[3], ARGV[1], seq)
redis.call('HSET', KEYS[1], 'last', ARGV[5])
local ttl = tonumber(ARGV[6])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[3], ttl)
end
redis.call('PUBLISH', ARGV[7], seq .. ' ' .. ARGV[8] .. seq .. ARGV[9])
return {1, seq}
