"""One exception hierarchy for the conversation service.

Client-facing errors carry a stable machine ``code`` and a human message (like Zulip's
JsonableError). Anything else is internal: it is logged with a reference id and the client only
sees ``internal_error`` with that reference, never the exception text.
"""

from __future__ import annotations


class ChatError(Exception):
    """Base for every error this package raises on purpose."""


class ClientError(ChatError):
    """An error the client caused and may be told about, with a stable code."""

    code: str = "bad_request"
    message: str = "The request could not be handled."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        if message is not None:
            self.message = message
        super().__init__(self.message)


class BadFrame(ClientError):
    code = "bad_frame"
    message = "The frame is not valid JSON."


class UnknownType(ClientError):
    code = "unknown_type"
    message = "Unknown message type."


class SchemaViolation(ClientError):
    code = "schema_violation"
    message = "The frame does not match the protocol schema."


class FrameTooLarge(ClientError):
    code = "frame_too_large"
    message = "The frame is larger than the protocol allows."


class UnsupportedVersion(ClientError):
    code = "unsupported_version"
    message = "This protocol version is not supported."


class InvalidState(ClientError):
    code = "invalid_state"
    message = "That is not possible in this state of the connection."


class NotAuthorized(ClientError):
    code = "not_authorized"
    message = "You do not have access to that conversation."


class BadToken(ClientError):
    code = "bad_token"
    message = "The token is wrong, or the conversation has expired."


class BadResumeCode(ClientError):
    code = "bad_resume_code"
    message = "The resume code is not right."


class ResumeHandleTaken(ClientError):
    code = "resume_handle_taken"
    message = "That resume code is in use. Make a new one and try again."


class TooManyAttempts(ClientError):
    code = "too_many_attempts"
    message = "Too many attempts. Wait a while before trying again."


class RateLimited(ClientError):
    code = "rate_limited"
    message = "Slow down a little."


class UnknownService(ClientError):
    code = "unknown_service"
    message = "No such service."


class ServiceClosed(ClientError):
    code = "service_closed"
    message = "The chat is closed now. See the opening hours, or call a crisis number."


class ConversationClosed(ClientError):
    code = "conversation_closed"
    message = "The conversation is closed."


class AlreadyClaimed(ClientError):
    code = "already_claimed"
    message = "Another nurse has already taken this conversation."


class CapacityReached(ClientError):
    code = "capacity_reached"
    message = "You already have as many open conversations as allowed."


class BadOutcome(ClientError):
    code = "bad_outcome"
    message = "That outcome is not one of the service's outcomes."


class KeyBundleRequired(ClientError):
    code = "key_bundle_required"
    message = "This service only accepts end-to-end encrypted conversations."


class StaleKeyBundle(ClientError):
    code = "e2e_stale_epoch"
    message = "The service's keys have changed. Reload and try again."


class ShuttingDown(ClientError):
    code = "shutting_down"
    message = "This server is restarting; reconnect."


class ConfigError(ChatError):
    """The configuration is wrong; raised at start-up, never at request time."""
