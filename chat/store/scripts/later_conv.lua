-- The conversation's part of LEAVE_FOR_LATER / PARK_LATER on Redis Cluster (later.lua does it
-- all on one Redis): the same checks, the state, 'lowed' when an answer is owed, the notice by
-- sharded pub/sub. The service's lists follow on its slot, the holder's slot on hers.
-- KEYS: meta. ARGV: sources, target, required holder ('' = the youth), service, holder seen
-- by the caller ('' = none), owed seen by the caller ('' = none), now, channel, state frame.
-- Returns {1}; {0, state, holder (1/0)}; {-1}; {-2} as later.lua.
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
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', '', 'last', ARGV[7])
if owed ~= '' then redis.call('HSET', KEYS[1], 'lowed', owed) end
redis.call('SPUBLISH', ARGV[8], '0 ' .. ARGV[9])
return {1}
