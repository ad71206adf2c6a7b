"""10.2: node hosts run a supported OS, a current kernel that is actually booted, and recent node images."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime

from patchlevel.agents import (
    LOOKED_FOR,
    REBOOT_CONDITION,
    AgentFacts,
    AgentObjectReading,
    AgentReading,
    AgentState,
    read_agents,
)
from patchlevel.checks import sla
from patchlevel.checks.common import (
    Context,
    Judgement,
    Verdict,
    combine,
    judgement,
    per_node,
    support_verdict,
    unknown,
)
from patchlevel.checks.images import VULNERABILITY_DETAIL_CAP
from patchlevel.drain import MAX_NAMED_BLOCKERS, BlockReason, disruption_of, judge
from patchlevel.facts import NodeFacts, node_image, parse_timestamp
from patchlevel.hostscans import NodeScan
from patchlevel.images import MatchBy, ScanMatch
from patchlevel.kernels import IMAGE_BASED_FAMILIES, compare_running, installed_kernels
from patchlevel.model import SEVERITY_RANK, STATUS_RANK, Finding, JSONValue, PatchGap, Severity, Status
from patchlevel.versions import OsRelease, parse_kernel
from patchlevel.vuln.rank import rank as rank_vulnerability

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


def node_os_supported(ctx: Context) -> Iterator[Judgement]:
    remediation = "Move the node to an operating system release in standard support (new node image or OS upgrade)."

    def judge(node: NodeFacts) -> Judgement:
        os = node.os
        evidence: dict[str, JSONValue] = {
            "os_image": os.raw or None,
            "operating_system": node.node.info.operatingSystem or None,
        }
        if os.detail:
            evidence["detail"] = os.detail
        if os.product is None:
            return judgement(
                node.subject,
                unknown(f"{' '.join(filter(None, (os.name, os.version)))}: {os.reason}", **evidence),
                remediation,
            )
        if os.candidates:
            evidence["candidate_releases"] = list(os.candidates)
            return judgement(node.subject, _judge_candidates(ctx, os), remediation, **evidence)
        line, how = _os_line(ctx, os)
        if how:
            evidence["release_from"] = how
        if line is None:
            reason = os.reason or "the release is not in the osImage"
            return judgement(
                node.subject,
                unknown(f"{os.name}: {reason}", lifecycle_product=os.product, **evidence),
                remediation,
            )
        verdict = _judge_line(ctx, os, line)
        return judgement(node.subject, verdict, remediation, **evidence)

    yield from per_node(ctx, _os_key, judge)


def _os_key(node: NodeFacts) -> tuple[str, str, str]:
    info = node.node.info
    return (info.osImage, info.operatingSystem, info.kernelVersion)


def node_kernel_consistent_in_pool(ctx: Context) -> Iterator[Judgement]:
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
                yield judgement(
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
            yield judgement(node.subject, verdict, remediation)


def node_image_current(ctx: Context) -> Iterator[Judgement]:
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
        yield judgement(node.subject, verdict, remediation)


# ------------------------------------------------------------------------------------------
# Update and reboot agents (issue 11): what kured, the Flatcar and Bottlerocket operators,
# system-upgrade-controller and OpenShift machine-config say about each node (``patchlevel.agents``).

AGENT_INTERPRETATION = (
    "patchlevel's reading of PCI 10.2, not PCI wording: nodes are patched one at a time in place by an update "
    "agent, and a patch protects a node only once the node has rebooted onto it; the agent's own record, read "
    "through the API, is the evidence that each node did."
)
CLUSTER = "cluster"
REBOOT_REMEDIATION = (
    "Drain and reboot the node (or let its update agent do it: kured, the Flatcar or Bottlerocket update operator, "
    "system-upgrade-controller, the machine-config operator) so the installed update takes effect."
)
NO_AGENT_REMEDIATION = (
    "Run an update agent that records its state in the API (kured with --annotate-nodes, the Flatcar or "
    "Bottlerocket update operator, system-upgrade-controller), give host scans with --node-scan, or accept this "
    "as a manual control with a waiver."
)


def _agent_names() -> str:
    return ", ".join(LOOKED_FOR)


def _reading_evidence(reading: AgentReading) -> dict[str, JSONValue]:
    out: dict[str, JSONValue] = {"agent": reading.agent, "state": reading.state.value}
    if reading.since is not None:
        out["since"] = reading.since.isoformat().replace("+00:00", "Z")
        out["since_from"] = reading.since_from
    out.update(reading.evidence)
    return out


def _elapsed(ctx: Context, since: datetime | None) -> int | None:
    return (ctx.as_of - since.date()).days if since is not None else None


def _pending_verdict(ctx: Context, reading: AgentReading) -> Verdict:
    """One agent reading judged for ``node_not_pending_reboot``."""
    limit = ctx.policy.reboot_pending_max_days
    evidence: dict[str, JSONValue] = {"readings": [_reading_evidence(reading)], "reboot_pending_max_days": limit}
    head = f"{reading.agent}: {reading.message}"
    state = reading.state
    if reading.since is not None and reading.since.date() > ctx.as_of:
        return unknown(
            f"{head}; that state began on {reading.since.date()}, after the as-of date, so the node's state on "
            f"{ctx.as_of} is unknown",
            **evidence,
        )
    days = _elapsed(ctx, reading.since)
    since = f" since {reading.since.date()}" if reading.since is not None else ""
    if state is AgentState.UP_TO_DATE:
        stale = _stale_check(ctx, reading)
        if stale is not None:
            return unknown(f"{head}; but {stale}, so updates released since are unknown", **evidence)
        if not reading.covers:  # a finished plan: says nothing about reboots (the node is covered or not by others)
            return Verdict(Status.PASS, Severity.INFO, f"{head}; this says nothing about reboots", evidence)
        return Verdict(Status.PASS, Severity.INFO, f"no reboot pending: {head}", evidence)
    if state is AgentState.UPDATE_DOWNLOADED:
        if days is None:
            # an update found and not applied, for all one can tell forever: never a pass
            return unknown(
                f"{head}; since when is not recorded, so whether it waits longer than the {limit}-day policy "
                "cannot be told",
                **evidence,
            )
        if days > limit:
            return Verdict(
                Status.FAIL,
                Severity.HIGH,
                f"{head}, for {days} days{since}: longer than the {limit}-day policy",
                evidence,
            )
        return Verdict(
            Status.PASS,
            Severity.INFO,
            f"no reboot pending yet: {head} ({days} days{since}; policy: {limit} days)",
            evidence,
        )
    if state is AgentState.REBOOT_PENDING:
        if days is None:
            return unknown(
                f"{head}; since when is not recorded, so whether it waits longer than the {limit}-day policy "
                "cannot be told",
                **evidence,
            )
        if days > limit:
            return Verdict(
                Status.FAIL,
                Severity.HIGH,
                f"{head}, for {days} days{since}: longer than the {limit}-day policy",
                evidence,
            )
        return Verdict(Status.WARN, Severity.MEDIUM, f"{head} ({days} days{since}; policy: {limit} days)", evidence)
    if state is AgentState.REBOOTING:
        if days is not None and days > limit:
            return Verdict(
                Status.FAIL,
                Severity.HIGH,
                f"{head}, for {days} days{since}: stuck longer than the {limit}-day policy",
                evidence,
            )
        when = f" ({days} days{since})" if days is not None else ""
        return Verdict(Status.WARN, Severity.LOW, head + when, evidence)
    if state is AgentState.FAILED:
        return unknown(
            f"{head}; whether a reboot is pending is unknown while the agent reports a failure "
            "(see node_update_agent_healthy)",
            **evidence,
        )
    return unknown(head, **evidence)


def _stale_check(ctx: Context, reading: AgentReading) -> str | None:
    """Why an agent's "up to date" is not current on the as-of date: its last check for updates (for agents that
    record one, Flatcar's update_engine) is older than ``reboot_pending_max_days``, later than the as-of date,
    never made or unreadable.  None when the reading is current or the agent records no such time."""
    if not reading.checked_by or reading.state is not AgentState.UP_TO_DATE:
        return None
    limit = ctx.policy.reboot_pending_max_days
    checked = reading.checked
    if checked is None:
        return f"{reading.checked_by} records no check for updates (its last-checked time is 0, absent or unreadable)"
    day = checked.date()
    shown = checked.isoformat().replace("+00:00", "Z")
    if day > ctx.as_of:
        return f"{reading.checked_by}'s last check for updates ({shown}) is dated after the as-of date"
    days = (ctx.as_of - day).days
    if days > limit:
        return (
            f"{reading.checked_by} has not checked for updates since {shown} ({days} days before the as-of date; "
            f"policy: {limit} days)"
        )
    return None


def _merged(parts: list[Verdict]) -> Verdict:
    """``combine``, with every reading's evidence kept (each part holds one under "readings")."""
    readings: list[JSONValue] = []
    for part in parts:
        found = part.evidence.get("readings")
        if isinstance(found, list):
            readings.extend(found)
    return combine(parts, {"readings": readings})


def _agent_facts(ctx: Context) -> AgentFacts:
    """What the update agents say of each node: read once per audit, shared by the two agent checks."""
    return read_agents(ctx.inventory)


def node_not_pending_reboot(ctx: Context) -> Iterator[Judgement]:
    facts = ctx.derived(_agent_facts)
    if not ctx.facts.nodes:
        return
    looked_for = {"agents_looked_for": list(LOOKED_FOR.values())}
    if facts.gaps:
        looked_for["evidence_gaps"] = list(facts.gaps)
    if not facts.present:
        yield judgement(
            CLUSTER,
            unknown(
                f"no update agent reports on any node (looked for {_agent_names()}): whether nodes wait for a "
                "reboot cannot be told from the API",
                nodes=len(ctx.facts.nodes),
                **looked_for,
            ),
            NO_AGENT_REMEDIATION,
        )
        return
    present = ", ".join(facts.present)
    for node in ctx.facts.nodes:
        # covering readings first: when every part passes, the first part's message is the finding's
        readings = tuple(sorted(facts.readings(node.name), key=lambda r: not r.covers))
        parts = [_pending_verdict(ctx, r) for r in readings]
        if not any(r.covers for r in readings):
            reading_agents = ", ".join(dict.fromkeys(r.agent for r in readings))
            also = f"{reading_agents} read it, but not whether it waits for a reboot; " if readings else ""
            parts.append(
                unknown(
                    f"no update agent covers this node ({also}found in the cluster: {present}; looked for "
                    f"{_agent_names()})",
                    agents_present=dict(facts.present),
                    **looked_for,
                )
            )
        verdict = _merged(parts)
        remediation = NO_AGENT_REMEDIATION if verdict.status is Status.UNKNOWN and not readings else REBOOT_REMEDIATION
        yield judgement(node.subject, verdict, remediation)


def _healthy_verdict(ctx: Context, reading: AgentReading | AgentObjectReading) -> Verdict:
    """One agent reading (of a node, or of the agent's own object) judged for ``node_update_agent_healthy``."""
    limit = ctx.policy.reboot_pending_max_days
    evidence: dict[str, JSONValue] = {"agent": reading.agent, "state": reading.state.value, **reading.evidence}
    if reading.since is not None:
        evidence["since"] = reading.since.isoformat().replace("+00:00", "Z")
        evidence["since_from"] = reading.since_from
    head = f"{reading.agent}: {reading.message}"
    if reading.since is not None and reading.since.date() > ctx.as_of:
        return unknown(f"{head}; that state began after the as-of date ({reading.since.date()})", **evidence)
    days = _elapsed(ctx, reading.since)
    state = reading.state
    if state is AgentState.FAILED:
        when = f" (since {reading.since.date()}, {days} days)" if reading.since is not None else ""
        return Verdict(Status.FAIL, Severity.HIGH, head + when, evidence)
    if state is AgentState.UNKNOWN:
        return unknown(head, **evidence)
    if isinstance(reading, AgentReading) and (stale := _stale_check(ctx, reading)) is not None:
        return Verdict(Status.WARN, Severity.MEDIUM, f"{head}; but {stale}", evidence)
    if isinstance(reading, AgentReading) and state is AgentState.UPDATE_DOWNLOADED:
        # an update found (or a newer target) and not applied: the agent is not doing its job, however briefly
        if days is not None and days > limit:
            return Verdict(
                Status.FAIL,
                Severity.HIGH,
                f"{head}, for {days} days (since {reading.since.date() if reading.since else '?'}): not applied "
                f"within the {limit}-day policy",
                evidence,
            )
        when = f" ({days} days)" if days is not None else "; since when is not recorded"
        return Verdict(Status.WARN, Severity.MEDIUM, f"{head}: not applied yet{when}", evidence)
    if isinstance(reading, AgentObjectReading) and state in (AgentState.REBOOTING, AgentState.UPDATE_DOWNLOADED):
        # kured's lock held, a machine-config pool updating (or paused): stuck when it lasts past the policy
        expires = reading.expires_after
        if reading.since is not None and expires is not None and reading.since + expires <= _end_of(ctx.as_of):
            message = f"{head}; the lock's TTL has passed: it no longer holds"
            return Verdict(Status.PASS, Severity.INFO, message, evidence)
        if days is None and state is AgentState.UPDATE_DOWNLOADED:  # a paused pool: the rollout waits
            return Verdict(Status.WARN, Severity.MEDIUM, head, evidence)
        if days is None:
            return unknown(f"{head}; since when is not recorded, so whether it is stuck cannot be told", **evidence)
        if days > limit:
            return Verdict(
                Status.FAIL,
                Severity.HIGH,
                f"{head}, for {days} days (since {reading.since.date() if reading.since else '?'}): stuck longer "
                f"than the {limit}-day policy",
                evidence,
            )
        if state is AgentState.UPDATE_DOWNLOADED:
            return Verdict(Status.WARN, Severity.MEDIUM, f"{head} ({days} days)", evidence)
        return Verdict(Status.PASS, Severity.INFO, f"{head} ({days} days, within the {limit}-day policy)", evidence)
    return Verdict(Status.PASS, Severity.INFO, f"{reading.agent} reports no failure ({state.label})", evidence)


def _end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)


def node_update_agent_healthy(ctx: Context) -> Iterator[Judgement]:
    facts = ctx.derived(_agent_facts)
    remediation = (
        "Fix what the update agent reports (its message names it): a failed update, a degraded or stuck "
        "machine-config pool, a reboot lock held by a node that no longer reboots, a plan that does not resolve."
    )
    # A RebootRequired condition is a signal, not an agent that can report its own failure.
    agents = [name for name in facts.present if name != REBOOT_CONDITION]
    if not agents:
        if ctx.facts.nodes:
            yield judgement(
                CLUSTER,
                unknown(
                    f"no update agent found (looked for {_agent_names()}): no agent's health can be judged",
                    nodes=len(ctx.facts.nodes),
                    agents_looked_for=list(LOOKED_FOR.values()),
                ),
                NO_AGENT_REMEDIATION,
            )
        return
    for reading_object in facts.objects:
        yield judgement(reading_object.subject, _healthy_verdict(ctx, reading_object), remediation)
    for node in ctx.facts.nodes:
        readings = [r for r in facts.readings(node.name) if r.agent != REBOOT_CONDITION]
        if readings:
            parts = [_healthy_verdict(ctx, r) for r in readings]
            yield judgement(node.subject, combine(parts, {"agents": [r.agent for r in readings]}), remediation)


# ------------------------------------------------------------------------------------------
# Host package evidence (issue 11): scans and SBOMs of nodes' root filesystems (``--node-scan``,
# trivy-operator NodeVulnerabilityReports), placed on their nodes when read.

NODE_SCAN_REMEDIATION = (
    "Scan every node's root filesystem at least every {days} days (trivy rootfs on a read-only host mount, see "
    "deploy/node-scan/, or trivy-operator's node scans) and give the reports to patchlevel with --node-scan."
)


def _scans_by_node(ctx: Context) -> dict[str, list[NodeScan]]:
    placed: dict[str, list[NodeScan]] = defaultdict(list)
    for scan in ctx.inventory.node_scans:
        if scan.node:
            placed[scan.node].append(scan)
    return placed


def per_scanned_node(
    ctx: Context, unknown_what: str, judge: Callable[[NodeFacts, Sequence[NodeScan]], Verdict], remediation: str
) -> Iterator[Judgement]:
    """The host-scan check skeleton: nothing without nodes; one cluster-level unknown (``unknown_what``) when
    no node has host evidence; else ``judge(node, its scans)`` for every node."""
    if not ctx.facts.nodes:
        return
    by_node = ctx.derived(_scans_by_node)
    if not by_node:
        yield _no_host_evidence(
            ctx, Status.UNKNOWN, unknown_what, NODE_SCAN_REMEDIATION.format(days=ctx.policy.scan_max_age_days)
        )
        return
    for node in ctx.facts.nodes:
        yield judgement(node.subject, judge(node, by_node.get(node.name, [])), remediation)


def _unplaced(ctx: Context) -> int:
    return sum(1 for scan in ctx.inventory.node_scans if not scan.node)


def _no_host_evidence(ctx: Context, status: Status, what: str, remediation: str) -> Judgement:
    unplaced = _unplaced(ctx)
    note = f"; {unplaced} scan(s) given match no node of the input" if unplaced else ""
    return judgement(
        CLUSTER,
        Verdict(
            status,
            Severity.HIGH if status is Status.FAIL else Severity.MEDIUM,
            f"no node has host scan evidence (--node-scan, trivy-operator NodeVulnerabilityReports){note}: {what}",
            {"nodes": len(ctx.facts.nodes), "unplaced_scans": unplaced},
        ),
        remediation,
    )


def _scan_day(scan: NodeScan) -> date | None:
    return scan.scanned_at.date() if scan.scanned_at is not None else None


def _newest(scans: Iterable[NodeScan], as_of: date) -> NodeScan | None:
    """The newest scan dated on or before ``as_of`` (an undated one only when no dated one exists)."""
    usable = [s for s in scans if (day := _scan_day(s)) is None or day <= as_of]
    dated = [s for s in usable if s.scanned_at is not None]
    if dated:
        return max(dated, key=lambda s: s.scanned_at or datetime.min.replace(tzinfo=UTC))
    return usable[0] if usable else None


def _scan_evidence(scan: NodeScan, as_of: date) -> dict[str, JSONValue]:
    out: dict[str, JSONValue] = {
        "host_scan": scan.source,
        "host_scan_format": scan.format,
        "matched_by": scan.matched_by,
        "host_name_in_scan": scan.host_name or None,
        "scanned_at": scan.scanned_at.isoformat() if scan.scanned_at else None,
        "scanned_artifact": scan.artifact or None,
        "os": " ".join(filter(None, (scan.os_family, scan.os_name))) or None,
    }
    day = _scan_day(scan)
    if day is not None:
        out["scan_age_days"] = (as_of - day).days
    return out


def _later_only(scans: Sequence[NodeScan], as_of: date) -> bool:
    return bool(scans) and all((day := _scan_day(s)) is not None and day > as_of for s in scans)


def node_scanned_recently(ctx: Context) -> Iterator[Judgement]:
    max_age = ctx.policy.scan_max_age_days
    remediation = NODE_SCAN_REMEDIATION.format(days=max_age)
    if not ctx.facts.nodes:
        return
    by_node = ctx.derived(_scans_by_node)
    if not by_node:
        # Host scanning may be done outside the cluster's view: without any host evidence in the input, whether
        # nodes are scanned is unknown.  Once host scans are given, a node without one fails.
        what = "whether the nodes' hosts are scanned for vulnerabilities is unknown"
        yield _no_host_evidence(ctx, Status.UNKNOWN, what, remediation)
        return
    verdicts = [(node, _node_scan_verdict(ctx, by_node.get(node.name, []))) for node in ctx.facts.nodes]
    recent = sum(1 for _, v in verdicts if v.status is Status.PASS)
    coverage: dict[str, JSONValue] = {
        "nodes": len(verdicts),
        "scanned_recently": recent,
        "percent": round(100 * recent / len(verdicts), 1),
    }
    for node, verdict in verdicts:
        yield judgement(node.subject, verdict, remediation, scan_coverage=coverage)


def _node_scan_verdict(ctx: Context, scans: Sequence[NodeScan]) -> Verdict:
    max_age = ctx.policy.scan_max_age_days
    base: dict[str, JSONValue] = {"scan_max_age_days": max_age, "host_scans": len(scans)}
    scanning = [s for s in scans if s.has_vulnerability_scan]
    best = _newest(scanning, ctx.as_of)
    if best is None:
        if _later_only(scans, ctx.as_of):
            message = f"no host scan dated on or before {ctx.as_of} (only later scans)"
        elif any(s.report is None for s in scans):
            message = "the node's host evidence is an SBOM (an inventory of packages), not a vulnerability scan"
        elif scans:
            message = "the node's host scans show no package scan: no vulnerability scan evidence"
        else:
            message = "no host scan evidence for this node"
        return Verdict(Status.FAIL, Severity.HIGH, message, base)
    base.update(_scan_evidence(best, ctx.as_of))
    day = _scan_day(best)
    if day is None:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"the host scan does not say when it ran, so it shows no scan within {max_age} days",
            base,
        )
    age = (ctx.as_of - day).days
    if age > max_age:
        return Verdict(Status.FAIL, Severity.HIGH, f"the newest host scan is older than the {max_age}-day policy", base)
    message = f"host scanned within {max_age} days (placed by {best.matched_by})"
    return Verdict(Status.PASS, Severity.INFO, message, base)


def node_scan_coverage_warning(findings: Iterable[Finding], scan_max_age_days: int) -> str | None:
    """One line for the report's warnings when not every node has recent host scan evidence.

    Read from the statuses of ``node_scanned_recently`` (before waivers), like the image scan coverage.
    """
    judged = [f for f in findings if f.check == node_scanned_recently.__name__]
    if not judged:
        return None
    per_node = [f for f in judged if f.subject.startswith("node/")]
    if not per_node:  # one cluster finding: no node has host evidence
        return (
            f"host scan coverage: no node has host scan evidence from the last {scan_max_age_days} days "
            "(give scans of the nodes' root filesystems with --node-scan)"
        )
    recent = sum(1 for f in per_node if f.status is Status.PASS)
    if recent == len(per_node):
        return None
    return (
        f"host scan coverage: {recent} of {len(per_node)} nodes ({round(100 * recent / len(per_node), 1)}%) have "
        f"host scan evidence from the last {scan_max_age_days} days"
    )


def node_os_packages_patched_in_time(ctx: Context) -> Iterator[Judgement]:
    remediation = (
        "Install the fixed OS packages on the node (or move it to a patched node image) and reboot it where the "
        "fix is in the kernel; record an exception with an owner and expiry where a fix cannot be applied yet."
    )
    yield from per_scanned_node(
        ctx,
        "the nodes' OS package vulnerabilities are unknown",
        lambda _node, scans: _packages_verdict(ctx, scans),
        remediation,
    )


def _packages_verdict(ctx: Context, scans: Sequence[NodeScan]) -> Verdict:
    policy = ctx.policy
    base: dict[str, JSONValue] = {
        "sla_days": {s.value: d for s, d in policy.sla_days.items()},
        "known_exploited_sla_days": policy.known_exploited_sla_days,
        "severity_source": policy.severity_source.value,
    }
    scanning = [s for s in scans if s.has_vulnerability_scan]
    best = _newest(scanning, ctx.as_of)
    if best is None or best.report is None:
        if any(s.report is None for s in scans) and not scanning:
            why = "the node's host evidence is an SBOM: it lists packages, not vulnerabilities"
        elif _later_only(scanning, ctx.as_of):
            why = f"its host scans are dated after {ctx.as_of}"
        elif scans:
            why = "its host scans show no package scan"
        else:
            why = "no host scan of this node"
        return unknown(f"{why}, so its OS package vulnerabilities are unknown", **base)
    report = best.report
    base.update(_scan_evidence(best, ctx.as_of))
    if best.other_vulnerabilities:
        base["other_vulnerabilities_not_judged"] = best.other_vulnerabilities
    gaps: list[str] = []
    day = _scan_day(best)
    if day is None:
        gaps.append("the host scan is undated, so what it shows cannot be placed on or before the as-of date")
    elif (ctx.as_of - day).days > policy.scan_max_age_days:
        gaps.append(
            f"the newest host scan ran {(ctx.as_of - day).days} days before the as-of date (policy: "
            f"{policy.scan_max_age_days} days), so vulnerabilities published since are unknown"
        )
    if report.list_incomplete:
        gaps.append(report.list_incomplete)
    base["scanner_eosl"] = report.os_eosl
    eosl: list[tuple[Status, Severity, str]] = []
    if report.os_eosl:
        # As image_os_supported does for an image: the scanner says the distribution is past its end of service
        # life, so its vendor publishes no more fixes and "no fixable vulnerability" proves nothing.
        label = " ".join(filter(None, (report.os_family or best.os_family, report.os_name or best.os_name)))
        eosl.append(
            (
                Status.FAIL,
                Severity.HIGH,
                f"host OS {label or '(unnamed)'} is end of service life according to the scanner (EOSL): its vendor "
                "publishes no more fixes, so the absence of fixable vulnerabilities proves nothing",
            )
        )
    matches = [ScanMatch(s.report, MatchBy.DIGEST, s.node) for s in scanning if s.report is not None]
    first_fix = sla.first_fix_seen(matches)
    data_day = report.db_updated_at.date() if report.db_updated_at else day
    judged = []
    for v in dict.fromkeys((*report.vulnerabilities, *report.suppressed)):
        rank = rank_vulnerability(
            v, policy, ctx.as_of, kev=ctx.kev, epss=ctx.epss, report_data_date=data_day, scanner=report.scanner
        )
        vex, note = sla.scanner_vex(v, report) if v.suppression is not None else (None, "")
        judged.append(sla.judge(v, rank, first_fix, policy, ctx.as_of, vex, note))
    acting = sorted(
        (j for j in judged if j.status is not Status.PASS),
        key=lambda j: (-STATUS_RANK[j.status], -(j.age_days or 0), j.vulnerability.id),
    )
    open_judged = [j for j in judged if j.vex is None]
    severities = Counter(j.severity.value if j.severity else "unknown" for j in open_judged)
    base["by_severity"] = dict(sorted(severities.items()))
    base["vulnerability_ids"] = list(dict.fromkeys(j.vulnerability.id for j in acting))
    base["vulnerabilities"] = [j.detail() for j in acting[:VULNERABILITY_DETAIL_CAP]]
    if len(acting) > VULNERABILITY_DETAIL_CAP:
        base["vulnerabilities_not_detailed"] = len(acting) - VULNERABILITY_DETAIL_CAP
    typed = tuple(j.typed() for j in judged)
    parts = eosl + sla.vulnerability_parts(judged, policy)
    if gaps:
        base["evidence_gaps"] = gaps
        parts += [(Status.UNKNOWN, Severity.MEDIUM, gap) for gap in gaps]
    if not parts:
        timed = " or ".join(s.value for s in sorted(policy.sla_days, key=lambda s: -SEVERITY_RANK[s]))
        inside = len({j.vulnerability.id for j in judged if j.reason == "within"})
        message = (
            f"no fixable {timed} OS package vulnerability is past its window ({inside} open, inside it)"
            if inside
            else f"no fixable {timed} OS package vulnerability is open"
        )
        return Verdict(Status.PASS, Severity.INFO, message, base, vulnerabilities=typed)
    worst = max(parts, key=lambda p: STATUS_RANK[p[0]])
    severity = max((p[1] for p in parts if p[0] is worst[0]), key=lambda s: SEVERITY_RANK[s])
    message = "; ".join(p[2] for p in sorted(parts, key=lambda p: -STATUS_RANK[p[0]]))
    return Verdict(worst[0], severity, message, base, vulnerabilities=typed)


def node_running_installed_kernel(ctx: Context) -> Iterator[Judgement]:
    remediation = (
        "Reboot the node onto the newest installed kernel (drain it first, or let its update agent do it); remove "
        "kernels that must not run."
    )
    yield from per_scanned_node(
        ctx,
        "whether a newer kernel is installed and not booted is unknown",
        lambda node, scans: _kernel_verdict(ctx, node, scans),
        remediation,
    )


def _kernel_verdict(ctx: Context, node: NodeFacts, scans: Sequence[NodeScan]) -> Verdict:
    limit = ctx.policy.reboot_pending_max_days
    running = node.node.info.kernelVersion
    base: dict[str, JSONValue] = {"running_kernel": running or None, "reboot_pending_max_days": limit}
    best = _newest([s for s in scans if s.package_count], ctx.as_of)
    if best is None:
        if _later_only(scans, ctx.as_of):
            return unknown(
                f"its host scans are dated after {ctx.as_of}: the kernels installed then are unknown", **base
            )
        what = "its host scans list no package" if scans else "no host scan of this node"
        return unknown(f"{what}, so the kernels installed on disk are unknown", **base)
    base.update(_scan_evidence(best, ctx.as_of))
    base["package_list_complete"] = best.packages_complete
    base["packages_listed"] = best.package_count
    if best.os_family in IMAGE_BASED_FAMILIES or (node.os.product or "") in ("bottlerocket", "flatcar", "cos", "talos"):
        return unknown(
            "an image-based OS: its kernel comes with the OS image, not a package (see node_image_current and its "
            "update agent)",
            **base,
        )
    if parse_kernel(running) is None:
        shown = f"unrecognised {running!r}" if running else "the node reports none"
        return unknown(f"the running kernel is unknown ({shown})", **base)
    kernels = installed_kernels(best.packages)
    base["installed_kernels"] = [k.release for k in kernels[:10]]
    comparison = compare_running(running, kernels)
    if comparison is None or comparison.newest is None:
        what = (
            "the package list holds no kernel package"
            if best.packages_complete
            else ("the report lists vulnerable packages only, and none is a kernel")
        )
        return unknown(f"{what}, so a kernel installed and not booted cannot be seen", **base)
    newest = comparison.newest
    base["newest_installed_kernel"] = newest.release
    base["newest_installed_package"] = f"{newest.package} {newest.version}"
    if comparison.newer:
        newer = comparison.newer[0]
        day = _scan_day(best)
        what = (
            f"patched on disk, not running: kernel {newer.release} ({newer.package} {newer.version}) is installed "
            f"but the node runs {running}"
        )
        if day is None:
            return unknown(f"{what}; the scan is undated, so since when cannot be told", **base)
        days = (ctx.as_of - day).days
        gap = PatchGap(
            line="installed kernel",
            running=running,
            newest=newest.release,
            newest_released=day,
            behind=len(comparison.newer),
            first_newer=min(comparison.newer, key=lambda k: k.sort_key()).release,
            available_since=day,
            days_behind=days,
            window_days=limit,
        )
        base["days_since_scan"] = days
        if days > limit:
            return Verdict(
                Status.FAIL,
                Severity.HIGH,
                f"{what}, shown by a scan {days} days before the as-of date: not rebooted within {limit} days",
                base,
                patch=gap,
            )
        return Verdict(
            Status.WARN,
            Severity.MEDIUM,
            f"{what} (scan of {day}, {days} days ago; policy: reboot within {limit} days)",
            base,
            patch=gap,
        )
    if comparison.booted is None:
        return unknown(
            f"the running kernel {running} is not among the installed kernel packages (newest {newest.release}): the "
            "scan predates a kernel change, or the package list is incomplete",
            **base,
        )
    if not best.packages_complete:
        return unknown(
            f"runs {running}, the newest kernel among the packages the scan names, but the scan lists vulnerable "
            "packages only (trivy without --list-all-pkgs), so a newer kernel may be installed",
            **base,
        )
    return Verdict(Status.PASS, Severity.INFO, f"runs the newest installed kernel ({newest.release})", base)


# ------------------------------------------------------------------------------------------
# node_drain_possible (issue 13): can the node be drained, so patched, without an outage?

DRAIN_INTERPRETATION = (
    "patchlevel's reading of PCI 10.2, not PCI wording: the guidance patches nodes one at a time because "
    "workloads are rescheduled; a node proves drainable only when no pod on it is held by a "
    "PodDisruptionBudget that allows zero disruptions, and no single-replica workload or bare pod on it "
    "would be interrupted (DaemonSet, static and finished pods are not evicted by a drain)."
)


def node_drain_possible(ctx: Context) -> Iterator[Judgement]:
    remediation = (
        "Let the node drain: relax a PodDisruptionBudget that allows no disruption (maxUnavailable of at least 1, "
        "or minAvailable below the replicas), run a second replica on another node (or accept the interruption "
        "with a budget that allows it), and move bare pods under a controller."
    )
    disruption = disruption_of(ctx.inventory, ctx.facts.workloads)
    placement = disruption.placement
    by_workload = disruption.by_workload()
    for node in ctx.facts.nodes:
        if placement is None or not placement.known:
            why = placement.why_unknown if placement is not None else "pods were not read"
            yield judgement(node.subject, unknown(f"which pods run on the node is unknown: {why}"), remediation)
            continue
        verdict = judge([node.name], placement, disruption, by_workload)
        named = [b.message for b in verdict.blockers[:MAX_NAMED_BLOCKERS]]
        if len(verdict.blockers) > MAX_NAMED_BLOCKERS:
            named.append(f"… and {len(verdict.blockers) - MAX_NAMED_BLOCKERS} more")
        evidence: dict[str, JSONValue] = {
            "workloads_evicted": verdict.workloads,
            "blockers": named,
            "budgets_read": disruption.read,
            "budgets": len(disruption.budgets),
        }
        if verdict.unknowns:
            evidence["unknown"] = list(verdict.unknowns[:MAX_NAMED_BLOCKERS])
        confirmed = verdict.confirmed
        if confirmed:
            held = sum(1 for b in confirmed if b.reason is BlockReason.ZERO_BUDGET)
            shown = "; ".join(b.message for b in confirmed[:MAX_NAMED_BLOCKERS])
            more = f"; … and {len(confirmed) - MAX_NAMED_BLOCKERS} more" if len(confirmed) > MAX_NAMED_BLOCKERS else ""
            what = "holds the drain" if held == len(confirmed) else "holds the drain or is interrupted by it"
            message = f"{len(confirmed)} workload(s) on the node {what}: {shown}{more}"
            evidence["zero_disruption_budgets"] = held
            yield judgement(node.subject, Verdict(Status.FAIL, Severity.MEDIUM, message, evidence), remediation)
            continue
        if not disruption.read:
            single = len(verdict.blockers)
            also = (
                f"; {single} single-replica workload(s) on it would be interrupted unless a budget allows it"
                if single
                else ""
            )
            why = f"whether a PodDisruptionBudget holds a drain of the node is unknown: {disruption.unread}{also}"
            yield judgement(node.subject, unknown(why, **evidence), remediation)
            continue
        if verdict.unknowns:
            yield judgement(node.subject, unknown("; ".join(verdict.unknowns[:3]), **evidence), remediation)
            continue
        message = (
            f"no pod a drain evicts ({verdict.workloads} workload(s)) is held by a PodDisruptionBudget that allows "
            "no disruption or runs as a single replica without one that allows it"
            if verdict.workloads
            else "no pod on the node is evicted by a drain (only DaemonSet, static or finished pods, or none)"
        )
        yield judgement(node.subject, Verdict(Status.PASS, Severity.INFO, message, evidence))
