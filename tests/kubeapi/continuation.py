"""Continue tokens: opaque to clients, like kube-apiserver's (unpadded URL-safe base64 of a small
JSON document naming the list's revision and where the next page starts).

Ours also carry the page number (so faults can target "page 3") and the time the list's first
page was served (so a token can grow too old, as when etcd compacts the revision).  A token
whose revision is -1 continues at the latest revision without a consistency promise: the 410
``Expired`` answer offers one, as kube-apiserver does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

_VERSION = "meta.k8s.io/v1"
INCONSISTENT = -1


@dataclass(frozen=True, slots=True)
class ContinueToken:
    resource_version: int
    start: int  # position of the next item in the (possibly namespace-filtered) list
    page: int  # the page this token asks for; the first page, without a token, is 1
    started: float  # the server clock when the list's first page was served

    def encode(self) -> str:
        document = {
            "v": _VERSION,
            "rv": self.resource_version,
            "start": str(self.start),
            "page": self.page,
            "started": self.started,
        }
        return base64.urlsafe_b64encode(msgspec.json.encode(document)).rstrip(b"=").decode("ascii")

    def resumed(self) -> ContinueToken:
        """The inconsistent continuation a 410 Expired answer offers."""
        return ContinueToken(INCONSISTENT, self.start, self.page, self.started)


def decode(value: str) -> ContinueToken:
    """The token in ``value``; ValueError (with a message for a 400 answer) if it is not one."""
    try:
        document = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        token = ContinueToken(
            int(document["rv"]), int(document["start"]), int(document["page"]), float(document["started"])
        )
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"illegal continue token ({type(error).__name__})") from None
    if document.get("v") != _VERSION:
        raise ValueError(f"unknown continue token version {document.get('v')!r}")
    if token.start < 0 or token.page < 1:
        raise ValueError("continue token out of range")
    return token


def page_of(query: Mapping[str, str]) -> int | None:
    """Which page of a list a request asks for: 1 without a token, None for a garbled one."""
    if not query.get("continue"):
        return 1
    try:
        return decode(query["continue"]).page
    except ValueError:
        return None
