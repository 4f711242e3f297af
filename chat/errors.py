"""One exception hierarchy for the conversation service.

Client-facing errors carry a stable machine ``code``, a human message (like Zulip's
JsonableError) and the HTTP status they answer with over HTTP; over a WebSocket they become an
``error`` frame (chat/protocol/events.py). Anything else is internal: it is logged with a
reference id and the client only sees ``internal_error`` with that reference, never the
exception text. docs/protocol.md's error table lists every code (a test walks this hierarchy).
"""

from __future__ import annotations


class ChatError(Exception):
    """Base for every error this package raises on purpose."""


class ClientError(ChatError):
    """An error the client caused and may be told about, with a stable code."""

    code: str = "bad_request"
    message: str = "The request could not be handled."
    http_status: int = 400

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
    http_status = 413


class UnsupportedVersion(ClientError):
    code = "unsupported_version"
    message = "This protocol version is not supported."


class InvalidState(ClientError):
    code = "invalid_state"
    message = "That is not possible in this state of the connection."
    http_status = 409


class NotAuthorized(ClientError):
    code = "not_authorized"
    message = "You do not have access to that conversation."
    http_status = 403


class BadToken(ClientError):
    code = "bad_token"
    message = "The token is wrong, or the conversation has expired."
    http_status = 403


class BadResumeCode(ClientError):
    code = "bad_resume_code"
    message = "The resume code is not right."


class ResumeHandleTaken(ClientError):
    code = "resume_handle_taken"
    message = "That resume code is in use. Make a new one and try again."
    http_status = 409


class TooManyAttempts(ClientError):
    code = "too_many_attempts"
    message = "Too many attempts. Wait a while before trying again."
    http_status = 429


class RateLimited(ClientError):
    code = "rate_limited"
    message = "Slow down a little."
    http_status = 429


class UnknownService(ClientError):
    code = "unknown_service"
    message = "No such service."
    http_status = 404


class ServiceClosed(ClientError):
    code = "service_closed"
    message = "The chat is closed now. See the opening hours, or call a crisis number."
    http_status = 409


class ConversationClosed(ClientError):
    code = "conversation_closed"
    message = "The conversation is closed."
    http_status = 409


class AlreadyClaimed(ClientError):
    code = "already_claimed"
    message = "Another nurse has already taken this conversation."
    http_status = 409


class CapacityReached(ClientError):
    code = "capacity_reached"
    message = "You already have as many open conversations as allowed."
    http_status = 409


class BadOutcome(ClientError):
    code = "bad_outcome"
    message = "That outcome is not one of the service's outcomes."


class KeyBundleRequired(ClientError):
    code = "key_bundle_required"
    message = "This service only accepts end-to-end encrypted conversations."


class StaleKeyBundle(ClientError):
    code = "e2e_stale_epoch"
    message = "The service's keys have changed. Reload and try again."
    http_status = 409


class ShuttingDown(ClientError):
    code = "shutting_down"
    message = "This server is restarting; reconnect."
    http_status = 503


class BadTransfer(ClientError):
    code = "bad_transfer"
    message = "Choose a colleague on the receiving service, or another service."


class BadInvite(ClientError):
    code = "bad_invite"
    message = "Ask a colleague of the conversation's service, not yourself or one already in it."


class LinkedElsewhere(ClientError):
    code = "linked_elsewhere"
    message = "The conversation is linked to another login."
    http_status = 409


class BadFlag(ClientError):
    code = "bad_flag"
    message = "A flag is concern, acute or none."


class UnknownTopic(ClientError):
    code = "unknown_topic"
    message = "That topic is not one of the service's topics."


class Unavailable(ClientError):
    """Storage is briefly unreachable; nothing was stored or acked."""

    code = "unavailable"
    message = "Try again in a moment."
    http_status = 503


class InternalError(ClientError):
    """A bug: the client gets this and a reference id that is in the log, nothing else."""

    code = "internal_error"
    message = "Something went wrong."
    http_status = 500


# -- HTTP APIs ----------------------------------------------------------------------------------
class NotAuthenticated(ClientError):
    code = "not_authenticated"
    message = "Sign in first."
    http_status = 401


class CsrfFailed(ClientError):
    code = "csrf"
    message = "Missing or wrong CSRF token."
    http_status = 403


class BadJson(ClientError):
    code = "bad_json"
    message = "The body is not JSON."


class NoTeamKey(ClientError):
    code = "no_team_key"
    message = "This service has no team key yet."
    http_status = 404


class BadDevice(ClientError):
    code = "bad_device"
    message = "wrapped, box and sign must be base64 keys."


class DeviceExists(ClientError):
    code = "device_exists"
    message = "A device key already exists for this account."
    http_status = 409


class BodyTooLarge(ClientError):
    code = "body_too_large"
    message = "The request body is larger than this address takes."
    http_status = 413


class BadHost(ClientError):
    code = "bad_host"
    message = "This server does not answer for that host name."


# -- nurse sign-in (the login page shows a text per code) ---------------------------------------
class LoginRefused(ClientError):
    code = "bad_credentials"
    message = "Wrong username or password."
    http_status = 401


class BadCredentials(LoginRefused):
    pass


class AccountLocked(LoginRefused):
    code = "locked"
    message = "Too many attempts. The account is locked for a while."


class AccountDisabled(LoginRefused):
    code = "disabled"
    message = "The account is disabled."


class LoginRateLimited(LoginRefused):
    code = "login_rate_limited"
    message = "Too many sign-in attempts from here. Wait a minute and try again."
    http_status = 429


class LoginBusy(LoginRefused):
    code = "busy"
    message = "The server is busy. Try again in a moment."
    http_status = 503


class SessionEnded(ClientError):
    """A dashboard socket whose session was logged out, expired or whose account was
    disabled: sent just before the socket closes with 4401."""

    code = "session_ended"
    message = "You have been signed out. Sign in again."
    http_status = 401


class BadSubscription(ClientError):
    code = "bad_subscription"
    message = "The push subscription is not one this server can use."


class ConfigError(ChatError):
    """The configuration is wrong; raised at start-up, never at request time."""


class ConversationFull(ClientError):
    code = "conversation_full"
    message = "This conversation has reached its size limit; the message was not stored."
    http_status = 409


class StorageFull(ClientError):
    code = "storage_full"
    message = "The server's storage is full; nothing was stored. Try again later."
    http_status = 507


# Fair use per capability token (docs/queue.md). The youth's page words these kindly, with the
# crisis numbers beside them: a refused start is never the end of the road to help.
class TooManyOpen(ClientError):
    code = "too_many_open"
    message = ("You already have open conversations. Write in one of them, or end one first. "
               "If it is urgent, call a crisis number.")
    http_status = 429


class TooManyNew(ClientError):
    code = "too_many_new"
    message = ("You have started many conversations lately. Try again a little later. "
               "If it is urgent, call a crisis number.")
    http_status = 429


class StartsPaused(ClientError):
    code = "starts_paused"
    message = ("New conversations from here are paused for a while. If it is urgent, call a "
               "crisis number.")
    http_status = 429


class OnBreak(ClientError):
    code = "on_break"
    message = "You are on a break. End the break to take conversations."
    http_status = 409
class PageTooLarge(ClientError):
    code = "page_too_large"
    message = ("The page is too long: at most 16,000 characters of text and a title of at most "
               "120 characters per language.")
    http_status = 413


class BadInfoPage(ClientError):
    code = "bad_info_page"
    message = "The page cannot be saved as it is."
