"""Package URLs (purls), the one parser VEX documents and host SBOMs share.

``pkg:type/namespace/name@version?qualifiers#subpath`` as the purl specification parses it
(https://github.com/package-url/purl-spec, "How to parse a purl string in its components"):
the subpath is split off from the right at ``#``, the qualifiers at ``?``, the version at the last
``@`` and the name at the last ``/``; every component is percent-decoded; the type and the qualifier
keys are lower-cased; a qualifier without a value is dropped.  Lenient where real documents are:
``pkg:`` in any case, slashes after it (``pkg://oci/…``) ignored, an unencoded ``@`` that opens a
segment read as part of it (the npm scope of ``pkg:npm/@angular/core``), not as the version.

``parse_purl`` never raises: text that is no purl (no ``pkg:`` scheme, a type that is not letters,
digits, ``.``, ``+`` or ``-`` starting with a letter, no name, over ``MAX_PURL_TEXT`` characters)
is None.  Standard library only: importers and VEX readers both import it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote

MAX_PURL_TEXT: Final = 4096  # the longest purl in real SBOMs is a few hundred characters
_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9.+-]*", re.ASCII)


@dataclass(frozen=True, slots=True)
class Purl:
    """A package URL, percent-decoded."""

    type: str  # lower case: "oci", "rpm", "deb", "apk", "golang" …
    namespace: str  # "" or the decoded segments joined by "/": "suse", "github.com/aquasecurity"
    name: str
    version: str  # "" when the purl gives none
    qualifiers: Mapping[str, str]  # lower-case keys; values decoded ("distro": "amazon-2 (Karoo)")
    raw: str = ""  # the text as given, stripped
    subpath: str = field(default="")

    def same_package(self, other: Purl) -> bool:
        """Same type, namespace and name; and same version when both give one."""
        if (self.type, self.namespace.lower(), self.name.lower()) != (
            other.type,
            other.namespace.lower(),
            other.name.lower(),
        ):
            return False
        return not (self.version and other.version) or self.version == other.version


def parse_purl(text: str) -> Purl | None:
    """``pkg:type/namespace/name@version?qualifiers#subpath``; None when ``text`` is not a purl."""
    if len(text) > MAX_PURL_TEXT:
        return None
    value = text.strip()
    if value[:4].lower() != "pkg:":
        return None
    rest, _, subpath = value[4:].rpartition("#") if "#" in value[4:] else (value[4:], "", "")
    rest, _, query = rest.rpartition("?") if "?" in rest else (rest, "", "")
    qualifiers: dict[str, str] = {}
    for pair in query.split("&") if query else ():
        key, _, item = pair.partition("=")
        key, item = key.strip().lower(), unquote(item)
        if key and item:
            qualifiers[key] = item
    kind, sep, path = rest.strip("/").partition("/")
    if not sep or not _TYPE.fullmatch(kind):
        return None
    left, at, version = path.rpartition("@")
    if at and left and not left.endswith("/"):  # "@" opening a segment is a scope ("pkg:npm/@angular/core")
        path = left
    else:
        version = ""
    segments = [unquote(s) for s in path.split("/") if s]
    if not segments or not segments[-1]:
        return None
    return Purl(
        type=kind.lower(),
        namespace="/".join(segments[:-1]),
        name=segments[-1],
        version=unquote(version),
        qualifiers=qualifiers,
        raw=value,
        subpath="/".join(unquote(s) for s in subpath.split("/") if s not in ("", ".", "..")),
    )
