-- The conversation's part of a transfer on Redis Cluster (transfer.lua does it all on one
-- Redis): the same checks, the hash (state, holder or queue time, service, key bundle,
-- history), the notice by sharded pub/sub. The receiver's slot was reserved before; the
-- services' lists, the sender's slot and the colleague's inbox follow on their own slots.
-- KEYS: meta. ARGV: sources, target state, from nurse, to nurse ('' = the queue), to service,
-- key bundle ('' = keep), epoch, now, channel, state frame, history entry ('' = none), from
-- service.
-- Returns {1, the risk flag ('' = none), the head start (seconds)}; {0, state, holder (1/0)};
-- {-1}; {-2} moved service.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local holder = redis.call('HGET', KEYS[1], 'nurse') == ARGV[3] and 1 or 0
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok or holder == 0 then return {0, st, holder} end
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[12] then return {-2} end
if ARGV[4] == '' then
  redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', '', 'queued', ARGV[8])
else
  redis.call('HSET', KEYS[1], 'st', ARGV[2], 'nurse', ARGV[4], 'claimed_at', ARGV[8])
end
redis.call('HSET', KEYS[1], 'svc', ARGV[5], 'last', ARGV[8])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'kb', ARGV[6], 'ep', ARGV[7]) end
if ARGV[11] ~= '' then
  local h = redis.call('HGET', KEYS[1], 'hist')
  if h and h ~= '' then h = h .. ',' .. ARGV[11] else h = ARGV[11] end
  redis.call('HSET', KEYS[1], 'hist', h)
end
redis.call('SPUBLISH', ARGV[9], '0 ' .. ARGV[10])
return {1, redis.call('HGET', KEYS[1], 'flag') or '', redis.call('HGET', KEYS[1], 'hs') or '0'}
