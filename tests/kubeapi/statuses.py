"""How kube-apiserver words its answers: ``Status`` bodies, RBAC denials, injected errors.

The message texts are the API server's own (they are facts clients match on, e.g. client-go
recognises an expired continue token by reason ``Expired``); the code is ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from .faults import Fault
from .resources import ResourceType

_encoder = msgspec.json.Encoder()

CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start"
    " a new list without the continue parameter, or use the continue token in this response to"
    " retrieve the remainder of the results. Continuing with the provided token results in an"
    " inconsistent list - objects that were created, modified, or deleted between the time the"
    " first chunk was returned and now may show up in the list."
)
# API Priority and Fairness (and max-in-flight) reject with plain text, not a Status.
TOO_MANY_REQUESTS = "Too many requests, please try again later.\n"
NOT_FOUND = "the server could not find the requested resource"
# Injected error statuses: (reason, message) as kube-apiserver words them.
ERRORS: Mapping[int, tuple[str, str]] = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("NotFound", NOT_FOUND),
    409: ("Conflict", "the server reported a conflict"),
    410: ("Expired", CONTINUE_EXPIRED),
    500: ("InternalError", "Internal error occurred: injected fault"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded"),
}
_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True, slots=True)
class Response:
    """What to send: a body in one piece or as a stream of pieces (big lists)."""

    status: int
    body: bytes | Iterable[bytes]
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def verb(method: str) -> str:
    """The authorization verb of an HTTP method on a resource."""
    return _VERBS.get(method, method.lower())


def json_response(code: int, document: Mapping[str, Any]) -> Response:
    return Response(code, _encoder.encode(document))


def status(
    code: int,
    reason: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    *,
    continue_token: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    """A ``Status`` body; ``continue_token`` goes in its list metadata, as for 410 Expired."""
    document: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {"continue": continue_token} if continue_token else {},
        "status": "Failure",
        "message": message,
    }
    if reason:
        document["reason"] = reason
    if details is not None:
        document["details"] = dict(details)
    document["code"] = code
    return Response(code, _encoder.encode(document), headers=headers)


def unauthorized() -> Response:
    return status(401, "Unauthorized", "Unauthorized")


def not_found() -> Response:
    return status(404, "NotFound", NOT_FOUND, {})


def object_not_found(resource: ResourceType, name: str) -> Response:
    return status(404, "NotFound", f'{resource.qualified} "{name}" not found', _details(resource, name))


def bad_request(message: str) -> Response:
    return status(400, "BadRequest", message)


def expired(resume_token: str) -> Response:
    return status(410, "Expired", CONTINUE_EXPIRED, continue_token=resume_token)


def not_allowed(resource: ResourceType | None = None, method: str = "") -> Response:
    if resource is None:
        return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
    message = f'{verb(method)} is not supported on resources of kind "{resource.qualified}"'
    return status(405, "MethodNotAllowed", message, _details(resource, None))


def forbidden_resource(
    user: str, action: str, resource: ResourceType, namespace: str | None, name: str | None
) -> Response:
    """RBAC's denial of a resource request, e.g. ``pods is forbidden: User "…" cannot list …``."""
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    subject = f'{resource.qualified} "{name}"' if name else resource.qualified
    message = (
        f'{subject} is forbidden: User "{user}" cannot {action} resource "{resource.plural}"'
        f' in API group "{resource.group}" {scope}'
    )
    return status(403, "Forbidden", message, _details(resource, name))


def forbidden_path(user: str, action: str, path: str) -> Response:
    """RBAC's denial of a non-resource URL such as ``/version`` or ``/apis``."""
    return status(403, "Forbidden", f'forbidden: User "{user}" cannot {action} path "{path}"', {})


def internal_error(cause: str) -> Response:
    return status(500, "InternalError", f"Internal error occurred: {cause}", {"causes": [{"message": cause}]})


def fault_response(fault: Fault) -> Response:
    """The answer to a STATUS fault: 429 in APF's plain text, anything else as a Status."""
    if fault.status == 429:
        retry = (("Retry-After", str(fault.retry_after if fault.retry_after is not None else 1)),)
        text = (fault.message + "\n") if fault.message else TOO_MANY_REQUESTS
        return Response(429, text.encode(), "text/plain; charset=utf-8", retry)
    reason, default = ERRORS.get(fault.status, ("", f"injected fault {fault.status}"))
    message = fault.message or default
    details: dict[str, Any] | None = None
    if fault.status == 500:
        details = {"causes": [{"message": message.removeprefix("Internal error occurred: ")}]}
    if fault.retry_after is not None:
        details = {**(details or {}), "retryAfterSeconds": fault.retry_after}
    headers = (("Retry-After", str(fault.retry_after)),) if fault.retry_after is not None else ()
    return status(fault.status, reason, message, details, headers=headers)


def fault_body(fault: Fault) -> bytes:
    """The body the server sends for a STATUS ``fault`` (for assertions in tests)."""
    body = fault_response(fault).body
    assert isinstance(body, bytes)
    return body


def _details(resource: ResourceType, name: str | None) -> dict[str, str]:
    details: dict[str, str] = {}
    if name:
        details["name"] = name
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural
    return details
