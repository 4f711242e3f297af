"""A stand-in for SYSVAK, the national immunisation registry (FHI): XML over HelseID + DPoP."""
