"""Images to rebuild and redeploy, one step per workload, dated by the earliest deadline among its images.

Read from the image checks' findings: a base OS past support (``image_os_supported``, with its typed
support window), fixable critical and high vulnerabilities with their SLA clocks and fixed versions
(``fixable_vulnerabilities_patched_in_time``, typed ``vulnerabilities``), and tags that moved without a
redeploy (``patched_image_redeployed``).  A known exploited vulnerability (CISA KEV) is due by KEV's
date when that comes first (the check's typed ``known_exploited_due``); a vulnerability a VEX statement
takes out of the SLA is not planned.  Findings are matched to workloads through the running images.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from patchlevel.facts import ClusterFacts
from patchlevel.images import RunningImage
from patchlevel.model import Finding, Severity, Status
from patchlevel.plan.draft import Drafts, DraftStep, PlanContext, earliest, minus_window
from patchlevel.plan.model import Deadline, DeadlineBasis, ImageChange, StepKind, VulnerabilityFix

IMAGE_CHECKS = ("image_os_supported", "fixable_vulnerabilities_patched_in_time", "patched_image_redeployed")
PLANNED_SEVERITIES = frozenset({Severity.CRITICAL, Severity.HIGH})
PLANNED_STATUSES = frozenset({Status.FAIL, Status.WARN, Status.PASS})
UNATTRIBUTED = "(workload unknown)"


def _fixes(ctx: PlanContext, finding: Finding) -> list[VulnerabilityFix]:
    fixes = []
    for vuln in finding.vulnerabilities:
        if vuln.severity not in PLANNED_SEVERITIES or not vuln.fixed_version or vuln.vex:
            continue  # a vulnerability a VEX statement takes out of the SLA needs no rebuild
        due: date | None = None
        basis = "SLA clock start unknown"
        if vuln.clock_start is not None and vuln.sla_days is not None:
            due = vuln.clock_start + timedelta(days=vuln.sla_days)
            basis = f"SLA {vuln.sla_days} days from the {vuln.clock or 'clock start'} {vuln.clock_start}"
        elif vuln.sla_days is None:
            basis = f"the policy times no {vuln.severity.value if vuln.severity else 'unknown'}-severity SLA"
        kev_due = vuln.known_exploited_due  # set by the check when the vulnerability is in CISA KEV on the as-of date
        if kev_due is not None and (due is None or kev_due < due):
            due, basis = kev_due, "CISA KEV due date (known exploited)"
        fixes.append(
            VulnerabilityFix(
                id=vuln.id,
                severity=vuln.severity.value if vuln.severity else "unknown",
                package=vuln.package,
                installed_version=vuln.installed_version,
                fixed_version=vuln.fixed_version,
                due=due,
                due_basis=basis,
            )
        )
    return sorted(fixes, key=lambda f: (f.due or date.max, f.id))


def _image_change(
    ctx: PlanContext, image: RunningImage | None, subject: str, found: list[Finding]
) -> tuple[ImageChange, list[Deadline]] | None:
    reasons: list[str] = []
    fixes: list[VulnerabilityFix] = []
    deadlines: list[Deadline] = []
    window = ctx.policy.support_warning_days
    for finding in found:
        if finding.check == "image_os_supported" and finding.status in (Status.FAIL, Status.WARN):
            reasons.append(f"base OS: {finding.message}")
            support = finding.support
            end = support.support_ends if support is not None else None
            if end is not None:
                deadlines.append(
                    Deadline(
                        minus_window(end, window),
                        DeadlineBasis.END_OF_SUPPORT,
                        f"base OS {support.product} {support.line}: support ends {end}, minus the policy's "  # type: ignore[union-attr]
                        f"{window}-day warning window",
                        end,
                    )
                )
            else:
                deadlines.append(
                    Deadline(
                        None, DeadlineBasis.END_OF_SUPPORT, "base OS past (or near) end of support; date not given"
                    )
                )
        elif finding.check == "fixable_vulnerabilities_patched_in_time" and finding.status in PLANNED_STATUSES:
            mine = _fixes(ctx, finding)
            if finding.status is Status.PASS:  # within its SLA: planned when it runs out inside the warning window
                horizon = ctx.as_of + timedelta(days=window)
                mine = [f for f in mine if f.due is not None and f.due <= horizon]
            if mine:
                fixes.extend(mine)
                noun = "vulnerabilities" if len(mine) != 1 else "vulnerability"
                reasons.append(f"{len(mine)} fixable critical/high {noun}: {finding.message}")
                first = mine[0]
                basis = DeadlineBasis.KEV if first.due_basis.startswith("CISA KEV") else DeadlineBasis.SLA
                deadlines.append(
                    Deadline(
                        first.due,
                        basis,
                        f"{first.id} ({first.severity}, fixed in {first.package} {first.fixed_version}): "
                        f"{first.due_basis}" + (f", expires {first.due}" if first.due else ""),
                        first.due,
                    )
                )
        elif finding.check == "patched_image_redeployed" and finding.status is Status.FAIL:
            reasons.append(f"tag moved: {finding.message}")
            deadlines.append(Deadline(None, DeadlineBasis.NONE, "redeploy now: when the tag moved is not in the input"))
    if not reasons:
        return None
    name = subject.removeprefix("image/")
    references = image.references if image is not None else ()
    return ImageChange(name, references, tuple(reasons), tuple(fixes)), deadlines


def image_steps(ctx: PlanContext, facts: ClusterFacts, drafts: Drafts) -> None:
    by_subject: dict[str, list[Finding]] = defaultdict(list)
    for finding in ctx.findings:
        if not (finding.check in IMAGE_CHECKS and finding.subject.startswith("image/")):
            continue
        # A passing vulnerability finding may still hold open fixes whose SLA runs out soon: they are planned too.
        if finding.status is not Status.PASS or finding.check == "fixable_vulnerabilities_patched_in_time":
            by_subject[finding.subject].append(finding)
    if not by_subject:
        return
    images = {i.subject: i for i in facts.images.images}
    per_workload: dict[str, list[tuple[ImageChange, list[Deadline], str]]] = defaultdict(list)
    namespaces: dict[str, str] = {}
    for subject, found in sorted(by_subject.items()):
        image = images.get(subject)
        made = _image_change(ctx, image, subject, found)
        if made is None:
            continue
        change, deadlines = made
        workloads = image.workloads if image is not None else ()
        if not workloads:
            per_workload[UNATTRIBUTED].append((change, deadlines, subject))
            namespaces[UNATTRIBUTED] = ""
        for workload in workloads:
            name = f"{workload.kind}/{workload.namespace}/{workload.name}"
            per_workload[name].append((change, deadlines, subject))
            namespaces[name] = workload.namespace
    for owner, changes in per_workload.items():
        all_deadlines = [d for _, ds, _ in changes for d in ds]
        deadline = earliest(all_deadlines) or Deadline(None, DeadlineBasis.NONE, "no date in the findings")
        why = [f"{c.image}: {r}" for c, _, _ in changes for r in c.reasons]
        what = "image" if len(changes) == 1 else f"{len(changes)} images"
        drafts.add(
            DraftStep(
                key=f"image:{owner}",
                kind=StepKind.IMAGE_REBUILD,
                title=f"Rebuild and redeploy {owner} ({what})"
                if owner != UNATTRIBUTED
                else f"Rebuild and redeploy the workloads running {what} (the input does not name them)",
                why=why,
                deadline=deadline,
                subjects=[owner, *(s for _, _, s in changes)],
                namespace=namespaces.get(owner, ""),
                resolves=IMAGE_CHECKS,
                images=tuple(c for c, _, _ in changes),
            )
        )
