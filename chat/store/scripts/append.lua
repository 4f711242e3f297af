-- Append a message. KEYS: meta, log, dedup, the youth's push subscription (same slot), the
-- service's answer-later list.
-- ARGV: cmid, role, sender, body, ts, ttl, channel, frame prefix, frame suffix, writer (a
-- nurse who must have the conversation or have joined it as a helper, or ''), the closed state, the active state, most
-- messages, most body bytes per conversation, the later state, the service channel, '1' when
-- the answer-later list is left to the caller (Redis Cluster: it is on the service's slot;
-- KEYS then has no fifth key) and the message goes out by sharded pub/sub (SPUBLISH), and '1'
-- when the caller publishes it (publish.lua, after a WAIT for replicas: chat/store/replicas.py),
-- and '1' when the writing nurse's session is checked here (one Redis only: KEYS[6] her
-- session, KEYS[7] her account), before anything else, as the dashboard socket checks it
-- before every command: the send then needs no round trip of its own for it.
-- Returns {status, seq}: 1 new, 0 duplicate (seq of the original), -1 no such conversation,
-- -2 closed, -3 the nurse neither has the conversation nor helps in it, -4 the conversation is full
-- (messages or bytes; nothing stored), -5 the nurse's session has ended or her account is
-- disabled (nothing stored). The caps are checked here, in the same step as the
-- write, so parallel senders cannot overshoot them.
-- What is owed: a youth's message sets 'owed' (its time) when nothing is owed yet; in a later
-- conversation that also puts it in the answer-later list (and marks 'lowed') and returns
-- {1, seq, '', '', owed}. A nurse's message clears it and returns {1, seq, owed, lowed, '',
-- subscribed} (lowed: set when the answer waited in the answer-later list, else ''; subscribed:
-- 1 when the youth has a push subscription, whose TTL this step renews with the others, so the
-- caller tells the push room only then, with no round trip of its own).
if ARGV[19] == '1' then
  local disabled = redis.call('HGET', KEYS[7], 'disabled')
  if redis.call('HGET', KEYS[6], 'nurse') ~= ARGV[10] or not disabled or disabled == '1' then
    return {-5, 0}
  end
end
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1, 0} end
if st == ARGV[11] then return {-2, 0} end
if ARGV[10] ~= '' then
  -- The holder, or a colleague she asked in during her current tenure (helpers.lua).
  local holder = redis.call('HGET', KEYS[1], 'nurse')
  if st ~= ARGV[12] or (holder ~= ARGV[10] and redis.call('HGET', KEYS[1], 'h:' .. ARGV[10])
      ~= (holder or '') .. ' ' .. (redis.call('HGET', KEYS[1], 'claimed_at') or '')) then
    return {-3, 0}
  end
end
local prev = redis.call('HGET', KEYS[3], ARGV[1])
if prev then return {0, tonumber(prev)} end
local held = redis.call('HMGET', KEYS[1], 'seq', 'bytes', 'owed')
if (tonumber(held[1]) or 0) >= tonumber(ARGV[13])
    or (tonumber(held[2]) or 0) + #ARGV[4] > tonumber(ARGV[14]) then
  return {-4, 0}
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], '0-' .. seq, 'r', ARGV[2], 's', ARGV[3], 'c', ARGV[1], 'b', ARGV[4], 't', ARGV[5])
redis.call('HSET', KEYS[3], ARGV[1], seq)
redis.call('HINCRBY', KEYS[1], 'bytes', #ARGV[4])
redis.call('HSET', KEYS[1], 'last', ARGV[5])
local ttl = tonumber(ARGV[6])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[3], ttl)
end
local subscribed = ttl > 0 and redis.call('EXPIRE', KEYS[4], ttl) or 0
if ARGV[18] ~= '1' then
  redis.call(ARGV[17] == '1' and 'SPUBLISH' or 'PUBLISH', ARGV[7], seq .. ' ' .. ARGV[8] .. seq .. ARGV[9])
end
local owed = held[3] or ''
if ARGV[10] ~= '' then
  if owed == '' then return {1, seq, '', '', '', subscribed} end
  local lowed = redis.call('HGET', KEYS[1], 'lowed') or ''
  redis.call('HDEL', KEYS[1], 'owed', 'lowed')
  return {1, seq, owed, lowed, '', subscribed}
end
if ARGV[2] == 'youth' and owed == '' then
  redis.call('HSET', KEYS[1], 'owed', ARGV[5])
  if st == ARGV[15] then
    redis.call('HSET', KEYS[1], 'lowed', ARGV[5])
    if ARGV[17] ~= '1' then
      redis.call('ZADD', KEYS[5], 'NX', ARGV[5], string.match(KEYS[1], '{(.*)}'))
      redis.call('PUBLISH', ARGV[16], 'l')
    end
    return {1, seq, '', '', ARGV[5]}
  end
end
return {1, seq}
