"""10.2: node hosts run a supported OS, a current kernel that is actually booted, and recent node images."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from patchlevel.checks.common import Context, Verdict, finding, per_node, support_verdict, unknown
from patchlevel.model import STATUS_RANK, Finding, JSONValue, Severity, Status
from patchlevel.platforms import NodeFacts, node_image, parse_timestamp
from patchlevel.versions import OsRelease

KERNEL_INTERPRETATION = (
    "patchlevel's reading of PCI 10.2, not PCI wording: a patched kernel protects a node only once the "
    "node has rebooted onto it, so a node running an older kernel than its pool peers is likely unpatched "
    "or not rebooted."
)


def _os_line(ctx: Context, os: OsRelease) -> tuple[str | None, str]:
    """The release cycle of an OS, resolving code names, RHCOS builds and Windows builds; with a note on how."""
    if os.cycle:
        return os.cycle, os.release_from
    if os.product is None:
        return None, ""
    if os.codename:
        product = ctx.catalog.product(os.product)
        cycle = product.cycle_by_codename(os.codename) if product else None
        if cycle is not None:
            return cycle.name, f"code name {os.codename}"
    if os.product == "red-hat-openshift" and ctx.facts.openshift_release:
        line = ".".join(ctx.facts.openshift_release.split(".")[:2])
        return line, f"ClusterVersion {ctx.facts.openshift_release}"
    if os.product == "windows-server" and os.windows_build and not os.candidates:
        # a build the parser's table does not know: the lifecycle data names each release's build
        lines = _windows_lines_by_build(ctx, os.windows_build)
        if len(lines) == 1:
            return lines[0], f"build {os.windows_build}"
    return None, ""


def _windows_lines_by_build(ctx: Context, build: int) -> list[str]:
    product = ctx.catalog.product("windows-server")
    return [c.name for c in product.cycles if c.latest and c.latest.endswith(f".{build}")] if product else []


def _judge_line(ctx: Context, os: OsRelease, line: str) -> Verdict:
    if os.product == "red-hat-openshift":
        name = f"RHCOS for OpenShift {line}"  # RHCOS follows the OpenShift lifecycle
    else:
        product = ctx.catalog.product(os.product or "")
        name = f"{product.label if product else os.name} {line}"
    support = ctx.catalog.support(os.product or "", line, ctx.as_of)
    return support_verdict(name, support, ctx.policy, ctx.as_of)


def _judge_candidates(ctx: Context, os: OsRelease) -> Verdict:
    """A name shared by several releases (one Windows build, two channels): one verdict when they agree."""
    verdicts = [_judge_line(ctx, os, line) for line in os.candidates]
    parts = "; ".join(v.message for v in verdicts)
    statuses = {v.status for v in verdicts}
    # Supported whichever release it is (the sooner end decides a warning), or ended whichever it is.
    if statuses <= {Status.PASS, Status.WARN} or statuses == {Status.FAIL}:
        worst = max(verdicts, key=lambda v: STATUS_RANK[v.status])
        return Verdict(worst.status, worst.severity, f"{os.name}: {os.reason}; {parts}", dict(worst.evidence))
    return unknown(f"{os.name}: {os.reason}, and the releases differ on {ctx.as_of}: {parts}")


def node_os_supported(ctx: Context) -> Iterator[Finding]:
    check = "node_os_supported"
    remediation = "Move the node to an operating system release in standard support (new node image or OS upgrade)."

    def judge(node: NodeFacts) -> Finding:
        os = node.os
        evidence: dict[str, JSONValue] = {
            "os_image": os.raw or None,
            "operating_system": node.node.info.operatingSystem or None,
        }
        if os.detail:
            evidence["detail"] = os.detail
        if os.product is None:
            return finding(
                check,
                node.subject,
                unknown(f"{' '.join(filter(None, (os.name, os.version)))}: {os.reason}", **evidence),
                remediation,
            )
        if os.candidates:
            evidence["candidate_releases"] = list(os.candidates)
            return finding(check, node.subject, _judge_candidates(ctx, os), remediation, **evidence)
        line, how = _os_line(ctx, os)
        if how:
            evidence["release_from"] = how
        if line is None:
            reason = os.reason or "the release is not in the osImage"
            return finding(
                check,
                node.subject,
                unknown(f"{os.name}: {reason}", lifecycle_product=os.product, **evidence),
                remediation,
            )
        verdict = _judge_line(ctx, os, line)
        return finding(check, node.subject, verdict, remediation, **evidence)

    yield from per_node(ctx, _os_key, judge)


def _os_key(node: NodeFacts) -> tuple[str, str, str]:
    info = node.node.info
    return (info.osImage, info.operatingSystem, info.kernelVersion)


def node_kernel_consistent_in_pool(ctx: Context) -> Iterator[Finding]:
    check = "node_kernel_consistent_in_pool"
    remediation = "Drain and reboot (or replace) the node so it runs the same patched kernel as its pool."
    pools: dict[tuple[str, str], list[NodeFacts]] = defaultdict(list)
    for node in ctx.facts.nodes:
        pools[(node.pool or "(no pool label)", node.os.raw)].append(node)
    for (pool, os_image), members in pools.items():
        parsed = [n for n in members if n.kernel is not None]
        newest = max((n.kernel for n in parsed if n.kernel), key=lambda k: k.numbers, default=None)
        on_newest = sum(1 for n in parsed if n.kernel and newest and n.kernel.numbers == newest.numbers)
        unreadable = len(members) - len(parsed)  # peers whose kernel could run anything
        for node in members:
            evidence: dict[str, JSONValue] = {
                "pool": pool,
                "os_image": os_image,
                "kernel": node.node.info.kernelVersion or None,
                "pool_nodes": len(members),
            }
            if unreadable:
                evidence["pool_nodes_with_unknown_kernel"] = unreadable
            if node.kernel is None or newest is None:
                raw = node.node.info.kernelVersion
                yield finding(
                    check,
                    node.subject,
                    unknown(
                        "kernel version unknown" + (f": unrecognised {raw!r}" if raw else ": the node reports none"),
                        **evidence,
                    ),
                    remediation,
                )
                continue
            evidence["pool_newest_kernel"] = newest.raw
            evidence["nodes_on_newest_kernel"] = on_newest
            if node.kernel.numbers < newest.numbers:
                status = ctx.policy.kernel_drift
                verdict = Verdict(
                    status,
                    Severity.MEDIUM if status is Status.WARN else Severity.HIGH,
                    f"runs kernel {node.kernel.raw}, older than {newest.raw} which {on_newest} of "
                    f"{len(members)} nodes in its pool run: not patched or not rebooted",
                    evidence,
                )
            elif unreadable:
                # Newest among the kernels that could be read; a peer whose kernel is unknown may run
                # a newer one, so "newest of its pool" is half judged.
                verdict = unknown(
                    f"runs {node.kernel.raw}, the newest readable kernel of its pool, but {unreadable} of "
                    f"{len(members)} nodes in the pool report no recognisable kernel, so a newer one may run there",
                    **evidence,
                )
            elif len(members) == 1:
                verdict = Verdict(
                    Status.PASS,
                    Severity.INFO,
                    "the only node of its pool and OS image: no peer runs a newer kernel",
                    evidence,
                )
            else:
                verdict = Verdict(
                    Status.PASS,
                    Severity.INFO,
                    f"runs the newest kernel of its pool ({newest.raw}, on {on_newest} of {len(members)} nodes)",
                    evidence,
                )
            yield finding(check, node.subject, verdict, remediation)


def node_image_current(ctx: Context) -> Iterator[Finding]:
    check = "node_image_current"
    remediation = "Upgrade the node pool to the newest node image (or replace the node) so OS patches are applied."
    policy = ctx.policy
    for node in ctx.facts.nodes:
        image = node_image(node)
        created = parse_timestamp(node.node.metadata.creationTimestamp)
        evidence: dict[str, JSONValue] = {"node_created": node.node.metadata.creationTimestamp}
        if node.node.metadata.creationTimestamp and created is None:
            evidence["node_created_note"] = "the node's creation time does not parse"
        if created is not None and created.date() > ctx.as_of:
            # Whatever its image says, a node registered after the as-of date did not run then.
            verdict = unknown("the node was registered after the as-of date", **evidence)
        elif image.built is not None:
            evidence.update({"image": image.name, "image_built": image.built.isoformat(), "read_from": image.source})
            age = (ctx.as_of - image.built).days
            evidence["image_age_days"] = age
            if age < 0:
                verdict = unknown(f"node image {image.name} is dated {image.built}, after the as-of date", **evidence)
            elif age > policy.node_image_max_age_days:
                verdict = Verdict(
                    Status.WARN,
                    Severity.MEDIUM,
                    f"node image {image.name} was built on {image.built}, {age} days before the as-of date "
                    f"(policy: {policy.node_image_max_age_days} days)",
                    evidence,
                )
            else:
                verdict = Verdict(
                    Status.PASS,
                    Severity.INFO,
                    f"node image {image.name} was built on {image.built} ({age} days old)",
                    evidence,
                )
        elif created is not None:
            age = (ctx.as_of - created.date()).days
            evidence["node_age_days"] = age
            evidence["note"] = (
                "the platform does not expose a node-image date; the node's registration time is the bound used"
            )
            if age > policy.node_max_age_days:
                verdict = Verdict(
                    Status.WARN,
                    Severity.LOW,
                    f"node registered {age} days ago and never replaced (policy: {policy.node_max_age_days} days); "
                    "in-place patching must be proven by a current kernel and reboots",
                    evidence,
                )
            else:
                verdict = Verdict(Status.PASS, Severity.INFO, f"node registered {age} days ago", evidence)
        else:
            verdict = unknown("neither a node-image date nor the node's creation time is in the input", **evidence)
        yield finding(check, node.subject, verdict, remediation)


_REBOOT_CONDITIONS = ("kured.dev/reboot-required", "RebootRequired")
_KURED_IN_PROGRESS = ("kured.dev/kured-reboot-in-progress", "weave.works/kured-reboot-in-progress")
_MCO = "machineconfiguration.openshift.io/"


def _reboot_verdict(ctx: Context, node: NodeFacts) -> Verdict | None:
    """A verdict from the node's reboot signals, or None when the node exposes none."""
    annotations = node.node.annotations
    for key in _KURED_IN_PROGRESS:
        if key in annotations:
            return Verdict(
                Status.WARN,
                Severity.MEDIUM,
                f"kured is rebooting the node (since {annotations[key] or 'an unrecorded time'})",
                {"signal": f"annotation {key}", "value": annotations[key]},
            )
    for kind in _REBOOT_CONDITIONS:
        condition = node.node.condition(kind)
        if condition is None:
            continue
        evidence: dict[str, JSONValue] = {
            "signal": f"node condition {kind}",
            "status": condition.status,
            "since": condition.lastTransitionTime,
        }
        since = parse_timestamp(condition.lastTransitionTime)
        if since is not None and since.date() > ctx.as_of:
            return unknown(
                f"condition {kind} changed after the as-of date ({since.date()}), so its state on that date is unknown",
                **evidence,
            )
        if condition.status == "True":
            days = (ctx.as_of - since.date()).days if since else None
            if days is None:
                # Required, for how long is unknown: a WARN if recent, a FAIL if past the window.
                return unknown(
                    f"a reboot is required (condition {kind}), since when is unknown (no readable "
                    "lastTransitionTime), so whether it is past the patch window cannot be told",
                    **evidence,
                )
            if days > ctx.policy.patch_window_days:
                return Verdict(
                    Status.FAIL,
                    Severity.HIGH,
                    f"a reboot has been required for {days} days (condition {kind}), longer than the "
                    f"{ctx.policy.patch_window_days}-day window",
                    evidence,
                )
            return Verdict(Status.WARN, Severity.MEDIUM, f"a reboot is required (condition {kind})", evidence)
        if condition.status == "False":
            return Verdict(Status.PASS, Severity.INFO, f"no reboot required (condition {kind})", evidence)
        return unknown(f"reboot condition {kind} is {condition.status or 'empty'}", **evidence)
    current = annotations.get(_MCO + "currentConfig")
    desired = annotations.get(_MCO + "desiredConfig")
    state = annotations.get(_MCO + "state")
    if current or desired or state:
        evidence = {
            "signal": "OpenShift machine-config annotations",
            "current": current,
            "desired": desired,
            "state": state,
        }
        if state == "Degraded":
            reason = annotations.get(_MCO + "reason") or "no reason given"
            return Verdict(
                Status.FAIL,
                Severity.HIGH,
                f"the machine-config daemon cannot apply the node's update (Degraded: {reason})",
                evidence,
            )
        if current != desired:
            return Verdict(
                Status.WARN,
                Severity.MEDIUM,
                "the node has not yet applied its pool's rendered machine config (OS update pending a reboot)",
                evidence,
            )
        if state == "Done":
            return Verdict(
                Status.PASS,
                Severity.INFO,
                "the node runs its pool's rendered machine config (state Done)",
                evidence,
            )
        return Verdict(
            Status.WARN, Severity.LOW, f"the machine-config daemon reports state {state or 'empty'}", evidence
        )
    return None


def node_not_pending_reboot(ctx: Context) -> Iterator[Finding]:
    check = "node_not_pending_reboot"
    remediation = (
        "Drain and reboot the node (or let kured / the machine-config operator do it) so installed patches take effect."
    )
    verdicts = [(node, _reboot_verdict(ctx, node)) for node in ctx.facts.nodes]
    if not any(v is not None for _, v in verdicts):
        if ctx.facts.nodes:
            yield finding(
                check,
                "cluster",
                unknown(
                    "no node exposes a reboot-required signal (kured node condition or annotations, a "
                    "RebootRequired condition, OpenShift machine-config state); whether nodes wait for a reboot "
                    "cannot be told from the API",
                    nodes=len(ctx.facts.nodes),
                ),
                "Expose reboot-required state through the API, e.g. kured with --annotate-nodes, or accept "
                "this as a manual control with a waiver.",
            )
        return
    for node, verdict in verdicts:
        if verdict is None:
            verdict = unknown("this node exposes no reboot-required signal, though others in the cluster do")
        yield finding(check, node.subject, verdict, remediation)
