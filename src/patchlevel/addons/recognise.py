"""Which cluster add-ons run, in which version, in which workloads: derived once per audit.

``recognise_addons(inventory, distribution)`` reads every pod once.  A pod runs an add-on when one
of its containers (regular containers and native sidecars; not init or ephemeral containers) runs
an image the rules name, or, failing that, when its ``app.kubernetes.io/name``/``part-of`` label or
its Helm chart names the add-on (an image mirrored somewhere the rules do not know).  The name label
comes first: ``part-of`` and the chart name the application a component belongs to, not the
component, so a component the rule excludes (the Cilium chart's cilium-envoy is ``part-of: cilium``
but runs Envoy) is not the add-on, nor is a pod whose every image the rule excludes.  A pod named
by ``part-of`` or its chart whose name label names another component is the add-on's, but its
image tag is that component's version: only the ``app.kubernetes.io/version`` label gives the
release.  Completed pods (``Succeeded``/``Failed``) run nothing and are skipped.

The version is read from the image tag (``v1.14.2``, ``3.5.9-0``, ``v1.10.1-eksbuild.1``), or from
the ``app.kubernetes.io/version`` label of the pod or its owners when the tag cannot be read and
the labels belong to the same add-on (an injected sidecar's pod carries its application's labels,
which say nothing of the sidecar).  Rules may prefer the label (Flux labels its distribution
version; each controller image has its own).  A reference by digest only, ``latest``, a branch
tag or an unknown suffix gives an UNKNOWN version with the reason and the raw value.

Pods are grouped by add-on, namespace, workload (Pod → ReplicaSet → Deployment, Job → CronJob,
DaemonSet, StatefulSet; a static pod is its own workload) and version: one ``AddonInstance`` each.

Static control-plane pods (mirror pods, owned by their Node) of kube-apiserver,
kube-controller-manager, kube-scheduler and etcd are listed apart (``ControlPlanePod``) for the
version-skew check.

Nothing here does I/O (the rules are package data, read once) or reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter

from patchlevel.addons.rules import AddonRule, AddonRules, CompiledSuffix, ManagedRule, bundled_rules
from patchlevel.imageref import InvalidReferenceError, parse_reference
from patchlevel.images import EVIDENCE_CAP, Workload, workloads_for
from patchlevel.inventory import OWNERS, PODS, Inventory
from patchlevel.kube import OwnerObject, OwnerReference, Pod
from patchlevel.versions import KubeVersion, component, kube_version_from_image

NAME_LABEL = "app.kubernetes.io/name"
PART_OF_LABEL = "app.kubernetes.io/part-of"
VERSION_LABEL = "app.kubernetes.io/version"
CHART_LABEL = "helm.sh/chart"
EVIDENCE_LABELS = (NAME_LABEL, PART_OF_LABEL, VERSION_LABEL, CHART_LABEL, "app.kubernetes.io/managed-by")
CONTROL_PLANE_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
_DONE_PHASES = frozenset({"Succeeded", "Failed"})
_RELEASE = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)(?P<rest>.*)$")
_PRERELEASE = re.compile(r"^[-.]?(alpha|beta|rc|pre|dev|snapshot)", re.IGNORECASE)
_CHART = re.compile(r"^(?P<name>.+?)-(?P<version>v?\d[0-9A-Za-z.+\-]*)$")


@dataclass(frozen=True, slots=True)
class AddonVersion:
    """The release an add-on runs, as read from a tag or label; ``text`` None when it cannot be read."""

    text: str | None  # "1.14.2" (X.Y.Z, no "v", no vendor suffix)
    cycle: str | None  # the release line: "1.14" (or "1" for products cycled by major)
    raw: str  # the tag or label value as read ("" when there was none)
    source: str  # "image tag registry.k8s.io/coredns/coredns:v1.11.1", "label app.kubernetes.io/version"
    vendor_build: str = ""  # "-eksbuild.1 (an Amazon EKS build)"
    reason: str = ""  # why ``text`` is None
    label_disagrees: str = ""  # the add-on's version label when it names another release than the image

    @property
    def known(self) -> bool:
        return self.text is not None


@dataclass(frozen=True, slots=True)
class AddonInstance:
    """One add-on in one workload at one version, with the pods that run it."""

    addon: AddonRule
    namespace: str
    workload: Workload
    version: AddonVersion
    images: tuple[str, ...]  # references as the pod specs write them
    containers: tuple[str, ...]  # container names running the add-on
    pods: int
    pod_names: tuple[str, ...]  # sorted, at most EVIDENCE_CAP
    recognised_by: str  # "image quay.io/cilium/cilium" or "label app.kubernetes.io/name=cilium"
    labels: Mapping[str, str]  # the add-on's labels on the pod or its owners (chart, version, …)
    managed: ManagedRule | None  # who patches it on a managed platform
    static: bool = False  # a static (mirror) pod, owned by its node
    nodes: tuple[str, ...] = ()  # for static pods: the node

    @property
    def subject(self) -> str:
        return f"addon/{self.addon.id}/{self.namespace}/{self.workload.kind}/{self.workload.name}"

    @property
    def where(self) -> str:
        """The workload and namespace, for messages: "Deployment kube-system/coredns"."""
        inferred = " (inferred from its pods)" if self.workload.inferred else ""
        return f"{self.workload.kind} {self.namespace}/{self.workload.name}{inferred}"


@dataclass(frozen=True, slots=True)
class ControlPlanePod:
    """A static pod of a control-plane component, with the version its image tag names."""

    component: str  # kube-apiserver, kube-controller-manager, kube-scheduler, etcd
    namespace: str
    pod: str
    node: str
    image: str
    version: KubeVersion | None  # None for etcd (not a Kubernetes version) or an unreadable tag

    @property
    def subject(self) -> str:
        return f"pod/{self.namespace}/{self.pod}"


@dataclass(frozen=True, slots=True)
class AddonInventory:
    instances: tuple[AddonInstance, ...] = ()
    control_plane: tuple[ControlPlanePod, ...] = ()
    pods_known: bool = False
    reason: str = ""  # why pods are not known
    pods_read: int = 0
    rules_source: str = ""
    rules_count: int = 0
    skipped_completed: int = 0  # Succeeded/Failed pods, which run nothing

    def by_addon(self) -> dict[str, list[AddonInstance]]:
        out: dict[str, list[AddonInstance]] = {}
        for instance in self.instances:
            out.setdefault(instance.addon.id, []).append(instance)
        return out


# ------------------------------------------------------------------------------------------
# Versions


def read_version(value: str | None, rule: AddonRule, suffixes: Sequence[CompiledSuffix], source: str) -> AddonVersion:
    """The release a tag or label names, or why it names none."""
    raw = value or ""
    if not raw:
        return AddonVersion(None, None, raw, source, reason=f"{source}: no version to read")
    if raw.lower() in ("latest", "stable", "main", "master", "edge", "nightly", "canary"):
        return AddonVersion(None, None, raw, source, reason=f"{source}: {raw!r} names no release")
    match = _RELEASE.match(raw)
    if match is None:
        return AddonVersion(None, None, raw, source, reason=f"{source}: {raw!r} is not an X.Y.Z release")
    numbers = [component(match[part]) for part in ("major", "minor", "patch")]
    if any(n is None for n in numbers):
        return AddonVersion(None, None, raw, source, reason=f"{source}: {raw!r} has a number too long for a release")
    major, minor, patch = numbers
    text = f"{major}.{minor}.{patch}"
    cycle = f"{major}" if rule.cycle == "major" else f"{major}.{minor}"
    rest = match["rest"]
    if not rest:
        return AddonVersion(text, cycle, raw, source)
    if _PRERELEASE.match(rest):
        return AddonVersion(None, None, raw, source, reason=f"{source}: {raw!r} is a pre-release, not a release")
    for suffix in suffixes:
        if suffix.regex.match(rest):
            return AddonVersion(text, cycle, raw, source, vendor_build=f"{rest} ({suffix.means})")
    return AddonVersion(
        None,
        None,
        raw,
        source,
        reason=f"{source}: {raw!r} carries a suffix ({rest!r}) that is not a known vendor build of {text}",
    )


def chart_name(chart_label: str) -> str:
    """``cert-manager-v1.19.4`` -> ``cert-manager``; the label itself when it carries no version."""
    match = _CHART.match(chart_label)
    return match["name"] if match else chart_label


# ------------------------------------------------------------------------------------------
# Recognition


@dataclass(slots=True)
class _Group:
    rule: AddonRule
    namespace: str
    workload: Workload
    version: AddonVersion
    recognised_by: str
    labels: dict[str, str]
    managed: ManagedRule | None
    static: bool
    images: set[str] = field(default_factory=set)
    containers: set[str] = field(default_factory=set)
    pods: list[str] = field(default_factory=list)
    nodes: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _ImageMatch:
    rule: AddonRule | None
    repository: str
    tag: str | None
    digest: str | None
    problem: str  # the reference does not parse


def _owner_of(refs: Sequence[OwnerReference] | None) -> OwnerReference | None:
    refs = refs or ()
    return next((r for r in refs if r.controller), refs[0] if refs else None)


def _owner_labels(pod: Pod, owners: Mapping[str, OwnerObject]) -> dict[str, str]:
    """Labels of the pod's owner and its owner's owner (ReplicaSet, Deployment …) as far as the input has them."""
    merged: dict[str, str] = {}
    ref = _owner_of(pod.metadata.ownerReferences)
    namespace = pod.metadata.namespace
    for _ in range(2):
        if ref is None or ref.kind == "Node":
            break
        owner = owners.get(ref.uid) if ref.uid else None
        owner = owner or owners.get(f"{ref.kind}/{namespace}/{ref.name}")
        if owner is None:
            break
        for key, value in (owner.metadata.labels or {}).items():
            merged.setdefault(key, value)
        ref = _owner_of(owner.metadata.ownerReferences)
    return merged


def _labels_name(labels: Mapping[str, str], rules: AddonRules) -> tuple[AddonRule, str] | None:
    """The add-on the labels name (name, part-of, then Helm chart), with the label that named it.

    ``part-of`` and the chart name an application, not the component the pod runs: they are not taken
    when the name label names a component the add-on's rule excludes (cilium-envoy is part of cilium).
    """
    name = labels.get(NAME_LABEL)
    if name:
        named = rules.by_name.get(name)
        if named is not None:
            return named, f"label {NAME_LABEL}={name}"
    found: tuple[AddonRule, str] | None = None
    part_of = labels.get(PART_OF_LABEL)
    if part_of and part_of in rules.by_name:
        found = rules.by_name[part_of], f"label {PART_OF_LABEL}={part_of}"
    else:
        chart = labels.get(CHART_LABEL)
        if chart and chart_name(chart) in rules.by_chart:
            found = rules.by_chart[chart_name(chart)], f"label {CHART_LABEL}={chart}"
    if found is not None and name and name in found[0].excluded_names:
        return None
    return found


_KIND = attrgetter("kind")


def _is_static(pod: Pod) -> bool:
    return "Node" in map(_KIND, pod.metadata.ownerReferences or ())


_IMAGE = attrgetter("image")


def _template_key(pod: Pod) -> tuple[object, ...] | None:
    """What recognition reads from a pod of a controller, so its replicas share one answer.

    None for pods no controller owns (bare and static pods): they are recognised one by one.
    """
    meta = pod.metadata
    refs = meta.ownerReferences
    if not refs:
        return None
    ref = refs[0] if len(refs) == 1 else _owner_of(refs)
    if ref is None or ref.kind == "Node":
        return None
    labels = meta.labels or {}
    spec = pod.spec
    init = spec.initContainers
    return (
        meta.namespace,
        ref.kind,
        ref.name,
        ref.uid,
        labels.get("pod-template-hash") or labels.get("controller-revision-hash"),
        labels.get(VERSION_LABEL),
        labels.get(NAME_LABEL),
        labels.get(PART_OF_LABEL),
        labels.get(CHART_LABEL),
        tuple(map(_IMAGE, spec.containers)),
        tuple((c.image, c.restartPolicy) for c in init) if init else (),
    )


def _managed(rules: AddonRules, distribution: str, namespace: str, labels: Mapping[str, str]) -> ManagedRule | None:
    for rule in rules.managed:
        if rule.distribution != distribution:
            continue
        if rule.namespace_prefix and not namespace.startswith(rule.namespace_prefix):
            continue
        if all(labels.get(k) == v or (v == "*" and k in labels) for k, v in rule.labels.items()):
            return rule
    return None


def _status_images(pod: Pod) -> dict[str, str]:
    statuses = (*(pod.status.containerStatuses or ()), *(pod.status.initContainerStatuses or ()))
    return {s.name: s.image for s in statuses if s.image}


class _Recogniser:
    def __init__(self, inventory: Inventory, distribution: str, rules: AddonRules) -> None:
        self.inventory = inventory
        self.distribution = distribution
        self.rules = rules
        self.images: dict[str, _ImageMatch] = {}
        self.groups: dict[tuple[str, ...], _Group] = {}
        self.control_plane: list[ControlPlanePod] = []
        # Pods of one controller share their template: recognise it once, then only count the pod.
        self.templates: dict[tuple[object, ...], list[_Group]] = {}
        self.touched: list[_Group] = []
        self.read_status = False  # the last pod's version came from a status image: do not reuse it

    def image(self, reference: str) -> _ImageMatch:
        found = self.images.get(reference)
        if found is None:
            try:
                ref = parse_reference(reference.strip())
            except InvalidReferenceError as error:
                found = _ImageMatch(None, "", None, None, error.problem)
            else:
                found = _ImageMatch(self.rules.match_repository(ref.name), ref.name, ref.tag, ref.digest, "")
            self.images[reference] = found
        return found

    def may_run_addon(self, pod: Pod) -> bool:
        """Whether recognition has anything to read in the pod: an image a rule names, labels that name an
        add-on, or a static pod.  Most pods have none, and this is all that is done for them."""
        spec = pod.spec
        for container in spec.containers:
            if container.image and self.image(container.image).rule is not None:
                return True
        for container in spec.initContainers or ():
            if container.restartPolicy == "Always" and container.image and self.image(container.image).rule is not None:
                return True
        labels = pod.metadata.labels
        return bool(labels and _labels_name(labels, self.rules)) or _is_static(pod)

    def pod(self, pod: Pod, workload: Workload) -> None:
        if not self.may_run_addon(pod):
            return
        key = _template_key(pod)
        if key is not None:
            cached = self.templates.get(key)
            if cached is not None:
                for group in cached:
                    group.pods.append(pod.metadata.name)
                return
        self.touched = []
        self.read_status = False
        self._recognise(pod, workload)
        if key is not None and not self.read_status:
            self.templates[key] = self.touched

    def _recognise(self, pod: Pod, workload: Workload) -> None:
        spec = pod.spec
        running = [*spec.containers, *(c for c in spec.initContainers or () if c.restartPolicy == "Always")]
        hits: dict[str, list[tuple[str, str, _ImageMatch]]] = {}
        for container in running:
            image = container.image or ""
            if not image:
                continue
            match = self.image(image)
            if match.rule is not None:
                hits.setdefault(match.rule.id, []).append((container.name, image, match))
        static = _is_static(pod)
        if static:
            self._control_plane(pod)
        labels = pod.metadata.labels or {}
        if not hits:
            named = _labels_name(labels, self.rules)
            if named is None:
                return
            rule, how = named
            self._by_label(pod, workload, rule, how, static)
            return
        context: dict[str, str] | None = None
        for found in hits.values():
            hit = found[0][2].rule
            assert hit is not None
            if context is None:
                context = {**_owner_labels(pod, self.inventory.owners), **labels}
            own = self._own_labels(context, hit)
            version = self._version(pod, hit, found, own)
            containers = [name for name, _, _ in found]
            self._add(
                pod, workload, hit, version, f"image {found[0][2].repository}", own, context, static, found, containers
            )

    def _own_labels(self, labels: Mapping[str, str], rule: AddonRule) -> dict[str, str]:
        """The add-on's evidence labels, only when the labels belong to this add-on."""
        named = _labels_name(labels, self.rules)
        if named is None or named[0].id != rule.id:
            return {}
        return {k: labels[k] for k in EVIDENCE_LABELS if k in labels}

    def _version(
        self,
        pod: Pod,
        rule: AddonRule,
        found: Sequence[tuple[str, str, _ImageMatch]],
        own_labels: Mapping[str, str],
    ) -> AddonVersion:
        suffixes = self.rules.suffixes[rule.id]
        label = own_labels.get(VERSION_LABEL)
        from_label = read_version(label, rule, suffixes, f"label {VERSION_LABEL}") if label is not None else None
        from_image = self._image_version(pod, rule, found, suffixes)
        if rule.version_from == "label":
            if from_label is not None and from_label.known:
                return from_label
            said = f"says {label!r}" if label else "is not on the pod or the owners in the input"
            denied = self.inventory.denied.get(OWNERS)
            if not label and denied:
                said += f" (owner objects could not all be read: {denied})"
            component = f" (its image tag {from_image.raw!r} is a component's version)" if from_image.raw else ""
            return AddonVersion(
                None,
                None,
                label or "",
                f"label {VERSION_LABEL}",
                reason=f"{rule.name}'s release is read from the {VERSION_LABEL} label of its objects, which {said}"
                f"{component}",
            )
        if from_image.known:
            if from_label is not None and from_label.known and from_label.text != from_image.text:
                return replace(from_image, label_disagrees=label or "")
            return from_image
        if from_label is not None and from_label.known:
            return replace(from_label, reason=from_image.reason)
        return from_image

    def _image_version(
        self,
        pod: Pod,
        rule: AddonRule,
        found: Sequence[tuple[str, str, _ImageMatch]],
        suffixes: Sequence[CompiledSuffix],
    ) -> AddonVersion:
        """The version the matched containers' tags name: the spec's tag, else the one the kubelet reports."""
        readings: list[AddonVersion] = []
        status: dict[str, str] | None = None
        for name, reference, match in found:
            if match.tag is not None:
                readings.append(read_version(match.tag, rule, suffixes, f"image tag {reference}"))
                continue
            status = _status_images(pod) if status is None else status
            self.read_status = True
            reported = status.get(name, "")
            if reported and reported != reference:
                reported_match = self.image(reported)
                if reported_match.tag is not None:
                    readings.append(
                        read_version(
                            reported_match.tag, rule, suffixes, f"image tag {reported} (as the kubelet reports it)"
                        )
                    )
                    continue
            why = (
                f"image {reference} is referenced by digest only ({match.digest}): no tag to read a release from"
                if match.digest
                else f"image {reference} names no tag"
            )
            readings.append(AddonVersion(None, None, match.digest or "", f"image {reference}", reason=why))
        known = {r.text for r in readings if r.known}
        if len(known) == 1:
            return next(r for r in readings if r.known)
        if len(known) > 1:
            texts = ", ".join(sorted(t or "" for t in known))
            return AddonVersion(
                None,
                None,
                texts,
                "image tags",
                reason=f"the pod's {rule.name} containers name different releases: {texts}",
            )
        return readings[0]

    def _excluded(self, rule: AddonRule, image: str) -> bool:
        repository = self.image(image).repository
        return bool(repository) and self.rules.excluded_image(rule, repository)

    def _by_label(self, pod: Pod, workload: Workload, rule: AddonRule, how: str, static: bool) -> None:
        images = [(c.name, c.image or "") for c in pod.spec.containers if c.image]
        if images and all(self._excluded(rule, image) for _, image in images):
            return  # a component the rule names as versioned apart (kube-webhook-certgen), not the add-on
        images = [(name, image) for name, image in images if not self._excluded(rule, image)]
        labels = pod.metadata.labels or {}
        context = {**_owner_labels(pod, self.inventory.owners), **labels}
        own = {k: context[k] for k in EVIDENCE_LABELS if k in context}
        suffixes = self.rules.suffixes[rule.id]
        label = own.get(VERSION_LABEL)
        component = labels.get(NAME_LABEL) or ""
        if self.rules.by_name.get(component) is rule:
            component = ""
        if label is not None:
            version = read_version(label, rule, suffixes, f"label {VERSION_LABEL}")
        elif component:
            tag = self.image(images[0][1]).tag if len(images) == 1 else None
            version = AddonVersion(
                None,
                None,
                tag or "",
                how,
                reason=f"recognised by {how}, but its {NAME_LABEL} label names the component {component!r}, whose "
                f"image tag need not be a {rule.name} release, and no {VERSION_LABEL} label is set",
            )
        elif len(images) == 1:
            match = self.image(images[0][1])
            version = (
                read_version(match.tag, rule, suffixes, f"image tag {images[0][1]}")
                if match.tag is not None
                else AddonVersion(
                    None,
                    None,
                    "",
                    f"image {images[0][1]}",
                    reason=f"image {images[0][1]} names no tag and no version label is set",
                )
            )
        else:
            version = AddonVersion(
                None,
                None,
                "",
                how,
                reason=f"recognised by {how}, but no {VERSION_LABEL} label is set and the pod runs "
                f"{len(images)} containers, so which image is {rule.name} is not known",
            )
        found = [(name, image, self.image(image)) for name, image in images]
        self._add(pod, workload, rule, version, how, own, context, static, found, [n for n, _ in images])

    def _add(
        self,
        pod: Pod,
        workload: Workload,
        rule: AddonRule,
        version: AddonVersion,
        recognised_by: str,
        own_labels: dict[str, str],
        context: Mapping[str, str],
        static: bool,
        found: Sequence[tuple[str, str, _ImageMatch]],
        containers: Sequence[str],
    ) -> None:
        namespace = pod.metadata.namespace
        key = (rule.id, namespace, workload.kind, workload.name, version.raw, version.text or "", version.source)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(
                rule=rule,
                namespace=namespace,
                workload=workload,
                version=version,
                recognised_by=recognised_by,
                labels=own_labels,
                managed=_managed(self.rules, self.distribution, namespace, context),
                static=static,
            )
        group.images.update(image for _, image, _ in found)
        group.containers.update(containers)
        group.pods.append(pod.metadata.name)
        self.touched.append(group)
        if static and pod.spec.nodeName:
            group.nodes.add(pod.spec.nodeName)

    def _control_plane(self, pod: Pod) -> None:
        labels = pod.metadata.labels or {}
        for container in pod.spec.containers:
            image = container.image or ""
            repository = self.image(image).repository if image else ""
            base = repository.rsplit("/", 1)[-1]
            component = next(
                (
                    c
                    for c in CONTROL_PLANE_COMPONENTS
                    if base == c
                    or container.name == c
                    or (labels.get("component") == c and len(pod.spec.containers) == 1)
                ),
                None,
            )
            if component is None:
                continue
            version = kube_version_from_image(image) if component != "etcd" and image else None
            self.control_plane.append(
                ControlPlanePod(
                    component, pod.metadata.namespace, pod.metadata.name, pod.spec.nodeName or "", image, version
                )
            )
            break

    def result(self, pods_read: int, skipped: int) -> AddonInventory:
        instances = [
            AddonInstance(
                addon=g.rule,
                namespace=g.namespace,
                workload=g.workload,
                version=g.version,
                images=tuple(sorted(g.images)),
                containers=tuple(sorted(g.containers)),
                pods=len(g.pods),
                pod_names=tuple(sorted(g.pods)[:EVIDENCE_CAP]),
                recognised_by=g.recognised_by,
                labels=g.labels,
                managed=g.managed,
                static=g.static,
                nodes=tuple(sorted(g.nodes)),
            )
            for g in self.groups.values()
        ]
        instances.sort(key=lambda i: (i.addon.id, i.namespace, i.workload.kind, i.workload.name, i.version.raw))
        control_plane = sorted(self.control_plane, key=lambda c: (c.component, c.node, c.pod))
        return AddonInventory(
            instances=tuple(instances),
            control_plane=tuple(control_plane),
            pods_known=True,
            pods_read=pods_read,
            rules_source=self.rules.source,
            rules_count=len(self.rules.addons),
            skipped_completed=skipped,
        )


def recognise_addons(
    inventory: Inventory,
    distribution: str = "",
    rules: AddonRules | None = None,
    workloads: Sequence[Workload] | None = None,
) -> AddonInventory:
    """Every recognised add-on instance and static control-plane pod of ``inventory`` (see the module doc).

    ``workloads`` is the workload of each pod (``images.pod_workloads``) when the caller has it.
    """
    rules = rules or bundled_rules()
    if not inventory.has(PODS) and not inventory.pods:
        return AddonInventory(
            pods_known=False,
            reason=inventory.missing_reason(PODS),
            rules_source=rules.source,
            rules_count=len(rules.addons),
        )
    recogniser = _Recogniser(inventory, distribution, rules)
    skipped = 0
    pods = inventory.pods
    for pod, workload in zip(pods, workloads_for(pods, inventory.owners, workloads), strict=True):
        if pod.status.phase in _DONE_PHASES:
            skipped += 1
            continue
        recogniser.pod(pod, workload)
    return recogniser.result(len(pods), skipped)
