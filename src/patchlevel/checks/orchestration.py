"""10.1: orchestration components are supported and patched.

Control plane, kubelets, kube-proxy and container runtimes, each judged by its distribution's lifecycle.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

from patchlevel.checks.common import (
    Context,
    Verdict,
    combine,
    cve_fix_dates,
    finding,
    has_patch_number,
    patch_verdict,
    per_node,
    support_verdict,
    unknown,
)
from patchlevel.lifecycle.osv import feed_coverage_note
from patchlevel.model import Finding, JSONValue, Severity, Status
from patchlevel.platforms import Distribution, NodeFacts, openshift_release_for_kube_minor
from patchlevel.versions import KubeVersion, RuntimeVersion, release_key

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


def control_plane_version_supported(ctx: Context) -> Iterator[Finding]:
    check = "control_plane_version_supported"
    api = ctx.facts.api
    dist = ctx.facts.distribution
    remediation = f"Upgrade the control plane to a minor release of {dist.label} that is in standard support."
    if api is None:
        raw = ctx.inventory.version.gitVersion if ctx.inventory.version else None
        reason = "the API server version is not in the input" if raw is None else f"unrecognised version {raw!r}"
        yield finding(check, CLUSTER, unknown(f"control plane version unknown: {reason}", raw=raw), remediation)
        return
    product, line, description = lifecycle_line(ctx, api, dist)
    support = ctx.catalog.support(product, line, ctx.as_of)
    verdict = support_verdict(_what(ctx, api, "control plane", dist), support, ctx.policy, ctx.as_of)
    yield finding(
        check,
        CLUSTER,
        verdict,
        remediation,
        version=api.raw,
        distribution=dist.id,
        distribution_evidence=dist.evidence,
        judged_by=description,
    )


def _upstream_patch(ctx: Context, version: KubeVersion, what: str, packages: tuple[str, ...]) -> Verdict:
    releases = ctx.catalog.patches("kubernetes", version.cycle, ctx.as_of)
    fixes = cve_fix_dates(ctx.osv.affecting(packages, version.semver), ctx.catalog)
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


def control_plane_patch_current(ctx: Context) -> Iterator[Finding]:
    check = "control_plane_patch_current"
    api = ctx.facts.api
    dist = ctx.facts.distribution
    if api is None:
        yield finding(check, CLUSTER, unknown("control plane patch level unknown: no API server version in the input"))
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
        yield finding(check, CLUSTER, Verdict(Status.PASS, Severity.INFO, message, evidence, patch=upstream.patch))
        return
    if dist.id == "openshift":
        verdict = _openshift_patch(ctx, "the control plane")
    else:
        verdict = _upstream_patch(ctx, api, what, APISERVER_PACKAGES)
    yield finding(
        check,
        CLUSTER,
        verdict,
        "Upgrade the control plane to the newest patch release of its minor version.",
        responsibility="customer",
    )


def _cve_verdict(ctx: Context, version: KubeVersion, what: str, packages: tuple[str, ...]) -> Verdict:
    matches = ctx.osv.affecting(packages, version.semver)
    coverage = feed_coverage_note(ctx.osv)
    evidence: dict[str, JSONValue] = {
        "version": version.raw,
        "compared_as": version.semver,
        "feed": "kubernetes-sigs/cve-feed-osv",
        "feed_newest_record": ctx.osv.newest,
        "feed_coverage": coverage,
        "packages": list(packages),
    }
    vendor = version.vendor and version.vendor not in ("k3s", "rke2")
    if vendor:
        evidence["vendor_note"] = (
            f"{version.raw} is a vendor build; vendors backport fixes, so an upstream range match means "
            "'upstream says affected', to be confirmed with the vendor's advisories"
        )
    if not matches:
        return Verdict(
            Status.PASS,
            Severity.INFO,
            f"{what}: no CVE in the bundled Kubernetes feed affects {version.semver} "
            f"(the feed ends with {ctx.osv.newest}; later CVEs are not covered)",
            evidence,
        )
    evidence["cves"] = [
        {
            "id": m.id,
            "package": m.package,
            "fixed_in": m.fixed_in,
            "summary": m.summary,
            "cvss": m.severity,
            "url": m.url,
        }
        for m in matches
    ]
    ids = ", ".join(m.id for m in matches)
    fixable = [m for m in matches if m.fixed_in]
    status = Status.WARN if vendor else Status.FAIL
    fix_text = (
        f"fixed in {', '.join(sorted({m.fixed_in or '' for m in fixable}, key=release_key))}"
        if fixable
        else "no fixed release on this line"
    )
    return Verdict(
        status,
        Severity.HIGH,
        f"{what}: {len(matches)} known CVE{'s' if len(matches) != 1 else ''} affect {version.semver} "
        f"({ids}); {fix_text}",
        evidence,
    )


def control_plane_free_of_known_cves(ctx: Context) -> Iterator[Finding]:
    check = "control_plane_free_of_known_cves"
    api = ctx.facts.api
    if api is None:
        yield finding(check, CLUSTER, unknown("control plane CVEs unknown: no API server version in the input"))
        return
    verdict = _cve_verdict(ctx, api, "control plane", APISERVER_PACKAGES)
    if ctx.facts.distribution.provider_patches_control_plane and verdict.status is not Status.PASS:
        evidence = dict(verdict.evidence)
        evidence["responsibility"] = "provider"
        verdict = Verdict(
            Status.WARN,
            Severity.MEDIUM,
            verdict.message + " — the provider patches the control plane; confirm with its bulletins",
            evidence,
        )
    yield finding(check, CLUSTER, verdict, "Upgrade the control plane to a patch release that fixes these CVEs.")


# ------------------------------------------------------------------------------------------
# Kubelets


def _kubelet_unknown(node: NodeFacts) -> Verdict:
    raw = node.node.info.kubeletVersion
    if not raw:
        return unknown("the node reports no kubelet version (nodeInfo missing or empty)", raw=raw or None)
    return unknown(f"unrecognised kubelet version {raw!r}", raw=raw)


def kubelet_version_supported(ctx: Context) -> Iterator[Finding]:
    check = "kubelet_version_supported"
    remediation = "Replace or upgrade the node to a kubelet minor release that is in standard support."

    def judge(node: NodeFacts) -> Finding:
        if node.kubelet is None:
            return finding(check, node.subject, _kubelet_unknown(node), remediation)
        product, line, description = lifecycle_line(ctx, node.kubelet, node.distribution)
        support = ctx.catalog.support(product, line, ctx.as_of)
        verdict = support_verdict(
            _what(ctx, node.kubelet, "kubelet", node.distribution), support, ctx.policy, ctx.as_of
        )
        return finding(check, node.subject, verdict, remediation, kubelet=node.kubelet.raw, judged_by=description)

    yield from per_node(ctx, _kubelet_key, judge)


def _kubelet_key(node: NodeFacts) -> tuple[str, str]:
    return (node.node.info.kubeletVersion, node.distribution.id)


def kubelet_patch_current(ctx: Context) -> Iterator[Finding]:
    check = "kubelet_patch_current"
    remediation = "Roll the node pool to a node image (or package) with the newest kubelet patch of its minor."
    yield from per_node(ctx, _kubelet_key, lambda node: _kubelet_patch(ctx, node, check, remediation))


def _kubelet_patch(ctx: Context, node: NodeFacts, check: str, remediation: str) -> Finding:
    """One judgement per distinct kubelet version and distribution (see ``per_node``)."""
    kubelet = node.kubelet
    if kubelet is None:
        return finding(check, node.subject, _kubelet_unknown(node), remediation)
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
    return finding(check, node.subject, verdict, remediation)


def kubelet_free_of_known_cves(ctx: Context) -> Iterator[Finding]:
    check = "kubelet_free_of_known_cves"

    def judge(node: NodeFacts) -> Finding:
        if node.kubelet is None:
            return finding(check, node.subject, _kubelet_unknown(node))
        return finding(
            check,
            node.subject,
            _cve_verdict(ctx, node.kubelet, f"kubelet {node.kubelet.raw}", KUBELET_PACKAGES),
            "Upgrade the node to a kubelet patch release that fixes these CVEs.",
        )

    yield from per_node(ctx, _kubelet_key, judge)


def _allowed_lag(component: KubeVersion) -> int:
    """Kubernetes version-skew policy: 3 minors behind the API server, 2 for components older than 1.25."""
    return 3 if component.minor_number >= 1025 else 2


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


def kubelet_version_skew_allowed(ctx: Context) -> Iterator[Finding]:
    check = "kubelet_version_skew_allowed"
    remediation = "Upgrade the node so its kubelet is no more minors behind the API server than the skew policy allows."
    api = ctx.facts.api
    for node in ctx.facts.nodes:
        if node.kubelet is None:
            yield finding(check, node.subject, _kubelet_unknown(node), remediation)
        elif api is None:
            yield finding(
                check,
                node.subject,
                unknown("skew unknown: no API server version in the input", kubelet=node.kubelet.raw),
            )
        else:
            yield finding(check, node.subject, _skew_verdict(node.kubelet, api, "kubelet"), remediation)


def kube_proxy_version_skew_allowed(ctx: Context) -> Iterator[Finding]:
    """Both halves of kube-proxy's skew policy: against the API server and against its node's kubelet.

    Each half is judged on its own and the two combined (``combine``): a half that cannot be
    judged (no API server version, an unknown kubelet) keeps the check from passing, and a half
    that fails fails it whatever the other half is.
    """
    check = "kube_proxy_version_skew_allowed"
    remediation = "Upgrade kube-proxy (its DaemonSet or static pod) to within the version-skew policy."
    api = ctx.facts.api
    for node in ctx.facts.nodes:
        proxy = node.kube_proxy
        reported = node.node.info.kubeProxyVersion or None
        if proxy is None:
            yield finding(
                check,
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
        yield finding(check, node.subject, verdict, remediation)


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


def container_runtime_supported(ctx: Context) -> Iterator[Finding]:
    """The runtime release's own support, and each part that depends on the node's kubelet.

    containerd: its lifecycle and its support table for the kubelet's minor.  CRI-O: the
    Kubernetes minor it tracks, and that it matches the kubelet's minor.  Docker Engine: its
    lifecycle, and from kubelet 1.24 on cri-dockerd, whose version the API does not show.  A part
    that cannot be judged (an unknown kubelet, a minor the table does not cover, cri-dockerd)
    keeps the check from passing; a part that fails fails it (``combine``).
    """
    check = "container_runtime_supported"
    remediation = "Move the node to a node image whose container runtime release is supported."

    def judge(node: NodeFacts) -> Finding:
        runtime = node.runtime
        if runtime is None or runtime.numbers is None:
            return finding(check, node.subject, _runtime_unknown(node), remediation)
        evidence: dict[str, JSONValue] = {"runtime": runtime.raw}
        if runtime.suffix:
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
        return finding(check, node.subject, replace(verdict, evidence=evidence), remediation)

    yield from per_node(ctx, _runtime_key, judge)


def _runtime_key(node: NodeFacts) -> tuple[str, str, str]:
    info = node.node.info
    return (info.containerRuntimeVersion, info.kubeletVersion, node.distribution.id)


_RUNTIME_PRODUCTS = {"containerd": "containerd", "docker": "docker-engine"}


def container_runtime_patch_current(ctx: Context) -> Iterator[Finding]:
    check = "container_runtime_patch_current"
    remediation = "Roll the node pool to a node image with the newest patch release of its container runtime."

    def judge(node: NodeFacts) -> Finding:
        runtime = node.runtime
        if runtime is None or runtime.numbers is None or runtime.cycle is None:
            return finding(check, node.subject, _runtime_unknown(node), remediation)
        product = _RUNTIME_PRODUCTS.get(runtime.name)
        if product is None:
            return finding(
                check,
                node.subject,
                unknown(
                    f"{runtime.name} {runtime.semver}: no list of patch releases is bundled for {runtime.name}",
                    raw=runtime.raw,
                ),
                remediation,
            )
        releases = ctx.catalog.patches(product, runtime.cycle, ctx.as_of)
        verdict = patch_verdict(
            f"{runtime.name} {runtime.text}",
            runtime.raw,
            runtime.numbers,
            releases,
            f"{runtime.name} {runtime.cycle}",
            ctx.policy,
            ctx.as_of,
            source=f"endoflife.date release-data: {product}",
        )
        return finding(check, node.subject, verdict, remediation)

    yield from per_node(ctx, _runtime_key, judge)
