"""The shared purl parser (``patchlevel.purl``) on every purl of the real documents in tests/data.

VEX documents and host SBOMs name packages and images by purls; before, the two readers parsed them with
parsers of their own that disagreed (the version at the first or the last ``@``, any type or a checked one).
"""

from __future__ import annotations

import re
from pathlib import Path

from patchlevel.purl import parse_purl

DATA = Path(__file__).parent / "data"
QUOTED_PURL = re.compile(r'"(pkg:[^"\\]{1,400})"')


def real_purls() -> list[str]:
    found: set[str] = set()
    for path in DATA.rglob("*.json"):
        if path.stat().st_size < 5_000_000:
            found.update(QUOTED_PURL.findall(path.read_text(encoding="utf-8", errors="replace")))
    return sorted(found)


def test_every_purl_in_the_real_documents_parses_into_its_components() -> None:
    purls = real_purls()
    assert len(purls) > 100
    for text in purls:
        purl = parse_purl(text)
        assert purl is not None, text
        assert purl.name and "%" not in purl.name and "?" not in purl.name and "@" not in purl.name, text
        assert not purl.version or text.split("?")[0].endswith(purl.version) or "%" in text, text


def test_the_components_of_an_image_an_rpm_and_an_npm_scope() -> None:
    oci = parse_purl("pkg:oci/alpine@sha256%3A124c7d27?repository_url=docker.io%2Flibrary%2Falpine&tag=3.17.4")
    assert oci is not None
    assert (oci.type, oci.name, oci.version) == ("oci", "alpine", "sha256:124c7d27")
    assert oci.qualifiers == {"repository_url": "docker.io/library/alpine", "tag": "3.17.4"}
    rpm = parse_purl("pkg:rpm/amazon/kernel@5.10.1-1.amzn2?arch=x86_64&epoch=&distro=amazon-2")
    assert rpm is not None and (rpm.namespace, rpm.version) == ("amazon", "5.10.1-1.amzn2")
    assert "epoch" not in rpm.qualifiers  # a qualifier without a value is none
    scoped = parse_purl("pkg:npm/@angular/core")  # unencoded scope: no version, not "angular/core"
    assert scoped is not None and (scoped.namespace, scoped.name, scoped.version) == ("@angular", "core", "")
    assert parse_purl("pkg:1oci/alpine") is None  # a type starts with a letter
