"""Recognition rules for cluster add-ons: data (``rules.yaml``), decoded and validated on load.

One entry per add-on says how to recognise it in a pod and how to judge it:

* ``images``: globs over an image's ``registry/repository`` after docker's normalisation
  (``quay.io/cilium/cilium``, ``*/coredns``, ``*.dkr.ecr.*.amazonaws.com/eks/coredns``);
* ``names``: values of the pod's ``app.kubernetes.io/name`` or ``app.kubernetes.io/part-of`` label,
  and ``charts``: Helm chart names (the ``helm.sh/chart`` label is ``<chart>-<chart version>``),
  which recognise an add-on whose image is a mirror the globs do not know;
* ``exclude``: components shipped with the add-on (same chart, same ``part-of`` label) that are
  versioned apart and so are not the add-on: their images (globs, as ``images``) and their
  ``app.kubernetes.io/name`` values (Cilium's cilium-envoy and hubble-ui, Calico's tigera-operator,
  ingress-nginx's kube-webhook-certgen), with ``why``.  A pod they describe is not recognised as
  the add-on by its labels, and an excluded image never matches the add-on's globs;
* ``lifecycle``: the lifecycle product that judges it (endoflife.date's id, or a curated one);
* ``version_from``: ``image`` (the tag; the label only when the tag is unreadable) or ``label``
  (``app.kubernetes.io/version`` first: Flux labels its distribution version, while each controller
  image has its own);
* ``suffixes``: tag suffixes of vendor rebuilds this add-on is known to carry, on top of the
  shared ``vendor_suffixes``;
* ``osv``: the Go module paths whose vulnerability records describe it;
* ``upgrade``: how its releases are installed (chart, manifest, CLI), for remediations.

``managed`` rules say who patches an add-on on a managed platform (EKS, GKE, AKS, OpenShift),
with the provider's own documentation as the source.

Adding an add-on is adding one entry.  A broken file raises ``PatchlevelError`` naming the file
and the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import translate
from functools import cache
from importlib import resources
from typing import Literal

import msgspec
import yaml

from patchlevel.errors import PatchlevelError

RULES_FILE = "rules.yaml"
_MODULE_PATH = re.compile(r"^[a-z0-9.\-]+\.[a-z]{2,}(/[A-Za-z0-9._~\-]+)*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9\-]*$")


class AddonRulesError(PatchlevelError):
    """The add-on recognition rules are invalid (exit 3: patchlevel's own data is broken)."""


class VendorSuffix(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pattern: str  # a regular expression matched against the whole rest of the tag after X.Y.Z
    means: str  # what such a suffix is ("an Amazon EKS build")


class ManagedRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    distribution: str  # the cluster's distribution id (eks, gke, aks, openshift)
    responsibility: Literal["provider", "customer"]
    statement: str  # who patches the add-on, in our words
    source: str  # the provider's documentation
    labels: dict[str, str] = {}  # every label must be present with this value ("*": any value)
    namespace_prefix: str = ""


class Exclusion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Components that carry an add-on's labels but are versioned apart from it."""

    why: str  # what they are and how they are versioned, in our words
    images: tuple[str, ...] = ()  # registry/repository globs
    names: tuple[str, ...] = ()  # app.kubernetes.io/name values


class AddonRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    name: str
    category: str
    lifecycle: str
    upgrade: str
    images: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    charts: tuple[str, ...] = ()
    version_from: Literal["image", "label"] = "image"
    cycle: Literal["minor", "major"] = "minor"
    suffixes: tuple[VendorSuffix, ...] = ()
    osv: tuple[str, ...] = ()
    note: str = ""
    exclude: Exclusion | None = None

    @property
    def excluded_names(self) -> tuple[str, ...]:
        return self.exclude.names if self.exclude is not None else ()


class _Document(msgspec.Struct, forbid_unknown_fields=True):
    format: int
    vendor_suffixes: tuple[VendorSuffix, ...]
    managed: tuple[ManagedRule, ...]
    addons: list[dict[str, object]]


@dataclass(frozen=True, slots=True)
class CompiledSuffix:
    regex: re.Pattern[str]
    means: str


@dataclass(frozen=True, slots=True)
class AddonRules:
    """The rules, with image globs compiled into one expression per add-on."""

    addons: tuple[AddonRule, ...]
    managed: tuple[ManagedRule, ...]
    vendor_suffixes: tuple[CompiledSuffix, ...]
    image_patterns: tuple[tuple[re.Pattern[str], AddonRule], ...]  # in file order: the first match wins
    suffixes: dict[str, tuple[CompiledSuffix, ...]]  # add-on id -> its own and the shared suffixes
    by_name: dict[str, AddonRule]  # app.kubernetes.io/name or part-of value -> add-on
    by_chart: dict[str, AddonRule]  # Helm chart name -> add-on
    source: str = RULES_FILE
    excluded_images: dict[str, re.Pattern[str]] = field(default_factory=dict)  # add-on id -> its exclusions

    def excluded_image(self, rule: AddonRule, repository: str) -> bool:
        """Whether ``registry/repository`` is a component of ``rule``'s add-on that is versioned apart."""
        pattern = self.excluded_images.get(rule.id)
        return pattern is not None and pattern.match(repository) is not None

    def rule(self, addon_id: str) -> AddonRule | None:
        return next((a for a in self.addons if a.id == addon_id), None)

    def match_repository(self, repository: str) -> AddonRule | None:
        """The add-on whose image globs match ``registry/repository``, first in file order."""
        for pattern, rule in self.image_patterns:
            if pattern.match(repository) and not self.excluded_image(rule, repository):
                return rule
        return None


def _compile_suffix(suffix: VendorSuffix, where: str) -> CompiledSuffix:
    try:
        return CompiledSuffix(re.compile(suffix.pattern), suffix.means)
    except re.error as exc:
        raise AddonRulesError(f"{where}: suffix {suffix.pattern!r} is not a regular expression ({exc})") from None


def _addon(raw: dict[str, object], index: int, where: str) -> AddonRule:
    label = f"{where}: addons[{index}]"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        label += f" ({raw['id']})"
    try:
        rule = msgspec.convert(raw, AddonRule)
    except msgspec.ValidationError as exc:
        raise AddonRulesError(f"{label}: {exc}") from None
    if not _ID.match(rule.id):
        raise AddonRulesError(f"{label}: id must be lower-case letters, digits and dashes")
    if not (rule.images or rule.names or rule.charts):
        raise AddonRulesError(f"{label}: no images, names or charts to recognise it by")
    excluded = rule.exclude.images if rule.exclude is not None else ()
    for pattern in (*rule.images, *excluded):
        if "/" not in pattern or pattern != pattern.strip() or pattern.lower() != pattern:
            raise AddonRulesError(f"{label}: image glob {pattern!r} must be a lower-case registry/repository glob")
    if rule.exclude is not None:
        if not rule.exclude.why.strip() or not (rule.exclude.images or rule.exclude.names):
            raise AddonRulesError(f"{label}: exclude needs images or names, and why")
        for name in rule.exclude.names:
            if name in rule.names:
                raise AddonRulesError(f"{label}: {name!r} is both a name of the add-on and excluded")
    for module in rule.osv:
        if not _MODULE_PATH.match(module):
            raise AddonRulesError(f"{label}: {module!r} is not a Go module path")
    for text, what in ((rule.name, "name"), (rule.lifecycle, "lifecycle"), (rule.upgrade, "upgrade")):
        if not text.strip():
            raise AddonRulesError(f"{label}: {what} is empty")
    return rule


def parse_rules(text: str | bytes, where: str = RULES_FILE) -> AddonRules:
    try:
        doc = msgspec.convert(yaml.safe_load(text), _Document)
    except yaml.YAMLError as exc:
        raise AddonRulesError(f"{where}: not valid YAML ({' '.join(str(exc).split())})") from None
    except msgspec.ValidationError as exc:
        raise AddonRulesError(f"{where}: {exc}") from None
    if doc.format != 1:
        raise AddonRulesError(f"{where}: format {doc.format} is not one this patchlevel reads (1)")
    shared = tuple(_compile_suffix(s, f"{where}: vendor_suffixes") for s in doc.vendor_suffixes)
    addons = tuple(_addon(raw, i, where) for i, raw in enumerate(doc.addons))
    seen: set[str] = set()
    by_name: dict[str, AddonRule] = {}
    by_chart: dict[str, AddonRule] = {}
    patterns: list[tuple[re.Pattern[str], AddonRule]] = []
    excluded: dict[str, re.Pattern[str]] = {}
    suffixes: dict[str, tuple[CompiledSuffix, ...]] = {}
    for rule in addons:
        if rule.id in seen:
            raise AddonRulesError(f"{where}: add-on {rule.id!r} is defined twice")
        seen.add(rule.id)
        for value, index, kind in [(n, by_name, "name") for n in rule.names] + [
            (c, by_chart, "chart") for c in rule.charts
        ]:
            other = index.get(value)
            if other is not None:
                raise AddonRulesError(f"{where}: {kind} {value!r} is claimed by both {other.id} and {rule.id}")
            index[value] = rule
        if rule.images:
            patterns.append((_globs(rule.images), rule))
        if rule.exclude is not None and rule.exclude.images:
            excluded[rule.id] = _globs(rule.exclude.images)
        suffixes[rule.id] = (
            *(_compile_suffix(s, f"{where}: add-on {rule.id}") for s in rule.suffixes),
            *shared,
        )
    ids: set[str] = set()
    for managed in doc.managed:
        if managed.id in ids:
            raise AddonRulesError(f"{where}: managed rule {managed.id!r} is defined twice")
        ids.add(managed.id)
        if not managed.source.startswith("https://"):
            raise AddonRulesError(f"{where}: managed rule {managed.id}: source must be an https URL")
        if not managed.labels and not managed.namespace_prefix:
            raise AddonRulesError(f"{where}: managed rule {managed.id}: no labels or namespace prefix to match")
    return AddonRules(addons, doc.managed, shared, tuple(patterns), suffixes, by_name, by_chart, where, excluded)


def _globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns))


@cache
def bundled_rules() -> AddonRules:
    """The rules shipped in the package (read once per process)."""
    text = (resources.files("patchlevel.addons") / RULES_FILE).read_text(encoding="utf-8")
    return parse_rules(text, f"patchlevel/addons/{RULES_FILE}")
