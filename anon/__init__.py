"""Anonymous identities: capability tokens, resume codes, IP-free client keys, rate limits."""
