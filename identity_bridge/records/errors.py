"""What can go wrong fetching records: each a stable code the page words (never a traceback,
never a part of the answer)."""

from __future__ import annotations

from chat.errors import ClientError


class RecordsError(ClientError):
    code = "records_unavailable"
    message = "The records service could not be reached."
    http_status = 503


class RecordsUnavailable(RecordsError):
    code = "records_unavailable"
    message = "The records service is slow or down."


class RecordsMalformed(RecordsError):
    code = "records_malformed"
    message = "The records service answered something that is not a valid answer."


class RecordsWrongPerson(RecordsError):
    code = "records_wrong_person"
    message = "The records service answered about another person; nothing is shown."


class RecordsNotConfigured(RecordsError):
    code = "records_not_configured"
    message = "This service has no connection to the records service."
