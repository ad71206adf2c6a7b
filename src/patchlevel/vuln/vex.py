"""VEX: statements by a vendor or team that a vulnerability does (not) affect a product.

Three formats are read, detected from the content, into one normalised ``VexStatement``:

* **OpenVEX** (``@context`` ``https://openvex.dev/ns/v0.2.0``, and the earlier ``https://openvex.dev/ns``
  shape whose products and vulnerability are bare strings): ``statements[]`` with
  ``vulnerability{name, aliases, @id}``, ``products[]{@id, identifiers.purl, subcomponents[]}``,
  ``status``, ``justification``, ``impact_statement``, ``action_statement``, ``timestamp``.
* **CycloneDX VEX** 1.4 to 1.6 (``bomFormat`` CycloneDX): ``vulnerabilities[]`` with ``id``,
  ``references[].id`` (aliases), ``analysis{state, justification, detail, firstIssued, lastUpdated}``
  and ``affects[]{ref, versions[]}``; a ``ref`` is resolved through the BOM's components (and
  BOM-links ``urn:cdx:…#ref``: the part after ``#``).  States: ``not_affected`` and
  ``false_positive`` -> not_affected, ``resolved``/``resolved_with_pedigree`` -> fixed,
  ``exploitable`` -> affected, ``in_triage`` -> under_investigation.
* **CSAF 2.0 VEX** (``document.csaf_version`` 2.0): ``vulnerabilities[].product_status`` lists
  product ids per status (``known_not_affected``, ``fixed``/``first_fixed``, ``known_affected``/
  ``first_affected``/``last_affected``, ``under_investigation``), resolved through
  ``product_tree`` (branches, ``full_product_names``, and ``relationships``: a component *of* a
  product); the justification is a ``flags[].label``, the impact statement a ``threats[]`` of
  category ``impact``, each naming its products by ``product_ids`` or ``group_ids`` (expanded
  through ``product_tree.product_groups``).

Traps handled (see ``tests/data/vex/SOURCES.md``): purl digests are percent-encoded
(``pkg:oci/alpine@sha256%3A…``); real published image VEX (Trivy, SUSE Rancher) names images by
``pkg:oci/NAME?repository_url=…`` with no digest, i.e. every version of the image, which
``match`` reports as a match *by repository only*; a product with a tag (``&tag=v1.26.0``,
``registry.k8s.io/kube-apiserver:v1.26.0``, or a purl version that is not a digest) is about that
tag only; a CSAF flag naming no product or group is invalid (CSAF 2.0 test 6.1.32) and justifies
nothing; the same statement can appear twice, the second
without its own timestamp (the document's applies); a later statement about the same product
supersedes an earlier one; CycloneDX ``affects[].versions[].status`` describes the component's
versions (advisory data), not the VEX status, which is ``analysis.state`` alone (Trivy's test file
pairs ``not_affected`` with a version ``affected``); a CycloneDX 1.3 BOM or a CSAF document
without product statuses is not VEX.

Matching (``VexIndex.match``) is pure: given a running image (repository, digest, the tags it runs
under), a vulnerability id (and its aliases), the as-of date and a maximum age, it returns the
statement that applies and how it matched (by digest: exact; by tag: tags move; by repository only),
and every statement it ignored with the reason: ``not_affected`` without a justification or impact
statement, no timestamp, dated after the as-of date, older than the maximum age, ``fixed`` naming
the repository only (fixed is about a version).  I/O is only in ``read_vex_inputs``/``load_vex``,
through ``patchlevel.safeinput``: regular files only (a FIFO is listed, never opened), size-bounded.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

import msgspec

from patchlevel.errors import InputError, UsageError
from patchlevel.imageref import InvalidReferenceError, parse_reference
from patchlevel.model import InputFile
from patchlevel.purl import Purl as Purl  # re-exported: VEX products are named by purls
from patchlevel.purl import parse_purl as parse_purl
from patchlevel.safeinput import InputTooLarge, NotARegularFile, max_input_bytes, read_regular, regular_file_problem
from patchlevel.timestamps import ACCEPTED, shown, timestamp
from patchlevel.timestamps import day as utc_day

MAX_VEX_BYTES: Final = 64 * 1024 * 1024
_CVE_IN = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)
_DIGEST = re.compile(r"sha(?:256|384|512):[0-9a-f]{64,128}")


class VexStatus(StrEnum):
    NOT_AFFECTED = "not_affected"
    AFFECTED = "affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"


class VexMatchBy(StrEnum):
    DIGEST = "digest"  # the product names the running image's digest: exact
    TAG = "tag"  # the product names a tag (or version) the image runs under: tags move, so not exact
    REPOSITORY = "repository"  # the product names the image's repository only: every version of it


# How much a match says, for choosing among statements: a digest is one build, a tag was one build
# when the statement was written, a repository is every build.
MATCH_GRADE: Final = {VexMatchBy.DIGEST: 2, VexMatchBy.TAG: 1, VexMatchBy.REPOSITORY: 0}
FIXED_WITHOUT_VERSION: Final = (
    "fixed, naming the image's repository without a digest, tag or version: it says nothing about the build that runs"
)


@dataclass(frozen=True, slots=True)
class VexProduct:
    """A product a statement is about, with what it identifies for matching running images."""

    identifier: str  # as written: a purl, an image reference, a CPE, a CSAF product name
    digest: str = ""  # "sha256:…" when the product names one image
    repository: str = ""  # "docker.io/aquasec/trivy" when it names an image repository
    tag: str = ""  # the purl's ``tag`` qualifier, or the reference's tag ("2.0.0")
    subcomponents: tuple[str, ...] = ()
    version: str = ""  # an OCI purl's version when it is not a digest (the purl spec wants a digest there)

    @property
    def tags(self) -> frozenset[str]:
        """The tags the product is limited to (its tag and a non-digest version); empty: every tag."""
        return frozenset(t for t in (self.tag, self.version) if t)


@dataclass(frozen=True, slots=True)
class VexStatement:
    vulnerability: str
    aliases: tuple[str, ...]
    products: tuple[VexProduct, ...]
    status: VexStatus
    status_raw: str  # the word the document used ("known_not_affected", "resolved", …)
    justification: str = ""
    impact_statement: str = ""
    action_statement: str = ""
    timestamp: datetime | None = None  # the statement's own, else the document's (UTC can hold it)
    document: str = ""  # where it was read (file path)
    document_id: str = ""  # the document's own id (@id, serialNumber, tracking.id)
    author: str = ""
    format: str = ""  # "OpenVEX 0.2.0", "CycloneDX 1.5", "CSAF 2.0"
    order: int = 0  # position in the document: a later statement supersedes an earlier one
    timestamp_invalid: str = ""  # the raw text of a timestamp that is no time (then ``timestamp`` is None)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(i.upper() for i in (self.vulnerability, *self.aliases) if i)

    def describe(self) -> str:
        """One line for findings: NOT AFFECTED (VEX) with document, author, timestamp and justification."""
        when = str(utc_day(self.timestamp) or "undated")  # the UTC date, as ages are judged
        why = self.justification or self.impact_statement or self.action_statement
        label = self.status.value.replace("_", " ").upper()
        return (
            f"{label} (VEX: {self.format} {self.document_id or self.document}, {self.author or 'no author'}, {when})"
            + (f": {why}" if why else "")
        )


@dataclass(frozen=True, slots=True)
class VexDocument:
    format: str
    document: str
    document_id: str
    author: str
    timestamp: datetime | None
    statements: tuple[VexStatement, ...]
    notes: tuple[str, ...] = ()  # entries that are not statements, and why


@dataclass(frozen=True, slots=True)
class VexApplied:
    statement: VexStatement
    product: VexProduct
    by: VexMatchBy


@dataclass(frozen=True, slots=True)
class VexIgnored:
    statement: VexStatement
    reason: str


@dataclass(frozen=True, slots=True)
class VexDecision:
    """What VEX says about one vulnerability of one running image."""

    applied: VexApplied | None
    ignored: tuple[VexIgnored, ...] = ()

    @property
    def removes_from_sla(self) -> bool:
        """``not_affected`` and ``fixed`` take the vulnerability out of the SLA judgement.

        ``fixed`` only where the product names a version (digest or tag): naming the repository
        alone, it says nothing about the build that runs (``match_statements`` never applies one).
        """
        applied = self.applied
        if applied is None:
            return False
        if applied.statement.status is VexStatus.FIXED:
            return applied.by is not VexMatchBy.REPOSITORY
        return applied.statement.status is VexStatus.NOT_AFFECTED


# --------------------------------------------------------------------------------------------
# Shared helpers


# When a statement was made: a UTC time, or the raw text of a timestamp that is no time ("" when none).
_When = tuple[datetime | None, str]
_UNDATED: Final[_When] = (None, "")


def _dated(*texts: str | None) -> _When:
    """The first timestamp given: as a time (with its written offset), or its raw text when it is no time
    (``9999-12-31T23:00:00-05:00``: UTC cannot hold it); a later field does not stand in for an unreadable one."""
    for text in texts:
        if text and text.strip():
            moment = timestamp(text, keep_offset=True)  # shown as written; UTC can hold it
            return (moment, "") if moment is not None else (None, text)
    return _UNDATED


def _own_or(own: _When, document: _When) -> _When:
    """A statement's own time (or its unreadable text), else its document's."""
    return own if own != _UNDATED else document


def _image_repository(reference: str) -> str:
    try:
        return parse_reference(reference).name
    except InvalidReferenceError:
        return ""


def product_from_identifier(identifier: str, subcomponents: Sequence[str] = ()) -> VexProduct:
    """What an identifier says about an image: an OCI purl, an image reference, or neither."""
    subs = tuple(subcomponents)
    purl = parse_purl(identifier)
    if purl is not None:
        if purl.type != "oci":
            return VexProduct(identifier, subcomponents=subs)
        digest = purl.version if _DIGEST.fullmatch(purl.version) else ""
        repository = ""
        url = purl.qualifiers.get("repository_url", "").strip().rstrip("/")
        if url:
            url = re.sub(r"^[a-z]+://", "", url)
            # repository_url normally ends with the image name; when it is only a registry, the name follows it
            if url.rsplit("/", 1)[-1].lower() != purl.name.lower():
                url = f"{url}/{purl.name}"
            repository = _image_repository(url)
        version = "" if digest else purl.version
        return VexProduct(identifier, digest, repository, purl.qualifiers.get("tag", ""), subs, version)
    # a bare image reference (the early OpenVEX shape): only when it names a registry path, tag or digest
    text = identifier.strip()
    if "/" in text or "@" in text or (":" in text and not text.lower().startswith(("cpe:", "http"))):
        try:
            ref = parse_reference(text)
        except InvalidReferenceError:
            return VexProduct(identifier, subcomponents=subs)
        return VexProduct(identifier, ref.digest or "", ref.name, ref.tag or "", subs)
    return VexProduct(identifier, subcomponents=subs)


def _aliases(*values: str) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        if value and value not in found:
            found.append(value)
        for cve in _CVE_IN.findall(value or ""):
            if cve.upper() not in found:
                found.append(cve.upper())
    return tuple(found)


# --------------------------------------------------------------------------------------------
# OpenVEX


class _OvComponent(msgspec.Struct):
    id: str = msgspec.field(default="", name="@id")
    identifiers: dict[str, str] = {}


class _OvProduct(msgspec.Struct):
    id: str = msgspec.field(default="", name="@id")
    identifiers: dict[str, str] = {}
    subcomponents: list[str | _OvComponent] = []


class _OvVulnerability(msgspec.Struct):
    name: str = ""
    id: str = msgspec.field(default="", name="@id")
    aliases: list[str] = []


class _OvStatement(msgspec.Struct):
    status: str
    vulnerability: str | _OvVulnerability
    products: list[str | _OvProduct] = []
    justification: str = ""
    impact_statement: str = ""
    action_statement: str = ""
    status_notes: str = ""
    timestamp: str = ""
    last_updated: str = ""


class _OpenVex(msgspec.Struct):
    context: str = msgspec.field(name="@context")
    statements: list[_OvStatement]
    id: str = msgspec.field(default="", name="@id")
    author: str = ""
    timestamp: str = ""
    last_updated: str = ""
    version: int | str | None = None


_OPENVEX_STATUS = {s.value: s for s in VexStatus}


def _ov_identifier(item: str | _OvProduct | _OvComponent) -> str:
    if isinstance(item, str):
        return item
    return item.id or item.identifiers.get("purl", "") or next(iter(item.identifiers.values()), "")


def _openvex(data: bytes, where: str) -> VexDocument:
    doc = _decode(data, _OpenVex, where, "OpenVEX")
    version = doc.context.rstrip("/").rsplit("/", 1)[-1]
    fmt = f"OpenVEX {version[1:]}" if version.startswith("v") else "OpenVEX (pre-0.2)"
    doc_when = _dated(doc.last_updated, doc.timestamp)
    statements: list[VexStatement] = []
    for index, raw in enumerate(doc.statements):
        status = _OPENVEX_STATUS.get(raw.status.strip().lower())
        if status is None:
            raise InputError(f"{where}: statements[{index}].status {raw.status!r} is not an OpenVEX status")
        vuln = raw.vulnerability
        name, aliases = (vuln, ()) if isinstance(vuln, str) else (vuln.name or vuln.id, (*vuln.aliases, vuln.id))
        when, invalid = _own_or(_dated(raw.last_updated, raw.timestamp), doc_when)
        products = []
        for product in raw.products:
            subs = [] if isinstance(product, str) else [_ov_identifier(s) for s in product.subcomponents]
            products.append(product_from_identifier(_ov_identifier(product), subs))
        statements.append(
            VexStatement(
                vulnerability=name,
                aliases=tuple(a for a in _aliases(name, *aliases) if a != name),
                products=tuple(products),
                status=status,
                status_raw=raw.status,
                justification=raw.justification,
                impact_statement=raw.impact_statement,
                action_statement=raw.action_statement or raw.status_notes,
                timestamp=when,
                document=where,
                document_id=doc.id,
                author=doc.author,
                format=fmt,
                order=index,
                timestamp_invalid=invalid,
            )
        )
    return VexDocument(fmt, where, doc.id, doc.author, doc_when[0], tuple(statements))


# --------------------------------------------------------------------------------------------
# CycloneDX


class _CdxOrg(msgspec.Struct):
    name: str = ""


class _CdxComponent(msgspec.Struct):
    name: str = ""
    version: str = ""
    purl: str = ""
    bom_ref: str = msgspec.field(default="", name="bom-ref")
    type: str = ""
    components: list[_CdxComponent] = []


class _CdxMetadata(msgspec.Struct):
    timestamp: str = ""
    component: _CdxComponent | None = None
    authors: list[_CdxOrg] = []
    manufacturer: _CdxOrg | None = None
    manufacture: _CdxOrg | None = None
    supplier: _CdxOrg | None = None


class _CdxAnalysis(msgspec.Struct, rename="camel"):
    state: str = ""
    justification: str = ""
    detail: str = ""
    response: list[str] = []
    first_issued: str = ""
    last_updated: str = ""


class _CdxAffects(msgspec.Struct):
    ref: str


class _CdxReference(msgspec.Struct):
    id: str = ""


class _CdxVulnerability(msgspec.Struct):
    id: str = ""
    references: list[_CdxReference] = []
    analysis: _CdxAnalysis | None = None
    affects: list[_CdxAffects] = []
    recommendation: str = ""


class _CycloneDx(msgspec.Struct, rename="camel"):
    bom_format: str
    spec_version: str
    serial_number: str = ""
    metadata: _CdxMetadata | None = None
    components: list[_CdxComponent] = []
    vulnerabilities: list[_CdxVulnerability] = []


_CDX_STATE = {
    "not_affected": VexStatus.NOT_AFFECTED,
    "false_positive": VexStatus.NOT_AFFECTED,
    "resolved": VexStatus.FIXED,
    "resolved_with_pedigree": VexStatus.FIXED,
    "exploitable": VexStatus.AFFECTED,
    "in_triage": VexStatus.UNDER_INVESTIGATION,
}
_CDX_VERSIONS = ("1.4", "1.5", "1.6")


def _cdx_refs(components: Iterable[_CdxComponent], into: dict[str, _CdxComponent]) -> dict[str, _CdxComponent]:
    for component in components:
        if component.bom_ref:
            into.setdefault(component.bom_ref, component)
        _cdx_refs(component.components, into)
    return into


def _cyclonedx(data: bytes, where: str) -> VexDocument:
    doc = _decode(data, _CycloneDx, where, "CycloneDX")
    if doc.spec_version not in _CDX_VERSIONS:
        raise InputError(
            f"{where}: CycloneDX {doc.spec_version} is not a VEX version patchlevel reads",
            hint="CycloneDX VEX (vulnerabilities with analysis) is read for specVersion 1.4, 1.5 and 1.6",
        )
    if not doc.vulnerabilities:
        raise InputError(f"{where}: a CycloneDX BOM with no vulnerabilities is not a VEX document")
    fmt = f"CycloneDX {doc.spec_version}"
    meta = doc.metadata or _CdxMetadata()
    author = next((a.name for a in meta.authors if a.name), "")
    for org in (meta.manufacturer, meta.manufacture, meta.supplier):
        author = author or (org.name if org else "")
    doc_when = _dated(meta.timestamp)
    refs = _cdx_refs(doc.components, {})
    main = meta.component
    if main is not None:
        _cdx_refs([main], refs)
    main_is_image = main is not None and (parse_purl(main.purl) or Purl("", "", "", "", {}, "")).type == "oci"
    statements: list[VexStatement] = []
    notes: list[str] = []
    for index, vuln in enumerate(doc.vulnerabilities):
        analysis = vuln.analysis
        status = _CDX_STATE.get(analysis.state.strip().lower()) if analysis and analysis.state else None
        if analysis is None or status is None:
            state = analysis.state if analysis else ""
            notes.append(f"vulnerabilities[{index}] ({vuln.id}): no analysis state{f' ({state!r})' if state else ''}")
            continue
        products: list[VexProduct] = []
        for affects in vuln.affects:
            ref = (
                unquote(affects.ref.split("#", 1)[1])
                if affects.ref.startswith("urn:cdx:") and "#" in affects.ref
                else affects.ref
            )
            component = refs.get(ref)
            identifier = (component.purl or component.name) if component else ref
            if main is not None and main_is_image and component is not main:
                products.append(product_from_identifier(main.purl, [identifier]))
            else:
                products.append(product_from_identifier(identifier))
        justification = analysis.justification
        if analysis.state.strip().lower() == "false_positive" and not justification:
            justification = "false_positive"
        when, invalid = _own_or(_dated(analysis.last_updated, analysis.first_issued), doc_when)
        statements.append(
            VexStatement(
                vulnerability=vuln.id,
                aliases=tuple(a for a in _aliases(vuln.id, *(r.id for r in vuln.references)) if a != vuln.id),
                products=tuple(products),
                status=status,
                status_raw=analysis.state,
                justification=justification,
                impact_statement=analysis.detail,
                action_statement=", ".join(analysis.response) or vuln.recommendation,
                timestamp=when,
                document=where,
                document_id=doc.serial_number,
                author=author,
                format=fmt,
                order=index,
                timestamp_invalid=invalid,
            )
        )
    return VexDocument(fmt, where, doc.serial_number, author, doc_when[0], tuple(statements), tuple(notes))


# --------------------------------------------------------------------------------------------
# CSAF 2.0


class _CsafHelper(msgspec.Struct):
    purl: str = ""
    cpe: str = ""


class _CsafProduct(msgspec.Struct):
    product_id: str
    name: str = ""
    product_identification_helper: _CsafHelper | None = None


class _CsafBranch(msgspec.Struct):
    category: str = ""
    name: str = ""
    product: _CsafProduct | None = None
    branches: list[_CsafBranch] = []


class _CsafRelationship(msgspec.Struct):
    product_reference: str
    relates_to_product_reference: str
    full_product_name: _CsafProduct
    category: str = ""


class _CsafGroup(msgspec.Struct):
    group_id: str
    product_ids: list[str] = []
    summary: str = ""


class _CsafTree(msgspec.Struct):
    branches: list[_CsafBranch] = []
    full_product_names: list[_CsafProduct] = []
    relationships: list[_CsafRelationship] = []
    product_groups: list[_CsafGroup] = []


class _CsafPublisher(msgspec.Struct):
    name: str = ""


class _CsafTracking(msgspec.Struct):
    id: str = ""
    current_release_date: str = ""


class _CsafDocument(msgspec.Struct):
    csaf_version: str
    category: str = ""
    publisher: _CsafPublisher | None = None
    tracking: _CsafTracking | None = None


class _CsafFlag(msgspec.Struct):
    label: str = ""
    product_ids: list[str] = []
    group_ids: list[str] = []
    date: str = ""


class _CsafThreat(msgspec.Struct):
    category: str = ""
    details: str = ""
    product_ids: list[str] = []
    group_ids: list[str] = []
    date: str = ""


class _CsafRemediation(msgspec.Struct):
    category: str = ""
    details: str = ""
    product_ids: list[str] = []
    group_ids: list[str] = []


class _CsafId(msgspec.Struct):
    text: str = ""


class _CsafVulnerability(msgspec.Struct):
    cve: str = ""
    ids: list[_CsafId] = []
    product_status: dict[str, list[str]] = {}
    flags: list[_CsafFlag] = []
    threats: list[_CsafThreat] = []
    remediations: list[_CsafRemediation] = []


class _Csaf(msgspec.Struct):
    document: _CsafDocument
    product_tree: _CsafTree | None = None
    vulnerabilities: list[_CsafVulnerability] = []


_CSAF_STATUS = {
    "known_not_affected": VexStatus.NOT_AFFECTED,
    "fixed": VexStatus.FIXED,
    "first_fixed": VexStatus.FIXED,
    "known_affected": VexStatus.AFFECTED,
    "first_affected": VexStatus.AFFECTED,
    "last_affected": VexStatus.AFFECTED,
    "under_investigation": VexStatus.UNDER_INVESTIGATION,
}


def _csaf_products(tree: _CsafTree) -> dict[str, VexProduct]:
    """product_id -> product, relationships included (``kernel`` of ``cbr-7.9`` -> cbr-7.9 with subcomponent)."""
    plain: dict[str, str] = {}

    def identifier(product: _CsafProduct) -> str:
        helper = product.product_identification_helper
        return (
            (helper.purl or helper.cpe)
            if helper and (helper.purl or helper.cpe)
            else product.name or product.product_id
        )

    def walk(branches: Iterable[_CsafBranch]) -> None:
        for branch in branches:
            if branch.product is not None:
                plain.setdefault(branch.product.product_id, identifier(branch.product))
            walk(branch.branches)

    walk(tree.branches)
    for product in tree.full_product_names:
        plain.setdefault(product.product_id, identifier(product))
    products = {pid: product_from_identifier(text) for pid, text in plain.items()}
    for rel in tree.relationships:
        whole = plain.get(rel.relates_to_product_reference, rel.relates_to_product_reference)
        part = plain.get(rel.product_reference, rel.product_reference)
        products[rel.full_product_name.product_id] = product_from_identifier(whole, [part])
    return products


def _csaf_groups(tree: _CsafTree) -> dict[str, frozenset[str]]:
    """group_id -> the product ids it stands for (CSAF 2.0 section 3.2.2.3, Product Tree Property - Product Groups)."""
    groups: dict[str, set[str]] = {}
    for group in tree.product_groups:
        groups.setdefault(group.group_id, set()).update(group.product_ids)
    return {gid: frozenset(ids) for gid, ids in groups.items()}


def _for_product(
    items: Sequence[Any], product_id: str, groups: Mapping[str, frozenset[str]], *, unscoped_applies: bool
) -> list[Any]:
    """Flags, threats or remediations that name ``product_id``, directly or through one of their product groups.

    CSAF 2.0 scopes these items by ``product_ids`` and ``group_ids`` (a group expands through
    ``product_tree.product_groups``; an undefined group names nothing, cf. mandatory test 6.1.4).
    For flags (section 3.2.3.5) and remediations (3.2.3.12) "at least one of ... group_ids and
    product_ids MUST be present" (mandatory tests 6.1.32 Flag without Product Reference and 6.1.29
    Remediation without Product Reference), so one naming neither is invalid and applies to no
    product (``unscoped_applies=False``): a justification that names no product justifies nothing.
    For threats (3.2.3.14) both are optional, and one naming neither is about the vulnerability as
    a whole, every product of it (``unscoped_applies=True``).
    """
    found = []
    for item in items:
        if not item.product_ids and not item.group_ids:
            if unscoped_applies:
                found.append(item)
            continue
        if product_id in item.product_ids or any(product_id in groups.get(g, ()) for g in item.group_ids):
            found.append(item)
    return found


def _csaf(data: bytes, where: str) -> VexDocument:
    doc = _decode(data, _Csaf, where, "CSAF")
    if doc.document.csaf_version != "2.0":
        raise InputError(f"{where}: CSAF {doc.document.csaf_version} is not read (CSAF 2.0 only)")
    tree = doc.product_tree or _CsafTree()
    products = _csaf_products(tree)
    groups = _csaf_groups(tree)
    tracking = doc.document.tracking or _CsafTracking()
    author = doc.document.publisher.name if doc.document.publisher else ""
    doc_when = _dated(tracking.current_release_date)
    fmt = "CSAF 2.0"
    statements: list[VexStatement] = []
    notes: list[str] = []
    order = 0
    for index, vuln in enumerate(doc.vulnerabilities):
        name = vuln.cve or next((i.text for i in vuln.ids if i.text), "")
        aliases = tuple(a for a in _aliases(name, *(i.text for i in vuln.ids)) if a != name)
        if not vuln.product_status:
            notes.append(f"vulnerabilities[{index}] ({name}): no product_status")
        unscoped = sum(1 for f in (*vuln.flags, *vuln.remediations) if not f.product_ids and not f.group_ids)
        if unscoped:
            notes.append(
                f"vulnerabilities[{index}] ({name}): {unscoped} flag(s) or remediation(s) name no product or group "
                "(invalid in CSAF 2.0, mandatory tests 6.1.29 and 6.1.32), so they apply to no product"
            )
        for key, product_ids in vuln.product_status.items():
            status = _CSAF_STATUS.get(key)
            if status is None:
                continue  # "recommended" names a product to use, not a status of this one
            for product_id in product_ids:
                flags = [f for f in _for_product(vuln.flags, product_id, groups, unscoped_applies=False) if f.label]
                impacts = [
                    t
                    for t in _for_product(vuln.threats, product_id, groups, unscoped_applies=True)
                    if t.category == "impact" and t.details
                ]
                actions = [
                    r for r in _for_product(vuln.remediations, product_id, groups, unscoped_applies=False) if r.details
                ]
                dated = [_dated(x.date) for x in (*flags, *impacts)]
                unreadable = next((text for _, text in dated if text), "")
                moments = [moment for moment, _ in dated if moment is not None]
                when, invalid = (
                    (None, unreadable) if unreadable else (max(moments), "") if moments else doc_when
                )  # the newest flag or threat date; one that is no time makes the statement's age unknown
                statements.append(
                    VexStatement(
                        vulnerability=name,
                        aliases=aliases,
                        products=(products.get(product_id) or VexProduct(product_id),),
                        status=status,
                        status_raw=key,
                        justification=flags[0].label if flags else "",
                        impact_statement=impacts[0].details if impacts and status is VexStatus.NOT_AFFECTED else "",
                        action_statement=actions[0].details if actions else "",
                        timestamp=when,
                        document=where,
                        document_id=tracking.id,
                        author=author,
                        format=fmt,
                        order=order,
                        timestamp_invalid=invalid,
                    )
                )
                order += 1
    if not statements:
        raise InputError(f"{where}: a CSAF document without product statuses is not a VEX document")
    return VexDocument(fmt, where, tracking.id, author, doc_when[0], tuple(statements), tuple(notes))


# --------------------------------------------------------------------------------------------
# Detection and loading


class _Probe(msgspec.Struct):
    context: Any = msgspec.field(default=None, name="@context")
    bom_format: Any = msgspec.field(default=None, name="bomFormat")
    document: Any = None
    statements: Any = None


def _decode(data: bytes, kind: Any, where: str, name: str) -> Any:
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as exc:
        raise InputError(f"{where}: not a valid {name} document: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InputError(f"{where}: not valid JSON: {exc}") from None


def detect_format(data: bytes, where: str) -> str:
    """ "openvex", "cyclonedx" or "csaf"; InputError when the content is none of them."""
    try:
        probe = msgspec.json.decode(data, type=_Probe)
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise InputError(f"{where}: not a JSON object, so not a VEX document") from None
    if isinstance(probe.context, str) and "openvex" in probe.context.lower():
        return "openvex"
    if probe.bom_format == "CycloneDX":
        return "cyclonedx"
    if isinstance(probe.document, dict) and "csaf_version" in probe.document:
        return "csaf"
    raise InputError(
        f"{where}: not a VEX document (no OpenVEX @context, CycloneDX bomFormat or CSAF document.csaf_version)"
    )


def parse_vex(data: bytes, where: str) -> VexDocument:
    """One VEX document, its format detected from the content."""
    if len(data) > MAX_VEX_BYTES:
        raise InputError(f"{where}: larger than {MAX_VEX_BYTES} bytes; not read as VEX")
    kind = detect_format(data, where)
    if kind == "openvex":
        return _openvex(data, where)
    if kind == "cyclonedx":
        return _cyclonedx(data, where)
    return _csaf(data, where)


def load_vex(path: Path) -> tuple[list[VexDocument], list[tuple[str, str]]]:
    """A VEX file, or every ``*.json`` under a directory: (documents, skipped files with the reason).

    A named file that is not VEX is an error; in a directory such files are skipped and listed
    (a VEX Hub checkout holds an ``index.json`` beside the documents), and so are files that are
    not regular (a FIFO, a device, a socket: never opened, so never waited on).
    """
    read = read_vex_inputs(path)
    skipped = [(i.path, i.reason or "") for i in read.inputs if i.read_as == "ignored"]
    return list(read.documents), skipped


@dataclass(frozen=True, slots=True)
class VexInputs:
    """What ``--vex PATH`` read: the documents, a record of each file (for the report's inputs), warnings."""

    documents: tuple[VexDocument, ...]
    inputs: tuple[InputFile, ...]
    warnings: tuple[str, ...] = ()


def read_vex_inputs(path: Path) -> VexInputs:
    """``load_vex`` with each file recorded as an input (what it was read as, its SHA-256) or as ignored."""
    if path.is_dir():
        files = _vex_files(path)
    else:
        problem = regular_file_problem(path)
        if problem is not None:
            if not path.exists() and not path.is_symlink():
                raise InputError(f"VEX path {path} does not exist")
            raise InputError(f"VEX path {path} is {problem}, not a regular file or a directory; not read")
        files = [(path, "")]
    documents: list[VexDocument] = []
    inputs: list[InputFile] = []
    warnings: list[str] = []
    for file, skip_reason in files:
        if skip_reason:
            inputs.append(InputFile(str(file), "ignored", reason=skip_reason))
            continue
        data = _read(file)
        digest = hashlib.sha256(data).hexdigest()
        try:
            document = parse_vex(data, str(file))
        except InputError as exc:
            if file == path:
                raise  # a file named on the command line must be VEX
            inputs.append(InputFile(str(file), "ignored", reason=exc.message, sha256=digest))
            continue
        documents.append(document)
        statements = len(document.statements)
        inputs.append(
            InputFile(
                str(file),
                f"{document.format} VEX ({statements} statement{'' if statements == 1 else 's'})",
                objects=statements,
                sha256=digest,
            )
        )
        if document.notes:
            more = f" (+{len(document.notes) - 1} more)" if len(document.notes) > 1 else ""
            warnings.append(f"VEX {file}: {len(document.notes)} entries are not statements: {document.notes[0]}{more}")
    if path.is_dir() and not documents:
        warnings.append(f"VEX directory {path} holds no VEX document")
    return VexInputs(tuple(documents), tuple(inputs), tuple(warnings))


def _vex_files(directory: Path) -> list[tuple[Path, str]]:
    """The ``*.json`` files under ``directory`` (hidden ones left out), in path order, each with why it is not read.

    Only regular files are read (``safeinput.regular_file_problem``, which opens nothing): a FIFO
    named ``*.json`` is listed as not read instead of blocking the audit until something writes to it.
    Symbolic links to directories are not followed (no loops).
    """
    found: list[tuple[Path, str]] = []

    def walk(folder: Path) -> None:
        try:
            entries = sorted(folder.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            raise InputError(f"cannot list VEX directory {folder}: {exc.strerror or exc}") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                if not entry.is_symlink():
                    walk(entry)
                continue
            if not entry.name.endswith(".json"):
                continue
            problem = regular_file_problem(entry)
            found.append((entry, f"{problem}, not read" if problem is not None else ""))

    walk(directory)
    return sorted(found, key=lambda item: item[0])


def _vex_limit() -> int:
    """The size bound of one VEX document: ``MAX_VEX_BYTES``, or the input size limit when that is lower."""
    try:
        return min(MAX_VEX_BYTES, max_input_bytes())
    except UsageError:
        return MAX_VEX_BYTES  # a malformed limit is reported where the audit reads its other inputs


def _read(path: Path) -> bytes:
    """A VEX file's bytes through ``safeinput``: regular files only, never past the size bound."""
    limit = _vex_limit()
    try:
        return read_regular(path, limit)
    except InputTooLarge:
        raise InputError(f"{path}: larger than {limit} bytes; not read as VEX") from None
    except NotARegularFile as exc:
        raise InputError(f"VEX path {path} is {exc.problem}; not read") from None
    except OSError as exc:
        raise InputError(f"cannot read VEX file {path}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------------------------
# Matching


@functools.lru_cache(maxsize=4096)
def reference_tags(references: tuple[str, ...], repository: str) -> tuple[str, ...]:
    """The tags under which the references run ``repository`` ("nginx" runs ``latest``), sorted.

    A reference of another repository (a mirror of the same digest) says nothing about this one's
    tags; a reference by digest alone has none.  Cached: the image checks ask once per vulnerability.
    """
    wanted = _image_repository(repository) if repository else ""
    found: set[str] = set()
    for reference in references:
        try:
            ref = parse_reference(reference.strip())
        except InvalidReferenceError:
            continue
        if ref.name != wanted:
            continue
        if ref.tag:
            found.add(ref.tag)
        elif not ref.digest:
            found.add("latest")  # what the runtime pulls for a reference with neither tag nor digest
    return tuple(sorted(found))


def _product_matches(
    product: VexProduct,
    repository: str,
    digest: str,
    package: Purl | None,
    package_name: str = "",
    tags: Collection[str] = (),
) -> VexMatchBy | None:
    """How ``product`` names the running image (``repository``@``digest``, run under ``tags``), or None.

    A digest must be the running one.  A tag (or a non-digest purl version) must be one the image
    runs under: a statement about ``app:2.0.0`` says nothing about ``app:1.0.0``.  Only a product
    naming neither covers the whole repository.
    """
    if product.subcomponents and package is not None:
        subs = [parse_purl(s) for s in product.subcomponents]
        if not any(s is not None and s.same_package(package) for s in subs):
            return None
    elif product.subcomponents and package_name:
        # The scan names the package but gives no purl: compare names (busybox = pkg:apk/alpine/busybox).
        wanted = package_name.strip().lower()
        names = [(p.name.lower() if (p := parse_purl(s)) else s.strip().lower()) for s in product.subcomponents]
        if wanted not in names:
            return None
    if product.digest:
        return VexMatchBy.DIGEST if digest and product.digest == digest else None
    if not (product.repository and repository and product.repository == repository):
        return None
    stated = product.tags
    if stated:
        return VexMatchBy.TAG if stated <= set(tags) else None
    return VexMatchBy.REPOSITORY


@dataclass(frozen=True, slots=True)
class VexIndex:
    """Statements by vulnerability id (and alias), for matching many images and vulnerabilities."""

    documents: tuple[VexDocument, ...]
    _by_id: dict[str, tuple[VexStatement, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, documents: Iterable[VexDocument]) -> VexIndex:
        docs = tuple(documents)
        by_id: dict[str, list[VexStatement]] = {}
        for doc in docs:
            for statement in doc.statements:
                for key in statement.ids:
                    by_id.setdefault(key, []).append(statement)
        return cls(docs, {k: tuple(v) for k, v in by_id.items()})

    def statements_for(self, ids: Iterable[str]) -> list[VexStatement]:
        found: list[VexStatement] = []
        for key in ids:
            for statement in self._by_id.get(key.strip().upper(), ()):
                if statement not in found:
                    found.append(statement)
        return found

    def match(
        self,
        *,
        vulnerability: str,
        repository: str,
        digest: str,
        as_of: date,
        max_age_days: int,
        aliases: Collection[str] = (),
        package: str | None = None,
        package_name: str = "",
        tags: Collection[str] = (),
    ) -> VexDecision:
        """The statement that applies to ``vulnerability`` in the image ``repository``@``digest``.

        ``repository`` is normalised like an image reference (``nginx`` is ``docker.io/library/nginx``);
        ``tags`` are the tags the image runs under (``reference_tags``): a product naming a tag matches
        only one of them; ``package`` (a purl from the scan) narrows statements that name subcomponents,
        and so does ``package_name`` (the scan's package name) when the scan gives no purl.  Among the
        usable statements a digest match beats a tag match, which beats a repository-only match, then
        the newest wins, then the later in its document.  A ``fixed`` statement that wins by repository
        only is not applied but reported as ignored: without a version or digest it says nothing about
        the build that runs.
        """
        statements = self.statements_for((vulnerability, *aliases))
        if not statements:  # the common case: no statement names this vulnerability
            return VexDecision(None)
        return match_statements(
            statements,
            vulnerability=vulnerability,
            repository=repository,
            digest=digest,
            as_of=as_of,
            max_age_days=max_age_days,
            aliases=aliases,
            package=package,
            package_name=package_name,
            tags=tags,
        )


def match_statements(
    statements: Iterable[VexStatement],
    *,
    vulnerability: str,
    repository: str,
    digest: str,
    as_of: date,
    max_age_days: int,
    aliases: Collection[str] = (),
    package: str | None = None,
    package_name: str = "",
    tags: Collection[str] = (),
) -> VexDecision:
    """``VexIndex.match`` over a plain list of statements."""
    wanted = {i.strip().upper() for i in (vulnerability, *aliases) if i}
    repo = _image_repository(repository) if repository else ""
    package_purl = parse_purl(package) if package else None
    usable: list[tuple[tuple[int, datetime, int], VexApplied]] = []
    ignored: list[VexIgnored] = []
    for statement in statements:
        if not wanted & statement.ids:
            continue
        hits = [
            (p, by)
            for p in statement.products
            if (by := _product_matches(p, repo, digest, package_purl, package_name, tags))
        ]
        if not hits:
            continue
        product, by = max(hits, key=lambda h: MATCH_GRADE[h[1]])
        reason = _unusable(statement, as_of, max_age_days)
        if reason:
            ignored.append(VexIgnored(statement, reason))
            continue
        assert statement.timestamp is not None  # _unusable refuses undated statements
        key = (MATCH_GRADE[by], statement.timestamp, statement.order)
        usable.append((key, VexApplied(statement, product, by)))
    if not usable:
        return VexDecision(None, tuple(ignored))
    best = max(usable, key=lambda item: item[0])[1]
    if best.statement.status is VexStatus.FIXED and best.by is VexMatchBy.REPOSITORY:
        # It still supersedes what it is newer than (an older statement does not take its place).
        ignored.append(VexIgnored(best.statement, FIXED_WITHOUT_VERSION))
        return VexDecision(None, tuple(ignored))
    return VexDecision(best, tuple(ignored))


def _unusable(statement: VexStatement, as_of: date, max_age_days: int) -> str:
    if statement.status is VexStatus.NOT_AFFECTED and not (
        statement.justification.strip() or statement.impact_statement.strip()
    ):
        return "not_affected without a justification or impact statement"
    day = utc_day(statement.timestamp)  # never raises: a time UTC cannot hold is None
    if day is None:
        if statement.timestamp is not None or statement.timestamp_invalid:
            raw = statement.timestamp_invalid or str(statement.timestamp)
            return f"timestamp {shown(raw)} is not {ACCEPTED}, so its age cannot be judged"
        return "no timestamp in the statement or its document, so its age cannot be judged"
    if day > as_of:
        return f"dated {day}, after the as-of date {as_of}"
    age = (as_of - day).days
    if age > max_age_days:
        return f"dated {day}, {age} days before the as-of date: older than the {max_age_days}-day maximum"
    return ""
