-- The repair of one conversation's entries in its service's lists (Redis Cluster only;
-- chat/jobs/repair.py): each list made to agree with what the conversation's hash said
-- (chat/domain/placement.py), if no move of it has begun since the sweep marked it.
-- KEYS: the moves under way, queue, set aside, active, later conversations, answer-later list,
-- flags.
-- ARGV: conversation, the sweep's mark, queue place, active since, later since, owed ('' each:
-- not in that list), risk flag ('' = none), service channel.
-- A waiting conversation the gone sweep set aside counts there, not in the queue. An entry
-- already there keeps its score (a queue place to the fraction of a second).
-- Returns the number of entries changed; -1 a move of it began since (left to that move).
local cid = ARGV[1]
if tonumber(redis.call('ZSCORE', KEYS[1], cid) or '') ~= tonumber(ARGV[2]) then return -1 end
local changed = 0
local function keep(key, score)
  if score == '' then
    changed = changed + redis.call('ZREM', key, cid)
  elseif not redis.call('ZSCORE', key, cid) then
    redis.call('ZADD', key, score, cid)
    changed = changed + 1
  end
end
if ARGV[3] == '' then
  changed = changed + redis.call('ZREM', KEYS[3], cid)
  keep(KEYS[2], '')
elseif not redis.call('ZSCORE', KEYS[3], cid) then
  keep(KEYS[2], ARGV[3])
end
keep(KEYS[4], ARGV[4])
keep(KEYS[5], ARGV[5])
keep(KEYS[6], ARGV[6])
if ARGV[7] == '' then
  changed = changed + redis.call('HDEL', KEYS[7], cid)
elseif redis.call('HGET', KEYS[7], cid) ~= ARGV[7] then
  redis.call('HSET', KEYS[7], cid, ARGV[7])
  changed = changed + 1
end
if changed > 0 then redis.call('PUBLISH', ARGV[8], 'q') end
return changed
