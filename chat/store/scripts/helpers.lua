-- A colleague asked into a conversation by its holder: the invitation, the join, the leave and
-- the clearing away when the holder's tenure ends, each in one step on the conversation's slot
-- (its hash and its message log; the invitee's list of invitations is on her own slot and is
-- written by the caller after this step).
-- A helper's place is a field of the conversation's hash, 'h:<username>', and an invitation
-- 'i:<username>'; the value is the holder's tenure ('<holder> <claimed_at>') when it was
-- given, so a release, transfer, park or close (which end the tenure) ends it in the same step
-- as the move, and append.lua lets a helper write only while her value is the current tenure.
-- KEYS: meta, log.
-- ARGV: op ('invite' · 'join' · 'leave' · 'clear'), the nurse (the holder for 'invite'),
-- the invitee ('invite'), the active state, the closed state; for 'join' and 'leave' the line
-- in the log: its code (kept as the entry's cmid), the nurse's display name, ts, ttl, channel,
-- frame prefix, frame suffix (the deliver frame split around its sequence number), and '1'
-- for sharded pub/sub (Redis Cluster).
-- Returns {1, seq or 0}; {0, state} refused in that state; {-1} no such conversation; {-3} not
-- the holder ('invite') / not invited or not joined ('join' / 'leave'); {-4} already in.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local op, who = ARGV[1], ARGV[2]
local holder = redis.call('HGET', KEYS[1], 'nurse') or ''
local now = holder .. ' ' .. (redis.call('HGET', KEYS[1], 'claimed_at') or '')
if op == 'clear' then
  local gone = {}
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(f, 1, 2) == 'h:' or string.sub(f, 1, 2) == 'i:' then table.insert(gone, f) end
  end
  if #gone > 0 then redis.call('HDEL', KEYS[1], unpack(gone)) end
  return {1, #gone}
end
if op == 'invite' then
  if st ~= ARGV[4] then return {0, st} end
  if holder ~= who or ARGV[3] == who then return {-3} end
  if redis.call('HGET', KEYS[1], 'h:' .. ARGV[3]) == now then return {-4} end
  redis.call('HSET', KEYS[1], 'i:' .. ARGV[3], now)
  return {1, 0}
end
local line = false
if op == 'join' then
  if st ~= ARGV[4] then return {0, st} end
  if redis.call('HGET', KEYS[1], 'h:' .. who) == now then return {-4} end
  if redis.call('HGET', KEYS[1], 'i:' .. who) ~= now then return {-3} end
  redis.call('HDEL', KEYS[1], 'i:' .. who)
  redis.call('HSET', KEYS[1], 'h:' .. who, now)
  line = true
elseif op == 'leave' then
  if st == ARGV[5] then return {0, st} end
  local place = redis.call('HGET', KEYS[1], 'h:' .. who)
  if not place then return {-3} end
  redis.call('HDEL', KEYS[1], 'h:' .. who)
  -- A place of an ended tenure is cleared without a line: the move that ended it told everyone.
  line = place == now and st == ARGV[4]
end
if not line then return {1, 0} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], '0-' .. seq, 'r', 'system', 's', ARGV[7], 'c', ARGV[6], 'b', '', 't', ARGV[8])
local ttl = tonumber(ARGV[9])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
redis.call(ARGV[13] == '1' and 'SPUBLISH' or 'PUBLISH', ARGV[10], seq .. ' ' .. ARGV[11] .. seq .. ARGV[12])
return {1, seq}
