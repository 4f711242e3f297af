-- Publish a stored message: an append's last step when it waits for replicas, sent in the same
-- pipeline after the append and its WAIT (chat/store/replicas.py), so it runs once the WAIT
-- has answered. KEYS: dedup, log. ARGV: cmid, channel, frame prefix, frame suffix, '1' for
-- sharded pub/sub (SPUBLISH, Redis Cluster), role, sender, ts, SHA-1 of the body.
-- The message is the one the dedup hash names for cmid, and it is published only if it is the
-- one this frame describes (same role, sender, time and body): the append stored it just now,
-- or it is a retry of that same append (then those who missed the first publish get it, and
-- the rest drop it by its sequence). A duplicate cmid with other content publishes nothing.
-- Returns 1 when published, else 0 (the append was refused, or the cmid's message differs).
local seq = redis.call('HGET', KEYS[1], ARGV[1])
if not seq then return 0 end
local entry = redis.call('XRANGE', KEYS[2], '0-' .. seq, '0-' .. seq)[1]
if not entry then return 0 end
local f = {}
for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
if f.r ~= ARGV[6] or f.s ~= ARGV[7] or f.t ~= ARGV[8] or redis.sha1hex(f.b or '') ~= ARGV[9] then
  return 0
end
redis.call(ARGV[5] == '1' and 'SPUBLISH' or 'PUBLISH', ARGV[2], seq .. ' ' .. ARGV[3] .. seq .. ARGV[4])
return 1
