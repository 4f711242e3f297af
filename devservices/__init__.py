"""Local stand-ins for national services (ID-porten, HelseID, NHN). Never imported by production code."""
