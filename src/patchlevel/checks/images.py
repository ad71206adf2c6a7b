"""10.3: every running image is known by digest, scanned recently, patched in time and redeployed.

One finding per running image (see ``patchlevel.images``: deduplicated by digest, with the
workloads, pods and namespaces that run it), subject ``image/<registry/repo>@<digest>``, or
``image/<reference>`` when the digest is unknown.  Scan evidence comes from ``Inventory.scans``
(imported reports, trivy-operator reports of the snapshot, or scans patchlevel ran) and is
matched by digest, else by image ID, else by tag, which warns.  Registry evidence
(``Context.tag_resolutions``) comes from ``--registry-check``.  Messages never name the image, so the
terminal report groups identical situations into one line.

Each vulnerability is ranked before its SLA is judged (``patchlevel.vuln.rank``: CISA KEV, the
policy's EPSS threshold, the report's or NVD's severity), and VEX documents (``Inventory.vex``, from
``--vex``) or the scanner's own applied VEX take a vulnerability out of the judgement, shown and
counted apart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fnmatch import fnmatchcase

from patchlevel import osnames
from patchlevel.checks.common import Context, Judgement, Verdict, judgement, support_verdict, unknown
from patchlevel.checks.sla import (
    Judged,
    VexOverride,
    count_text,
    first_fix_seen,
    judge,
    scan_day,
    scanner_vex,
    vulnerability_parts,
)
from patchlevel.imageref import InvalidReferenceError, parse_reference
from patchlevel.images import (
    Identity,
    ImageInventory,
    MatchBy,
    RunningImage,
    ScanIndex,
    ScanMatch,
    Workload,
    capped,
)
from patchlevel.lifecycle.catalog import Catalog, Product
from patchlevel.model import (
    SEVERITY_RANK,
    STATUS_RANK,
    JSONValue,
    Resolution,
    ResolutionStatus,
    Severity,
    Status,
    WorkloadFixClock,
)
from patchlevel.policy import Policy
from patchlevel.scans import ScanReport, Vulnerability
from patchlevel.versions import release_key
from patchlevel.vuln.rank import Rank
from patchlevel.vuln.rank import rank as rank_vulnerability
from patchlevel.vuln.vex import VexIgnored, VexIndex, VexStatement, reference_tags

CLUSTER = "cluster"
VEX_DETAIL_CAP = 50  # VEX statements (applied or ignored) described one by one in a finding's evidence
VULNERABILITY_DETAIL_CAP = 50  # vulnerabilities described one by one in a finding's evidence
# Image configs of reproducible builds (ko, Bazel, Nix, distroless) carry a placeholder date.
PLACEHOLDER_CREATED_BEFORE = date(1990, 1, 1)

# Scanner OS family (Trivy's Metadata.OS.Family, Grype's distro.name, trivy-operator's os.family)
# to the lifecycle product judging it, and families with no release lifecycle (and why): both read
# from the one OS-name table that node osImages use (patchlevel/osnames.py).
OS_PRODUCTS: dict[str, str] = osnames.family_products()
OS_WITHOUT_LIFECYCLE: dict[str, str] = osnames.families_without_lifecycle()


# ------------------------------------------------------------------------------------------
# Shared: the images, and what no image means


def _no_images(images: ImageInventory) -> Judgement | None:
    """The one judgement of an image check when there is no running image to judge, and why; else None."""
    if not images.pods_known:
        return judgement(
            CLUSTER,
            unknown(f"running images unknown: {images.reason}", hint="add 'kubectl get pods -A -o json' to the input"),
            "Collect the cluster's pods so every running image can be judged.",
        )
    if not images.images:
        return judgement(
            CLUSTER,
            unknown("the input's pods hold no containers, so no running image can be judged"),
            "Collect the cluster's pods (kubectl get pods -A -o json) so every running image can be judged.",
        )
    return None


def _digest_unknown(image: RunningImage) -> Verdict:
    return unknown(f"the running digest is unknown: {image.reason}", **image.evidence())


# ------------------------------------------------------------------------------------------
# Scan evidence for one image


@dataclass(frozen=True, slots=True)
class ScanEvidence:
    """What the scan reports say about one running image on the as-of date."""

    best: ScanMatch | None  # the report to judge by: fresh before stale, exact before tag, newest first
    usable: tuple[ScanMatch, ...]  # every package scan of this image not dated after as-of
    failed: tuple[ScanMatch, ...]  # scans that were attempted and failed, whatever their date
    later: tuple[ScanMatch, ...]  # successful reports dated after the as-of date: no evidence on that date
    other_image: tuple[ScanMatch, ...]  # reports of the same tag that name another digest
    # Reports of this image (not dated after as-of) that show no package scan: config or secret
    # results only, no result at all, or no match and no sign of what was catalogued.  They still
    # name the image's OS and creation date, but say nothing about its vulnerabilities.
    without_packages: tuple[ScanMatch, ...] = ()

    def fresh(self, max_age: int, as_of: date) -> bool:
        day = scan_day(self.best.report) if self.best else None
        return day is not None and (as_of - day).days <= max_age

    @property
    def describing(self) -> tuple[ScanMatch, ...]:
        """Every successful report of this image not dated after as-of, package scan or not."""
        return self.usable + self.without_packages


def shows_package_scan(report: ScanReport) -> bool:
    """Whether a (successful) report shows that the image's packages were scanned.

    Vulnerabilities are found only in packages, so a report listing some shows a package scan
    whatever else it says; otherwise the importer's ``package_targets`` must be positive.
    """
    return bool(report.vulnerabilities) or bool(report.package_targets)


def scan_evidence(image: RunningImage, index: ScanIndex, policy: Policy, as_of: date) -> ScanEvidence:
    usable: list[ScanMatch] = []
    failed: list[ScanMatch] = []
    later: list[ScanMatch] = []
    other: list[ScanMatch] = []
    empty: list[ScanMatch] = []
    for match in index.matches(image):
        day = scan_day(match.report)
        if not match.usable:
            other.append(match)
        elif match.report.error:
            # A failed scan is no evidence on any day, and why it failed is the finding's reason
            # whatever its date: a scan run today for a past as-of date is dated after it.
            failed.append(match)
        elif day is not None and day > as_of:
            later.append(match)
        elif not shows_package_scan(match.report):
            empty.append(match)
        else:
            usable.append(match)

    def rank(match: ScanMatch) -> tuple[bool, bool, str]:
        day = scan_day(match.report)
        fresh = day is not None and (as_of - day).days <= policy.scan_max_age_days
        moment = match.report.scanned_at.isoformat() if match.report.scanned_at else ""
        return fresh, match.by.exact, moment

    best = max(usable, key=rank) if usable else None
    return ScanEvidence(best, tuple(usable), tuple(failed), tuple(later), tuple(other), tuple(empty))


# ------------------------------------------------------------------------------------------
# One skeleton for every image check


@dataclass(frozen=True, slots=True)
class ImageEvidence:
    """One running image and what the scan reports say about it on the as-of date."""

    image: RunningImage
    scans: ScanEvidence


def image_evidence(ctx: Context) -> tuple[ImageEvidence, ...]:
    """Every running image with its scan evidence, in inventory order.

    Read through ``ctx.derived(image_evidence)``: computed once per audit (one scan index, each
    image's reports matched and sorted once) and shared by every image check.
    """
    index = ScanIndex(ctx.inventory.scans)
    return tuple(
        ImageEvidence(image, scan_evidence(image, index, ctx.policy, ctx.as_of)) for image in ctx.facts.images.images
    )


def per_image(ctx: Context, judge: Callable[[ImageEvidence], Verdict], remediation: str) -> Iterator[Judgement]:
    """One judgement per running image, or one cluster UNKNOWN when there is none to judge (and why).

    ``judge`` gets the image with its scan evidence (``image_evidence``); it must build a new
    verdict (with its own evidence) for each image.
    """
    empty = _no_images(ctx.facts.images)
    if empty is not None:
        yield empty
        return
    for evidence in ctx.derived(image_evidence):
        yield Judgement(evidence.image.subject, judge(evidence), remediation)


def _report_evidence(match: ScanMatch, as_of: date) -> dict[str, JSONValue]:
    report = match.report
    out: dict[str, JSONValue] = {
        "scan_report": report.source,
        "scan_format": report.format,
        "scanner": report.scanner,
        "scanner_version": report.scanner_version,
        "scanned_at": report.scanned_at.isoformat() if report.scanned_at else None,
        "matched_by": match.by.value,
        "matched_on": match.key,
        "scanned_artifact": report.artifact or None,
    }
    day = scan_day(report)
    if day is not None:
        out["scan_age_days"] = (as_of - day).days
    if report.db_updated_at is not None:
        out["vulnerability_db_updated_at"] = report.db_updated_at.isoformat()
        if report.scanned_at is not None:
            out["vulnerability_db_age_days_at_scan"] = (report.scanned_at - report.db_updated_at).days
    return out


def _failure_head(error: str) -> str:
    """The reason part of a scan error ("trivy timed out after 300 s"), without the scanner's own words."""
    return error.split(" — ", 1)[0]


# ------------------------------------------------------------------------------------------
# running_image_digest_known


def running_image_digest_known(ctx: Context) -> Iterator[Judgement]:
    remediation = (
        "Run images pulled from a registry (so the kubelet reports repo@sha256 digests) and check again once "
        "pending containers have started."
    )
    yield from per_image(ctx, _digest_verdict, remediation)


def _digest_verdict(evidence: ImageEvidence) -> Verdict:
    image = evidence.image
    base = image.evidence()
    if image.identity is Identity.DIGEST:
        return Verdict(Status.PASS, Severity.INFO, "the running image is known by its registry digest", base)
    if image.identity is Identity.LOCAL_ID:
        return Verdict(
            Status.WARN,
            Severity.MEDIUM,
            "only a runtime-local image ID is reported (the image config's digest, as for images loaded into "
            "the node or built there): no registry digest proves which published image runs",
            base,
        )
    verdict = _digest_unknown(image)
    raw = sorted({u.image_id for u in image.uses if u.image_id})
    if raw:  # what the kubelet did report, as written: the reason it is no digest is in the message
        verdict = replace(verdict, evidence={**verdict.evidence, "raw_image_ids": capped(raw)})
    return verdict


# ------------------------------------------------------------------------------------------
# image_scanned_recently


def image_scanned_recently(ctx: Context) -> Iterator[Judgement]:
    max_age = ctx.policy.scan_max_age_days
    remediation = (
        f"Scan every running image at least every {max_age} days (trivy, grype or trivy-operator) and give the "
        "reports to patchlevel (--scan-report, or --scan)."
    )
    judged = list(per_image(ctx, lambda evidence: _scanned_verdict(evidence, ctx), remediation))
    # Each image's finding also says how many of all the running images were scanned recently.
    coverage = _coverage([j.verdict for j in judged if j.subject != CLUSTER])
    for j in judged:
        yield j if j.subject == CLUSTER else judgement(j.subject, j.verdict, remediation, scan_coverage=coverage)


def _coverage(verdicts: Sequence[Verdict]) -> dict[str, JSONValue]:
    total = len(verdicts)
    recent = [v for v in verdicts if v.status in (Status.PASS, Status.WARN)]
    exact = [v for v in recent if v.status is Status.PASS]
    return {
        "images": total,
        "scanned_recently": len(recent),
        "scanned_recently_by_digest": len(exact),
        "percent": round(100 * len(recent) / total, 1) if total else 0.0,
    }


def _scanned_verdict(image_evidence: ImageEvidence, ctx: Context) -> Verdict:
    image, evidence = image_evidence.image, image_evidence.scans
    max_age = ctx.policy.scan_max_age_days
    base = image.evidence()
    base["scan_max_age_days"] = max_age
    base["reports_matched"] = len(evidence.usable)
    if evidence.failed:
        base["failed_scans"] = capped([f"{m.report.source}: {m.report.error}" for m in evidence.failed])
    if evidence.later:
        base["reports_after_as_of"] = capped([m.report.source for m in evidence.later])
    if evidence.other_image:
        base["reports_of_other_digests"] = capped(
            [f"{m.report.source} ({', '.join(m.other_image)})" for m in evidence.other_image]
        )
    if evidence.without_packages:
        base["reports_without_package_scan"] = capped(
            [f"{m.report.source}: {m.report.absence_unproven}" for m in evidence.without_packages]
        )
    if image.identity is Identity.UNKNOWN:
        return unknown(f"the running digest is unknown, so no scan can be matched to it: {image.reason}", **base)
    best = evidence.best
    if best is None:
        # No scan evidence is a FAIL however it came about: a scan that was asked for and could
        # not run, or a report that scanned nothing, never judges better than no report at all.
        if evidence.failed:
            error = evidence.failed[0].report.error
            message = f"the scan of this image failed ({_failure_head(error)}): no scan evidence"
        elif evidence.without_packages:
            message = "the only scan reports of this image show no package scan: no vulnerability scan evidence"
        elif evidence.other_image:
            message = "no scan of the running digest: the scans of its tag are of a different digest"
        elif evidence.later:
            message = f"no scan evidence dated on or before {ctx.as_of} (only later scans)"
        else:
            message = "no scan evidence for the running image"
        return Verdict(Status.FAIL, Severity.HIGH, message, base)
    base.update(_report_evidence(best, ctx.as_of))
    day = scan_day(best.report)
    by_tag = "" if best.by.exact else " by tag only: the scanned image may not be the running digest"
    if day is None:
        # An undated report cannot show a scan inside the window: no better than no report.
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"the scan report does not say when the scan ran, so it shows no scan within {max_age} days",
            base,
        )
    age = (ctx.as_of - day).days
    if age > max_age:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"the newest scan is older than the {max_age}-day policy" + (f" (matched{by_tag})" if by_tag else ""),
            base,
        )
    outdated = _outdated_database(best.report, ctx.policy, base)
    if by_tag:
        return Verdict(
            Status.WARN, Severity.MEDIUM, f"scanned within {max_age} days, but matched{by_tag}" + outdated, base
        )
    how = "digest" if best.by is MatchBy.DIGEST else "image ID"
    recent = f"scanned within {max_age} days (matched by {how})"
    if outdated:
        return Verdict(Status.WARN, Severity.MEDIUM, recent + outdated, base)
    return Verdict(Status.PASS, Severity.INFO, recent, base)


def _outdated_database(report: ScanReport, policy: Policy, evidence: dict[str, JSONValue]) -> str:
    """ "; the scanner's vulnerability database was N days old …" when older than the policy allows (PCI DSS
    11.3.1: a scan tool kept up to date with the latest vulnerability information), else "".

    Only Grype reports date their database; for the others the evidence says the age is not stated.
    """
    limit = policy.scanner_db_max_age_days
    evidence["scanner_db_max_age_days"] = limit
    if report.db_updated_at is None or report.scanned_at is None:
        evidence["vulnerability_db_age"] = (
            "not stated by the report" if report.db_updated_at is None else "unknown: the scan time is not stated"
        )
        return ""
    age = (report.scanned_at - report.db_updated_at).days
    if age < 0:
        evidence["vulnerability_db_age"] = "unknown: the report dates its database after the scan"
        return ""
    if age <= limit:
        return ""
    return (
        f"; the scanner's vulnerability database was {age} days old when the scan ran (policy: {limit} days), so "
        "vulnerabilities published since it was built are missing from the scan"
    )


# ------------------------------------------------------------------------------------------
# fixable_vulnerabilities_patched_in_time


def fixable_vulnerabilities_patched_in_time(ctx: Context) -> Iterator[Judgement]:
    vex = VexIndex.build(ctx.inventory.vex) if ctx.inventory.vex else None
    remediation = (
        "Rebuild the image on patched packages (or a patched base image), push it and redeploy its workloads; "
        "record an exception with an owner and expiry where a fix cannot be applied yet."
    )
    ranks: dict[tuple[Vulnerability, date | None, str], Rank] = {}  # images share base layers: rank each once
    yield from per_image(ctx, lambda evidence: _vulnerability_verdict(evidence, ctx, vex, ranks), remediation)


def _statement_detail(statement: VexStatement, by: str) -> dict[str, JSONValue]:
    return {
        "status": statement.status.value,
        "status_as_written": statement.status_raw,
        "matched_by": by,
        "document": statement.document,
        "document_id": statement.document_id or None,
        "format": statement.format,
        "author": statement.author or None,
        "timestamp": statement.timestamp.isoformat() if statement.timestamp else None,
        "justification": statement.justification or None,
        "impact_statement": statement.impact_statement or None,
        "action_statement": statement.action_statement or None,
        "statement": statement.describe(),
    }


@dataclass(frozen=True, slots=True)
class _VexOutcome:
    vex: VexOverride | None
    ignored: tuple[VexIgnored, ...]
    note: str = ""


def _vex_for(
    v: Vulnerability, image: RunningImage, report: ScanReport, vex: VexIndex | None, ctx: Context
) -> _VexOutcome:
    """What VEX says about one vulnerability of the image: the documents given first, then the scanner's own."""
    decision = None
    if vex is not None:
        decision = vex.match(
            vulnerability=v.id,
            aliases=v.aliases,
            repository=image.repository,
            digest=image.digest or "",
            as_of=ctx.as_of,
            max_age_days=ctx.policy.vex_max_age_days,
            package=v.purl or None,
            package_name=v.package,
            tags=reference_tags(image.references, image.repository),
        )
    ignored = decision.ignored if decision is not None else ()
    if decision is not None and decision.applied is not None:
        applied = decision.applied
        if not decision.removes_from_sla:  # affected, under_investigation: nothing changes
            note = (
                f"the scanner suppressed it ({v.suppression.status}), but the VEX statement given about it says "
                f"{applied.statement.status.value}: judged as open"
                if v.suppression is not None
                else ""
            )
            return _VexOutcome(None, ignored, note)
        statement = applied.statement
        detail = _statement_detail(statement, applied.by.value)
        return _VexOutcome(VexOverride(statement.status.value, applied.by.value, statement.describe(), detail), ignored)
    if v.suppression is None:
        return _VexOutcome(None, ignored)
    if ignored:
        return _VexOutcome(
            None,
            ignored,
            f"the scanner suppressed it ({v.suppression.status}), but the VEX statement given about it is ignored "
            f"({ignored[0].reason}): judged as open",
        )
    scanner, note = scanner_vex(v, report)
    return _VexOutcome(scanner, ignored, note)


def _vex_note(judged: Sequence[Judged]) -> str:
    """What VEX took out of the SLA, counted apart: "; 1 vulnerability out of the SLA by VEX …"."""
    applied = [j for j in judged if j.vex is not None]
    if not applied:
        return ""
    first = applied[0]
    assert first.vex is not None
    ids = len({j.vulnerability.id for j in applied})
    more = f"; +{ids - 1} more" if ids > 1 else ""
    return (
        f"; {count_text(applied, 'vulnerability')} out of the SLA by VEX (counted apart): "
        f"{first.vulnerability.id} {first.vex.statement}{more}"
    )


def _ignored_note(ignored: Sequence[tuple[Vulnerability, VexIgnored]]) -> str:
    if not ignored:
        return ""
    v, first = ignored[0]
    more = f"; +{len(ignored) - 1} more" if len(ignored) > 1 else ""
    word = "statement" if len(ignored) == 1 else "statements"
    where = first.statement.document_id or first.statement.document
    return f"; {len(ignored)} VEX {word} ignored: {v.id} ({where}): {first.reason}{more}"


def _workload_key(workload: Workload) -> str:
    """The workload as the audit ledger names it ("Kind/namespace/name")."""
    if workload.namespace:
        return f"{workload.kind}/{workload.namespace}/{workload.name}"
    return f"{workload.kind}/{workload.name}"


def _history_clock(ctx: Context, workloads: Sequence[str], vulnerability: str) -> WorkloadFixClock | None:
    """The earliest first-known fix of ``vulnerability`` over the workloads running the image."""
    assert ctx.fix_history is not None
    found = [c for w in workloads if (c := ctx.fix_history.get((w, vulnerability))) is not None]
    return min(found, key=lambda c: c.start) if found else None


def _vulnerability_verdict(
    image_evidence: ImageEvidence,
    ctx: Context,
    vex: VexIndex | None = None,
    ranks: dict[tuple[Vulnerability, date | None, str], Rank] | None = None,
) -> Verdict:
    image, evidence = image_evidence.image, image_evidence.scans
    policy = ctx.policy
    base = image.evidence()
    base["sla_days"] = {s.value: d for s, d in policy.sla_days.items()}
    base["known_exploited_sla_days"] = policy.known_exploited_sla_days
    base["severity_source"] = policy.severity_source.value
    base["epss_threshold"] = policy.epss_threshold
    if image.identity is Identity.UNKNOWN:
        return unknown(f"the running digest is unknown, so its vulnerabilities are unknown: {image.reason}", **base)
    best = evidence.best
    if evidence.without_packages:
        base["reports_without_package_scan"] = capped(
            [f"{m.report.source}: {m.report.absence_unproven}" for m in evidence.without_packages]
        )
    if best is None:
        if evidence.failed:
            error = evidence.failed[0].report.error
            base["failed_scans"] = capped([f"{m.report.source}: {m.report.error}" for m in evidence.failed])
            return unknown(
                f"the scan of this image failed ({_failure_head(error)}); its vulnerabilities are unknown", **base
            )
        if evidence.without_packages:
            reason = evidence.without_packages[0].report.absence_unproven
            return unknown(
                f"no scan report of this image shows a package scan: {reason}; its vulnerabilities are unknown", **base
            )
        return unknown("no scan evidence for the running image, so its vulnerabilities are unknown", **base)
    base.update(_report_evidence(best, ctx.as_of))
    # What keeps the report from showing that no other vulnerability is open: each is a part of
    # the verdict (UNKNOWN), so listed vulnerabilities past their window still FAIL.
    gaps: list[str] = []
    day = scan_day(best.report)
    if day is None:
        gaps.append("the scan report is undated, so what it shows cannot be placed on or before the as-of date")
    elif not evidence.fresh(policy.scan_max_age_days, ctx.as_of):
        base["scan_note"] = "the newest scan is not recent: vulnerabilities published since are not known"
        gaps.append(
            f"the newest scan ran {(ctx.as_of - day).days} days before the as-of date (policy: "
            f"{policy.scan_max_age_days} days), so vulnerabilities published since are unknown"
        )
    if best.report.list_incomplete:
        gaps.append(best.report.list_incomplete)
    same_kind = [m for m in evidence.usable if m.by.exact == best.by.exact]
    first_fix = first_fix_seen(same_kind)
    workload_keys = [_workload_key(w) for w in image.workloads] if ctx.fix_history else []
    report = best.report
    data_day = report.db_updated_at.date() if report.db_updated_at else day
    judged: list[Judged] = []
    ignored: dict[VexStatement, tuple[Vulnerability, VexIgnored]] = {}  # each statement once, whatever the packages
    ranks = {} if ranks is None else ranks
    for v in dict.fromkeys((*report.vulnerabilities, *report.suppressed)):
        key = (v, data_day, report.scanner)
        rank = ranks.get(key)
        if rank is None:
            rank = ranks[key] = rank_vulnerability(
                v, policy, ctx.as_of, kev=ctx.kev, epss=ctx.epss, report_data_date=data_day, scanner=report.scanner
            )
        outcome = _vex_for(v, image, report, vex, ctx)
        for skipped in outcome.ignored:
            ignored.setdefault(skipped.statement, (v, skipped))
        history = _history_clock(ctx, workload_keys, v.id) if workload_keys else None
        judged.append(judge(v, rank, first_fix, policy, ctx.as_of, outcome.vex, outcome.note, history))
    open_judged = [j for j in judged if j.vex is None]
    by_severity = Counter(j.severity.value if j.severity else "unknown" for j in open_judged)
    fixable = Counter(j.severity.value if j.severity else "unknown" for j in open_judged if j.vulnerability.fixable)
    base["by_severity"] = dict(sorted(by_severity.items()))
    base["fixable_by_severity"] = dict(sorted(fixable.items()))
    base["rank_sources"] = dict(sorted(Counter(j.rank.source or "none" for j in open_judged).items()))
    exploited = [j for j in open_judged if j.known_exploited]
    if exploited:
        base["known_exploited"] = [
            {"id": j.vulnerability.id, "package": j.vulnerability.package, "status": j.status.value}
            | (j.rank.known_exploited.evidence() if j.rank.known_exploited else {})
            for j in exploited[:VULNERABILITY_DETAIL_CAP]
        ]
    acting = sorted(
        (j for j in judged if j.status is not Status.PASS),
        key=lambda j: (-STATUS_RANK[j.status], -(j.age_days or 0), j.vulnerability.id),
    )
    base["vulnerability_ids"] = list(dict.fromkeys(j.vulnerability.id for j in acting))
    base["vulnerabilities"] = [j.detail() for j in acting[:VULNERABILITY_DETAIL_CAP]]
    if len(acting) > VULNERABILITY_DETAIL_CAP:
        base["vulnerabilities_not_detailed"] = len(acting) - VULNERABILITY_DETAIL_CAP
    clocks = Counter(j.clock for j in judged if j.clock and j.vulnerability.fixable)
    if clocks:
        base["clock_sources"] = dict(clocks)
    with_vex = [j for j in judged if j.vex is not None]
    if with_vex:
        base["vex_out_of_sla"] = dict(Counter(j.vex.status for j in with_vex if j.vex is not None))
        base["vex"] = [
            {"id": j.vulnerability.id, "package": j.vulnerability.package, "status": j.status.value}
            | (j.vex.detail if j.vex is not None else {})
            for j in with_vex[:VEX_DETAIL_CAP]
        ]
    if ignored:
        base["vex_ignored"] = [
            {"id": v.id, "package": v.package, "reason": i.reason} | _statement_detail(i.statement, "")
            for v, i in list(ignored.values())[:VEX_DETAIL_CAP]
        ]
    suppressed_open = [j for j in judged if j.note]
    if suppressed_open:
        base["scanner_suppressed_judged"] = [
            {"id": j.vulnerability.id, "package": j.vulnerability.package, "note": j.note}
            for j in suppressed_open[:VULNERABILITY_DETAIL_CAP]
        ]
    tag_note = "" if best.by.exact else " (scan matched by tag only)"
    notes = _vex_note(judged) + _ignored_note(list(ignored.values())) + tag_note
    typed = tuple(j.typed() for j in judged)
    parts = vulnerability_parts(judged, policy)
    if gaps:
        base["evidence_gaps"] = gaps
        parts += [(Status.UNKNOWN, Severity.MEDIUM, gap) for gap in gaps]
    if not parts:
        timed = " or ".join(s.value for s in sorted(policy.sla_days, key=lambda s: -SEVERITY_RANK[s]))
        inside = len({j.vulnerability.id for j in judged if j.reason == "within"})
        if inside:
            are = "is" if inside == 1 else "are"
            message = f"no fixable {timed} vulnerability is past its window ({inside} {are} open, inside it)"
        else:
            message = f"no fixable {timed} vulnerability is open"
        return Verdict(Status.PASS, Severity.INFO, message + notes, base, vulnerabilities=typed)
    worst = max(parts, key=lambda p: STATUS_RANK[p[0]])
    severity = max((p[1] for p in parts if p[0] is worst[0]), key=lambda s: SEVERITY_RANK[s])
    message = "; ".join(p[2] for p in sorted(parts, key=lambda p: -STATUS_RANK[p[0]])) + notes
    return Verdict(worst[0], severity, message, base, vulnerabilities=typed)


# ------------------------------------------------------------------------------------------
# image_os_supported


def os_release(catalog: Catalog, family: str, name: str) -> tuple[Product | None, str | None, str]:
    """(lifecycle product, release cycle, why not) for a scanner's OS family and version.

    A name that is itself a full OS name ("SUSE Linux Enterprise Server 15 SP5", "Red Hat Enterprise
    Linux CoreOS 414.92…") is read through the OS-name table like a node's osImage; otherwise the
    family names the product and the first version in the name its release ("AMI release 2018.03"
    is Amazon Linux 2018.03), else a code name ("bookworm/sid").
    """
    key = family.strip().lower()
    if key in OS_WITHOUT_LIFECYCLE:
        return None, None, OS_WITHOUT_LIFECYCLE[key]
    named = osnames.match_os_name(name)
    if named is not None and named.product is not None and named.cycle:
        named_product = catalog.product(named.product)
        if named_product is not None:
            return named_product, named.cycle, ""
    product_id = OS_PRODUCTS.get(key)
    product = catalog.product(product_id) if product_id else None
    if product is None:
        return None, None, f"no lifecycle data for the OS family {family!r}"
    version = osnames.version_token(name)
    best = ""
    for cycle in product.cycles:
        candidate = cycle.name.lower()
        if (version == candidate or version.startswith(candidate + ".")) and len(candidate) > len(best):
            best = cycle.name
    if best:
        return product, best, ""
    word = name.strip().split(" ", 1)[0].lower()
    by_name = product.cycle_by_codename(word.split("/", 1)[0]) if word and not version else None
    if by_name is not None:
        return product, by_name.name, ""
    if version and not product.follows:
        # No line of the data is this release: name it as the data names its oldest line ("5.11"
        # as Oracle Linux "5", "0.9" as Photon OS "0.9") and let the catalog judge it like a
        # node's release, so one older than every line predates them all (ended), not unknown.
        return product, _as_line(product, version), ""
    return product, None, f"{product.label} {name} is not a release in the lifecycle data"


def _as_line(product: Product, version: str) -> str:
    """``version`` cut to as many parts as the product's oldest numbered line has ("5.11" -> "5")."""
    numbered = [c.name for c in product.cycles if osnames.version_token(c.name) == c.name]
    if not numbered:
        return version
    oldest = min(numbered, key=release_key)
    return ".".join(version.split(".")[: oldest.count(".") + 1])


def image_os_supported(ctx: Context) -> Iterator[Judgement]:
    remediation = "Rebuild the image on a base OS release that still receives security fixes, and redeploy it."
    yield from per_image(ctx, lambda evidence: _os_verdict(evidence, ctx), remediation)


def _os_verdict(image_evidence: ImageEvidence, ctx: Context) -> Verdict:
    image, evidence = image_evidence.image, image_evidence.scans
    base = image.evidence()
    if image.identity is Identity.UNKNOWN:
        return unknown(f"the running digest is unknown, so its base OS is unknown: {image.reason}", **base)
    with_os = [m for m in evidence.describing if m.report.os_family]
    if not with_os:
        if evidence.describing:
            base.update(_report_evidence(evidence.best or evidence.describing[0], ctx.as_of))
            return unknown("the scan report does not name the image's base OS", **base)
        return unknown("no scan evidence names the image's base OS", **base)
    best = max(with_os, key=lambda m: (m.by.exact, m.report.scanned_at.isoformat() if m.report.scanned_at else ""))
    report = best.report
    base.update(_report_evidence(best, ctx.as_of))
    family, name = report.os_family or "", report.os_name or ""
    base["os_family"] = family
    base["os_version"] = name or None
    base["scanner_eosl"] = report.os_eosl
    tag_note = "" if best.by.exact else " (scan matched by tag only)"
    product, cycle, why = os_release(ctx.catalog, family, name)
    lifecycle: Verdict | None = None
    if product is not None and cycle is not None:
        support = ctx.catalog.support(product.id, cycle, ctx.as_of)
        lifecycle = support_verdict(f"base OS {product.label} {cycle}", support, ctx.policy, ctx.as_of)
        base.update(lifecycle.evidence)
        base["lifecycle_verdict"] = lifecycle.message
    elif why:
        base["lifecycle_note"] = why
    if report.os_eosl:
        label = f"{product.label} {cycle}" if product is not None and cycle else f"{family} {name}".strip()
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"base OS {label} is end of service life according to the scanner (EOSL){tag_note}",
            base,
            support=lifecycle.support if lifecycle is not None else None,
        )
    if lifecycle is not None:
        return replace(lifecycle, message=lifecycle.message + tag_note, evidence=base)
    return unknown(f"base OS {family} {name}: {why}".replace("  ", " ") + tag_note, **base)


# ------------------------------------------------------------------------------------------
# patched_image_redeployed


@dataclass(frozen=True, slots=True)
class _TagState:
    reference: str
    state: str  # "pinned", "current", "moved", "unknown"
    resolution: Resolution | None = None
    note: str = ""

    def evidence(self, running: str | None) -> dict[str, JSONValue]:
        r = self.resolution
        out: dict[str, JSONValue] = {"reference": self.reference, "state": self.state, "running_digest": running}
        if r is not None:
            out.update(
                {
                    "registry_status": r.status.value,
                    "registry_digest": r.digest,
                    "registry_reason": r.reason,
                    "registry_media_type": r.media_type,
                    "registry_platform_digest": r.platform_digest,
                    "registry_image_created": r.created.isoformat() if r.created else None,
                    "registry_resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
                }
            )
        if self.note:
            out["note"] = self.note
        return out


def _tag_state(image: RunningImage, reference: str, registry: dict[str, Resolution] | None, as_of: date) -> _TagState:
    try:
        ref = parse_reference(reference)
    except InvalidReferenceError as error:
        return _TagState(reference, "unknown", note=str(error))
    if ref.tag is None and ref.digest is not None:
        if ref.digest == image.digest:
            return _TagState(reference, "pinned", note="the spec pins the running digest; no tag can move")
        return _TagState(reference, "pinned", note=f"the spec pins {ref.digest}; the runtime reports {image.digest}")
    resolution = (registry or {}).get(reference)
    if resolution is None:
        return _TagState(reference, "unknown", note="the registry check did not resolve this reference")
    if resolution.status is not ResolutionStatus.RESOLVED or not resolution.digest:
        return _TagState(reference, "unknown", resolution)
    answered = resolution.resolved_at.date() if resolution.resolved_at is not None else None
    if answered is not None and answered > as_of:
        # Where a tag points after the as-of date says nothing about where it pointed on it.
        return _TagState(
            reference,
            "unknown",
            resolution,
            note=f"the registry answered on {answered}, after the as-of date {as_of}; a later answer is no "
            "evidence for that date",
        )
    if image.digest in (resolution.digest, resolution.platform_digest):
        return _TagState(reference, "current", resolution)
    return _TagState(reference, "moved", resolution)


def patched_image_redeployed(ctx: Context) -> Iterator[Judgement]:
    remediation = (
        "Redeploy the workloads so they run the image the tag now points to (roll the Deployment, DaemonSet "
        "or StatefulSet), and pin the new digest in the manifest."
    )
    if ctx.tag_resolutions is None:
        yield judgement(
            CLUSTER,
            unknown(
                "whether patched images were redeployed is unknown: this needs registry evidence "
                "(run the audit with --registry-check)",
                hint="--registry-check asks each image's registry where its tag points now",
            ),
            remediation,
        )
        return
    registry = dict(ctx.tag_resolutions)
    yield from per_image(ctx, lambda evidence: _redeployed_verdict(evidence.image, registry, ctx.as_of), remediation)


def _redeployed_verdict(image: RunningImage, registry: dict[str, Resolution], as_of: date) -> Verdict:
    base = image.evidence()
    if image.identity is Identity.UNKNOWN:
        return _digest_unknown(image)
    if image.identity is Identity.LOCAL_ID:
        return unknown(
            "only a runtime-local image ID runs, which cannot be compared with what the registry serves", **base
        )
    if not image.references:
        return unknown("the pods' specs name no image reference to resolve", **base)
    states = [_tag_state(image, reference, registry, as_of) for reference in image.references]
    base["tags"] = [s.evidence(image.digest) for s in states]
    moved = [s for s in states if s.state == "moved"]
    if moved:
        first = moved[0].resolution
        assert first is not None and first.digest is not None
        created = f", created {first.created.date()}" if first.created else ""
        base["newer_digest"] = first.digest
        base["newer_image_created"] = first.created.isoformat() if first.created else None
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"the tag now resolves to a different image ({first.digest[:19]}…{created}) than the running digest: "
            "the patched image is not redeployed",
            base,
        )
    unresolved = [s for s in states if s.state == "unknown"]
    if unresolved:
        first_state = unresolved[0]
        late = [s for s in unresolved if s.resolution is not None and s.note]
        if late:
            return unknown(f"where the tag pointed on {as_of} is unknown: {late[0].note}", **base)
        if first_state.resolution is not None:
            reason = f"{first_state.resolution.status.value}: {first_state.resolution.reason}"
        else:
            reason = first_state.note
        return unknown(f"where the tag points now is unknown ({reason})", **base)
    if all(s.state == "pinned" for s in states):
        return Verdict(
            Status.PASS, Severity.INFO, "the workload pins the image by digest; no tag can move under it", base
        )
    return Verdict(Status.PASS, Severity.INFO, "the tag still resolves to the running digest", base)


# ------------------------------------------------------------------------------------------
# image_reference_immutable


def image_reference_immutable(ctx: Context) -> Iterator[Judgement]:
    remediation = (
        "Reference images by digest (name@sha256:…, or name:tag@sha256:…) in workload manifests, updated by your "
        "pipeline when a patched image is built."
    )
    yield from per_image(ctx, lambda evidence: _reference_verdict(evidence.image), remediation)


def _reference_verdict(image: RunningImage) -> Verdict:
    base = image.evidence()
    if not image.references:
        return unknown("the pods' specs name no image reference", **base)
    kinds: dict[str, str] = {}
    for reference in image.references:
        try:
            ref = parse_reference(reference)
        except InvalidReferenceError as error:
            kinds[reference] = f"invalid: {error.problem}"
            continue
        if ref.digest is not None:
            kinds[reference] = "digest"
        elif ref.tag is None or ref.tag == "latest":
            kinds[reference] = "latest"
        else:
            kinds[reference] = "tag"
    base["reference_kinds"] = kinds
    if any(k.startswith("invalid") for k in kinds.values()):
        return unknown("a pod spec names an image reference that does not parse", **base)
    if "latest" in kinds.values():
        return Verdict(
            Status.WARN,
            Severity.MEDIUM,
            "referenced as ':latest' or without a tag: what runs changes with every push, so the patched image "
            "cannot be proven to be what runs",
            base,
        )
    if "tag" in kinds.values():
        return Verdict(
            Status.WARN,
            Severity.LOW,
            "referenced by a tag without a digest: the tag can be moved, so the image that runs is not pinned",
            base,
        )
    return Verdict(Status.PASS, Severity.INFO, "referenced by digest: the image that runs is pinned", base)


# ------------------------------------------------------------------------------------------
# image_built_recently


def image_built_recently(ctx: Context) -> Iterator[Judgement]:
    remediation = "Rebuild the image regularly so it picks up patched base layers and packages, and redeploy it."
    yield from per_image(ctx, lambda evidence: _age_verdict(evidence, ctx), remediation)


def _created(image_evidence: ImageEvidence, ctx: Context) -> tuple[date | None, str]:
    """The image's creation date and where it comes from ("" when unknown)."""
    image = image_evidence.image
    for reference in image.references:
        resolution = (ctx.tag_resolutions or {}).get(reference)
        if (
            resolution is not None
            and resolution.created is not None
            and image.digest is not None
            and image.digest in (resolution.digest, resolution.platform_digest)
        ):
            return resolution.created.date(), f"registry image config ({reference})"
    dated = [m for m in image_evidence.scans.describing if m.report.created is not None]
    for exact in (True, False):
        for match in dated:
            if match.by.exact is exact and match.report.created is not None:
                how = "" if exact else ", matched by tag only"
                return match.report.created.date(), f"scan report image config ({match.report.source}{how})"
    return None, ""


def _age_verdict(image_evidence: ImageEvidence, ctx: Context) -> Verdict:
    image = image_evidence.image
    base = image.evidence()
    max_age = ctx.policy.image_max_age_days
    base["image_max_age_days"] = max_age
    if image.identity is Identity.UNKNOWN:
        return _digest_unknown(image)
    created, source = _created(image_evidence, ctx)
    if created is None:
        return unknown(
            "the image's creation date is unknown: no scan report of it or registry answer gives one", **base
        )
    base["created"] = created.isoformat()
    base["created_from"] = source
    if created < PLACEHOLDER_CREATED_BEFORE:
        return unknown(
            f"the image config's creation date ({created}) is a placeholder (reproducible build), not a build date",
            **base,
        )
    age = (ctx.as_of - created).days
    base["age_days"] = age
    if age < 0:
        return unknown(
            f"the image's creation date ({created}) is after the as-of date: an impossible date, not a build date",
            **base,
        )
    if age > max_age:
        return Verdict(
            Status.WARN,
            Severity.MEDIUM,
            f"the image was built more than {max_age} days before the as-of date: rebuild it on current packages",
            base,
        )
    return Verdict(Status.PASS, Severity.INFO, f"the image was built within {max_age} days of the as-of date", base)


# ------------------------------------------------------------------------------------------
# image_registry_allowed

# Names of Docker Hub that image references and policies use for the same registry.
_DOCKER_HUB_NAMES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})


def _registry_rule(entry: str) -> str:
    """A policy entry normalised: no scheme, no trailing slash, lower-case host, Docker Hub as docker.io."""
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", entry.strip(), flags=re.IGNORECASE).rstrip("/")
    host, sep, path = text.partition("/")
    host = host.lower()
    if host in _DOCKER_HUB_NAMES:
        host = "docker.io"
    return f"{host}{sep}{path}"


def _allowed_by(name: str, rules: Sequence[str]) -> str | None:
    """The rule that allows ``registry/repository`` (a host, a ``*.`` host pattern, or a path prefix), or None."""
    host = name.split("/", 1)[0]
    for rule in rules:
        if "/" in rule:
            if name == rule or name.startswith(rule + "/"):
                return rule
        elif host == rule or ("*" in rule and fnmatchcase(host, rule)):
            return rule
    return None


def image_registry_allowed(ctx: Context) -> Iterator[Judgement]:
    allowed = ctx.policy.allowed_registries
    remediation = (
        "Run images only from the registries the policy allows (mirror approved images into one), or review the "
        "registry and add it to the policy's allowed_registries."
    )
    if not allowed:
        yield judgement(
            CLUSTER,
            unknown(
                "the policy names no allowed registries (allowed_registries is empty), so whether running images "
                "come from trusted sources is not assessed",
                hint="list the registries (or registry/path prefixes) images may come from in allowed_registries",
            ),
            "Set allowed_registries in the policy to the registries your images may come from.",
        )
        return
    rules = [r for r in dict.fromkeys(_registry_rule(e) for e in allowed) if r]
    yield from per_image(ctx, lambda evidence: _registry_verdict(evidence.image, rules), remediation)


def _registry_verdict(image: RunningImage, rules: Sequence[str]) -> Verdict:
    """Every name the image runs under (the runtime's repository and each spec reference) must be allowed."""
    base = image.evidence()
    base["allowed_registries"] = list(rules)
    names = [image.repository] if image.repository else []
    names += [ref.name for ref in image.parsed_references]
    names = list(dict.fromkeys(names))
    if not names:
        return unknown("the image's registry is unknown: neither the runtime nor the pod spec names it", **base)
    verdicts = {name: _allowed_by(name, rules) for name in names}
    base["registries"] = {name: rule for name, rule in verdicts.items()}
    outside = sorted({name.split("/", 1)[0] for name, rule in verdicts.items() if rule is None})
    if outside:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"the image comes from a registry outside the policy's allowed_registries: {', '.join(outside)}",
            base,
        )
    used = sorted({rule for rule in verdicts.values() if rule})
    return Verdict(Status.PASS, Severity.INFO, f"the image comes from an allowed registry ({', '.join(used)})", base)
