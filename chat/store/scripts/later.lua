-- Leave a conversation for later, in one step: the youth's LEAVE_FOR_LATER (from waiting or
-- active) and the holder's PARK_LATER (from active). No one is live on it afterwards: out of
-- the queue (and the gone sweep's sets), out of the active set, the holder's slot freed; into
-- the service's later conversations, and, when an answer is owed, into the answer-later list
-- at its owed time (NX: an earlier place is kept).
-- KEYS: meta, queue, active set, holder's open set, answer-later list, the service's later
-- conversations, absent set, set-aside set.
-- ARGV: sources, target, required holder ('' = the youth), service, holder seen by the caller
-- ('' = none), owed seen by the caller ('' = none), now, channel, state frame, service channel.
-- Returns {1}; {0, state, holder (1/0)} refused; {-1} no such conversation; {-2} changed
-- since the caller looked (service, holder or what is owed: the frame would be wrong).
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local nurse = redis.call('HGET', KEYS[1], 'nurse') or ''
local holder = (ARGV[3] ~= '' and nurse == ARGV[3]) and 1 or 0
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok or (ARGV[3] ~= '' and holder == 0) then return {0, st, holder} end
local owed = redis.call('HGET', KEYS[1], 'owed') or ''
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[4] or nurse ~= ARGV[5] or owed ~= ARGV[6] then
  return {-2}
end
local cid = string.match(KEYS[1], '{(.*)}')
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', '', 'last', ARGV[7])
if nurse ~= '' then redis.call('SREM', KEYS[4], cid) end
redis.call('ZREM', KEYS[2], cid)
redis.call('ZREM', KEYS[3], cid)
redis.call('ZREM', KEYS[7], cid)
redis.call('ZREM', KEYS[8], cid)
redis.call('ZADD', KEYS[6], ARGV[7], cid)
if owed ~= '' then
  redis.call('ZADD', KEYS[5], 'NX', owed, cid)
  redis.call('HSET', KEYS[1], 'lowed', owed)
end
redis.call('PUBLISH', ARGV[8], '0 ' .. ARGV[9])
redis.call('PUBLISH', ARGV[10], 'q')
return {1}
