"""10.1: orchestration components are supported and patched.

Control plane, kubelets, kube-proxy and container runtimes, each judged by its distribution's lifecycle.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date

from patchlevel.checks.common import (
    Context,
    Judgement,
    Verdict,
    combine,
    cve_data_gap,
    cve_fix_dates,
    cve_vulnerabilities,
    has_patch_number,
    judgement,
    patch_verdict,
    per_node,
    support_verdict,
    unknown,
    vendor_note,
)
from patchlevel.facts import Distribution, NodeFacts, openshift_release_for_kube_minor
from patchlevel.lifecycle.osv import (
    Assessment,
    Match,
    component_text,
    concerns_control_plane,
    concerns_kubelet,
    coverage_text,
    feed_coverage_note,
    runtime_packages,
)
from patchlevel.model import JSONValue, Severity, Status
from patchlevel.versions import KubeVersion, RuntimeVersion, node_skew_allowance, release_key

CLUSTER = "cluster"
APISERVER_PACKAGES = ("k8s.io/apiserver", "k8s.io/kubernetes", "k8s.io/controller-manager")
KUBELET_PACKAGES = ("k8s.io/kubelet", "k8s.io/kubernetes")
KUBE_PROXY_PACKAGES = ("k8s.io/kube-proxy",)


# ------------------------------------------------------------------------------------------
# Which lifecycle line a Kubernetes version belongs to, per distribution


def _openshift_release(ctx: Context, version: KubeVersion | None) -> tuple[str | None, str]:
    """The OpenShift release line (e.g. "4.7") and how it was found."""
    if ctx.facts.openshift_release:
        parts = ctx.facts.openshift_release.split(".")
        return ".".join(parts[:2]), f"ClusterVersion {ctx.facts.openshift_release}"
    rhcos = Counter(n.os.cycle for n in ctx.facts.nodes if n.os.product == "red-hat-openshift" and n.os.cycle)
    if rhcos:
        line, count = rhcos.most_common(1)[0]
        return line, f"RHCOS osImage on {count} node(s)"
    if version is not None:
        mapped = openshift_release_for_kube_minor(version.minor)
        if mapped:
            return mapped, f"Kubernetes {version.cycle} ships with OpenShift {mapped}"
    return None, "no ClusterVersion, RHCOS node or usable version in the input"


def lifecycle_line(ctx: Context, version: KubeVersion, dist: Distribution) -> tuple[str, str, str]:
    """(lifecycle product, release cycle, description) that judges a Kubernetes version."""
    if dist.id == "openshift":
        line, how = _openshift_release(ctx, version)
        return dist.lifecycle_product, line or "", f"OpenShift {line or '?'} ({how})"
    return dist.lifecycle_product, version.cycle, f"{dist.label} {version.cycle}"


def _what(ctx: Context, version: KubeVersion, role: str, dist: Distribution) -> str:
    if dist.id in ("upstream", "unknown"):
        return f"{role} Kubernetes {version.cycle}"
    if dist.id == "openshift":
        line, _ = _openshift_release(ctx, version)
        return f"{role} OpenShift {line or '?'} (Kubernetes {version.cycle})"
    return f"{role} {dist.label} {version.cycle}"


# ------------------------------------------------------------------------------------------
# Control plane


def control_plane_version_supported(ctx: Context) -> Iterator[Judgement]:
    api = ctx.facts.api
    dist = ctx.facts.distribution
    remediation = f"Upgrade the control plane to a minor release of {dist.label} that is in standard support."
    if api is None:
        raw = ctx.inventory.version.gitVersion if ctx.inventory.version else None
        reason = "the API server version is not in the input" if raw is None else f"unrecognised version {raw!r}"
        yield judgement(CLUSTER, unknown(f"control plane version unknown: {reason}", raw=raw), remediation)
        return
    product, line, description = lifecycle_line(ctx, api, dist)
    support = ctx.catalog.support(product, line, ctx.as_of)
    verdict = support_verdict(_what(ctx, api, "control plane", dist), support, ctx.policy, ctx.as_of)
    yield judgement(
        CLUSTER,
        verdict,
        remediation,
        version=api.raw,
        distribution=dist.id,
        distribution_evidence=dist.evidence,
        judged_by=description,
    )


def _kube_vendor_build(version: KubeVersion) -> str:
    """The version when it is a vendor build (EKS, GKE, AKS hotfix, OpenShift, unnamed): vendors backport
    fixes.  k3s and RKE2 builds carry the upstream release they are named after."""
    return version.raw if version.vendor not in ("", "k3s", "rke2") else ""


def _upstream_patch(ctx: Context, version: KubeVersion, what: str, packages: tuple[str, ...]) -> Verdict:
    releases = ctx.catalog.patches("kubernetes", version.cycle, ctx.as_of)
    fixes = cve_fix_dates(_patch_cves(ctx, version, packages), ctx.catalog)
    return patch_verdict(
        what,
        version.raw,
        version.semver_key,
        releases,
        f"Kubernetes {version.cycle}",
        ctx.policy,
        ctx.as_of,
        fixes,
        source="endoflife.date release-data: kubernetes",
        patch_given=has_patch_number(version.raw),
        running_released=ctx.catalog.release_date("kubernetes", version.semver),
        vendor_build=_kube_vendor_build(version),
    )


def _openshift_patch(ctx: Context, what: str) -> Verdict:
    release = ctx.facts.openshift_release
    if not release:
        return unknown(
            f"{what}: the OpenShift release is not in the input, so its z-stream cannot be compared",
            hint="add 'oc get clusterversion -o json' to the snapshot",
        )
    line = ".".join(release.split(".")[:2])
    releases = ctx.catalog.patches("red-hat-openshift", line, ctx.as_of)
    return patch_verdict(
        f"{what} (OpenShift {release})",
        release,
        release_key(release)[:3],
        releases,
        f"OpenShift {line}",
        ctx.policy,
        ctx.as_of,
        source="endoflife.date release-data: red-hat-openshift",
        patch_given=has_patch_number(release),
        running_released=ctx.catalog.release_date("red-hat-openshift", release),
    )


def control_plane_patch_current(ctx: Context) -> Iterator[Judgement]:
    api = ctx.facts.api
    dist = ctx.facts.distribution
    if api is None:
        yield judgement(CLUSTER, unknown("control plane patch level unknown: no API server version in the input"))
        return
    what = f"the control plane ({api.raw})"
    if dist.provider_patches_control_plane:
        upstream = _upstream_patch(ctx, api, what, APISERVER_PACKAGES)
        message = (
            f"{dist.label} applies control plane patches itself; the control plane runs {api.raw}. "
            "Keep the provider's attestation of compliance (AOC) as the evidence for its patching"
        )
        evidence = dict(upstream.evidence)
        evidence["responsibility"] = "provider"
        evidence["upstream_comparison"] = upstream.message
        yield judgement(CLUSTER, Verdict(Status.PASS, Severity.INFO, message, evidence, patch=upstream.patch))
        return
    if dist.id == "openshift":
        verdict = _openshift_patch(ctx, "the control plane")
    else:
        verdict = _upstream_patch(ctx, api, what, APISERVER_PACKAGES)
    yield judgement(
        CLUSTER,
        verdict,
        "Upgrade the control plane to the newest patch release of its minor version.",
        responsibility="customer",
    )


_ID_YEAR = re.compile(r"^(?:CVE|GO)-(\d{4})-")


def _cve_disclosed(ctx: Context, match: Match, product: str | None) -> tuple[bool, str]:
    """Whether a CVE was public on the as-of date, and the date that is judged from.

    The record's publication date when it has one (the Go database's repository copy does not);
    else the first release of a fix (Kubernetes and runtime fixes are announced with them); else
    the start of the CVE's year, a bound that can only count it too early, never too late.
    """
    years = [int(m[1]) for m in (_ID_YEAR.match(i) for i in (match.id, *match.aliases)) if m]
    year_start = date(min(years), 1, 1) if years else None
    note = ""
    if match.published is not None:
        if year_start is None or match.published >= year_start:
            return match.published <= ctx.as_of, f"published {match.published}"
        # cve-feed-osv dates CVE-2024-3177 2018-04-16: a CVE cannot be published before its id's year
        note = f" (the record's published date {match.published} precedes its CVE year)"
    fixed = [ctx.catalog.release_date(product, f) for f in match.fixes] if product else []
    released = [d for d in fixed if d is not None]
    if released:
        first = min(released)
        return first <= ctx.as_of, f"first fix released {first}{note}"
    if year_start is not None:
        return year_start <= ctx.as_of, (
            f"no publication date in the data{note}; counted from {year_start}, the start of its year"
        )
    return True, f"no publication date in the data{note}"


def _release_problem(ctx: Context, product: str, version: str, raw: str, label: str) -> str | None:
    """Why ``version`` cannot be judged for CVEs (issue 14): no patch number, unknown to the data, or later."""
    if not has_patch_number(raw):
        return f"{raw!r} names no patch release, so its CVEs cannot be judged (it is not read as .0)"
    released = ctx.catalog.release_date(product, version)
    if released is None:
        known = ctx.catalog.product(product)
        newest = max((r.version for r in known.versions), key=release_key, default="none") if known else "none"
        return (
            f"{version} is not a {label} release known to the lifecycle data (retrieved {ctx.catalog.data_date}, "
            f"newest {newest}): a release newer than the data, or no real release, so its CVEs cannot be judged"
        )
    if released > ctx.as_of:
        return f"{version} was released on {released}, after the as-of date {ctx.as_of}, so it cannot be judged then"
    return None


def _cve_entry(ctx: Context, m: Match, product: str | None, since: str, runtime: str) -> dict[str, JSONValue]:
    entry: dict[str, JSONValue] = {
        "id": m.id,
        "component": runtime or component_text(m),
        "component_basis": "the runtime's module" if runtime else m.component_basis or "the record names no component",
        "fixed_in": m.fixed_in,
        "fix_released": None,
        "summary": m.summary,
        "cvss": m.severity,
        "url": m.url,
        "aliases": list(m.aliases),
        "sources": list(m.sources),
        "known_since": since,
    }
    if m.fixed_in and product:
        released = ctx.catalog.release_date(product, m.fixed_in)
        entry["fix_released"] = released.isoformat() if released else None
    if m.undetermined:
        entry["undetermined"] = m.undetermined
    if m.review_status:
        entry["review_status"] = m.review_status
    return entry


def _listed(matches: Sequence[Match], runtime: str, limit: int = 8) -> str:
    def one(m: Match) -> str:
        fix = f"fixed in {m.fixed_in}" if m.fixed_in else "no fixed release"
        return f"{m.id} ({fix})" if runtime else f"{m.id} ({component_text(m)}; {fix})"

    shown = ", ".join(one(m) for m in matches[:limit])
    more = len(matches) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _cve_verdict(
    ctx: Context,
    what: str,
    compared_as: str,
    assessment: Assessment,
    product: str | None,
    *,
    vendor_build: str = "",
    problem: str | None = None,
    evidence: Mapping[str, JSONValue] | None = None,
    runtime: str = "",
) -> Verdict:
    """One CVE verdict for a component version, from the CVEs that concern it (``assessment``).

    FAIL when a CVE with a fixed release affects it; UNKNOWN when a record without usable ranges
    (or the version itself, ``problem``) cannot be judged; WARN for CVEs with no fixed release,
    and for vendor builds (``vendor_build``), whose vendors backport fixes: an upstream range
    match there means "upstream says affected".  CVEs published after the as-of date do not count.
    "No known CVE" passes only while the CVE data is recent enough to say so (``cve_data_gap``): more
    than the policy's ``lifecycle_stale_days`` after its end it is UNKNOWN, naming the days.
    ``runtime`` names a container runtime: its CVEs are not split by Kubernetes component.
    """
    covered = ctx.osv.covered_until
    data_date = covered.isoformat() if covered else "an unknown date"
    details: dict[str, JSONValue] = {
        "compared_as": compared_as,
        "cve_data": coverage_text(ctx.osv),
        "cve_data_covers_to": covered.isoformat() if covered else None,
        "feed_coverage": feed_coverage_note(ctx.osv, ctx.as_of),
        **(evidence or {}),
    }
    if vendor_build:
        details["vendor_note"] = vendor_note(vendor_build)
    if problem is not None:
        return unknown(f"{what}: {problem}", **details)
    affected: list[Match] = []
    undetermined: list[Match] = []
    later: list[JSONValue] = []
    entries: list[JSONValue] = []
    for m in (*assessment.affected, *assessment.undetermined):
        known, since = _cve_disclosed(ctx, m, product)
        if not known:
            later.append({"id": m.id, "known_since": since})
            continue
        (undetermined if m.undetermined else affected).append(m)
        entries.append(_cve_entry(ctx, m, product, since, runtime))
    details["cves"] = entries
    if later:
        details["published_after_as_of"] = later
    coverage = f"CVE data to {data_date}"
    if not affected and not undetermined:
        stale = cve_data_gap(ctx)
        if stale is not None:
            reason, days = stale
            details["cve_data_days_before_as_of"] = days
            return unknown(f"{what}: no CVE known to the data affects {compared_as}, but {reason}", **details)
        return Verdict(Status.PASS, Severity.INFO, f"{what}: no known CVE affects {compared_as} ({coverage})", details)
    parts: list[str] = []
    fixable = [m for m in affected if m.fixed_in]
    if affected:
        count = len(affected)
        parts.append(
            f"{count} known CVE{'s' if count != 1 else ''} affect{'s' if count == 1 else ''} {compared_as}: "
            f"{_listed(affected, runtime)}"
        )
    if undetermined:
        ids = ", ".join(m.id for m in undetermined)
        parts.append(f"{len(undetermined)} could not be judged, their records give no usable version ranges ({ids})")
    message = f"{what}: {'; '.join(parts)} ({coverage})"
    typed = cve_vulnerabilities(
        compared_as,
        fixable,
        [m for m in affected if not m.fixed_in],
        undetermined,
        fixable_status=Status.WARN if vendor_build else Status.FAIL,
        # timed as the patch checks time them: from the fixing release, against the patch window
        fix_released={m.id: ctx.catalog.release_date(product, m.fixed_in or "") for m in fixable if product},
        as_of=ctx.as_of,
        window_days=ctx.policy.patch_window_days,
    )
    if fixable and not vendor_build:
        return Verdict(Status.FAIL, Severity.HIGH, message, details, vulnerabilities=typed)
    if undetermined:
        return Verdict(Status.UNKNOWN, Severity.MEDIUM, message, details, vulnerabilities=typed)
    if not fixable:
        details["no_fix_note"] = "no release fixes these CVEs: apply the advisory's mitigation and record the risk"
    return Verdict(Status.WARN, Severity.MEDIUM if fixable else Severity.LOW, message, details, vulnerabilities=typed)


def _kube_cves(
    ctx: Context, version: KubeVersion, distribution: str, keep: Callable[[Match], bool]
) -> tuple[Assessment, list[JSONValue]]:
    """The CVEs of a Kubernetes version that concern a role (``keep``), and the others it has."""
    text = version.semver
    everything = ctx.osv.kubernetes(text, distribution if distribution in ("k3s", "rke2") else version.vendor)
    others: list[JSONValue] = [
        {"id": m.id, "component": component_text(m)}
        for m in (*everything.affected, *everything.undetermined)
        if not keep(m)
    ]
    return everything.where(keep), others


def _patch_cves(ctx: Context, version: KubeVersion, packages: tuple[str, ...]) -> list[Match]:
    """The CVEs ``patch_verdict`` weighs for a Kubernetes component: those of its role (kubelet for
    ``KUBELET_PACKAGES``, else the control plane) that were public on the as-of date."""
    keep = concerns_kubelet if packages == KUBELET_PACKAGES else concerns_control_plane
    assessment, _ = _kube_cves(ctx, version, version.vendor, keep)
    return [m for m in assessment.affected if _cve_disclosed(ctx, m, "kubernetes")[0]]


def _kube_cve_verdict(
    ctx: Context, version: KubeVersion, what: str, distribution: str, keep: Callable[[Match], bool], role: str
) -> Verdict:
    problem = _release_problem(ctx, "kubernetes", version.semver, version.raw, "Kubernetes")
    if version.prerelease:
        problem = f"{version.raw} is a pre-release; CVE ranges are judged for releases only"
    assessment, others = _kube_cves(ctx, version, distribution, keep)
    evidence: dict[str, JSONValue] = {
        "version": version.raw,
        "judged_for": role,
        "other_components": others,
    }
    compared_as = f"upstream {version.semver}" if version.vendor else version.semver
    return _cve_verdict(
        ctx,
        what,
        compared_as,
        assessment,
        "kubernetes",
        vendor_build=_kube_vendor_build(version),
        problem=problem,
        evidence=evidence,
    )


def control_plane_free_of_known_cves(ctx: Context) -> Iterator[Judgement]:
    """CVEs of the control plane's upstream version that concern a control-plane component.

    A CVE whose record names no component is counted here and says so; kubelet, kube-proxy and
    kubectl CVEs are listed in the evidence (``other_components``) but not judged here.  A provider
    that patches the control plane (EKS, GKE, AKS) turns a FAIL into a WARN that still names the
    upstream CVEs: its bulletins are the evidence.
    """
    api = ctx.facts.api
    if api is None:
        raw = ctx.inventory.version.gitVersion if ctx.inventory.version else None
        reason = "no API server version in the input" if raw is None else f"unrecognised version {raw!r}"
        yield judgement(CLUSTER, unknown(f"control plane CVEs unknown: {reason}", raw=raw))
        return
    dist = ctx.facts.distribution
    verdict = _kube_cve_verdict(ctx, api, "control plane", dist.id, concerns_control_plane, "control plane")
    if dist.provider_patches_control_plane:
        evidence = {**verdict.evidence, "responsibility": "provider"}
        if verdict.status in (Status.FAIL, Status.WARN):
            verdict = replace(
                verdict,
                status=Status.WARN,
                severity=Severity.MEDIUM,
                message=verdict.message + " — the provider patches the control plane; confirm with its bulletins",
                evidence=evidence,
            )
        else:
            verdict = replace(verdict, evidence=evidence)
    yield judgement(CLUSTER, verdict, "Upgrade the control plane to a patch release that fixes these CVEs.")


# ------------------------------------------------------------------------------------------
# Kubelets


def _kubelet_unknown(node: NodeFacts) -> Verdict:
    raw = node.node.info.kubeletVersion
    if not raw:
        return unknown("the node reports no kubelet version (nodeInfo missing or empty)", raw=raw or None)
    return unknown(f"unrecognised kubelet version {raw!r}", raw=raw)


def kubelet_version_supported(ctx: Context) -> Iterator[Judgement]:
    remediation = "Replace or upgrade the node to a kubelet minor release that is in standard support."

    def judge(node: NodeFacts) -> Judgement:
        if node.kubelet is None:
            return judgement(node.subject, _kubelet_unknown(node), remediation)
        product, line, description = lifecycle_line(ctx, node.kubelet, node.distribution)
        support = ctx.catalog.support(product, line, ctx.as_of)
        verdict = support_verdict(
            _what(ctx, node.kubelet, "kubelet", node.distribution), support, ctx.policy, ctx.as_of
        )
        return judgement(node.subject, verdict, remediation, kubelet=node.kubelet.raw, judged_by=description)

    yield from per_node(ctx, _kubelet_key, judge)


def _kubelet_key(node: NodeFacts) -> tuple[str, str]:
    return (node.node.info.kubeletVersion, node.distribution.id)


def kubelet_patch_current(ctx: Context) -> Iterator[Judgement]:
    remediation = "Roll the node pool to a node image (or package) with the newest kubelet patch of its minor."
    yield from per_node(ctx, _kubelet_key, lambda node: _kubelet_patch(ctx, node, remediation))


def _kubelet_patch(ctx: Context, node: NodeFacts, remediation: str) -> Judgement:
    """One judgement per distinct kubelet version and distribution (see ``per_node``)."""
    kubelet = node.kubelet
    if kubelet is None:
        return judgement(node.subject, _kubelet_unknown(node), remediation)
    what = f"kubelet {kubelet.raw}"
    if node.distribution.id == "openshift":
        api = ctx.facts.api
        if api is not None and ctx.facts.openshift_release and api.semver_key == kubelet.semver_key:
            verdict = _openshift_patch(ctx, what)
        else:
            verdict = unknown(
                f"{what}: OpenShift kubelet builds cannot be matched to OpenShift z-stream releases "
                "unless the node runs the control plane's build and the ClusterVersion is in the input",
                kubelet=kubelet.raw,
            )
    elif kubelet.vendor == "gke":
        releases = ctx.catalog.patches("google-kubernetes-engine", kubelet.cycle, ctx.as_of)
        verdict = patch_verdict(
            what,
            kubelet.raw,
            kubelet.key,
            releases,
            f"GKE {kubelet.cycle}",
            ctx.policy,
            ctx.as_of,
            source="endoflife.date release-data: google-kubernetes-engine",
            patch_given=has_patch_number(kubelet.raw),
            running_released=ctx.catalog.release_date("google-kubernetes-engine", kubelet.raw.strip().lstrip("v")),
        )
    else:
        verdict = _upstream_patch(ctx, kubelet, what, KUBELET_PACKAGES)
        if kubelet.vendor:
            verdict = replace(
                verdict,
                evidence={**verdict.evidence, "compared_as": f"upstream {kubelet.semver} ({kubelet.vendor} build)"},
            )
    return judgement(node.subject, verdict, remediation)


def kubelet_free_of_known_cves(ctx: Context) -> Iterator[Judgement]:
    """CVEs of each kubelet's upstream version that the record says concern the kubelet (or the node side)."""

    def judge(node: NodeFacts) -> Judgement:
        kubelet = node.kubelet
        if kubelet is None:
            return judgement(node.subject, _kubelet_unknown(node))
        verdict = _kube_cve_verdict(
            ctx, kubelet, f"kubelet {kubelet.raw}", node.distribution.id, concerns_kubelet, "kubelet"
        )
        return judgement(node.subject, verdict, "Upgrade the node to a kubelet patch release that fixes these CVEs.")

    yield from per_node(ctx, _kubelet_key, judge)


def _allowed_lag(component: KubeVersion) -> int:
    return node_skew_allowance(component.major, component.minor)


def _skew_verdict(component: KubeVersion, api: KubeVersion, name: str) -> Verdict:
    evidence: dict[str, JSONValue] = {
        name: component.raw,
        "api_server": api.raw,
        "allowed_lag": _allowed_lag(component),
    }
    lag = api.minor_number - component.minor_number
    evidence["minor_lag"] = lag
    if component.major != api.major:
        return unknown(f"{name} {component.raw} and API server {api.raw} differ in major version", **evidence)
    if lag < 0:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"{name} {component.cycle} is newer than the API server {api.cycle}; the skew policy forbids it",
            evidence,
        )
    allowed = _allowed_lag(component)
    if lag > allowed:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"{name} {component.cycle} is {lag} minor versions behind the API server {api.cycle}; "
            f"the skew policy allows {allowed}",
            evidence,
        )
    at_limit = " (at the limit: upgrade it before the next control-plane upgrade)" if lag == allowed else ""
    return Verdict(
        Status.PASS,
        Severity.INFO,
        f"{name} {component.cycle} is within the version-skew policy of API server {api.cycle}{at_limit}",
        evidence,
    )


def kubelet_version_skew_allowed(ctx: Context) -> Iterator[Judgement]:
    remediation = "Upgrade the node so its kubelet is no more minors behind the API server than the skew policy allows."
    api = ctx.facts.api
    for node in ctx.facts.nodes:
        if node.kubelet is None:
            yield judgement(node.subject, _kubelet_unknown(node), remediation)
        elif api is None:
            yield judgement(
                node.subject,
                unknown("skew unknown: no API server version in the input", kubelet=node.kubelet.raw),
            )
        else:
            yield judgement(node.subject, _skew_verdict(node.kubelet, api, "kubelet"), remediation)


def kube_proxy_version_skew_allowed(ctx: Context) -> Iterator[Judgement]:
    """Both halves of kube-proxy's skew policy: against the API server and against its node's kubelet.

    Each half is judged on its own and the two combined (``combine``): a half that cannot be
    judged (no API server version, an unknown kubelet) keeps the check from passing, and a half
    that fails fails it whatever the other half is.
    """
    remediation = "Upgrade kube-proxy (its DaemonSet or static pod) to within the version-skew policy."
    api = ctx.facts.api
    for node in ctx.facts.nodes:
        proxy = node.kube_proxy
        reported = node.node.info.kubeProxyVersion or None
        if proxy is None:
            yield judgement(
                node.subject,
                unknown(
                    f"kube-proxy version unknown: {node.kube_proxy_source}",
                    node_info_kube_proxy_version=reported,
                    note="nodeInfo.kubeProxyVersion is deprecated (KEP-4004): the kubelet fills it with its own "
                    "version, so it does not prove what kube-proxy runs",
                ),
                remediation,
            )
            continue
        against_api = (
            _skew_verdict(proxy, api, "kube-proxy")
            if api is not None
            else unknown(
                "skew against the API server unknown: no API server version in the input", kube_proxy=proxy.raw
            )
        )
        verdict = combine(
            [against_api, _proxy_kubelet_skew(proxy, node)], {"kube_proxy_source": node.kube_proxy_source}
        )
        yield judgement(node.subject, verdict, remediation)


def _proxy_kubelet_skew(proxy: KubeVersion, node: NodeFacts) -> Verdict:
    """kube-proxy may be up to three minors older or newer than the kubelet on its node."""
    kubelet = node.kubelet
    if kubelet is None:
        raw = node.node.info.kubeletVersion
        why = f"unrecognised kubelet version {raw!r}" if raw else "the node reports no kubelet version"
        return unknown(f"skew against the node's kubelet unknown: {why}", kubelet=raw or None)
    gap = abs(proxy.minor_number - kubelet.minor_number)
    evidence: dict[str, JSONValue] = {"kubelet": kubelet.raw, "kubelet_minor_gap": gap}
    if kubelet.major != proxy.major:
        return unknown(f"kube-proxy {proxy.raw} and kubelet {kubelet.raw} differ in major version", **evidence)
    if gap > 3:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"kube-proxy {proxy.cycle} is {gap} minors away from its node's kubelet {kubelet.cycle}; "
            "the skew policy allows 3",
            evidence,
        )
    return Verdict(
        Status.PASS, Severity.INFO, f"kube-proxy {proxy.cycle} is within 3 minors of kubelet {kubelet.cycle}", evidence
    )


# ------------------------------------------------------------------------------------------
# Container runtimes


def _runtime_unknown(node: NodeFacts) -> Verdict:
    raw = node.node.info.containerRuntimeVersion
    if not raw:
        return unknown("the node reports no container runtime version", raw=None)
    return unknown(f"unrecognised container runtime version {raw!r}", raw=raw)


def _minor_number(cycle: str) -> int:
    major, minor = release_key(cycle)[:2]
    return major * 1000 + minor


def _kubelet_part_unknown(node: NodeFacts, what: str) -> Verdict:
    raw = node.node.info.kubeletVersion
    why = f"unrecognised kubelet version {raw!r}" if raw else "the node reports no kubelet version"
    return unknown(f"{what} unknown: {why}", kubelet=raw or None)


def _containerd_compat(ctx: Context, runtime: RuntimeVersion, node: NodeFacts) -> Verdict:
    """Whether containerd supports the node's kubelet minor (containerd's own support table)."""
    kubelet = node.kubelet
    if kubelet is None or runtime.numbers is None:
        return _kubelet_part_unknown(node, f"containerd {runtime.cycle}'s support for the node's kubelet is")
    data = ctx.runtime_compat.get("containerd", {})
    floor = data.get("minimum_for_cri_v1", {})
    if (
        floor
        and _minor_number(floor["kubelet_from"]) <= kubelet.minor_number
        and runtime.numbers < tuple(release_key(floor["containerd_from"]))
    ):
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"containerd {runtime.semver} lacks CRI v1, which kubelet {kubelet.cycle} requires "
            "(containerd 1.6 or newer from Kubernetes 1.26)",
            {},
        )
    supported = data.get("supported_with_kubernetes", {}).get(kubelet.cycle)
    if not supported:
        known = sorted(data.get("supported_with_kubernetes", {}), key=release_key)
        covers = f"covers Kubernetes {known[0]} to {known[-1]} only" if known else "is empty"
        return unknown(
            f"containerd's support for kubelet {kubelet.cycle} is unknown: its bundled support table {covers}",
            support_table=data.get("source", ctx.runtime_compat.get("source", "")),
        )
    for minimum in supported:
        floor_key = tuple(release_key(minimum))
        if floor_key[:2] == runtime.numbers[:2]:
            if runtime.numbers < floor_key:
                return Verdict(
                    Status.WARN,
                    Severity.MEDIUM,
                    f"containerd supports Kubernetes {kubelet.cycle} from {minimum} on this line; "
                    f"the node runs {runtime.semver}",
                    {},
                )
            return Verdict(
                Status.PASS,
                Severity.INFO,
                f"containerd {runtime.semver} supports Kubernetes {kubelet.cycle} (from {minimum})",
                {},
            )
    lines = ", ".join(f"{m}+" for m in supported)
    return Verdict(
        Status.WARN,
        Severity.MEDIUM,
        f"containerd {runtime.cycle} is not among the releases containerd supports with "
        f"Kubernetes {kubelet.cycle} ({lines})",
        {},
    )


def container_runtime_supported(ctx: Context) -> Iterator[Judgement]:
    """The runtime release's own support, and each part that depends on the node's kubelet.

    containerd: its lifecycle and its support table for the kubelet's minor.  CRI-O: the
    Kubernetes minor it tracks, and that it matches the kubelet's minor.  Docker Engine: its
    lifecycle, and from kubelet 1.24 on cri-dockerd, whose version the API does not show.  A part
    that cannot be judged (an unknown kubelet, a minor the table does not cover, cri-dockerd)
    keeps the check from passing; a part that fails fails it (``combine``).
    """
    remediation = "Move the node to a node image whose container runtime release is supported."

    def judge(node: NodeFacts) -> Judgement:
        runtime = node.runtime
        if runtime is None or runtime.numbers is None:
            return judgement(node.subject, _runtime_unknown(node), remediation)
        evidence: dict[str, JSONValue] = {"runtime": runtime.raw}
        prerelease = _runtime_prerelease(runtime)
        if prerelease:
            evidence["prerelease"] = (
                f"{prerelease}: a pre-release of {runtime.name} {runtime.semver}; judged by its release line"
            )
        elif runtime.suffix:
            evidence["vendor_build"] = (
                f"{runtime.suffix.lstrip('+-')}: a vendor package of {runtime.name} {runtime.semver}; "
                "judged by the upstream release line"
            )
        parts: list[Verdict]
        if runtime.name == "containerd":
            support = ctx.catalog.support("containerd", runtime.cycle or "", ctx.as_of)
            parts = [
                support_verdict(f"containerd {runtime.cycle}", support, ctx.policy, ctx.as_of),
                _containerd_compat(ctx, runtime, node),
            ]
        elif runtime.name == "cri-o":
            # CRI-O has no lifecycle source: its minor follows the Kubernetes minor (CRI-O's own policy).
            if node.distribution.id == "openshift":
                line, how = _openshift_release(ctx, node.kubelet)
                support = ctx.catalog.support("red-hat-openshift", line or "", ctx.as_of)
                lifecycle = support_verdict(
                    f"CRI-O {runtime.cycle} (shipped with OpenShift {line or '?'})",
                    support,
                    ctx.policy,
                    ctx.as_of,
                )
                evidence["rule"] = f"CRI-O on OpenShift follows the OpenShift release ({how})"
            else:
                support = ctx.catalog.support("kubernetes", runtime.cycle or "", ctx.as_of)
                lifecycle = support_verdict(f"CRI-O {runtime.cycle}", support, ctx.policy, ctx.as_of)
                evidence["rule"] = "CRI-O 1.N is supported while Kubernetes 1.N is (CRI-O's compatibility policy)"
            if node.kubelet is None:
                matching = _kubelet_part_unknown(node, f"whether CRI-O {runtime.cycle} matches the kubelet minor is")
            elif runtime.cycle != node.kubelet.cycle:
                matching = Verdict(
                    Status.WARN,
                    Severity.MEDIUM,
                    f"CRI-O {runtime.cycle} does not match the kubelet minor {node.kubelet.cycle}; "
                    "CRI-O minors track Kubernetes minors",
                    {},
                )
            else:
                matching = Verdict(Status.PASS, Severity.INFO, "CRI-O matches the kubelet minor", {})
            parts = [lifecycle, matching]
        elif runtime.name == "docker":
            support = ctx.catalog.support("docker-engine", runtime.cycle or "", ctx.as_of)
            parts = [support_verdict(f"Docker Engine {runtime.cycle}", support, ctx.policy, ctx.as_of)]
            if node.kubelet is None:
                parts.append(
                    _kubelet_part_unknown(node, "whether the kubelet runs Docker through dockershim or cri-dockerd is")
                )
            elif node.kubelet.minor_number >= 1024:
                evidence["cri_dockerd"] = (
                    "Kubernetes removed dockershim in 1.24: this node needs cri-dockerd, whose version "
                    "the API does not show; check it separately"
                )
                parts.append(
                    unknown(
                        f"kubelet {node.kubelet.cycle} runs Docker Engine through cri-dockerd (dockershim was "
                        "removed in 1.24), whose version and support the API does not show"
                    )
                )
            else:
                evidence["dockershim"] = (
                    "dockershim (built into the kubelet before 1.24) is supported only with its kubelet"
                )
        else:
            parts = [unknown(f"no lifecycle source for container runtime {runtime.name!r}", raw=runtime.raw)]
        verdict = combine(parts)
        evidence.update(verdict.evidence)
        return judgement(node.subject, replace(verdict, evidence=evidence), remediation)

    yield from per_node(ctx, _runtime_key, judge)


def _runtime_key(node: NodeFacts) -> tuple[str, str, str]:
    info = node.node.info
    return (info.containerRuntimeVersion, info.kubeletVersion, node.distribution.id)


_RUNTIME_PRODUCTS = {"containerd": "containerd", "docker": "docker-engine"}
# Why a runtime has no patch list (the shared lifecycle data's README, endoflife.date commit a70eca3, 2026-08-22).
_NO_RELEASE_DATA = {
    "cri-o": "endoflife.date has no CRI-O product (never had one) and its release-data no CRI-O list, so no "
    "dated list of CRI-O patch releases is bundled and none is derived",
}


def _runtime_cves(ctx: Context, runtime: RuntimeVersion) -> tuple[Assessment, str, str | None]:
    """(CVEs of the runtime release, its lifecycle product or "", why it cannot be judged or None)."""
    numbers = runtime.numbers or ()
    packages, why = runtime_packages(runtime.name, numbers)
    product = _RUNTIME_PRODUCTS.get(runtime.name, "")
    semver = runtime.semver or ""
    if not packages:
        return Assessment(), product, why
    if product:
        label = "Docker Engine" if runtime.name == "docker" else runtime.name
        problem = _release_problem(ctx, product, semver, runtime.text, label)
    elif not has_patch_number(runtime.text):
        problem = f"{runtime.text!r} names no patch release, so its CVEs cannot be judged"
    else:
        # CRI-O has no release list: its minor must at least be a Kubernetes minor released by the as-of date.
        cycle = ctx.catalog.product("kubernetes")
        minor = cycle.cycle(runtime.cycle or "") if cycle else None
        problem = None
        if minor is None or minor.release_date is None or minor.release_date > ctx.as_of:
            problem = (
                f"CRI-O {runtime.cycle} follows no Kubernetes minor released by {ctx.as_of} in the lifecycle data, "
                "so it is no release the CVE data can be judged for"
            )
    return ctx.osv.assess(packages, semver), product, problem


# A semver pre-release of the runtime itself: containerd ``2.1.0-rc.1``, ``2.0.0-beta.2``, Docker
# ``29.0.0-rc.1`` (and Docker CE's ``17.03.0-ce-rc1``).  Only the first identifier decides: a RHEL
# package ``1.17.4-18.dev.rhaos4.4…`` is a vendor build, not a pre-release.
_RUNTIME_PRERELEASE = re.compile(
    r"^-(?:ce-)?(?:alpha|beta|rc|preview|pre|dev)(?:[.\-]?\d+)*(?=$|[+.\-~])", re.IGNORECASE
)


def _runtime_prerelease(runtime: RuntimeVersion) -> str:
    """The pre-release part of a runtime version (``rc.1``), "" for a release or a vendor build."""
    m = _RUNTIME_PRERELEASE.match(runtime.suffix)
    return m[0].lstrip("-") if m else ""


def _runtime_vendor_build(runtime: RuntimeVersion) -> str:
    """A vendor package (``-2.rhaos4.7…``, ``+bottlerocket``, ``-0ubuntu1``): vendors backport fixes.

    k3s and RKE2 builds (``-k3s2``) carry the upstream release they are named after, and a
    pre-release (``-rc.1``) is upstream's own build, no vendor's: neither is a vendor build.
    """
    suffix = runtime.suffix
    if not suffix or suffix.lstrip("+-").startswith("k3s") or _runtime_prerelease(runtime):
        return ""
    return runtime.raw


def container_runtime_patch_current(ctx: Context) -> Iterator[Judgement]:
    """Each runtime against the newest patch of its line; FAIL when a newer patch fixes a known CVE past the window."""
    remediation = "Roll the node pool to a node image with the newest patch release of its container runtime."

    def judge(node: NodeFacts) -> Judgement:
        runtime = node.runtime
        if runtime is None or runtime.numbers is None or runtime.cycle is None:
            return judgement(node.subject, _runtime_unknown(node), remediation)
        product = _RUNTIME_PRODUCTS.get(runtime.name)
        if product is None:
            return judgement(
                node.subject,
                unknown(
                    f"{runtime.name} {runtime.semver}: no list of patch releases is bundled for {runtime.name}",
                    raw=runtime.raw,
                    release_data=_NO_RELEASE_DATA.get(runtime.name, "no lifecycle source names this runtime"),
                ),
                remediation,
            )
        assessment, _, problem = _runtime_cves(ctx, runtime)
        known = [] if problem else [m for m in assessment.affected if _cve_disclosed(ctx, m, product)[0]]
        releases = ctx.catalog.patches(product, runtime.cycle, ctx.as_of)
        verdict = patch_verdict(
            f"{runtime.name} {runtime.text}",
            runtime.raw,
            runtime.numbers,
            releases,
            f"{runtime.name} {runtime.cycle}",
            ctx.policy,
            ctx.as_of,
            cve_fix_dates(known, ctx.catalog, product),
            source=f"endoflife.date release-data: {product}",
            patch_given=has_patch_number(runtime.text),
            running_released=ctx.catalog.release_date(product, runtime.semver or ""),
            vendor_build=_runtime_vendor_build(runtime),
        )
        if problem:
            note = f"not judged: {problem}"
            verdict = replace(verdict, evidence={**verdict.evidence, "known_cves": note})
        if _runtime_prerelease(runtime):
            note = f"{runtime.text} is a pre-release, compared as {runtime.semver}, the release it precedes"
            verdict = replace(verdict, evidence={**verdict.evidence, "prerelease": note})
        return judgement(node.subject, verdict, remediation)

    yield from per_node(ctx, _runtime_key, judge)


def container_runtime_free_of_known_cves(ctx: Context) -> Iterator[Judgement]:
    """CVEs of each node's containerd, CRI-O or Docker Engine release (Go vulnerability database).

    containerd 1.x and 2.x, CRI-O and Docker Engine up to 28 are matched by their upstream
    release; a vendor package (``-2.rhaos…``, ``+bottlerocket``) WARNs where upstream FAILs;
    Docker Engine 29 and later cannot be matched (its module versions are not Engine releases)
    and is UNKNOWN, as is a release the lifecycle data does not know.
    """
    remediation = "Roll the node pool to a node image whose container runtime release fixes these CVEs."

    def judge(node: NodeFacts) -> Judgement:
        runtime = node.runtime
        if runtime is None or runtime.numbers is None:
            return judgement(node.subject, _runtime_unknown(node), remediation)
        assessment, product, problem = _runtime_cves(ctx, runtime)
        prerelease = _runtime_prerelease(runtime)
        if prerelease and runtime.semver:
            # as for kubelets: the ranges name releases, and a pre-release is none of them
            problem = f"{runtime.text} is a pre-release of {runtime.semver}; CVE ranges are judged for releases only"
        packages, _ = runtime_packages(runtime.name, runtime.numbers)
        verdict = _cve_verdict(
            ctx,
            f"{runtime.name} {runtime.text}",
            runtime.semver or runtime.text,
            assessment,
            product or None,
            vendor_build=_runtime_vendor_build(runtime),
            problem=problem,
            evidence={"runtime": runtime.raw, "modules": list(packages)},
            runtime=runtime.name,
        )
        return judgement(node.subject, verdict, remediation)

    yield from per_node(ctx, _runtime_key, judge)
