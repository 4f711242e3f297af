"""The logged-in youth's own health records from national registries, fetched per page view
and never stored: vaccines (SYSVAK) and the access log of who has looked (docs/records.md)."""
