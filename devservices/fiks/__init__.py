"""A stand-in for KS Fiks' bekymringsmelding API (docs/concern-report.md): it decrypts each
report with the municipality's private key, validates it, and keeps a status history."""
