"""Run the checks over an inventory and assemble the Report every renderer draws from.

collect → inventory → **evaluate** → report.  Nothing here reads files or the clock: the
knowledge, policy, as-of date and generation time are all passed in.  ``patchlevel.audit.run``
is the one call that gathers those inputs and calls ``build_report``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

from patchlevel import __version__
from patchlevel import inventory as inv
from patchlevel.charts import compute_charts
from patchlevel.checks import ALL_CHECKS, CheckSpec, Context
from patchlevel.checks.common import Judgement
from patchlevel.checks.hosts import node_scan_coverage_warning, node_scanned_recently
from patchlevel.checks.images import image_scanned_recently
from patchlevel.facts import ClusterFacts, derive_facts
from patchlevel.frameworks import load_requirements, requirements_by_check
from patchlevel.inventory import Inventory
from patchlevel.knowledge import Knowledge, kev_source, lifecycle_source
from patchlevel.lifecycle.osv import coverage_text, feed_coverage_note, feed_stale_warning
from patchlevel.model import (
    CheckInfo,
    ClusterInfo,
    DataSource,
    Finding,
    Report,
    Resolution,
    ScanCoverage,
    Severity,
    Status,
    WorkloadFixClock,
)
from patchlevel.policy import Policy
from patchlevel.vuln.epss import epss_stale_warning
from patchlevel.vuln.kev import kev_stale_warning
from patchlevel.waivers import apply_waivers, waiver_warnings


def evaluate(
    inventory: Inventory,
    knowledge: Knowledge,
    policy: Policy,
    as_of: date,
    checks: Sequence[CheckSpec] = ALL_CHECKS,
    facts: ClusterFacts | None = None,
    tag_resolutions: Mapping[str, Resolution] | None = None,
    fix_history: Mapping[tuple[str, str], WorkloadFixClock] | None = None,
) -> tuple[Finding, ...]:
    """Run every check; a check that raises yields an ERROR finding instead of stopping the audit.

    Each check yields judgements; every finding made of them carries the id of the check that
    yielded it (``stamp``), its requirements, and for a node its pool.

    ``tag_resolutions`` is what registries said each image reference points to now (``--registry-check``);
    None when no registry was asked.  ``fix_history``: clocks from the audit ledger (see ``Context``).
    """
    requirements = requirements_by_check(load_requirements(c.id for c in ALL_CHECKS))
    ctx = Context(
        inventory=inventory,
        facts=facts or derive_facts(inventory),
        catalog=knowledge.catalog,
        osv=knowledge.osv,
        policy=policy,
        as_of=as_of,
        runtime_compat=knowledge.runtime_compat,
        tag_resolutions=tag_resolutions,
        kev=knowledge.kev,
        epss=knowledge.epss,
        fix_history=fix_history,
    )
    # Node findings carry their node's pool (typed, for charts, plans and metrics), set here once.
    pools = {node.subject: node.pool for node in ctx.facts.nodes if node.pool}
    findings: list[Finding] = []
    for spec in checks:
        check = spec.id
        reqs = requirements.get(check, ())
        try:
            judged = list(spec.function(ctx))
        except Exception as exc:
            findings.append(_check_failed(check, exc).replace(requirements=reqs))
            continue
        if not judged:  # nothing to judge (e.g. no nodes): the check is still accounted for
            findings.append(_nothing_judged(check, inventory).replace(requirements=reqs))
            continue
        wrong = next((j for j in judged if not isinstance(j, Judgement)), None)
        if wrong is not None:  # a programming error, not a verdict: no finding may carry another check's id
            raise TypeError(f"check {check} yielded a {type(wrong).__name__}, not a Judgement (its id is stamped here)")
        findings.extend(stamp(check, j, reqs, pools.get(j.subject, "")) for j in judged)
    return tuple(findings)


def stamp(check: str, judged: Judgement, requirements: tuple[str, ...] = (), node_pool: str = "") -> Finding:
    """The finding of one judgement of ``check`` (a ``CheckSpec.id``: the check never writes it itself).

    One Finding per judgement and nothing copied: the verdicts and evidence a check shares between
    subjects (``per_node``) stay shared.  A passing finding carries no remediation.
    """
    verdict = judged.verdict
    return Finding(
        check=check,
        status=verdict.status,
        severity=verdict.severity,
        subject=judged.subject,
        message=verdict.message,
        evidence=verdict.evidence,
        remediation=judged.remediation if verdict.status is not Status.PASS else "",
        requirements=requirements,
        support=verdict.support,
        patch=verdict.patch,
        vulnerabilities=verdict.vulnerabilities,
        node_pool=node_pool,
    )


def _check_failed(check: str, exc: Exception) -> Finding:
    return Finding(
        check=check,
        status=Status.ERROR,
        severity=Severity.HIGH,
        subject="cluster",
        message=f"the check failed: {type(exc).__name__}: {exc}",
        evidence={"error": repr(exc)},
        remediation="Report this as a patchlevel bug with the input that caused it.",
    )


def _nothing_judged(check: str, inventory: Inventory) -> Finding:
    """The finding of a check that produced none: it had nothing to judge, and the input says why.

    Only node checks can produce nothing (one finding per node), so an empty or absent node list is
    the reason when there is one; otherwise every kind the input lacks or holds none of is named.
    """
    if not inventory.nodes:
        missing = [inv.NODES]
    else:
        missing = [k for k in (inv.PODS, inv.VERSION) if not inventory.has(k) or (k == inv.PODS and not inventory.pods)]
    reasons = "; ".join(inventory.missing_reason(kind) for kind in missing) or "it holds no object of the kind"
    return Finding(
        check=check,
        status=Status.UNKNOWN,
        severity=Severity.MEDIUM,
        subject="cluster",
        message=f"nothing in the input for this check to judge: {reasons}",
        evidence={"collected": sorted(inventory.collected), "missing": missing},
        remediation="Include the objects this check reads (see the README's snapshot commands) and audit again.",
    )


def newest_scan(inventory: Inventory, as_of: date) -> datetime | None:
    """When the newest scan that produced a report ran, on or before the as-of date (the age of scan data)."""
    moments = [s.scanned_at for s in inventory.scans if s.scanned_at is not None and not s.error]
    return max((m for m in moments if m.date() <= as_of), default=None)


def scan_coverage(
    findings: Iterable[Finding], images: int, nodes: int, scan_max_age_days: int
) -> tuple[ScanCoverage, ...]:
    """Scan coverage of the running images and the nodes, from the scan-freshness findings (before waivers).

    An image counts as scanned when ``image_scanned_recently`` is PASS or WARN (recent evidence, possibly
    with a reservation), a node when ``node_scanned_recently`` is PASS.  A single cluster-level finding
    (no evidence at all) counts none of ``images`` / ``nodes``.  A check that did not run adds nothing.
    """
    per_check: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.check in (image_scanned_recently.__name__, node_scanned_recently.__name__):
            per_check.setdefault(finding.check, []).append(finding)
    coverage: list[ScanCoverage] = []
    for check, prefix, subjects, total, scanned in (
        (image_scanned_recently.__name__, "image/", "images", images, (Status.PASS, Status.WARN)),
        (node_scanned_recently.__name__, "node/", "nodes", nodes, (Status.PASS,)),
    ):
        if check not in per_check:
            continue
        statuses = [f.status for f in per_check[check] if f.subject.startswith(prefix)]
        recent = sum(1 for status in statuses if status in scanned)
        coverage.append(ScanCoverage(subjects, recent, len(statuses) if statuses else total, scan_max_age_days))
    return tuple(coverage)


def scan_coverage_warning(findings: Iterable[Finding], scan_max_age_days: int) -> str | None:
    """One line for the report's warnings when not every running image has recent scan evidence.

    Read from the statuses of ``image_scanned_recently`` (before waivers): PASS is recent evidence of
    the running digest, WARN recent evidence with a reservation (a match by tag only, or a scan made
    with a vulnerability database older than the policy allows).
    """
    check = image_scanned_recently.__name__
    statuses = [f.status for f in findings if f.check == check and f.subject.startswith("image/")]
    recent = sum(1 for s in statuses if s in (Status.PASS, Status.WARN))
    if not statuses or recent == len(statuses):
        return None
    clean = sum(1 for s in statuses if s is Status.PASS)
    return (
        f"scan coverage: {recent} of {len(statuses)} running images ({round(100 * recent / len(statuses), 1)}%) "
        f"have scan evidence from the last {scan_max_age_days} days ({clean} without reservation, {recent - clean} "
        "with a warning: a match by tag only, or an outdated vulnerability database)"
    )


def data_sources(knowledge: Knowledge, policy: Policy, as_of: date) -> tuple[DataSource, ...]:
    """Every reference data set the verdicts rest on, with the date it describes and whether it is stale."""
    sources = [lifecycle_source(knowledge.catalog, policy.lifecycle_stale_days, as_of)]
    feed = knowledge.osv
    covered = feed.covered_until
    if covered is not None:
        sources.append(
            DataSource(
                name="kubernetes-cve-feed",
                source=coverage_text(feed),
                retrieved=covered,
                age_days=(as_of - covered).days,
                stale=(as_of - covered).days > policy.lifecycle_stale_days,
                detail=feed_coverage_note(feed, as_of),
            )
        )
    if knowledge.kev is not None:
        sources.append(kev_source(knowledge.kev, policy.lifecycle_stale_days, as_of))
    epss = knowledge.epss
    if epss is not None:
        epss_age = (as_of - epss.score_date).days
        kept = f", {len(epss)} of them for the scans' CVEs" if len(epss) < epss.rows else ""
        sources.append(
            DataSource(
                name="first-epss",
                source=f"FIRST EPSS scores, model {epss.model_version} ({Path(epss.source).name or epss.source})",
                retrieved=epss.score_date,
                age_days=epss_age,
                stale=epss_age > EPSS_STALE_DAYS,
                detail=f"{epss.rows} scores{kept}; score date {epss.score_date}",
            )
        )
    return tuple(sources)


def report_warnings(knowledge: Knowledge, policy: Policy, as_of: date, inventory: Inventory) -> tuple[str, ...]:
    warnings: list[str] = []
    catalog = knowledge.catalog
    age = catalog.age_days(as_of)
    if age > policy.lifecycle_stale_days:
        warnings.append(
            f"lifecycle data was retrieved on {catalog.data_date}, {age} days before the as-of date {as_of} "
            f"(more than {policy.lifecycle_stale_days}): releases and end-of-life announcements since then are "
            "unknown; run 'patchlevel lifecycle update'"
        )
    warnings.append(feed_coverage_note(knowledge.osv, as_of))
    stale_feed = feed_stale_warning(knowledge.osv, as_of, policy.lifecycle_stale_days)
    if stale_feed:
        warnings.append(stale_feed)
    if knowledge.kev is None:
        warnings.append("no CISA KEV catalog was found: known-exploited vulnerabilities cannot be ranked")
    else:
        stale_kev = kev_stale_warning(knowledge.kev, as_of, policy.lifecycle_stale_days)
        if stale_kev:
            warnings.append(stale_kev)
    warnings.extend(_epss_warnings(knowledge, policy, as_of))
    collected = inventory.collected_at
    if collected is not None and collected.date() > as_of:
        warnings.append(
            f"the evidence was collected on {collected.date()}, after the as-of date {as_of}: it shows the cluster "
            f"as it was on {collected.date()}, not on {as_of}; this report is no evidence of the cluster's state on "
            f"{as_of} (a ledger records it as evidence of {collected.date()})"
        )
    warnings.extend(inventory.warnings)
    return tuple(warnings)


# EPSS scores change every day; scores more than this many days before the as-of date are stale.
EPSS_STALE_DAYS = 7


def _epss_warnings(knowledge: Knowledge, policy: Policy, as_of: date) -> list[str]:
    """Whether the EPSS threshold could be applied: said only when the policy sets one."""
    if policy.epss_threshold is None:
        return []
    scores = knowledge.epss
    if scores is None:
        return [
            f"the policy's epss_threshold ({policy.epss_threshold}) is applied only to EPSS scores the scan reports "
            "carry (Grype's): no FIRST EPSS scores were found; run 'patchlevel lifecycle update' to fetch them"
        ]
    if scores.score_date > as_of:
        return [
            f"the EPSS scores are of {scores.score_date}, after the as-of date {as_of}: they are not used; only "
            "scores the scan reports carry (dated on or before the as-of date) are"
        ]
    stale = epss_stale_warning(scores, as_of, EPSS_STALE_DAYS)
    return [stale] if stale else []


def check_infos() -> tuple[CheckInfo, ...]:
    reqs = requirements_by_check(load_requirements(c.id for c in ALL_CHECKS))
    return tuple(
        CheckInfo(
            id=spec.id,
            title=spec.title,
            description=spec.description,
            requirements=reqs.get(spec.id, ()),
            interpretation=spec.interpretation,
        )
        for spec in ALL_CHECKS
    )


def build_report(
    inventory: Inventory,
    knowledge: Knowledge,
    policy: Policy,
    as_of: date,
    generated_at: datetime,
    tag_resolutions: Mapping[str, Resolution] | None = None,
    facts: ClusterFacts | None = None,
    fix_history: Mapping[tuple[str, str], WorkloadFixClock] | None = None,
) -> Report:
    """The Report of one cluster: every check run, waivers applied, charts computed.

    ``tag_resolutions``, ``fix_history``: see ``evaluate``; ``facts``: derived from the inventory when not given.
    """
    facts = facts or derive_facts(inventory)
    findings = evaluate(
        inventory, knowledge, policy, as_of, facts=facts, tag_resolutions=tag_resolutions, fix_history=fix_history
    )
    coverage = scan_coverage_warning(findings, policy.scan_max_age_days)
    node_coverage = node_scan_coverage_warning(findings, policy.scan_max_age_days)
    coverage_figures = scan_coverage(findings, len(facts.images.images), len(inventory.nodes), policy.scan_max_age_days)
    findings, waiver_outcomes = apply_waivers(findings, policy.waivers, as_of)
    cluster = ClusterInfo(
        name=inventory.name,
        version=inventory.version.gitVersion if inventory.version else "",
        distribution=facts.distribution.id,
        distribution_evidence=facts.distribution.evidence,
        server=inventory.server,
        nodes=len(inventory.nodes),
        pods=len(inventory.pods),
        images=len(facts.images.images),
    )
    return Report(
        tool_version=__version__,
        generated_at=generated_at,
        as_of=as_of,
        cluster=cluster,
        findings=findings,
        checks=check_infos(),
        requirements=load_requirements(c.id for c in ALL_CHECKS),
        data_sources=data_sources(knowledge, policy, as_of),
        inputs=inventory.inputs,
        warnings=report_warnings(knowledge, policy, as_of, inventory)
        + ((coverage,) if coverage else ())
        + ((node_coverage,) if node_coverage else ())
        + waiver_warnings(waiver_outcomes),
        policy=policy.to_dict(),
        waivers=waiver_outcomes,
        evidence_digest=inventory.evidence_digest,
        charts=compute_charts(findings, policy.sla_days),
        newest_scan=newest_scan(inventory, as_of),
        scan_coverage=coverage_figures,
    )
