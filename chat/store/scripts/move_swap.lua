-- A move's record in the service's moves under way (Redis Cluster only; chat/jobs/repair.py),
-- changed only if it is still what the caller saw: the repair sweep marks a lost move as being
-- repaired (so a move that begins meanwhile, which writes its own time over the mark, is seen
-- and left alone), and removes it once repaired.
-- KEYS: the moves under way. ARGV: conversation, the time the caller saw ('' = none), the new
-- time ('' = remove it), then further members removed with it (its nurses').
-- Returns 1 changed; 0 it changed since the caller looked (nothing done).
local now = redis.call('ZSCORE', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if now then return 0 end
elseif tonumber(now or '') ~= tonumber(ARGV[2]) then
  return 0
end
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  for i = 4, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
