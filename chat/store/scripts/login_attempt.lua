-- Count one sign-in attempt and decide whether its password may be checked, in one step and
-- before the check: parallel guesses can no longer all pass a test made before any of them
-- was counted. Returns 0 (check it), 1 (locked: this client or device has used its tries),
-- 2 (the account-wide back-off says not yet).
-- KEYS: attempts by this client (or known device) at the account, attempts at the account
-- from anywhere, when the back-off next lets one through (ms).
-- ARGV: now (ms), tries per client or device, lockout (ms), account attempts before the
-- back-off, the account window (ms), back-off base (ms), back-off cap (ms), 1 = known device
-- (skips the back-off).
local now, tries, lockout = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local threshold, window = tonumber(ARGV[4]), tonumber(ARGV[5])
local base, cap, known = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tries then return 1 end
local everywhere = tonumber(redis.call('GET', KEYS[2]) or '0')
if not known and everywhere >= threshold then
  if now < tonumber(redis.call('GET', KEYS[3]) or '0') then return 2 end
  local delay = math.floor(math.min(cap, base * 2 ^ math.min(everywhere - threshold, 40)))
  redis.call('SET', KEYS[3], string.format('%d', now + delay), 'PX', math.max(delay, 1))
end
-- Each try pushes this client's lock further out: the lock lasts from the last try.
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], lockout)
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], window) end
return 0
