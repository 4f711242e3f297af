"""A local stand-in for a browser vendor's Web Push service (RFC 8030, 8291, 8292).

Started by ``make run`` and the tests only; production code never imports it. It checks each
push the way a real push service does (TTL, content coding, the VAPID token), decrypts the
payload with the subscription's private key and keeps what arrived so tests can read it back.
See docs/operations.md, "Local stand-ins", for what it checks and where real services differ.
"""
