"""The registries' failures as the page tells them: stable codes, nothing of the answer."""

from __future__ import annotations

from chat.errors import ClientError


class RegistryUnavailable(ClientError):
    code = "registry_unavailable"
    message = "The registry did not answer in time or is down. Try again later."
    http_status = 503


class RegistryMalformed(ClientError):
    code = "registry_malformed"
    message = "The registry's answer could not be read. Nothing from it is shown."
    http_status = 502


class RegistryOtherPerson(ClientError):
    code = "registry_other_person"
    message = "The registry answered about another person. Nothing from it is shown."
    http_status = 502


class RegistryRefused(ClientError):
    code = "registry_refused"
    message = "The registry refused the request."
    http_status = 502
