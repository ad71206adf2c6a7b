"""Image references and Pod image IDs, parsed the way the container runtimes read them.  No I/O.

``parse_reference`` follows docker's normalisation (the grammar kubelet, containerd and CRI-O
share): a first path component is a registry only when it contains ``.`` or ``:``, is
``localhost`` or has an upper-case letter; otherwise the image is on ``docker.io`` and a
single-component repository gets ``library/``.  ``index.docker.io`` is ``docker.io``.  A missing
tag stays ``None``: whether that means ``latest`` is the caller's decision.

``parse_image_id`` reads ``status.containerStatuses[].imageID``.  Only a ``repo@sha256:…`` form
names a registry (manifest) digest; a bare ``sha256:…`` (and docker's ``docker://sha256:…``) is
the runtime's local image ID, the digest of the image *config*, and can never be compared with
a registry digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_LEGACY_DOCKER_HUB = "index.docker.io"
_OFFICIAL_PREFIX = "library/"
_NAME_MAX = 255  # registry + "/" + repository, as docker limits it

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9A-Fa-f:.]+\])"
_REGISTRY = re.compile(rf"{_HOST}(?::[0-9]+)?")
_TAG = re.compile(r"\w[\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"([a-z0-9]+(?:[-_+.][a-z0-9]+)*):([0-9A-Za-z=_-]+)")
# Hex length of each digest algorithm a registry may use (OCI image spec, "Digests").
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_LOCAL_ID_HEX = re.compile(r"[0-9a-f]{64}")


class InvalidReferenceError(ValueError):
    """An image reference or image ID that no container runtime would accept."""

    def __init__(self, value: str, problem: str) -> None:
        super().__init__(f"invalid image reference {value!r}: {problem}")
        self.value = value
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A normalised image reference: ``nginx:1.25`` is docker.io, library/nginx, tag 1.25."""

    registry: str  # "docker.io", "quay.io", "localhost:5000", "[::1]:5000"
    repository: str  # "library/nginx"
    tag: str | None  # None: not written (runtimes then pull "latest" unless a digest is given)
    digest: str | None  # "sha256:…" when pinned
    raw: str  # the reference exactly as given

    @property
    def name(self) -> str:
        """Registry and repository: ``docker.io/library/nginx``."""
        return f"{self.registry}/{self.repository}"

    @property
    def canonical(self) -> str:
        """The fully qualified reference: ``docker.io/library/nginx:1.25@sha256:…``."""
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def __str__(self) -> str:
        return self.canonical


@dataclass(frozen=True, slots=True)
class ImageId:
    """A container status ``imageID``, read for what it can prove."""

    raw: str
    digest: str | None  # registry manifest (or index) digest; None when the ID is not one
    repository: ImageRef | None  # the repository the digest belongs to, when the ID names one
    local_id: str | None  # runtime-local image ID (config digest) from a bare "sha256:…"

    @property
    def is_registry_digest(self) -> bool:
        """True when ``digest`` can be compared with what a registry serves for a tag."""
        return self.digest is not None

    @property
    def is_empty(self) -> bool:
        """The kubelet has not reported an image yet (container waiting or never started)."""
        return self.raw.strip() == ""


def parse_digest(value: str) -> str:
    """Validate ``algorithm:hex`` and return it; raise ``InvalidReferenceError`` otherwise."""
    match = _DIGEST.fullmatch(value)
    if match is None:
        raise InvalidReferenceError(value, "a digest looks like sha256:<64 hex digits>")
    algorithm, encoded = match.groups()
    length = _DIGEST_HEX_LENGTH.get(algorithm)
    if length is None:
        raise InvalidReferenceError(value, f"unsupported digest algorithm {algorithm!r}")
    if len(encoded) != length or not re.fullmatch(r"[0-9a-f]+", encoded):
        raise InvalidReferenceError(value, f"a {algorithm} digest has {length} lower-case hex digits")
    return value


def parse_reference(ref: str) -> ImageRef:
    """Parse and normalise an image reference as written in a Pod spec.

    Raises ``InvalidReferenceError`` (a ``ValueError``) for anything a runtime would reject.
    """
    if ref == "" or ref.strip() != ref:
        raise InvalidReferenceError(ref, "empty or surrounded by white space")
    name_and_tag, at, digest_text = ref.partition("@")
    digest = _digest_in(ref, digest_text) if at else None

    tag: str | None = None
    colon = name_and_tag.rfind(":")
    if colon > name_and_tag.rfind("/"):  # a colon after the last slash separates the tag
        name, tag = name_and_tag[:colon], name_and_tag[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise InvalidReferenceError(ref, f"bad tag {tag!r}")
    else:
        name = name_and_tag
    if name == "":
        raise InvalidReferenceError(ref, "no repository name")

    registry, repository = _split_registry(name)
    if not _REGISTRY.fullmatch(registry):
        raise InvalidReferenceError(ref, f"bad registry host {registry!r}")
    if repository != repository.lower():
        raise InvalidReferenceError(ref, "repository name must be lower-case")
    for component in repository.split("/"):
        if not _PATH_COMPONENT.fullmatch(component):
            raise InvalidReferenceError(ref, f"bad repository path component {component!r}")
    if registry == _LEGACY_DOCKER_HUB:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = _OFFICIAL_PREFIX + repository
    if len(registry) + 1 + len(repository) > _NAME_MAX:
        raise InvalidReferenceError(ref, f"name longer than {_NAME_MAX} characters")
    return ImageRef(registry=registry, repository=repository, tag=tag, digest=digest, raw=ref)


def _digest_in(ref: str, digest_text: str) -> str:
    """The digest part of ``ref`` (after ``@``), validated; errors name the whole reference."""
    try:
        return parse_digest(digest_text)
    except InvalidReferenceError as error:
        raise InvalidReferenceError(ref, error.problem) from None


def _split_registry(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if not slash:
        return DOCKER_HUB, name
    is_host = any(c in first for c in ".:") or first == "localhost" or first != first.lower()
    return (first, rest) if is_host else (DOCKER_HUB, name)


_ID_SCHEMES = ("docker-pullable://", "docker://")


def parse_image_id(image_id: str) -> ImageId:
    """Parse a container status ``imageID``.

    ``docker-pullable://repo@sha256:…`` and ``repo@sha256:…`` (containerd, CRI-O) carry a
    registry digest.  ``sha256:…`` and ``docker://sha256:…`` are local image IDs: ``digest`` is
    None and ``local_id`` holds the value.  ``""`` is an empty ID.  Anything else raises
    ``InvalidReferenceError``.
    """
    text = image_id.strip()
    if text == "":
        return ImageId(raw=image_id, digest=None, repository=None, local_id=None)
    for scheme in _ID_SCHEMES:
        if text.startswith(scheme):
            text = text[len(scheme) :]
            break
    else:
        if "://" in text:
            raise InvalidReferenceError(image_id, "unknown image ID scheme")
    if "@" not in text:
        if _LOCAL_ID_HEX.fullmatch(text):  # old docker IDs without the algorithm
            text = f"sha256:{text}"
        try:
            local = parse_digest(text)
        except InvalidReferenceError:
            raise InvalidReferenceError(image_id, "neither repo@digest nor a local sha256 ID") from None
        return ImageId(raw=image_id, digest=None, repository=None, local_id=local)
    try:
        ref = parse_reference(text)
    except InvalidReferenceError as error:
        raise InvalidReferenceError(image_id, error.problem) from None
    return ImageId(raw=image_id, digest=ref.digest, repository=ref, local_id=None)
