"""Known CVEs of Kubernetes, its container runtimes and add-ons, with affected version ranges (OSV).

Two sources live in the lifecycle data directory and are merged by CVE alias into one record per CVE:

* ``vulndb/``: records of the Go vulnerability database (https://vuln.go.dev, CC-BY-4.0:
  "Go Vulnerability Database, https://vuln.go.dev, CC-BY-4.0") for the modules in ``GO_MODULES``,
  with ``vulndb/meta.json`` saying where they came from and the date they cover to;
* ``osv/``: kubernetes-sigs/cve-feed-osv (Apache-2.0), which was last updated on 2023-09-22.

Every report states the coverage date (``feed_coverage_note``): a version with no match is
"no CVE known to this data as of that date", never "no CVE".

How a record is read
--------------------
Records are decoded with msgspec Structs naming only the fields used; a broken file raises
LifecycleError naming the file and the field.  Ranges are read pairwise: each ``introduced``
opens an interval that the next ``fixed`` (or ``last_affected``) closes; the pairs are not
always in ascending order (CVE-2023-3676 lists 1.28 first), so they are never assumed sorted.
``introduced: "0"`` means every earlier version; an ``introduced`` that nothing closes means
"affected, no fixed release in this module".  Versions compare as semver (a release orders after
its pre-releases, so ``fixed: "1.33.0-alpha.0"`` leaves 1.33.0 unaffected); a leading ``v`` and
Go's ``+incompatible`` are dropped.

Go database traps, each handled here:

* ``ecosystem_specific.custom_ranges``: where the Go module's versions could not express the
  advisory (k3s ``1.32.0-rc1``, RKE2, ingress-nginx controller releases), the ``SEMVER`` range
  is a bare ``introduced: "0"`` placeholder and the real ranges are these ``ECOSYSTEM`` ranges,
  which replace it;
* ``withdrawn`` records are skipped (``OsvFeed.skipped`` lists them);
* a Go pseudo-version (``0.0.0-20260319175635-5183b7d86137``) or an unparseable version makes
  the package's ranges unusable: the CVE is then *undetermined* for every version, never "not
  affected";
* ``published``/``modified`` are ``0001-01-01`` placeholders in the repository copy: such a date
  is read as unknown (``Match.published`` None).

Which component a CVE concerns
------------------------------
``Match.components`` names kubelet, kube-apiserver, kube-controller-manager, kube-scheduler,
kube-proxy, kubectl, client-go or "node" (node-side, component not named: Windows nodes or
containers, volumes, "the nodes where …") where the record says
so: the cve-feed-osv package name (``k8s.io/kubelet``), the Go record's
``ecosystem_specific.imports`` package paths (``k8s.io/kubernetes/pkg/kubelet/server``), or the
record's summary and details naming the component.  Empty means not stated; such a CVE concerns
the control plane (``concerns_control_plane``), and findings say so.  ``Match.component_basis``
says what the names were read from.

API
---
``load_cve_feed(data_dir)`` reads both sources of a data directory (``load_osv`` is kept for one
folder).  Then:

* ``feed.assess(packages, version)`` -> ``Assessment(affected, undetermined)`` for any module
  path and a plain version: an add-on check calls it with its module and the release it runs,
  e.g. ``feed.assess(("k8s.io/ingress-nginx",), "1.12.0")``.  ``undetermined`` holds CVEs whose
  record has no usable ranges for that package: judge them UNKNOWN, never as a pass.
* ``feed.affecting(packages, version)`` -> the ``affected`` part only (for fix dates).
* ``feed.kubernetes(version, distribution)`` -> the Assessment of a Kubernetes version across
  ``k8s.io/kubernetes``, its staging modules (compared as ``0.X.Y``), cve-feed-osv's package names
  and, for ``k3s``/``rke2``, their own modules.
* ``runtime_packages(name, numbers)`` -> the modules that describe a container runtime release.
* ``feed_coverage_note``, ``feed_stale_warning`` and ``feed.sources``: what reports say about
  the data and its date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import msgspec

from patchlevel.errors import LifecycleError

# --------------------------------------------------------------------------------------------
# Modules and components

# The Go modules whose records are bundled and refreshed by ``patchlevel lifecycle update``.
KUBERNETES_MODULE: Final = "k8s.io/kubernetes"
# Kubernetes staging modules that are part of a running component; their versions are 0.X.Y for
# Kubernetes 1.X.Y.  Components named by the module (empty: the module does not say).
STAGING_MODULES: Final[Mapping[str, tuple[str, ...]]] = {
    "k8s.io/apiserver": ("kube-apiserver",),
    "k8s.io/kube-aggregator": ("kube-apiserver",),
    "k8s.io/apiextensions-apiserver": ("kube-apiserver",),
    "k8s.io/controller-manager": ("kube-controller-manager",),
    "k8s.io/kube-controller-manager": ("kube-controller-manager",),
    "k8s.io/cloud-provider": ("kube-controller-manager",),
    "k8s.io/kube-scheduler": ("kube-scheduler",),
    "k8s.io/kubelet": ("kubelet",),
    "k8s.io/mount-utils": ("kubelet",),
    "k8s.io/kube-proxy": ("kube-proxy",),
    "k8s.io/kubectl": ("kubectl",),
    "k8s.io/client-go": ("client-go",),
    "k8s.io/apimachinery": (),
}
CONTAINERD_V1: Final = "github.com/containerd/containerd"
CONTAINERD_V2: Final = "github.com/containerd/containerd/v2"
CRIO_MODULE: Final = "github.com/cri-o/cri-o"
DOCKER_MODULES: Final = ("github.com/docker/docker", "github.com/moby/moby")
MOBY_V2: Final = "github.com/moby/moby/v2"
K3S_MODULE: Final = "github.com/k3s-io/k3s"
RKE2_MODULE: Final = "github.com/rancher/rke2"
INGRESS_NGINX_MODULE: Final = "k8s.io/ingress-nginx"
KUBERNETES_AND_RUNTIME_MODULES: Final[tuple[str, ...]] = (
    KUBERNETES_MODULE,
    *STAGING_MODULES,
    CONTAINERD_V1,
    CONTAINERD_V2,
    CRIO_MODULE,
    *DOCKER_MODULES,
    MOBY_V2,
    K3S_MODULE,
    RKE2_MODULE,
)
# Add-ons whose recognition rules (``patchlevel/addons/rules.yaml``, ``osv:``) name these modules; a
# test keeps the two lists in step.
ADDON_MODULES: Final[tuple[str, ...]] = (
    INGRESS_NGINX_MODULE,
    "github.com/argoproj/argo-cd",
    "github.com/argoproj/argo-cd/v2",
    "github.com/argoproj/argo-cd/v3",
    "github.com/cert-manager/cert-manager",
    "github.com/cilium/cilium",
    "github.com/coredns/coredns",
    "github.com/flannel-io/flannel",
    "github.com/fluxcd/flux2",
    "github.com/kedacore/keda/v2",
    "github.com/kyverno/kyverno",
    "github.com/projectcalico/calico",
    "github.com/projectcontour/contour",
    "github.com/traefik/traefik/v2",
    "github.com/traefik/traefik/v3",
    "go.etcd.io/etcd",
    "go.etcd.io/etcd/server/v3",
    "istio.io/istio",
)
# Every module whose records are bundled and refreshed by ``patchlevel lifecycle update``.
GO_MODULES: Final[tuple[str, ...]] = KUBERNETES_AND_RUNTIME_MODULES + ADDON_MODULES

# cve-feed-osv package names ("kubernetes" ecosystem, versions 1.X.Y) and the component each names.
FEED_PACKAGES: Final[Mapping[str, tuple[str, ...]]] = {
    KUBERNETES_MODULE: (),
    **{name: components for name, components in STAGING_MODULES.items() if name != "k8s.io/apimachinery"},
}

CONTROL_PLANE_COMPONENTS: Final = frozenset(
    {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "cloud-controller-manager", "etcd", "client-go"}
)
# "node": a record that says the issue is on nodes (Windows nodes, volume plugins) without naming
# the kubelet.  client-go is a library inside every component.
NODE_COMPONENTS: Final = frozenset({"kubelet", "node", "client-go"})

# Package paths (``ecosystem_specific.imports``) under which code runs in one component.
_IMPORT_COMPONENTS: Final[tuple[tuple[str, str], ...]] = (
    ("k8s.io/kubernetes/pkg/kubelet", "kubelet"),
    ("k8s.io/kubernetes/pkg/credentialprovider", "kubelet"),
    ("k8s.io/kubernetes/pkg/volume", "node"),
    ("k8s.io/mount-utils", "node"),
    ("k8s.io/kubernetes/pkg/proxy", "kube-proxy"),
    ("k8s.io/kubernetes/pkg/kubectl", "kubectl"),
    ("k8s.io/kubectl", "kubectl"),
    ("k8s.io/kubernetes/pkg/controller", "kube-controller-manager"),
    ("k8s.io/kubernetes/pkg/scheduler", "kube-scheduler"),
    ("k8s.io/kubernetes/pkg/registry", "kube-apiserver"),
    ("k8s.io/kubernetes/pkg/kubeapiserver", "kube-apiserver"),
    ("k8s.io/kubernetes/pkg/api/", "kube-apiserver"),
    ("k8s.io/kubernetes/plugin/pkg/admission", "kube-apiserver"),
    ("k8s.io/kubernetes/plugin/pkg/auth", "kube-apiserver"),
    ("k8s.io/apiserver", "kube-apiserver"),
)
# Component names as records write them in their summary and details.
_TEXT_COMPONENTS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\bkubelet\b", re.IGNORECASE), "kubelet"),
    (re.compile(r"\bkube-?apiserver\b|\bAPI server\b", re.IGNORECASE), "kube-apiserver"),
    (re.compile(r"\bkube-controller-manager\b|\bKCM\b|\bcontroller[- ]manager\b"), "kube-controller-manager"),
    (re.compile(r"\bkube-scheduler\b", re.IGNORECASE), "kube-scheduler"),
    (re.compile(r"\bkube-proxy\b", re.IGNORECASE), "kube-proxy"),
    (re.compile(r"\bkubectl\b", re.IGNORECASE), "kubectl"),
    # node-side without a component name: Windows nodes, Windows containers (and their logs, which the
    # kubelet writes: CVE-2024-5321), volumes (mounted on the node), "the nodes where …"
    (
        re.compile(r"\bWindows (?:nodes?|containers?)\b|\bvolumes?\b|\bnodes where\b", re.IGNORECASE),
        "node",
    ),
)

GO_SOURCE: Final = "Go vulnerability database"
K8S_FEED_SOURCE: Final = "kubernetes-sigs/cve-feed-osv"
GO_ATTRIBUTION: Final = "Go Vulnerability Database, https://vuln.go.dev, CC-BY-4.0"


# --------------------------------------------------------------------------------------------
# Versions


_SEMVER = re.compile(
    r"^v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.\-]+?))?(?:\+(?P<build>[0-9A-Za-z.\-]+))?$"
)
_PSEUDO = re.compile(r"(?:^|[.\-])\d{14}-[0-9a-f]{12}$")

VersionKey = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]


def version_key(text: str) -> VersionKey | None:
    """Semver precedence key of ``text`` (``v`` and build metadata such as ``+incompatible`` ignored).

    None when ``text`` is not a version or is a Go pseudo-version (a commit, not a release).
    """
    value = text.strip()
    if _PSEUDO.search(value.split("+", 1)[0]):
        return None
    m = _SEMVER.match(value)
    if not m:
        return None
    pre = m["pre"] or ""
    parts: tuple[tuple[int, int | str], ...] = tuple(
        (0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".") if p
    )
    return (int(m["major"]), int(m["minor"] or 0), int(m["patch"] or 0), 0 if pre else 1, parts)


def clean_version(text: str) -> str:
    """A version as releases are named: no leading ``v``, no ``+incompatible``."""
    value = text.strip().removeprefix("v")
    return value.removesuffix("+incompatible")


@dataclass(frozen=True, slots=True)
class Interval:
    """Affected versions ``[introduced, fixed)`` or ``[introduced, last_affected]``; None: unbounded."""

    introduced: VersionKey | None
    fixed: VersionKey | None  # exclusive upper bound
    last_affected: VersionKey | None  # inclusive upper bound
    fixed_text: str = ""  # the fixed version as a release name ("1.33.4")

    def contains(self, version: VersionKey) -> bool:
        if self.introduced is not None and version < self.introduced:
            return False
        if self.fixed is not None:
            return version < self.fixed
        if self.last_affected is not None:
            return version <= self.last_affected
        return True


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    """One ``affected[]`` entry of one source record."""

    name: str
    ecosystem: str  # "Go" or "kubernetes"
    intervals: tuple[Interval, ...]
    unusable: str = ""  # why the ranges cannot be evaluated; "" when they can
    versions: frozenset[str] = frozenset()  # explicitly listed affected versions (OSV ``versions``)
    components: tuple[str, ...] = ()
    component_basis: str = ""
    fixes: tuple[str, ...] = ()  # every fixed version of the package's ranges
    source: str = ""  # "GO-2025-3915 (Go vulnerability database)"


@dataclass(frozen=True, slots=True)
class OsvRecord:
    """One CVE (or Go id when the record has no CVE alias), merged over the sources that know it."""

    id: str
    summary: str
    affected: tuple[AffectedPackage, ...]
    severity: str  # a CVSS vector, "" when none (the Go database does not score)
    published: date | None = None
    url: str = ""
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    review_status: str = ""

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.name for p in self.affected))


@dataclass(frozen=True, slots=True)
class Match:
    """A CVE of a version (``undetermined`` empty), or a CVE whose ranges could not decide (set)."""

    id: str
    summary: str
    package: str
    fixed_in: str | None  # the release that fixes the interval holding the version (this line or later)
    severity: str
    url: str
    components: tuple[str, ...] = ()
    component_basis: str = ""
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    published: date | None = None
    fixes: tuple[str, ...] = ()  # every fixed version the record names for this package
    undetermined: str = ""
    review_status: str = ""


@dataclass(frozen=True, slots=True)
class Assessment:
    """The CVEs of a version: ``affected`` by the ranges, and ``undetermined`` (no usable ranges)."""

    affected: tuple[Match, ...] = ()
    undetermined: tuple[Match, ...] = ()

    def __add__(self, other: Assessment) -> Assessment:
        seen = {m.id for m in self.affected}
        affected = self.affected + tuple(m for m in other.affected if m.id not in seen)
        seen |= {m.id for m in other.affected}
        taken = {m.id for m in self.undetermined}
        undetermined = tuple(m for m in self.undetermined if m.id not in seen) + tuple(
            m for m in other.undetermined if m.id not in seen and m.id not in taken
        )
        return Assessment(affected, undetermined)

    def where(self, keep: Callable[[Match], bool]) -> Assessment:
        """The matches ``keep(match)`` accepts."""
        return Assessment(tuple(m for m in self.affected if keep(m)), tuple(m for m in self.undetermined if keep(m)))


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One source of the feed, for reports: what it is, how many records, the date it covers to."""

    name: str
    covered_until: date | None  # the date its data is current as of
    records: int
    licence: str
    detail: str = ""  # repository and commit, or URL
    attribution: str = ""
    modules: tuple[str, ...] = ()  # the packages it was collected for


@dataclass(frozen=True, slots=True)
class OsvFeed:
    records: tuple[OsvRecord, ...]
    last_updated: str  # the newest source's coverage date (YYYY-MM-DD), "" when unknown
    newest: str  # id of the newest CVE in the feed
    sources: tuple[FeedSource, ...] = ()
    skipped: tuple[str, ...] = ()  # withdrawn records, with their withdrawal date
    # modules the sources were collected for (vulndb/meta.json ``modules``): a module listed here with
    # no record has no known CVE as of the coverage date, one not listed is not covered at all
    covered_modules: tuple[str, ...] = ()
    _by_package: dict[str, tuple[tuple[OsvRecord, AffectedPackage], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def covered_until(self) -> date | None:
        dates = [s.covered_until for s in self.sources if s.covered_until is not None]
        if dates:
            return max(dates)
        return _iso_date(self.last_updated)

    def _entries(self, package: str) -> tuple[tuple[OsvRecord, AffectedPackage], ...]:
        cached = self._by_package.get(package)
        if cached is None:
            cached = self._by_package[package] = tuple(
                (r, p) for r in self.records for p in r.affected if p.name == package
            )
        return cached

    def assess(self, packages: Iterable[str], version: str) -> Assessment:
        """CVEs of any of ``packages`` (module paths or feed names) at ``version`` (``1.12.0``, ``v2.1.4``).

        A version that is not a semver string gives every record of the packages as undetermined.
        """
        return self._assess([(name, version, "", False) for name in dict.fromkeys(packages)])

    def affecting(self, packages: Iterable[str], version: str) -> list[Match]:
        """The CVEs whose ranges contain ``version`` (``assess(...).affected``)."""
        return list(self.assess(packages, version).affected)

    def kubernetes(self, version: str, distribution: str = "") -> Assessment:
        """CVEs of a Kubernetes ``X.Y.Z`` across ``k8s.io/kubernetes``, its staging modules and feed names.

        The Go staging modules (``k8s.io/kubelet`` …) are versioned ``0.X.Y`` for Kubernetes ``1.X.Y``;
        cve-feed-osv uses the same names with ``1.X.Y``.  ``distribution`` ``k3s`` or ``rke2`` adds that
        distribution's own module, compared by the same ``X.Y.Z`` (their ranges name upstream versions).
        """
        queries: list[tuple[str, str, str, bool]] = [(KUBERNETES_MODULE, version, "", True)]
        queries += [(name, version, "kubernetes", True) for name in FEED_PACKAGES if name != KUBERNETES_MODULE]
        key = version_key(version)
        if key is not None and key[0] == 1:
            numbers = f"{key[0]}.{key[1]}.{key[2]}"
            staging = "0." + version[2:] if version.startswith(numbers) else f"0.{key[1]}.{key[2]}"
            queries += [(name, staging, "go", True) for name in STAGING_MODULES]
        if distribution == "k3s":
            queries.append((K3S_MODULE, version, "", True))
        elif distribution == "rke2":
            queries.append((RKE2_MODULE, version, "", True))
        return self._assess(queries)

    def _assess(self, queries: Sequence[tuple[str, str, str, bool]]) -> Assessment:
        """``queries``: (package, version, ecosystem or "" for any, name fixes as Kubernetes releases)."""
        hits: dict[str, list[tuple[AffectedPackage, str | None]]] = {}
        undetermined: dict[str, tuple[AffectedPackage, str]] = {}
        records: dict[str, OsvRecord] = {}
        as_kubernetes = {name: flag for name, _, _, flag in queries}
        for name, version, ecosystem, _ in queries:
            key = version_key(version)
            for record, package in self._entries(name):
                if ecosystem and package.ecosystem.lower() != ecosystem:
                    continue
                records.setdefault(record.id, record)
                if package.unusable or key is None:
                    reason = package.unusable or f"{version!r} is not a version the ranges can be compared with"
                    undetermined.setdefault(record.id, (package, reason))
                    continue
                affected, fixed = _hit(package, key, version)
                if affected:
                    named = _release_name(package, fixed) if fixed and as_kubernetes[name] else fixed
                    hits.setdefault(record.id, []).append((package, named))
        affected_matches: list[Match] = []
        unknown: list[Match] = []
        for record_id, record in records.items():
            if record_id in hits:
                packages = [p for p, _ in hits[record_id]]
                fixes = [f for _, f in hits[record_id] if f]
                best = max(fixes, key=_sort_key) if fixes else None
                kube = as_kubernetes.get(packages[0].name, False)
                affected_matches.append(_as_match(record, packages, best, "", kube))
            elif record_id in undetermined:
                package, reason = undetermined[record_id]
                unknown.append(_as_match(record, [package], None, reason, as_kubernetes.get(package.name, False)))
        affected_matches.sort(key=lambda m: _id_key(m.id))
        unknown.sort(key=lambda m: _id_key(m.id))
        return Assessment(tuple(affected_matches), tuple(unknown))


def _sort_key(version: str) -> VersionKey:
    return version_key(version) or (0, 0, 0, 0, ())


def _hit(package: AffectedPackage, key: VersionKey, version: str) -> tuple[bool, str | None]:
    """(affected, the highest fixed version of the intervals holding ``key``, None when none is fixed)."""
    fixes = [i.fixed_text for i in package.intervals if i.contains(key)]
    if not fixes:
        return clean_version(version) in package.versions, None
    known = [f for f in fixes if f]
    return True, (max(known, key=_sort_key) if known else None)


def _as_match(
    record: OsvRecord, packages: Sequence[AffectedPackage], fixed: str | None, reason: str, as_kubernetes: bool
) -> Match:
    components: list[str] = []
    bases: list[str] = []
    fixes: list[str] = []
    for package in packages:
        components += [c for c in package.components if c not in components]
        if package.component_basis and package.component_basis not in bases:
            bases.append(package.component_basis)
        named = (_release_name(package, f) for f in package.fixes) if as_kubernetes else iter(package.fixes)
        fixes += [f for f in named if f not in fixes]
    return Match(
        id=record.id,
        summary=record.summary,
        package=packages[0].name,
        fixed_in=fixed,
        severity=record.severity,
        url=record.url,
        components=tuple(components),
        component_basis="; ".join(bases),
        aliases=record.aliases,
        sources=record.sources,
        published=record.published,
        fixes=tuple(fixes),
        undetermined=reason,
        review_status=record.review_status,
    )


def _release_name(package: AffectedPackage, version: str) -> str:
    """A fixed version as the product's release: staging ``0.X.Y`` -> Kubernetes ``1.X.Y``."""
    if package.name in STAGING_MODULES and package.ecosystem == "Go" and version.startswith("0."):
        return "1." + version[2:]
    return version


# --------------------------------------------------------------------------------------------
# Which component a match concerns


def concerns_control_plane(match: Match) -> bool:
    """A control-plane component is named, or no component is (then it is counted for the control plane)."""
    return not match.components or bool(CONTROL_PLANE_COMPONENTS.intersection(match.components))


def concerns_kubelet(match: Match) -> bool:
    """The kubelet (or the node side, component not named) is named."""
    return bool(NODE_COMPONENTS.intersection(match.components))


def component_text(match: Match) -> str:
    """How a finding names the component: "kubelet", or that the record does not say."""
    if match.components:
        return ", ".join(match.components)
    return "component not stated (counted for the control plane)"


def runtime_packages(runtime: str, numbers: tuple[int, ...]) -> tuple[tuple[str, ...], str]:
    """The Go modules whose records describe container runtime ``runtime`` at release ``numbers``.

    Returns (modules, "") or ((), why the release cannot be matched).  containerd 1.x is
    ``github.com/containerd/containerd`` and 2.x its ``/v2`` module; CRI-O is ``github.com/cri-o/cri-o``;
    Docker Engine up to 28 is ``github.com/docker/docker`` and ``github.com/moby/moby``
    (``vX.Y.Z+incompatible``).  Docker Engine 29 and later is recorded under
    ``github.com/moby/moby/v2``, whose versions (``v2.0.0-beta.N``) do not correspond to Engine
    releases, so it cannot be matched.
    """
    major = numbers[0] if numbers else -1
    if runtime == "containerd":
        if major == 1:
            return (CONTAINERD_V1,), ""
        if major == 2:
            return (CONTAINERD_V2,), ""
        return (), f"containerd {major}.x has no Go module the vulnerability data knows"
    if runtime == "cri-o":
        return (CRIO_MODULE,), ""
    if runtime == "docker":
        if major >= 29:
            return (), (
                "the Go vulnerability database records Docker Engine 29 and later under "
                f"{MOBY_V2}, whose versions (v2.0.0-beta.N) do not correspond to Engine releases"
            )
        return DOCKER_MODULES, ""
    return (), f"no vulnerability data source covers container runtime {runtime!r}"


# --------------------------------------------------------------------------------------------
# Decoding (msgspec Structs naming only the fields used)


class _Event(msgspec.Struct):
    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


class _Range(msgspec.Struct):
    type: str
    events: list[_Event] = []


class _Import(msgspec.Struct):
    path: str


class _EcosystemSpecific(msgspec.Struct):
    imports: list[_Import] = []
    custom_ranges: list[_Range] = []


class _Package(msgspec.Struct):
    name: str
    ecosystem: str = ""


class _Severity(msgspec.Struct):
    type: str = ""
    score: str = ""


class _Affected(msgspec.Struct):
    package: _Package
    ranges: list[_Range] = []
    versions: list[str] = []
    severity: list[_Severity] = []
    ecosystem_specific: _EcosystemSpecific | None = None


class _Reference(msgspec.Struct):
    url: str
    type: str = ""


class _DatabaseSpecific(msgspec.Struct):
    url: str = ""
    review_status: str = ""


class _Record(msgspec.Struct):
    id: str
    summary: str = ""
    details: str = ""
    published: str = ""
    modified: str = ""
    withdrawn: str = ""
    aliases: list[str] = []
    affected: list[_Affected] = []
    severity: list[_Severity] = []
    references: list[_Reference] = []
    database_specific: _DatabaseSpecific | None = None


class _Meta(msgspec.Struct):
    """``vulndb/meta.json``: where the bundled Go records came from."""

    source: str
    covered_until: str  # YYYY-MM-DD: the database state the records are a copy of
    licence: str
    attribution: str
    retrieved: str = ""
    commit: str | None = None
    url: str = ""
    modules: list[str] = []


def decode_record(data: bytes | Mapping[str, Any], where: str) -> _Record:
    """Decode one OSV record; LifecycleError names ``where`` and the field on error."""
    try:
        if isinstance(data, bytes | bytearray | memoryview):
            return msgspec.json.decode(data, type=_Record)
        return msgspec.convert(data, _Record)
    except msgspec.ValidationError as exc:
        raise LifecycleError(f"{where}: not an OSV record: {exc}") from None
    except msgspec.DecodeError as exc:
        raise LifecycleError(f"{where}: not valid JSON: {exc}") from None


def _iso_date(text: str) -> date | None:
    """The date of an RFC 3339 time; None for the ``0001-01-01`` placeholder or a non-date."""
    try:
        value = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return None if value.year < 1990 else value


def _cve_of(record: _Record) -> str:
    if record.id.startswith("CVE-"):
        return record.id
    return next((a for a in record.aliases if a.startswith("CVE-")), record.id)


def _components_of(record: _Record, affected: _Affected) -> tuple[tuple[str, ...], str]:
    """Components the record names for this package, and what they were read from."""
    names: list[str] = []
    bases: list[str] = []

    def add(found: Iterable[str], basis: str) -> None:
        fresh = [c for c in found if c not in names]
        if fresh:
            names.extend(fresh)
            bases.append(basis)

    package = affected.package.name
    add(STAGING_MODULES.get(package, ()), f"package {package}")
    specific = affected.ecosystem_specific
    for imported in specific.imports if specific else []:
        for prefix, component in _IMPORT_COMPONENTS:
            stem = prefix.rstrip("/")
            if imported.path == stem or imported.path.startswith(stem + "/"):
                add((component,), f"imports {imported.path}")
                break
    # A cve-feed-osv package name is authoritative; Go records name components in their text too.
    if affected.package.ecosystem.lower() == "go" or not names:
        text = f"{record.summary}\n{record.details}"
        said = [c for pattern, c in _TEXT_COMPONENTS if pattern.search(text)]
        add(said, "summary/details name " + ", ".join(c for c in said if c not in names))
    return tuple(names), "; ".join(bases)


def _intervals(ranges: Sequence[_Range]) -> tuple[tuple[Interval, ...], tuple[str, ...], str]:
    """(intervals, fixed versions, problem) of SEMVER/ECOSYSTEM ranges; problem "" when usable."""
    intervals: list[Interval] = []
    fixes: list[str] = []
    usable = [r for r in ranges if r.type in ("SEMVER", "ECOSYSTEM")]
    if not usable:
        kinds = ", ".join(sorted({r.type for r in ranges})) or "none"
        return (), (), f"the record gives no SEMVER or ECOSYSTEM range (ranges: {kinds})"

    def key(text: str) -> VersionKey | None:
        if text == "0":
            return None
        value = version_key(text)
        if value is None:
            raise ValueError(text)
        return value

    try:
        for rng in usable:
            opened: str | None = None
            for event in rng.events:
                if event.introduced is not None:
                    if opened is not None:
                        intervals.append(Interval(key(opened), None, None))
                    opened = event.introduced
                elif event.fixed is not None:
                    fixed = clean_version(event.fixed)
                    fixes.append(fixed)
                    if opened is not None:
                        intervals.append(Interval(key(opened), key(event.fixed), None, fixed))
                        opened = None
                    else:
                        key(event.fixed)  # validate even when nothing opened it
                elif event.last_affected is not None and opened is not None:
                    intervals.append(Interval(key(opened), None, key(event.last_affected)))
                    opened = None
            if opened is not None:
                intervals.append(Interval(key(opened), None, None))
    except ValueError as exc:
        raw = str(exc)
        what = "a Go pseudo-version (a commit, not a release)" if _PSEUDO.search(raw.split("+")[0]) else "not a version"
        return (), (), f"the record's range names {raw!r}, {what}"
    return tuple(intervals), tuple(fixes), ""


def record_from(record: _Record, where: str, source: str) -> OsvRecord | None:
    """The OsvRecord of a decoded record; None when it is withdrawn."""
    if record.withdrawn:
        return None
    label = f"{record.id} ({source})"
    affected: list[AffectedPackage] = []
    severity = ""
    for entry in record.affected:
        specific = entry.ecosystem_specific
        ranges = specific.custom_ranges if specific and specific.custom_ranges else entry.ranges
        intervals, fixes, problem = _intervals(ranges)
        if not ranges and entry.versions:
            problem = ""
        elif not ranges:
            problem = "the record gives no affected ranges or versions"
        components, basis = _components_of(record, entry)
        affected.append(
            AffectedPackage(
                name=entry.package.name,
                ecosystem=entry.package.ecosystem,
                intervals=intervals,
                unusable=problem,
                versions=frozenset(clean_version(v) for v in entry.versions),
                components=components,
                component_basis=basis,
                fixes=fixes,
                source=label,
            )
        )
        severity = severity or next((s.score for s in entry.severity if s.score), "")
    severity = severity or next((s.score for s in record.severity if s.score), "")
    advisory = next((r.url for r in record.references if r.type == "ADVISORY"), "")
    specific_db = record.database_specific
    url = advisory or (specific_db.url if specific_db and specific_db.url else "")
    url = url or (record.references[0].url if record.references else "")
    cve = _cve_of(record)
    aliases = tuple(a for a in dict.fromkeys([record.id, *record.aliases]) if a != cve)
    return OsvRecord(
        id=cve,
        summary=record.summary.strip(),
        affected=tuple(affected),
        severity=severity,
        published=_iso_date(record.published),
        url=url,
        aliases=aliases,
        sources=(label,),
        review_status=specific_db.review_status if specific_db else "",
    )


def parse_record(doc: bytes | Mapping[str, Any], where: str, source: str = K8S_FEED_SOURCE) -> OsvRecord:
    """Decode and read one record; a withdrawn record is an error here (``load_*`` skips them)."""
    record = record_from(decode_record(doc, where), where, source)
    if record is None:
        raise LifecycleError(f"{where}: the record is withdrawn")
    return record


def merge_records(records: Iterable[OsvRecord]) -> tuple[OsvRecord, ...]:
    """One record per CVE: packages, aliases and sources joined; the first summary, score and URL kept."""
    merged: dict[str, OsvRecord] = {}
    for record in records:
        old = merged.get(record.id)
        if old is None:
            merged[record.id] = record
            continue
        merged[record.id] = OsvRecord(
            id=record.id,
            summary=old.summary or record.summary,
            affected=old.affected + record.affected,
            severity=old.severity or record.severity,
            published=min((d for d in (old.published, record.published) if d), default=None),
            url=old.url or record.url,
            aliases=tuple(dict.fromkeys(old.aliases + record.aliases)),
            sources=old.sources + record.sources,
            review_status=old.review_status or record.review_status,
        )
    return tuple(sorted(merged.values(), key=lambda r: _id_key(r.id)))


def _id_key(record_id: str) -> tuple[int, ...]:
    return tuple(int(d) for d in re.findall(r"\d+", record_id))


# --------------------------------------------------------------------------------------------
# Loading


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LifecycleError(f"cannot read OSV record {path}: {exc.strerror or exc}") from None


def read_cve_feed_osv(directory: Path) -> tuple[list[OsvRecord], FeedSource | None, list[str]]:
    """kubernetes-sigs/cve-feed-osv: ``*.json`` records and ``last_updated.json``."""
    records: list[OsvRecord] = []
    skipped: list[str] = []
    last_updated: date | None = None
    if not directory.is_dir():
        return records, None, skipped
    for path in sorted(directory.glob("*.json")):
        if path.name == "last_updated.json":
            try:
                stamps = msgspec.json.decode(_read(path), type=dict[str, str])
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise LifecycleError(f"{path}: not a last_updated.json ({exc})") from None
            last_updated = _iso_date(next(iter(stamps.values()), ""))
            continue
        record = record_from(decode_record(_read(path), str(path)), str(path), K8S_FEED_SOURCE)
        if record is None:
            skipped.append(f"{path.stem} (cve-feed-osv, withdrawn)")
        else:
            records.append(record)
    source = FeedSource(
        name=K8S_FEED_SOURCE,
        covered_until=last_updated,
        records=len(records),
        licence="Apache-2.0",
        detail="https://github.com/kubernetes-sigs/cve-feed-osv (no longer updated)",
        modules=tuple(sorted({p.name for r in records for p in r.affected})),
    )
    return records, source, skipped


def read_meta(directory: Path) -> _Meta:
    path = directory / "meta.json"
    try:
        return msgspec.json.decode(_read(path), type=_Meta)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise LifecycleError(f"{path}: not a vulnerability data description: {exc}") from None


def read_go_vulndb(directory: Path) -> tuple[list[OsvRecord], FeedSource | None, list[str]]:
    """Go vulnerability database records (``GO-*.json``) and ``meta.json``."""
    records: list[OsvRecord] = []
    skipped: list[str] = []
    if not directory.is_dir():
        return records, None, skipped
    meta = read_meta(directory)
    covered = _iso_date(meta.covered_until)
    if covered is None:
        raise LifecycleError(f"{directory / 'meta.json'}: covered_until {meta.covered_until!r} is not a date")
    for path in sorted(directory.glob("GO-*.json")):
        decoded = decode_record(_read(path), str(path))
        record = record_from(decoded, str(path), GO_SOURCE)
        if record is None:
            skipped.append(f"{decoded.id} (Go vulnerability database, withdrawn {decoded.withdrawn[:10]})")
        else:
            records.append(record)
    commit = f" commit {meta.commit}" if meta.commit else ""
    source = FeedSource(
        name=GO_SOURCE,
        covered_until=covered,
        records=len(records),
        licence=meta.licence,
        detail=f"{meta.source}{commit}",
        attribution=meta.attribution,
        modules=tuple(meta.modules),
    )
    return records, source, skipped


def build_feed(
    parts: Iterable[tuple[list[OsvRecord], FeedSource | None, list[str]]],
) -> OsvFeed:
    records: list[OsvRecord] = []
    sources: list[FeedSource] = []
    skipped: list[str] = []
    for part_records, source, part_skipped in parts:
        records += part_records
        skipped += part_skipped
        if source is not None:
            sources.append(source)
    merged = merge_records(records)
    cves = [r.id for r in merged if r.id.startswith("CVE-")]
    newest = max(cves, key=_id_key, default="")
    covered = [s.covered_until for s in sources if s.covered_until]
    return OsvFeed(
        merged,
        max(covered).isoformat() if covered else "",
        newest,
        tuple(sources),
        tuple(skipped),
        tuple(dict.fromkeys(m for s in sources for m in s.modules)),
    )


def load_cve_feed(data_dir: Path, fallback: Path | None = None) -> OsvFeed:
    """Both sources of a lifecycle data directory (``osv/`` and ``vulndb/``).

    A source missing from ``data_dir`` (a directory written before it existed) is read from
    ``fallback`` (the bundled data) when given.
    """
    parts = []
    for folder, reader in (("vulndb", read_go_vulndb), ("osv", read_cve_feed_osv)):
        directory = data_dir / folder
        if not directory.is_dir() and fallback is not None:
            directory = fallback / folder
        parts.append(reader(directory))
    return build_feed(parts)


def load_osv(directory: Path) -> OsvFeed:
    """The cve-feed-osv folder ``directory``, with the Go records of its sibling ``vulndb/`` folder.

    Kept for callers that name the ``osv`` folder; ``load_cve_feed(data_dir)`` is the one to use.
    """
    return build_feed([read_go_vulndb(directory.parent / "vulndb"), read_cve_feed_osv(directory)])


# --------------------------------------------------------------------------------------------
# What reports say about the data


def coverage_text(feed: OsvFeed) -> str:
    parts = []
    for s in feed.sources:
        until = s.covered_until.isoformat() if s.covered_until else "an unknown date"
        parts.append(f"{s.name} to {until} ({s.records} records)")
    return "; ".join(parts) or "no CVE data"


def feed_coverage_note(feed: OsvFeed, as_of: date | None = None) -> str:
    """One sentence for every report: the sources, the date the CVE knowledge covers to, and what no match means."""
    covered = feed.covered_until
    until = covered.isoformat() if covered else "an unknown date"
    note = (
        f"Kubernetes and container-runtime CVE data: {coverage_text(feed)}, merged by CVE alias "
        f"({len(feed.records)} CVEs, newest {feed.newest or 'none'}); CVEs published after {until} are not in it, "
        f"so no match means none known as of {until}"
    )
    if as_of is not None and covered is not None and as_of > covered:
        note += f", {(as_of - covered).days} days before the as-of date {as_of}"
    if any(s.name == GO_SOURCE for s in feed.sources):
        note += f". Attribution: {GO_ATTRIBUTION}"
    return note


def feed_stale_warning(feed: OsvFeed, as_of: date, max_age_days: int) -> str | None:
    """A warning when the CVE data is older than ``max_age_days`` at ``as_of`` (None when fresh)."""
    covered = feed.covered_until
    if covered is None:
        return "the CVE data does not say what date it covers to; run 'patchlevel lifecycle update'"
    age = (as_of - covered).days
    if age <= max_age_days:
        return None
    return (
        f"CVE data covers to {covered}, {age} days before the as-of date {as_of} (more than {max_age_days}): "
        "Kubernetes and container-runtime CVEs published since then are unknown; run 'patchlevel lifecycle update'"
    )


def known_packages(feed: OsvFeed) -> Collection[str]:
    """Every package name the feed has records for."""
    return {p.name for r in feed.records for p in r.affected}
