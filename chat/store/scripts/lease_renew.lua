-- Extend a lease, only by its holder. KEYS: lease. ARGV: the holder's token, milliseconds.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
