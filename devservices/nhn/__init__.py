"""A local stand-in for NHN's message service (EDI 2.0 REST) and HelseID's token endpoint.

Started by ``make run`` and tests only; production code never imports it. See docs/epj.md
for what it checks and where the real services differ.
"""
