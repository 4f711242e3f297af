-- Close a conversation: the nurse's close, the youth's end and the inactivity auto-close.
-- One step: state, expiry of the conversation's keys, the queue, the active set, the holder's
-- slot, the risk flag, the answer-later list and the later conversations, and the notices.
-- KEYS: meta, log, dedup, resume attempts, notes, queue, active set, flags, holder's open set,
-- answer-later list, the service's later conversations.
-- ARGV: sources, target, outcome, now, ttl, channel, state frame, required holder ('' = any),
-- service, holder seen by the caller ('' = none), only if last == this ('' = always),
-- notice frame sent before the state ('' = none), service channel.
-- Returns {1, previous state}; {0, state, holder (1/0)} refused; {-1} no such conversation;
-- {-2} changed since the caller looked (service, holder or last activity).
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local nurse = redis.call('HGET', KEYS[1], 'nurse') or ''
local holder = (ARGV[8] ~= '' and nurse == ARGV[8]) and 1 or 0
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok or (ARGV[8] ~= '' and holder == 0) then return {0, st, holder} end
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[9] or nurse ~= ARGV[10] then return {-2} end
if ARGV[11] ~= '' and redis.call('HGET', KEYS[1], 'last') ~= ARGV[11] then return {-2} end
local cid = string.match(KEYS[1], '{(.*)}')
local flagged = redis.call('HGET', KEYS[1], 'flag')
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'outcome', ARGV[3], 'closed_at', ARGV[4], 'last', ARGV[4])
local ttl = tonumber(ARGV[5])
for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
local queued = redis.call('ZREM', KEYS[6], cid) + redis.call('ZREM', KEYS[10], cid)
redis.call('ZREM', KEYS[11], cid)
redis.call('ZREM', KEYS[7], cid)
redis.call('HDEL', KEYS[8], cid)
if nurse ~= '' then redis.call('SREM', KEYS[9], cid) end
if ARGV[12] ~= '' then redis.call('PUBLISH', ARGV[6], '0 ' .. ARGV[12]) end
redis.call('PUBLISH', ARGV[6], '0 ' .. ARGV[7])
if queued > 0 or (flagged and flagged ~= '') then redis.call('PUBLISH', ARGV[13], 'q') end
return {1, st}
