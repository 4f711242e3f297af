"""A stand-in for the municipality's patient record system (EPJ): publishes appointments to
helseprat over the NHN lookalike and answers cancellations (docs/appointments.md)."""
