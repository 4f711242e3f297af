"""The concern report to child welfare (bekymringsmelding, helsepersonelloven § 33) from a
thread linked to an ID-porten login: the nurse's form, its PDF and structured JSON, both
CMS-enveloped to the municipality's certificate, sent through KS Fiks (docs/concern-report.md)."""
