"""The helseprat wire protocol: a sans-I/O core (frames in, commands and replies out)."""

PROTOCOL_VERSION = 1
