-- Start a conversation: its hash and its place in the queue, in one step.
-- KEYS: meta, queue. ARGV: ttl, now, service channel, then field/value pairs of the hash.
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
redis.call('ZADD', KEYS[2], ARGV[2], string.match(KEYS[1], '{(.*)}'))
redis.call('PUBLISH', ARGV[3], 'q')
return 1
