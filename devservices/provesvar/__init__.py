"""A stand-in for NHN's Pasientens prøvesvar: FHIR R4 DiagnosticReport + Observation (JSON)
for synthetic persons, behind HelseID-like client credentials with DPoP."""
