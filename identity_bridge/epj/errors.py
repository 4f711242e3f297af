"""One exception hierarchy for the EPJ link.

Every error has a stable machine ``code`` and a short human message. Messages never carry
message content, person identifiers or tokens: libxml2 messages can quote element values
(an FNR, a line of the note), so schema errors keep only line numbers and element paths.
"""

from __future__ import annotations


class EpjError(Exception):
    """Base class. ``code`` is stable and safe to store, log and show."""

    code: str = "epj.error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        super().__init__(message or self.code)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class XmlMalformed(EpjError):
    code = "epj.xml.malformed"


class XmlWrongRoot(EpjError):
    code = "epj.xml.wrong_root"


class SchemaInvalid(EpjError):
    """The document is well-formed but violates the KITH schemas."""

    code = "epj.xml.schema_invalid"

    def __init__(self, message: str, *, where: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        # "line N: /path/to/Element (ERROR_TYPE)" only; never libxml2's value-quoting text.
        self.where = where


class MessageInvalid(EpjError):
    """Schema-valid but not usable by us (unknown status code, missing MsgId, ...)."""

    code = "epj.message.invalid"


class SealError(EpjError):
    code = "epj.seal.open_failed"


class PayloadInvalid(EpjError):
    code = "epj.payload.invalid"


class ConfigError(EpjError):
    code = "epj.config.invalid"


class AuthError(EpjError):
    """HelseID refused us or answered in a way we cannot use."""

    code = "epj.auth.failed"


class TransportError(EpjError):
    """The service could not be reached or answered 5xx/429: worth retrying."""

    code = "epj.transport.unavailable"


class HttpStatusError(EpjError):
    """The service answered a status we do not retry (4xx other than 408/429)."""

    code = "epj.msh.refused"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, code=f"epj.msh.http_{status}")
        self.status = status


class AppointmentInvalid(EpjError):
    """An appointment message we cannot use: its iCalendar part is broken or incomplete,
    or it names no person we know. ``code`` says which (``epj.ical.*``,
    ``epj.appointment.*``)."""

    code = "epj.appointment.invalid"
