"""The history model: what the ledger remembers of one cluster, as plain immutable records.

``patchlevel.ledger.query.load_history`` fills a ``History`` from the database; the period checks
(``patchlevel.ledger.period``) and the clocks (``patchlevel.ledger.clocks``) only read it, so they
are pure functions a test can feed with records it builds itself.

Records shared by many audits (an unchanged node, an image that ran all year, a scan) are the
same objects in every audit that holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from patchlevel.model import Severity


@dataclass(frozen=True, slots=True)
class Release:
    """The lifecycle product and release cycle an audit judged a component by (``kubernetes``, ``1.31``)."""

    product: str
    cycle: str

    @property
    def label(self) -> str:
        return f"{self.product} {self.cycle}"


@dataclass(frozen=True, slots=True)
class NodeState:
    """One node as one or more audits saw it."""

    name: str
    uid: str
    provider_id: str
    boot_id: str
    kernel: str
    os_image: str
    kubelet: str
    runtime: str
    pool: str  # "label=value", "" when the node has no pool label
    created: date | None  # the node object's creation day
    kubelet_release: Release | None
    runtime_release: Release | None
    os_release: Release | None

    @property
    def identity(self) -> str:
        """The node across audits: its name and, when known, the machine behind it."""
        return f"{self.name}|{self.provider_id or self.uid}"


@dataclass(frozen=True, slots=True)
class ImageUse:
    """A running image and who ran it, as one or more audits saw it."""

    key: str  # registry digest, runtime-local image ID, or "ref:<reference>" when the digest is unknown
    identity: str  # digest, local-id, unknown
    subject: str  # image/<repo>@<digest>, as audit findings name it
    repository: str
    references: tuple[str, ...]
    workloads: tuple[str, ...]  # "Kind/namespace/name"
    namespaces: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Vulnerability:
    id: str
    package: str
    severity: Severity | None
    fixed_version: str | None
    published: date | None
    fix_released: date | None

    @property
    def fixable(self) -> bool:
        return bool(self.fixed_version)


@dataclass(frozen=True, slots=True)
class Scan:
    """A scan report the ledger holds, with the day it ran (None when the report does not say)."""

    id: int
    digest: str
    scanner: str
    scanned_at: datetime | None
    error: str
    vulnerabilities: tuple[Vulnerability, ...]

    @property
    def day(self) -> date | None:
        return self.scanned_at.date() if self.scanned_at is not None else None


@dataclass(frozen=True, slots=True)
class AuditPoint:
    """One recorded audit: when its evidence was taken and what it saw."""

    id: int
    day: date  # the evidence's own day (collection day, else the as-of date)
    as_of: date
    collected_at: datetime | None
    tool_version: str
    api_version: str
    distribution: str
    openshift_release: str | None
    control_plane: Release | None
    nodes: tuple[NodeState, ...]
    images: tuple[ImageUse, ...]
    bundle_digest: str | None = None
    pod_count: int | None = None  # pods in the audit's input (the audits row); None: not known, judge by images

    @property
    def has_nodes(self) -> bool:
        """Whether the audit's input held nodes: without them it tells nothing about them."""
        return bool(self.nodes)

    @property
    def has_pods(self) -> bool:
        """Whether the audit's input held pods: without them it tells nothing about what ran."""
        return self.pod_count > 0 if self.pod_count is not None else bool(self.images)


@dataclass(frozen=True, slots=True)
class ClusterRef:
    key: str
    name: str
    uid: str


@dataclass(frozen=True, slots=True)
class History:
    """A cluster's recorded audits over a period (and the look-back before it), and the scans of its images.

    ``audits`` are ordered by evidence day, then collection time, then id.  Those dated before
    ``start`` are the look-back: they tell what ran when the period began.  ``before`` and ``after``
    are the evidence days of the nearest audits outside what was loaded (the last one before the
    look-back, the first one after ``end``), None when there is none: they bound the evidence gaps
    at the period's edges, so whether a day is covered does not depend on where the period ends.
    """

    cluster: ClusterRef
    start: date
    end: date
    audits: tuple[AuditPoint, ...]
    scans: Mapping[str, tuple[Scan, ...]] = field(default_factory=dict)  # image key -> scans, oldest first
    before: date | None = None  # the last evidence day before the loaded audits
    after: date | None = None  # the first evidence day after ``end``

    def in_period(self) -> tuple[AuditPoint, ...]:
        return tuple(a for a in self.audits if self.start <= a.day <= self.end)
