"""The images a cluster runs, one entry per running image, with who runs them (10.3 evidence).

``running_images(inventory)`` reads every container, init container, native sidecar and
ephemeral container of every pod (static and control-plane pods included) and groups them by
what actually runs, taken from ``status.*ContainerStatuses[].imageID``:

* a registry digest (``repo@sha256:…``): one entry per digest, whatever tags led to it;
* a runtime-local image ID (a bare ``sha256:…``, as kind's preloaded images report): the digest
  of the image config, which no registry serves, so the entry says it is not a registry digest;
* no image ID (pending, waiting, no status at all) or one no runtime writes: the digest is
  unknown; such containers are kept, grouped by the reference their spec names, never dropped.

Each entry counts its pods, workloads and namespaces and names the workloads: Pod → ReplicaSet →
Deployment and Job → CronJob through the owner objects of the input; when an owner object is
missing, the pod's own owner reference is used with the pod-template-hash (ReplicaSet) or the
schedule suffix (Job) stripped, and the workload is marked inferred.

``ScanIndex`` matches scan reports to entries: by registry digest, by image ID (the config
digest a scanner records equals a runtime-local image ID), and only failing those by tag.

Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import groupby
from operator import attrgetter

import msgspec

from patchlevel.imageref import ImageRef, InvalidReferenceError, parse_image_id, parse_reference
from patchlevel.inventory import PODS, Inventory, PodContainer, pod_containers
from patchlevel.kube import OwnerObject, OwnerReference, Pod
from patchlevel.model import JSONValue
from patchlevel.scans import ScanReport

EVIDENCE_CAP = 10  # names listed in evidence before "and N more"
_OWNER_DEPTH = 4  # Pod → ReplicaSet → Deployment → (an operator's object) at most
_CRONJOB_JOB = re.compile(r"^(?P<cronjob>.+)-(?P<minutes>\d{8,})$")  # CronJob names jobs <name>-<minutes>


class Identity(StrEnum):
    """How well a running image is identified."""

    DIGEST = "digest"  # a registry manifest (or index) digest
    LOCAL_ID = "local-id"  # only the runtime's local image ID: the config digest, no registry digest
    UNKNOWN = "unknown"  # no usable image ID


class Workload(msgspec.Struct, frozen=True, gc=False):
    """The object that owns a pod's template: a Deployment, DaemonSet, CronJob …, or the pod itself."""

    kind: str
    namespace: str
    name: str
    inferred: bool = False  # named from the pod's owner reference alone (the owner object was not in the input)

    def __str__(self) -> str:
        text = f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"
        return text + " (inferred)" if self.inferred else text


class ContainerUse(msgspec.Struct, frozen=True, gc=False):
    """One container of one pod running (or about to run) an image (a Struct: there are very many)."""

    namespace: str
    pod: str
    container: str
    container_kind: str  # container, init, sidecar, ephemeral (see patchlevel.inventory)
    reference: str  # the image as the pod spec writes it ("" when the spec has none)
    image_id: str  # status imageID, raw ("" when none)
    workload: Workload
    node: str = ""
    why_unknown: str = ""  # for containers whose digest is unknown

    @property
    def pod_key(self) -> str:
        return f"{self.namespace}/{self.pod}"


@dataclass(frozen=True, slots=True)
class RunningImage:
    """One image the cluster runs, identified as well as the pods allow, and every use of it."""

    identity: Identity
    subject: str  # "image/<registry/repo>@<digest>", or "image/<reference>" when the digest is unknown
    repository: str  # "registry/repository" ("" when not even the reference parses)
    digest: str | None  # registry digest (Identity.DIGEST)
    local_id: str | None  # runtime-local image ID (Identity.LOCAL_ID)
    references: tuple[str, ...]  # spec references that ran this image, as written, sorted
    uses: tuple[ContainerUse, ...]
    reason: str = ""  # why the digest is unknown, or why a local ID is all there is
    # Derived from ``uses`` once (``running_images`` fills them): sorted, without repeats.
    pod_keys: tuple[str, ...] = ()  # "namespace/pod"
    workloads: tuple[Workload, ...] = ()
    namespaces: tuple[str, ...] = ()
    container_kinds: Mapping[str, int] = field(default_factory=dict)  # container kind -> containers

    @property
    def parsed_references(self) -> tuple[ImageRef, ...]:
        """The references that parse, in order; invalid ones are left out."""
        parsed = []
        for ref in self.references:
            try:
                parsed.append(parse_reference(ref))
            except InvalidReferenceError:
                continue
        return tuple(parsed)

    @property
    def repo_digest(self) -> str | None:
        """``registry/repo@sha256:…`` when the registry digest is known."""
        return f"{self.repository}@{self.digest}" if self.digest and self.repository else None

    def evidence(self, cap: int = EVIDENCE_CAP) -> dict[str, JSONValue]:
        """Who runs the image and what identifies it: capped lists with their full counts."""
        workloads = [str(w) for w in self.workloads[: cap + 1]]
        pods = list(self.pod_keys[: cap + 1])
        out: dict[str, JSONValue] = {
            "identity": self.identity.value,
            "repository": self.repository or None,
            "digest": self.digest,
            "local_image_id": self.local_id,
            "references": list(self.references),
            "containers": len(self.uses),
            "pods": len(self.pod_keys),
            "workloads": len(self.workloads),
            "namespaces": len(self.namespaces),
            "workload_names": capped(workloads, cap, len(self.workloads)),
            "pod_names": capped(pods, cap, len(self.pod_keys)),
            "namespace_names": capped(list(self.namespaces[: cap + 1]), cap, len(self.namespaces)),
        }
        if set(self.container_kinds) != {"container"}:
            out["container_kinds"] = dict(self.container_kinds)
        if any(w.inferred for w in self.workloads):
            out["workloads_inferred"] = True
        return out


def capped(values: Sequence[str], cap: int = EVIDENCE_CAP, total: int | None = None) -> list[str]:
    """The first ``cap`` values, and a last item saying how many were left out (of ``total``, if given)."""
    total = len(values) if total is None else total
    if total <= cap:
        return list(values[:cap])
    return [*values[:cap], f"… and {total - cap} more"]


@dataclass(frozen=True, slots=True)
class ImageInventory:
    """Every running image of an inventory; ``pods_known`` is False when pods were not collected."""

    images: tuple[RunningImage, ...]
    containers: int
    pods_known: bool
    reason: str = ""  # why pods are not known

    def by_identity(self, identity: Identity) -> tuple[RunningImage, ...]:
        return tuple(i for i in self.images if i.identity is identity)


# ------------------------------------------------------------------------------------------
# Workloads


def _controller(refs: Sequence[OwnerReference] | None) -> OwnerReference | None:
    refs = refs or ()
    return next((r for r in refs if r.controller), refs[0] if refs else None)


def _lookup(owners: Mapping[str, OwnerObject], ref: OwnerReference, namespace: str) -> OwnerObject | None:
    if not owners:  # the input holds no owner objects (only pods were collected)
        return None
    found = owners.get(ref.uid) if ref.uid else None
    return found or owners.get(f"{ref.kind}/{namespace}/{ref.name}")


def _infer(ref: OwnerReference, namespace: str, pod: Pod) -> Workload:
    """The workload behind an owner reference whose object the input does not hold."""
    if ref.kind == "ReplicaSet":
        template_hash = (pod.metadata.labels or {}).get("pod-template-hash", "")
        if template_hash and ref.name.endswith("-" + template_hash):
            return Workload("Deployment", namespace, ref.name[: -len(template_hash) - 1], inferred=True)
    if ref.kind == "Job" and (match := _CRONJOB_JOB.match(ref.name)):
        return Workload("CronJob", namespace, match["cronjob"], inferred=True)
    return Workload(ref.kind, namespace, ref.name)


def workload_of(
    pod: Pod, owners: Mapping[str, OwnerObject], memo: dict[tuple[str, ...], Workload] | None = None
) -> Workload:
    """The top-level owner of a pod, following controller owner references through ``owners``.

    ``memo`` (owner reference -> workload) saves walking the same owners for every pod of a workload.
    """
    meta = pod.metadata
    refs = meta.ownerReferences
    # A pod has one owner reference but for rare hand-made ones: skip the search for the controller.
    ref = refs[0] if refs and len(refs) == 1 else _controller(refs)
    if ref is None or ref.kind == "Node":  # a bare pod, or a static (mirror) pod
        return Workload("Pod", meta.namespace, meta.name)
    if memo is None:
        return _owner_workload(pod, owners, ref, meta.namespace)
    labels = meta.labels
    key = (meta.namespace, ref.kind, ref.name, ref.uid, labels.get("pod-template-hash", "") if labels else "")
    found = memo.get(key)
    if found is None:
        found = memo[key] = _owner_workload(pod, owners, ref, meta.namespace)
    return found


def pod_workloads(pods: Sequence[Pod], owners: Mapping[str, OwnerObject]) -> tuple[Workload, ...]:
    """The workload of each pod, in the order of ``pods``: worked out once per audit and shared by
    the image inventory, add-on recognition and drain placement (``ClusterFacts.workloads``)."""
    memo: dict[tuple[str, ...], Workload] = {}
    return tuple([workload_of(pod, owners, memo) for pod in pods])


def workloads_for(
    pods: Sequence[Pod], owners: Mapping[str, OwnerObject], workloads: Sequence[Workload] | None
) -> Sequence[Workload]:
    """``workloads`` when given (it must be ``pod_workloads(pods, owners)``), else worked out now."""
    if workloads is None:
        return pod_workloads(pods, owners)
    if len(workloads) != len(pods):
        raise ValueError(f"{len(workloads)} workloads given for {len(pods)} pods: not the workloads of these pods")
    return workloads


def _owner_workload(pod: Pod, owners: Mapping[str, OwnerObject], ref: OwnerReference, namespace: str) -> Workload:
    owner = _lookup(owners, ref, namespace)
    if owner is None:
        return _infer(ref, namespace, pod)
    for _ in range(_OWNER_DEPTH):
        parent = _controller(owner.metadata.ownerReferences)
        if parent is None:
            break
        found = _lookup(owners, parent, namespace)
        if found is None:
            return Workload(parent.kind, namespace, parent.name)
        ref, owner = parent, found
    return Workload(owner.kind or ref.kind, namespace, owner.metadata.name or ref.name)


# ------------------------------------------------------------------------------------------
# Building the image inventory


@dataclass(slots=True)
class _Group:
    identity: Identity
    repository: str
    digest: str | None
    local_id: str | None
    reference_key: str  # for UNKNOWN groups: the normalised reference
    uses: list[ContainerUse]
    repositories: Counter[str]


def _why_unknown(container: PodContainer, pod: Pod) -> str:
    if container.kind == "ephemeral" and not container.status_image and not container.image_id:
        return "the pod reports no status for this ephemeral container"
    if not container.status_image and not container.image_id:
        phase = f" (pod {pod.status.phase})" if pod.status.phase else ""
        return f"the pod reports no status for this container{phase}"
    return "no imageID reported yet (container waiting or not started)"


def _normalised(reference: str) -> tuple[str, str]:
    """(canonical reference, repository) of a spec reference; the raw text when it does not parse."""
    if not reference:
        return "", ""
    try:
        ref = parse_reference(reference)
    except InvalidReferenceError:
        return reference, ""
    return ref.canonical, ref.name


def running_images(inventory: Inventory, workloads: Sequence[Workload] | None = None) -> ImageInventory:
    """Every image the pods of ``inventory`` run, deduplicated by digest (see the module docstring).

    It walks every container of every pod: the audit builds it once (``facts.derive_facts``)
    and every image check reads that one answer from ``Context.facts.images``.  ``workloads``
    is ``pod_workloads`` of the inventory's pods when the caller has it already.
    """
    if not inventory.has(PODS) and not inventory.pods:
        return ImageInventory((), 0, pods_known=False, reason=inventory.missing_reason(PODS))
    pods = inventory.pods
    grouping = _Grouping()
    identified = grouping.identified
    containers = 0
    for pod, workload in zip(pods, workloads_for(pods, inventory.owners, workloads), strict=True):
        meta = pod.metadata
        namespace, pod_name, node = meta.namespace, meta.name, pod.spec.nodeName or ""
        for container in pod_containers(pod):
            containers += 1
            raw, reference = container.image_id, container.image
            found = identified.get((raw, reference)) or grouping.identify(raw, reference)
            if found is not None:
                group, repository = found
                why = ""
            else:
                group, repository, why = grouping.unidentified(container, pod)
            group.repositories[repository] += 1
            group.uses.append(
                ContainerUse(namespace, pod_name, container.name, container.kind, reference, raw, workload, node, why)
            )
    images = [_image(group) for group in grouping.groups.values()]
    return ImageInventory(tuple(_unique_subjects(images)), containers, pods_known=True)


@dataclass(slots=True)
class _Grouping:
    """The groups of one ``running_images`` call, and what it parsed once per distinct string."""

    groups: dict[tuple[str, str], _Group] = field(default_factory=dict)
    image_ids: dict[str, tuple[str | None, str | None, str, str]] = field(default_factory=dict)
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    # (imageID, spec reference) -> the group of the image it identifies and the repository it counts
    identified: dict[tuple[str, str], tuple[_Group, str]] = field(default_factory=dict)

    def image_id(self, raw: str) -> tuple[str | None, str | None, str, str]:
        """(digest, local image ID, repository, problem) of a status imageID."""
        found = self.image_ids.get(raw)
        if found is None:
            found = self.image_ids[raw] = _read_image_id(raw)
        return found

    def reference(self, reference: str) -> tuple[str, str]:
        """(canonical reference, repository) of a spec reference."""
        found = self.references.get(reference)
        if found is None:
            found = self.references[reference] = _normalised(reference)
        return found

    def group(self, key: tuple[str, str], identity: Identity, digest: str | None, local_id: str | None) -> _Group:
        found = self.groups.get(key)
        if found is None:
            shown = key[1] if identity is Identity.UNKNOWN else ""
            found = self.groups[key] = _Group(identity, "", digest, local_id, shown, [], Counter())
        return found

    def identify(self, raw: str, reference: str) -> tuple[_Group, str] | None:
        """The group of the image an imageID identifies (registry digest, else local image ID) and the
        repository it counts; None when the imageID identifies nothing."""
        digest, local_id, repository, _ = self.image_id(raw)
        if digest is not None:
            group = self.group(("digest", digest), Identity.DIGEST, digest, None)
            counted = repository or self.reference(reference)[1]
        elif local_id is not None:
            group = self.group(("local", local_id), Identity.LOCAL_ID, None, local_id)
            counted = self.reference(reference)[1]
        else:
            return None
        found = self.identified[raw, reference] = (group, counted)
        return found

    def unidentified(self, container: PodContainer, pod: Pod) -> tuple[_Group, str, str]:
        """The group of a container whose image is not identified, the repository it counts, and why."""
        problem = self.image_id(container.image_id)[3]
        canonical, spec_repository = self.reference(container.image)
        shown = canonical or f"{pod.metadata.namespace}/{pod.metadata.name}/{container.name}"
        group = self.group(("unknown", shown), Identity.UNKNOWN, None, None)
        return group, spec_repository, problem or _why_unknown(container, pod)


def _read_image_id(raw: str) -> tuple[str | None, str | None, str, str]:
    if not raw.strip():
        return None, None, "", ""
    try:
        parsed = parse_image_id(raw)
    except InvalidReferenceError as error:
        return None, None, "", f"the imageID is not one a container runtime writes ({error.problem}): {raw!r}"
    repository = parsed.repository.name if parsed.repository else ""
    return parsed.digest, parsed.local_id, repository, ""


# C-level getters and sort keys: these run over every container of the cluster.
_workload_order = attrgetter("kind", "namespace", "name", "inferred")  # str(workload)'s order, without the string
_use_order = attrgetter("namespace", "pod", "container")
_use_pod = attrgetter("namespace", "pod")
_use_namespace = attrgetter("namespace")
_use_workload = attrgetter("workload")


def _most_common(counter: Counter[str]) -> str:
    ranked = sorted(((-n, name) for name, n in counter.items() if name), key=lambda x: x)
    return ranked[0][1] if ranked else ""


def _image(group: _Group) -> RunningImage:
    uses = tuple(sorted(group.uses, key=_use_order))
    references = tuple(sorted({u.reference for u in uses if u.reference}))
    repository = _most_common(group.repositories)
    if group.identity is Identity.DIGEST:
        subject = f"image/{repository}@{group.digest}" if repository else f"image/{group.digest}"
        reason = ""
    elif group.identity is Identity.LOCAL_ID:
        shown = _normalised(references[0])[0] if references else group.local_id or ""
        subject = f"image/{shown}"
        reason = (
            f"the runtime reports only the local image ID {group.local_id} (the image config's digest, as for "
            "images loaded into the node or built on it): it is not a registry digest"
        )
    else:
        subject = f"image/{group.reference_key}"
        reasons = Counter(u.why_unknown for u in uses if u.why_unknown)
        reason = "; ".join(r for r, _ in reasons.most_common(3))
    return RunningImage(
        identity=group.identity,
        subject=subject,
        repository=repository,
        digest=group.digest,
        local_id=group.local_id,
        references=references,
        uses=uses,
        reason=reason,
        # ``uses`` is in (namespace, pod) order: each pod and namespace once is each run of equal ones.
        pod_keys=tuple(f"{namespace}/{pod}" for (namespace, pod), _ in groupby(map(_use_pod, uses))),
        workloads=tuple(sorted(set(map(_use_workload, uses)), key=_workload_order)),
        namespaces=tuple(namespace for namespace, _ in groupby(map(_use_namespace, uses))),
        container_kinds=dict(sorted(Counter(u.container_kind for u in uses).items())),
    )


def _unique_subjects(images: list[RunningImage]) -> list[RunningImage]:
    """Sort by subject; where two entries would share a subject, say what tells them apart."""
    seen = Counter(i.subject for i in images)
    out = []
    for image in images:
        if seen[image.subject] > 1 and image.identity is not Identity.DIGEST:
            suffix = f" (image ID {image.local_id})" if image.local_id else " (digest unknown)"
            image = replace(image, subject=image.subject + suffix)
        out.append(image)
    return sorted(out, key=lambda i: i.subject)


# ------------------------------------------------------------------------------------------
# Matching scan reports to running images


class MatchBy(StrEnum):
    DIGEST = "digest"  # a registry digest of the report equals the running digest
    IMAGE_ID = "image-id"  # the report's image (config) ID equals the runtime's local image ID
    TAG = "tag"  # only the reference matches: the scanned image may not be what runs

    @property
    def exact(self) -> bool:
        return self is not MatchBy.TAG


@dataclass(frozen=True, slots=True)
class ScanMatch:
    report: ScanReport
    by: MatchBy
    key: str  # the digest, image ID or "registry/repo:tag" that matched
    # For a tag match: the registry digests (or image ID) the report names when none of them is
    # the running image's.  The report then describes another build of the tag, not what runs.
    other_image: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Whether the report may stand as evidence for the running image."""
        return not self.other_image


def tag_key(reference: str) -> str | None:
    """``registry/repo:tag`` of a reference (``latest`` when none is written); None for digest-only or invalid."""
    try:
        ref = parse_reference(reference.strip())
    except InvalidReferenceError:
        return None
    if ref.tag is None and ref.digest is not None:
        return None
    return f"{ref.name}:{ref.tag or 'latest'}"


class ScanIndex:
    """Scan reports by digest, image ID and tag, for matching against running images."""

    def __init__(self, reports: Iterable[ScanReport]) -> None:
        self.by_digest: dict[str, list[ScanReport]] = {}
        self.by_image_id: dict[str, list[ScanReport]] = {}
        self.by_tag: dict[str, list[ScanReport]] = {}
        self.ignored: list[ScanReport] = []  # not container-image scans
        for report in reports:
            if not report.is_image:
                self.ignored.append(report)
                continue
            for digest in report.digests:
                self.by_digest.setdefault(digest, []).append(report)
            if report.image_id:
                self.by_image_id.setdefault(report.image_id, []).append(report)
            tags = {tag_key(name) for name in (report.artifact, *report.repo_tags) if name}
            for key in tags - {None}:
                assert key is not None
                self.by_tag.setdefault(key, []).append(report)

    def matches(self, image: RunningImage) -> list[ScanMatch]:
        """Every report for ``image``: exact matches (digest, image ID) first, then tag matches."""
        exact: list[ScanMatch] = []
        if image.digest:
            exact.extend(ScanMatch(r, MatchBy.DIGEST, image.digest) for r in self.by_digest.get(image.digest, ()))
        if image.local_id:
            exact.extend(
                ScanMatch(r, MatchBy.IMAGE_ID, image.local_id) for r in self.by_image_id.get(image.local_id, ())
            )
        seen = {id(m.report) for m in exact}
        by_tag: list[ScanMatch] = []
        for reference in image.references:
            key = tag_key(reference)
            for report in self.by_tag.get(key, ()) if key else ():
                if id(report) not in seen:
                    seen.add(id(report))
                    by_tag.append(ScanMatch(report, MatchBy.TAG, key or "", _other_image(image, report)))
        return exact + by_tag


def _other_image(image: RunningImage, report: ScanReport) -> tuple[str, ...]:
    """What a tag-matched report names instead of the running image, when it provably differs.

    Only repository digests count (``RepoDigests``, the digest a pull by tag resolved to, as
    ``imageID`` records it); a bare manifest digest may be one platform's manifest of the index
    that runs, so it proves nothing.  Likewise the image ID against a runtime-local image ID.
    """
    if image.digest and report.repo_digests:
        named = tuple(dict.fromkeys(d.rpartition("@")[2] for d in report.repo_digests))
        return () if image.digest in named else named
    if image.local_id and report.image_id and report.image_id != image.local_id:
        return (report.image_id,)
    return ()


def registry_references(images: ImageInventory) -> list[str]:
    """The spec references whose tag a registry check should resolve, as written, once each.

    Only images running a known registry digest can be compared with a tag; references pinned
    by digest alone have no tag to resolve.
    """
    found: dict[str, None] = {}
    for image in images.by_identity(Identity.DIGEST):
        for reference in image.references:
            try:
                ref = parse_reference(reference)
            except InvalidReferenceError:
                continue
            if ref.tag is not None or ref.digest is None:
                found[reference] = None
    return list(found)
