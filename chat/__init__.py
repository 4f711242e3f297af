"""helseprat's conversation service: protocol core, queue and routing, Redis store, pages."""
