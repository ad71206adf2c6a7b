"""10.1 beyond the core: cluster add-ons and the static control plane are supported and patched.

The add-ons are those ``patchlevel.addons`` recognised (``ctx.facts.addons``); an add-on the
rules do not recognise is never judged, and says nothing here.  Each recognised add-on instance
(one add-on, one workload, one version) gets one finding per check, with the subject
``addon/<add-on>/<namespace>/<kind>/<workload>``:

* ``addon_version_supported``: its release line against its lifecycle (endoflife.date, or
  patchlevel's curated data for CoreDNS, ingress-nginx, metrics-server, Flannel and the CSI
  sidecars), with the same rules, windows and wording as the Kubernetes components;
* ``addon_patch_current``: its release against the newest patch of its line released by the
  as-of date; FAIL when a newer patch fixes a known CVE and has been out longer than the window;
* ``addon_free_of_known_cves``: its release against the vulnerability records of its Go modules;
  "no known CVE" passes only for a release the lifecycle and release data know (its line is listed
  and it is not newer than every release listed): of a release the data does not know (a newer
  one, or a tag that is not the add-on's release) the records cannot say it is free of CVEs;
* ``control_plane_components_skew_allowed``: the static kube-apiserver, kube-controller-manager
  and kube-scheduler pods of a self-managed control plane against the version-skew policy.

Where a managed platform's provider patches an add-on (GKE's and AKS's managed components,
OpenShift's operators), the findings say so, as ``control_plane_patch_current`` does; EKS add-ons
are the customer's to update (AWS publishes the builds) and are judged as usual, with that said.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from patchlevel.addons import AddonInstance, AddonInventory, AddonVersion, ControlPlanePod
from patchlevel.checks.common import (
    Context,
    Judgement,
    Verdict,
    cve_data_gap,
    cve_fix_dates,
    cve_vulnerabilities,
    judgement,
    patch_verdict,
    support_verdict,
    unknown,
)
from patchlevel.lifecycle.catalog import Product, in_cycle
from patchlevel.lifecycle.osv import Match
from patchlevel.model import JSONValue, Severity, Status
from patchlevel.versions import KubeVersion, release_key

CLUSTER = "cluster"
SKEW_POLICY = "https://kubernetes.io/releases/version-skew-policy/"
SKEW_POLICY_TEXT = (
    "Kubernetes version-skew policy (https://kubernetes.io/releases/version-skew-policy/): in a highly "
    "available control plane the newest and oldest kube-apiserver are within one minor version; "
    "kube-controller-manager and kube-scheduler are not newer than any kube-apiserver they talk to and at "
    "most one minor older than the newest"
)


# ------------------------------------------------------------------------------------------
# What every add-on finding carries


def instance_evidence(instance: AddonInstance) -> dict[str, JSONValue]:
    version = instance.version
    evidence: dict[str, JSONValue] = {
        "addon": instance.addon.id,
        "addon_name": instance.addon.name,
        "category": instance.addon.category,
        "namespace": instance.namespace,
        "workload": f"{instance.workload.kind}/{instance.workload.name}",
        "workload_kind": instance.workload.kind,
        "workload_name": instance.workload.name,
        "version": version.text,
        "version_raw": version.raw or None,
        "version_source": version.source,
        "images": list(instance.images),
        "containers": list(instance.containers),
        "pods": instance.pods,
        "pod_names": list(instance.pod_names),
        "recognised_by": instance.recognised_by,
    }
    if instance.workload.inferred:
        evidence["workload_inferred"] = True
    if version.vendor_build:
        evidence["vendor_build"] = (
            f"{version.vendor_build}: a vendor build of {instance.addon.name} {version.text}, judged by the "
            "upstream release it is built from"
        )
    if version.reason and version.known:
        evidence["image_version_unreadable"] = version.reason
    if version.label_disagrees:
        evidence["version_label"] = (
            f"app.kubernetes.io/version says {version.label_disagrees}; the image tag is taken (labels can lag "
            "the release that runs)"
        )
    if instance.labels:
        evidence["labels"] = dict(instance.labels)
    if instance.static:
        evidence["static_pod"] = True
        evidence["nodes"] = list(instance.nodes)
    if instance.addon.note:
        evidence["note"] = instance.addon.note
    managed = instance.managed
    if managed is not None:
        evidence["responsibility"] = managed.responsibility
        evidence["responsibility_evidence"] = f"{managed.statement} ({managed.source})"
        evidence["managed_rule"] = managed.id
    else:
        evidence["responsibility"] = "customer"
    return evidence


def _lifecycle_evidence(product: Product | None) -> dict[str, JSONValue]:
    if product is None:
        return {}
    out: dict[str, JSONValue] = {"lifecycle_source": product.source or "endoflife.date"}
    if product.curated:
        out["lifecycle_curated"] = True
        out["lifecycle_retrieved"] = product.retrieved.isoformat() if product.retrieved else None
        out["lifecycle_policy"] = product.policy_link
    return out


def _nothing_to_judge(ctx: Context) -> Judgement | None:
    """The one judgement of a check that has no add-on to judge, and why; None when there are some."""
    addons = ctx.facts.addons
    if not addons.pods_known:
        return judgement(
            CLUSTER,
            unknown(f"cluster add-ons unknown: pods are not in the input ({addons.reason})"),
            "Include the pods ('kubectl get pods -A -o json') in the snapshot and audit again.",
        )
    if not addons.instances:
        return judgement(
            CLUSTER,
            unknown(
                f"no cluster add-on recognised among {addons.pods_read} pods ({addons.rules_count} add-ons in "
                f"{addons.rules_source}); add-ons patchlevel does not recognise are not judged",
                pods=addons.pods_read,
                completed_pods_skipped=addons.skipped_completed,
            ),
            "Add a recognition rule (one entry in patchlevel/addons/rules.yaml) for each add-on the cluster runs.",
        )
    return None


def per_addon(
    ctx: Context,
    judge: Callable[[AddonInstance], Verdict],
    remedy: Callable[[AddonInstance, Verdict], str],
) -> Iterator[Judgement]:
    """One judgement per add-on instance, judging each distinct version (and platform rule) once.

    ``judge`` and ``remedy`` must read only what ``_judgement_key`` names (a mesh injects the same proxy
    into thousands of workloads); the instance's own evidence (workload, namespace, pods) is added here.
    """
    judged: dict[Hashable, tuple[Verdict, str]] = {}
    for instance in ctx.facts.addons.instances:
        key = _judgement_key(instance)
        cached = judged.get(key)
        if cached is None:
            verdict = judge(instance)
            cached = judged[key] = (verdict, remedy(instance, verdict))
        verdict, remediation = cached
        yield judgement(instance.subject, verdict, remediation, **instance_evidence(instance))


def _judgement_key(instance: AddonInstance) -> tuple[str, ...]:
    version = instance.version
    managed = instance.managed.id if instance.managed else ""
    return (instance.addon.id, version.text or "", version.raw, version.source, version.reason, managed)


def _unreadable(instance: AddonInstance) -> Verdict:
    version = instance.version
    return unknown(
        f"{instance.addon.name}: version unknown: {version.reason}",
        raw=version.raw or None,
    )


def _with(verdict: Verdict, product: Product | None) -> Verdict:
    """The verdict with where its lifecycle facts come from."""
    evidence = dict(verdict.evidence)
    evidence.update(_lifecycle_evidence(product))
    return replace(verdict, evidence=evidence)


def supported_lines(ctx: Context, product: Product, limit: int = 4) -> list[str]:
    """The lines in standard support on the as-of date, newest first, with their newest patch ("3.6 (3.6.14)")."""
    lines = []
    for cycle in sorted(product.cycles, key=lambda c: release_key(c.name), reverse=True):
        if ctx.catalog.support(product.id, cycle.name, ctx.as_of).supported is not True:
            continue
        patches = ctx.catalog.patches(product.id, cycle.name, ctx.as_of)
        lines.append(f"{cycle.name} ({patches[-1].version})" if patches else cycle.name)
        if len(lines) == limit:
            break
    return lines


def _remediation(ctx: Context, instance: AddonInstance, product: Product | None, target: str = "") -> str:
    """How to fix a finding: replace a retired add-on, else upgrade to ``target`` or a supported line."""
    rule = instance.addon
    if instance.managed is not None and instance.managed.responsibility == "provider":
        return (
            f"Keep the cluster on a release its provider supports: {instance.managed.statement} "
            f"({instance.managed.source})."
        )
    if product is not None and product.retired_after is not None:
        return f"Replace {rule.name}: the project is retired and releases no fixes. Move to {rule.upgrade}."
    if not target:
        lines = supported_lines(ctx, product) if product is not None else []
        target = (
            f"a supported release line ({product.label} {', '.join(lines)})"
            if lines and product is not None
            else "the newest patch of a supported release line"
        )
    return f"Upgrade {rule.name} to {target} with {rule.upgrade}."


def _provider_note(instance: AddonInstance) -> str:
    managed = instance.managed
    return managed.statement if managed is not None else ""


# ------------------------------------------------------------------------------------------
# Support


def addon_version_supported(ctx: Context) -> Iterator[Judgement]:
    empty = _nothing_to_judge(ctx)
    if empty is not None:
        yield empty
        return

    def judge(instance: AddonInstance) -> Verdict:
        rule = instance.addon
        product = ctx.catalog.product(rule.lifecycle)
        if not instance.version.known:
            return _with(_unreadable(instance), product)
        support = ctx.catalog.support(rule.lifecycle, instance.version.cycle, ctx.as_of)
        verdict = support_verdict(f"{rule.name} {instance.version.cycle}", support, ctx.policy, ctx.as_of)
        if (
            instance.managed is not None
            and instance.managed.responsibility == "provider"
            and verdict.status
            in (
                Status.FAIL,
                Status.WARN,
            )
        ):
            evidence = dict(verdict.evidence)
            evidence["upstream_verdict"] = verdict.status.value
            verdict = replace(
                verdict,
                status=Status.WARN,
                severity=Severity.MEDIUM,
                message=f"{verdict.message} — {_provider_note(instance)}: keep the cluster on a release the "
                "provider supports and confirm with its release notes",
                evidence=evidence,
            )
        return _with(verdict, product)

    def remedy(instance: AddonInstance, verdict: Verdict) -> str:
        return _remediation(ctx, instance, ctx.catalog.product(instance.addon.lifecycle))

    yield from per_addon(ctx, judge, remedy)


# ------------------------------------------------------------------------------------------
# Patches


def addon_patch_current(ctx: Context) -> Iterator[Judgement]:
    empty = _nothing_to_judge(ctx)
    if empty is not None:
        yield empty
        return

    def judge(instance: AddonInstance) -> Verdict:
        rule = instance.addon
        version = instance.version
        product = ctx.catalog.product(rule.lifecycle)
        if not version.known or version.text is None or version.cycle is None:
            return _with(_unreadable(instance), product)
        if product is not None and product.retired_after is not None and ctx.as_of > product.retired_after:
            return _with(
                Verdict(
                    Status.FAIL,
                    Severity.HIGH,
                    f"{rule.name} {version.text} will get no patch: {product.retired_note}",
                    {"retired_after": product.retired_after.isoformat()},
                ),
                product,
            )
        affected, _ = _assess(ctx, rule.osv, version.text)
        releases = ctx.catalog.patches(rule.lifecycle, version.cycle, ctx.as_of)
        verdict = patch_verdict(
            f"{rule.name} {version.raw}",
            version.raw,
            release_key(version.text)[:3],
            releases,
            f"{rule.name} {version.cycle}",
            ctx.policy,
            ctx.as_of,
            cve_fix_dates(affected, ctx.catalog, rule.lifecycle),
            source=_release_source(product),
        )
        if instance.managed is not None and instance.managed.responsibility == "provider":
            evidence = dict(verdict.evidence)
            evidence["upstream_comparison"] = verdict.message
            verdict = replace(
                verdict,
                status=Status.PASS,
                severity=Severity.INFO,
                message=f"{_provider_note(instance)}; it runs {rule.name} {version.raw}. Keep the provider's "
                "attestation of compliance (AOC) as the evidence for its patching",
                evidence=evidence,
            )
        return _with(verdict, product)

    def remedy(instance: AddonInstance, verdict: Verdict) -> str:
        newest = verdict.evidence.get("newest_patch")
        target = (
            f"{newest}, the newest patch of its line (or a newer supported line)" if isinstance(newest, str) else ""
        )
        return _remediation(ctx, instance, ctx.catalog.product(instance.addon.lifecycle), target)

    yield from per_addon(ctx, judge, remedy)


def release_unknown(ctx: Context, lifecycle: str, version: AddonVersion) -> str:
    """Why the lifecycle and release data do not know ``version`` as a release ("" when they do).

    Known: its line is a line of the data (or the data lists a release of it), and it is not newer than
    every release the data lists for the product or for its line.  A tag read as the add-on's release
    that is not one (cilium-envoy's v1.32.6 read as Cilium) or a release newer than the data is not known.
    """
    text, cycle = version.text, version.cycle
    if text is None or cycle is None:
        return version.reason or "the version is not known"
    product = ctx.catalog.product(lifecycle)
    if product is None:
        return f"the lifecycle data has no product {lifecycle!r}, so no release of it is known"
    data_date = product.retrieved if product.curated and product.retrieved else ctx.catalog.data_date
    running = release_key(text)[:3]
    releases = [r.version for r in product.versions] + [c.latest for c in product.cycles if c.latest]
    newest = max(releases, key=lambda v: release_key(v)[:3], default=None)
    if newest is not None and running > release_key(newest)[:3]:
        return (
            f"{product.label} {text} is newer than every release in the lifecycle data (newest {newest}; data of "
            f"{data_date})"
        )
    line_releases = [v for v in releases if in_cycle(v, cycle)]
    if product.cycle(cycle) is None and not line_releases:
        lines = sorted((c.name for c in product.cycles), key=release_key)
        listed = f"its lines are {lines[0]} to {lines[-1]}" if lines else "it lists no release line"
        return f"{product.label} {cycle} is not a release line in the lifecycle data (data of {data_date}: {listed})"
    newest_here = max(line_releases, key=lambda v: release_key(v)[:3], default=None)
    if newest_here is not None and running > release_key(newest_here)[:3]:
        return (
            f"{product.label} {text} is newer than every {cycle} release in the lifecycle data (newest "
            f"{newest_here}; data of {data_date})"
        )
    return ""


def _release_source(product: Product | None) -> str:
    if product is None:
        return "no lifecycle data"
    if product.curated:
        return f"{product.source} (retrieved {product.retrieved})"
    return f"endoflife.date release-data: {product.id}"


# ------------------------------------------------------------------------------------------
# CVEs


def _assess(ctx: Context, modules: Sequence[str], version: str) -> tuple[list[Match], list[Match]]:
    """(affected, undetermined) CVEs of ``version`` in the records of ``modules``.

    ``OsvFeed.assess`` also returns the records whose ranges cannot place a release (Go
    pseudo-versions, placeholders); a feed without it gives the affected records only.
    """
    if not modules:
        return [], []
    assess: Any = getattr(ctx.osv, "assess", None)
    if callable(assess):
        result = assess(tuple(modules), version)
        return list(result.affected), list(result.undetermined)
    return list(ctx.osv.affecting(modules, version)), []


def _covered(ctx: Context, modules: Sequence[str]) -> list[str]:
    """The modules the bundled vulnerability data covers: those it holds records for, and those its
    sources list as collected (``OsvFeed.covered_modules`` where the feed has it), so a module with no
    known CVE can pass."""
    names: set[str] = set(getattr(ctx.osv, "covered_modules", None) or ())
    for record in ctx.osv.records:
        names.update(getattr(record, "packages", ()))
    return [m for m in modules if m in names]


def _feed_date(ctx: Context) -> str:
    covered: Any = getattr(ctx.osv, "covered_until", None)
    if isinstance(covered, date):
        return covered.isoformat()
    return ctx.osv.last_updated or "an unknown date"


def _cve_item(match: Match, fix_date: date | None) -> dict[str, JSONValue]:
    return {
        "id": match.id,
        "package": match.package,
        "fixed_in": match.fixed_in,
        "fix_released": fix_date.isoformat() if fix_date else None,
        "summary": match.summary,
        "url": match.url,
        "undetermined": getattr(match, "undetermined", "") or None,
    }


def addon_free_of_known_cves(ctx: Context) -> Iterator[Judgement]:
    empty = _nothing_to_judge(ctx)
    if empty is not None:
        yield empty
        return
    covered_by: dict[tuple[str, ...], list[str]] = {}

    def judge(instance: AddonInstance) -> Verdict:
        rule = instance.addon
        version = instance.version
        product = ctx.catalog.product(rule.lifecycle)
        if not version.known or version.text is None:
            return _with(_unreadable(instance), product)
        what = f"{rule.name} {version.text}"
        modules = tuple(rule.osv)
        evidence: dict[str, JSONValue] = {"modules": list(modules), "cve_data_covers_to": _feed_date(ctx)}
        if not modules:
            return _with(
                unknown(
                    f"{what}: no vulnerability source is mapped to {rule.name} in the recognition rules", **evidence
                ),
                product,
            )
        if modules not in covered_by:
            covered_by[modules] = _covered(ctx, modules)
        covered = covered_by[modules]
        affected, undetermined = _assess(ctx, modules, version.text)
        evidence["modules_with_records"] = list(covered)
        if not affected and not undetermined and not covered:
            return _with(
                unknown(
                    f"{what}: the bundled CVE data (to {_feed_date(ctx)}) holds no record for "
                    f"{', '.join(modules)}, so it does not show whether a known CVE affects this release",
                    **evidence,
                ),
                product,
            )
        fixes = cve_fix_dates(affected, ctx.catalog, rule.lifecycle)
        evidence["cves"] = [_cve_item(m, d) for m, d in fixes]
        if undetermined:
            evidence["cves_undetermined"] = [_cve_item(m, None) for m in undetermined]
        fixed_by_now = [m for m, d in fixes if m.fixed_in and (d is None or d <= ctx.as_of)]
        typed = cve_vulnerabilities(
            version.text,
            fixed_by_now,
            [m for m in affected if m not in fixed_by_now],
            undetermined,
            fix_released={m.id: d for m, d in fixes},
            as_of=ctx.as_of,
            window_days=ctx.policy.patch_window_days,
        )
        if fixed_by_now:
            fixed_in = sorted({m.fixed_in or "" for m in fixed_by_now}, key=release_key)
            verdict = Verdict(
                Status.FAIL,
                Severity.HIGH,
                f"{what}: {len(affected)} known CVE{'s' if len(affected) != 1 else ''} affect this release "
                f"({', '.join(m.id for m in affected)}); fixed in {', '.join(fixed_in)}",
                evidence,
                vulnerabilities=typed,
            )
        elif affected:
            verdict = Verdict(
                Status.WARN,
                Severity.HIGH,
                f"{what}: {len(affected)} known CVE{'s' if len(affected) != 1 else ''} affect this release "
                f"({', '.join(m.id for m in affected)}) with no fixed release out by {ctx.as_of}: "
                "mitigate until one is",
                evidence,
                vulnerabilities=typed,
            )
        elif undetermined:
            verdict = unknown(
                f"{what}: {len(undetermined)} CVE record{'s' if len(undetermined) != 1 else ''} of "
                f"{', '.join(sorted({m.package for m in undetermined}))} cannot be placed against releases "
                f"({', '.join(m.id for m in undetermined)}): whether they affect this release is not known",
                **evidence,
            )
            verdict = replace(verdict, vulnerabilities=typed)
        else:
            not_known = release_unknown(ctx, rule.lifecycle, version)
            if not_known:
                evidence["release_unknown"] = not_known
                verdict = unknown(
                    f"{what}: no CVE known to the bundled data (to {_feed_date(ctx)}) affects it, but {not_known}: "
                    "a release the data does not know is not shown free of known CVEs",
                    **evidence,
                )
            elif (stale := cve_data_gap(ctx)) is not None:
                reason, days = stale
                evidence["cve_data_days_before_as_of"] = days
                verdict = unknown(f"{what}: no CVE known to the bundled data affects it, but {reason}", **evidence)
            else:
                verdict = Verdict(
                    Status.PASS,
                    Severity.INFO,
                    f"{what}: no CVE known to the bundled data (to {_feed_date(ctx)}) affects this release; later "
                    "CVEs are not covered",
                    evidence,
                )
        if (
            instance.managed is not None
            and instance.managed.responsibility == "provider"
            and verdict.status
            in (
                Status.FAIL,
                Status.WARN,
            )
        ):
            verdict = replace(
                verdict,
                status=Status.WARN,
                severity=Severity.MEDIUM,
                message=f"{verdict.message} — {_provider_note(instance)}; confirm with the provider's security "
                "bulletins",
                evidence={**verdict.evidence, "upstream_verdict": verdict.status.value},
            )
        return _with(verdict, product)

    def remedy(instance: AddonInstance, verdict: Verdict) -> str:
        cves = verdict.evidence.get("cves")
        fixes = [c.get("fixed_in") for c in cves if isinstance(c, dict)] if isinstance(cves, list) else []
        fixed_in = sorted({f for f in fixes if isinstance(f, str)}, key=release_key)
        target = (
            f"a release that fixes these CVEs ({', '.join(fixed_in)} or later on a supported line)" if fixed_in else ""
        )
        return _remediation(ctx, instance, ctx.catalog.product(instance.addon.lifecycle), target)

    yield from per_addon(ctx, judge, remedy)


# ------------------------------------------------------------------------------------------
# Control-plane version skew


def _skew_evidence(addons: AddonInventory, api: KubeVersion | None) -> dict[str, JSONValue]:
    return {
        "policy": SKEW_POLICY,
        "static_pods": [
            {"component": p.component, "pod": f"{p.namespace}/{p.pod}", "node": p.node, "image": p.image}
            for p in addons.control_plane
        ],
        "api_server_version_endpoint": api.raw if api else None,
    }


def control_plane_components_skew_allowed(ctx: Context) -> Iterator[Judgement]:
    remediation = (
        "Upgrade the control-plane components one minor at a time, API servers first, then controller managers "
        "and schedulers, as the version-skew policy orders (kubeadm upgrade on each control-plane node)."
    )
    addons = ctx.facts.addons
    api = ctx.facts.api
    dist = ctx.facts.distribution
    if not addons.pods_known:
        yield judgement(
            CLUSTER,
            unknown(f"control-plane skew unknown: pods are not in the input ({addons.reason})"),
            remediation,
        )
        return
    components = [p for p in addons.control_plane if p.component != "etcd"]
    if not components:
        yield judgement(CLUSTER, _no_static_control_plane(ctx), remediation)
        return
    apiservers = [p for p in components if p.component == "kube-apiserver"]
    known_api = [p.version for p in apiservers if p.version is not None]
    unreadable = [p for p in apiservers if p.version is None]
    evidence = _skew_evidence(addons, api)
    if unreadable:
        evidence["api_servers_unreadable"] = [
            {"pod": f"{p.namespace}/{p.pod}", "node": p.node, "image": p.image} for p in unreadable
        ]
    for pod in components:
        if pod.version is None:
            verdict = unknown(
                f"{pod.component} version unknown: its image {pod.image!r} names no Kubernetes release",
                **evidence,
            )
        elif pod.component == "kube-apiserver":
            verdict = _apiserver_skew(pod.version, known_api, evidence)
        elif unreadable and not known_api:
            verdict = unknown(f"{pod.component} skew unknown: {_unreadable_api_servers(unreadable)}", **evidence)
        else:
            reference = known_api or ([api] if api is not None else [])
            verdict = _follower_skew(pod, reference, bool(known_api), evidence)
        if unreadable and verdict.status is Status.PASS and pod.version is not None:
            # within the policy of the API servers whose versions are known; one that cannot be read may be
            # the one out of step (a known violation above stays a FAIL)
            verdict = unknown(
                f"{pod.component} {_minor(pod.version)} skew unknown: {_unreadable_api_servers(unreadable)} "
                f"(against the others: {verdict.message})",
                **verdict.evidence,
            )
        evidence_here = {
            **verdict.evidence,
            "component": pod.component,
            "node": pod.node,
            "version": pod.version.raw if pod.version else None,
        }
        if dist.provider_patches_control_plane:
            evidence_here["responsibility"] = "provider"
        yield Judgement(
            pod.subject, Verdict(verdict.status, verdict.severity, verdict.message, evidence_here), remediation
        )


def _unreadable_api_servers(pods: Sequence[ControlPlanePod]) -> str:
    named = "; ".join(f"{p.namespace}/{p.pod} on node {p.node or '?'} runs {p.image!r}" for p in pods)
    return (
        f"the version of {'an API server' if len(pods) == 1 else f'{len(pods)} API servers'} cannot be read "
        f"({named}: no Kubernetes release in the tag), so whether the control plane keeps to the version-skew "
        "policy is not known"
    )


def _no_static_control_plane(ctx: Context) -> Verdict:
    dist = ctx.facts.distribution
    evidence: dict[str, JSONValue] = {"distribution": dist.id, "policy": SKEW_POLICY}
    if dist.provider_patches_control_plane:
        evidence["responsibility"] = "provider"
        return Verdict(
            Status.PASS,
            Severity.INFO,
            f"{dist.label} runs the control plane out of the cluster's view and keeps its components within the "
            "version-skew policy; keep the provider's attestation of compliance (AOC) as the evidence",
            evidence,
        )
    if dist.id == "k3s":
        return Verdict(
            Status.PASS,
            Severity.INFO,
            "k3s runs the API server, controller manager and scheduler in one process built from one release: "
            "they cannot differ in version",
            evidence,
        )
    return unknown(
        "no static control-plane pods (kube-apiserver, kube-controller-manager, kube-scheduler) are in the input: "
        "a control plane run as system services, or on hosts outside the cluster, shows the API no versions to compare",
        **evidence,
    )


def _minor(version: KubeVersion) -> str:
    return version.cycle


def _apiserver_skew(version: KubeVersion, apiservers: Sequence[KubeVersion], evidence: dict[str, JSONValue]) -> Verdict:
    oldest = min(apiservers, key=lambda v: v.minor_number)
    newest = max(apiservers, key=lambda v: v.minor_number)
    if oldest.major != newest.major:
        return unknown("kube-apiserver instances differ in major version", **evidence)
    spread = newest.minor_number - oldest.minor_number
    here = {**evidence, "api_servers": sorted({v.raw for v in apiservers}), "api_server_minor_spread": spread}
    if spread > 1:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"the kube-apiserver instances span {_minor(oldest)} to {_minor(newest)}; the version-skew policy allows "
            "one minor version between API servers",
            here,
        )
    note = " (one minor apart: allowed while an upgrade is under way)" if spread == 1 else ""
    return Verdict(
        Status.PASS,
        Severity.INFO,
        f"kube-apiserver {_minor(version)} is within one minor of every other API server{note}",
        here,
    )


def _follower_skew(
    pod: ControlPlanePod, apiservers: Sequence[KubeVersion], static: bool, evidence: dict[str, JSONValue]
) -> Verdict:
    version = pod.version
    assert version is not None
    if not apiservers:
        return unknown(f"{pod.component} skew unknown: no API server version is in the input", **evidence)
    oldest = min(apiservers, key=lambda v: v.minor_number)
    newest = max(apiservers, key=lambda v: v.minor_number)
    here = {
        **evidence,
        "api_servers": sorted({v.raw for v in apiservers}),
        "api_server_versions_from": "static kube-apiserver pods" if static else "the /version endpoint",
    }
    if version.major != oldest.major or version.major != newest.major:
        return unknown(f"{pod.component} {version.raw} and the API servers differ in major version", **here)
    if version.minor_number > oldest.minor_number:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"{pod.component} {_minor(version)} is newer than kube-apiserver {_minor(oldest)}; the version-skew policy "
            "forbids it",
            here,
        )
    lag = newest.minor_number - version.minor_number
    if lag > 1:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"{pod.component} {_minor(version)} is {lag} minor versions behind kube-apiserver {_minor(newest)}; the "
            "version-skew policy allows one",
            here,
        )
    note = " (one minor behind: allowed while an upgrade is under way)" if lag == 1 else ""
    return Verdict(
        Status.PASS,
        Severity.INFO,
        f"{pod.component} {_minor(version)} is within the version-skew policy of kube-apiserver {_minor(newest)}{note}",
        here,
    )
