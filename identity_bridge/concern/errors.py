"""The concern report's refusals, each with a stable code (docs/protocol.md's error table)."""

from __future__ import annotations

from chat.errors import ClientError


class ConcernInvalid(ClientError):
    code = "concern_invalid"
    message = "The concern report is missing a field or has one that is not valid."

    def __init__(self, field: str) -> None:
        super().__init__(f"The concern report's field {field!r} is missing or not valid.")
        self.field = field


class ConcernNotLinked(ClientError):
    code = "concern_not_linked"
    message = ("A concern report can be sent from here only for a thread where the youth logged "
               "in with ID-porten. Call the child welfare service instead.")
    http_status = 409


class ConcernNotConfigured(ClientError):
    code = "concern_not_configured"
    message = "This municipality has no child welfare receiver for concern reports."
    http_status = 409


class ConcernUnavailable(ClientError):
    code = "concern_unavailable"
    message = "KS Fiks could not be reached. The report was not sent; try again."
    http_status = 503


class ConcernRejected(ClientError):
    code = "concern_rejected"
    message = "KS Fiks refused the report."
    http_status = 502
