-- A waiting conversation's head start changed (a nurse set or cleared the acute flag): move it
-- to its new place, only if it is still in the queue (or set aside by the gone sweep, which
-- keeps the place for its return). Anything else (claimed, closed, moved) is left alone.
-- KEYS: queue, set-aside set.
-- ARGV: conversation, new score, service channel.
-- Returns 1 moved in the queue; 2 moved in the set-aside set; 0 in neither (or already there).
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
if old then
  if tonumber(old) == tonumber(ARGV[2]) then return 0 end
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
  redis.call('PUBLISH', ARGV[3], 'q')
  return 1
end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
  return 2
end
return 0
