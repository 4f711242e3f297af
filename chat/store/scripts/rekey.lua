-- Store a conversation key re-sealed to the team's current epoch, if the sender may: anyone
-- the caller vouches for while it waits (nobody holds it), only the holder or a lead of the
-- service while it is active, nobody once it is closed. Checked here, in the same step as the
-- write, so a claim in between cannot let a colleague replace the holder's key bundle.
-- KEYS: meta. ARGV: nurse, lead (1/0), key bundle, epoch, waiting state, active state,
-- service.
-- Returns {1}; {0, state, holder (1/0)} refused; {-1} no such conversation; {-2} moved service.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1} end
local holder = redis.call('HGET', KEYS[1], 'nurse') == ARGV[1] and 1 or 0
local ok = st == ARGV[5] or (st == ARGV[6] and (holder == 1 or ARGV[2] == '1'))
if not ok then return {0, st, holder} end
if redis.call('HGET', KEYS[1], 'svc') ~= ARGV[7] then return {-2} end
redis.call('HSET', KEYS[1], 'kb', ARGV[3], 'ep', ARGV[4])
return {1}
