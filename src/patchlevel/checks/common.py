"""What every check shares: the immutable context, and the two judgements most checks make.

``support_verdict`` turns a lifecycle phase into a status; ``patch_verdict`` measures how far a
running version is behind the newest patch of its line and for how long.  Both return a
``Verdict`` (status, severity, message, evidence), so the same wording and thresholds apply to
control planes, kubelets, runtimes and operating systems.

A check yields ``Judgement``s: a verdict on one subject and what to do about it.  It never writes
its own id: ``patchlevel.evaluate`` makes each judgement a ``Finding`` stamped with the id of the
check that yielded it (``CheckSpec.id``, the function's name), so the id is written once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar, cast

import msgspec

from patchlevel.facts import ClusterFacts, NodeFacts
from patchlevel.inventory import Inventory
from patchlevel.lifecycle.catalog import Catalog, PatchRelease, Support
from patchlevel.lifecycle.osv import Match, OsvFeed
from patchlevel.model import (
    SEVERITY_RANK,
    STATUS_RANK,
    JSONValue,
    OpenVulnerability,
    PatchGap,
    Phase,
    Resolution,
    Severity,
    Status,
    SupportWindow,
    WorkloadFixClock,
)
from patchlevel.policy import Policy
from patchlevel.versions import release_key
from patchlevel.vuln.epss import EpssScores
from patchlevel.vuln.kev import KevCatalog

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a check may read.  Checks never do I/O and never read the clock."""

    inventory: Inventory
    facts: ClusterFacts
    catalog: Catalog
    osv: OsvFeed
    policy: Policy
    as_of: date
    runtime_compat: Mapping[str, Any] = field(default_factory=dict)
    # What registries said each image reference (as the pod spec writes it) points to now;
    # None when no registry was asked (``--registry-check`` not given).
    tag_resolutions: Mapping[str, Resolution] | None = None
    # From the audit ledger (audits with --ledger): (workload "Kind/namespace/name", vulnerability id) -> when
    # a fix was first known in any image the workload ran.  None: no ledger, so clocks come from the scans alone.
    fix_history: Mapping[tuple[str, str], WorkloadFixClock] | None = None
    # Risk-ranking reference data (issue 10): CISA KEV (None when no catalog was found) and FIRST EPSS
    # scores (None until ``lifecycle update`` fetched them).
    kev: KevCatalog | None = None
    epss: EpssScores | None = None
    # Values computed once from the fields above and shared by the checks that read them (see ``derived``).
    _derived: dict[Callable[[Context], Any], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def derived(self, compute: Callable[[Context], _T]) -> _T:
        """``compute(self)``, computed the first time a check asks and shared by every check after it.

        For what several checks derive alike from the context (each running image's scan evidence).
        ``compute`` is a module-level pure function of the context (it is the cache key), so sharing
        its value changes no verdict; checks stay pure.
        """
        try:
            return cast(_T, self._derived[compute])
        except KeyError:
            value = self._derived[compute] = compute(self)
            return value


@dataclass(frozen=True, slots=True)
class Verdict:
    """A judgement before it is stamped on a subject.  The typed facts travel with it into the Finding:
    rebuild a verdict with ``dataclasses.replace`` (or ``combine``) so they are never dropped."""

    status: Status
    severity: Severity
    message: str
    evidence: Mapping[str, JSONValue]
    support: SupportWindow | None = None
    patch: PatchGap | None = None
    vulnerabilities: tuple[OpenVulnerability, ...] = ()


class Judgement(msgspec.Struct, frozen=True, gc=False):
    """A check's verdict on one subject, and the remediation to show unless it passes.

    What a check yields: ``patchlevel.evaluate`` turns it into a Finding stamped with the check's
    id, so no check writes its own name.  (A small struct: node checks yield one per node.)
    """

    subject: str
    verdict: Verdict
    remediation: str = ""


CheckFunction = Callable[[Context], Iterable[Judgement]]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A check: its function (whose name is its id), a title, what it means, an interpretation note."""

    function: CheckFunction
    title: str
    description: str
    interpretation: str = ""

    @property
    def id(self) -> str:
        return self.function.__name__


def judgement(subject: str, verdict: Verdict, remediation: str = "", **extra: JSONValue) -> Judgement:
    """``verdict`` on ``subject``, with ``extra`` evidence added after the verdict's own (in a copy)."""
    evidence = dict(verdict.evidence)
    evidence.update(extra)
    return Judgement(subject, replace(verdict, evidence=evidence), remediation)


def per_node(
    ctx: Context, key: Callable[[NodeFacts], Hashable], judge: Callable[[NodeFacts], Judgement]
) -> Iterator[Judgement]:
    """One judgement per node, judging each distinct ``key`` once.

    ``key`` must name every input ``judge`` reads from the node (its version strings, its
    distribution): nodes with equal keys then get the same verdict, message and evidence, which a
    5,000-node pool shares (one verdict and evidence object) instead of recomputing.
    """
    judged: dict[Hashable, Judgement] = {}
    for node in ctx.facts.nodes:
        k = key(node)
        template = judged.get(k)
        if template is None:
            template = judged[k] = judge(node)
        subject = node.subject
        yield template if template.subject == subject else Judgement(subject, template.verdict, template.remediation)


def unknown(message: str, **evidence: JSONValue) -> Verdict:
    return Verdict(Status.UNKNOWN, Severity.MEDIUM, message, dict(evidence))


def combine(parts: Sequence[Verdict], evidence: Mapping[str, JSONValue] | None = None) -> Verdict:
    """One verdict for a condition made of parts (each part judged on its own).

    The worst status wins by ``STATUS_RANK``: a known FAIL stays FAIL beside a part that is
    unknown, and an unknown part keeps the condition from passing (UNKNOWN over WARN, as
    everywhere).  The message is the failing parts' messages, worst first; when every part
    passes, the first part's.  Evidence is merged in order, then ``evidence``.
    """
    if not parts:
        raise ValueError("combine() needs at least one part")
    merged: dict[str, JSONValue] = {}
    for part in parts:
        merged.update(part.evidence)
    merged.update(evidence or {})
    support = next((p.support for p in parts if p.support is not None), None)
    patch = next((p.patch for p in parts if p.patch is not None), None)
    vulnerabilities = tuple(v for p in parts for v in p.vulnerabilities)
    worst = max(STATUS_RANK[p.status] for p in parts)
    if worst == 0:
        first = parts[0]
        return Verdict(first.status, first.severity, first.message, merged, support, patch, vulnerabilities)
    failing = sorted((p for p in parts if STATUS_RANK[p.status] > 0), key=lambda p: -STATUS_RANK[p.status])
    top = [p for p in failing if STATUS_RANK[p.status] == worst]
    status = Status.FAIL if any(p.status is Status.FAIL for p in top) else top[0].status
    severity = max((p.severity for p in top), key=lambda s: SEVERITY_RANK[s])
    message = "; ".join(dict.fromkeys(p.message for p in failing))
    return Verdict(status, severity, message, merged, support, patch, vulnerabilities)


def _iso(value: object) -> JSONValue:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or value is None:
        return value
    return str(value)


def support_evidence(support: Support) -> dict[str, JSONValue]:
    return {
        "lifecycle_product": support.product,
        "release_cycle": support.cycle,
        "phase": support.phase.value,
        "phase_label": support.phase_label,
        "phase_ends": _iso(support.phase_ends),
        "support_ends": _iso(support.support_ends),
        "extended_support_ends": _iso(support.extended_ends),
        "released": _iso(support.released),
    }


def _when(end: date | bool | None) -> str:
    if isinstance(end, date):
        return f"on {end}"
    if end is True:
        return "(date not recorded)"
    return ""


def support_window(support: Support) -> SupportWindow:
    """The typed support facts of a lifecycle answer (dates only where the data gives a date)."""
    return SupportWindow(
        product=support.product,
        line=support.cycle,
        phase=support.phase,
        label=support.product_label,
        support_ends=support.support_ends if isinstance(support.support_ends, date) else None,
        extended_ends=support.extended_ends if isinstance(support.extended_ends, date) else None,
    )


def support_verdict(what: str, support: Support, policy: Policy, as_of: date) -> Verdict:
    """Judge a lifecycle phase.  ``what`` names the thing ("Kubernetes 1.31 (EKS)")."""
    return replace(_support_verdict(what, support, policy, as_of), support=support_window(support))


def _support_verdict(what: str, support: Support, policy: Policy, as_of: date) -> Verdict:
    evidence = support_evidence(support)
    phase = support.phase
    if phase is Phase.UNKNOWN:
        return Verdict(Status.UNKNOWN, Severity.MEDIUM, f"{what}: support status unknown: {support.reason}", evidence)
    if phase is Phase.UNRELEASED:
        return Verdict(Status.UNKNOWN, Severity.MEDIUM, f"{what}: {support.reason}", evidence)
    if phase is Phase.ENDED:
        last = support.extended_ends if support.extended_ends not in (None, False) else support.support_ends
        message = f"{what} reached end of support {_when(last)}".rstrip()
        if support.reason:
            message += f" ({support.reason})"
        return Verdict(Status.FAIL, Severity.HIGH, message, evidence)
    if phase is Phase.EXTENDED:
        ends = support.phase_ends
        message = (
            f"{what} is past end of standard support {_when(support.support_ends)}; "
            f"in {support.phase_label} until {ends if ends else 'an unannounced date'}"
        )
        status = policy.extended_support
        if ends and (ends - as_of).days <= policy.support_warning_days:
            message += f" ({(ends - as_of).days} days left)"  # said whatever the status: it is the deadline
            if status is Status.PASS:
                status = Status.WARN
        severity = (
            Severity.HIGH if status is Status.FAIL else Severity.MEDIUM if status is Status.WARN else Severity.INFO
        )
        return Verdict(status, severity, message, evidence)
    # ACTIVE or MAINTENANCE: supported
    end = support.support_ends if isinstance(support.support_ends, date) else None
    phase_word = "in maintenance support" if phase is Phase.MAINTENANCE else "supported"
    if end is None:
        note = f" ({support.reason})" if support.reason else ""
        return Verdict(Status.PASS, Severity.INFO, f"{what} is {phase_word}; no end date announced{note}", evidence)
    days_left = (end - as_of).days
    extended = support.extended_ends
    after = ""
    if isinstance(extended, date):
        after = f", then extended support until {extended}"
    if days_left <= policy.support_warning_days:
        return Verdict(
            Status.WARN,
            Severity.MEDIUM,
            f"{what} is {phase_word} until {end} — {days_left} days left{after}",
            evidence,
        )
    return Verdict(Status.PASS, Severity.INFO, f"{what} is {phase_word} until {end}{after}", evidence)


_PATCH_NUMBER = re.compile(r"(?<![\d.])\d+\.\d+\.\d+")


def has_patch_number(version: str) -> bool:
    """Whether a version string names a patch release: ``v1.33.4``, ``containerd://1.7.2-k3s1``, ``4.14.3``.

    ``v1.36``, ``containerd://1.7-k3s2`` or ``4.14`` name a release line only; parsers read the
    missing patch as 0, which must not be judged as if the node ran the .0 release.  Callers that
    parsed the version themselves should say so with ``patch_verdict(patch_given=…)``.
    """
    text = version.strip()
    scheme, sep, rest = text.partition("://")
    if sep and scheme.replace("-", "").isalnum():
        text = rest
    return _PATCH_NUMBER.search(text) is not None


def vendor_note(build: str) -> str:
    """What a CVE match by upstream version means for a vendor build (evidence ``vendor_note``)."""
    return (
        f"{build} is a vendor build; vendors backport fixes, so an upstream range match means "
        "'upstream says affected', to be confirmed with the vendor's advisories"
    )


def patch_verdict(
    what: str,
    running: str,
    running_key: Sequence[int],
    releases: Sequence[PatchRelease],
    line: str,
    policy: Policy,
    as_of: date,
    cve_fixes: Sequence[tuple[Match, date | None]] = (),
    source: str = "",
    *,
    patch_given: bool | None = None,
    running_released: date | None = None,
    vendor_build: str = "",
) -> Verdict:
    """How far ``running`` is behind the newest patch of its line released on or before ``as_of``.

    ``cve_fixes`` are known CVEs of the running version with the release date of their fix.
    WARN when behind; FAIL when a newer patch fixes a known CVE and has been out longer than the
    patch window (PCI DSS 6.3.3: one month), or when policy makes being behind a failure.

    Only a release the data knows can be judged current: a version without a patch number
    (``patch_given`` False: ``v1.36`` is not ``v1.36.0``), or one that is no release of the line
    published by ``as_of`` and not older than its newest (later than the data, released after
    the as-of date, on ``running_released``, or no real release: ``1.33.99999999999999999999``),
    is UNKNOWN with the reason.  Behind a known newer patch is judged whatever the running
    version is: that much is known.  ``patch_given`` None reads it from ``running`` (see
    ``has_patch_number``).

    ``vendor_build`` names a vendor package (``v1.31.4-eks-…``, ``containerd://1.7.27+bottlerocket``):
    its CVEs are matched by the upstream version it carries, a presumption, since vendors backport
    fixes.  A newer upstream patch that fixes them then WARNs and says so, as the
    ``*_free_of_known_cves`` checks do for the same CVEs, instead of failing.
    """
    window = policy.patch_window_days
    evidence: dict[str, JSONValue] = {
        "running": running,
        "release_line": line,
        "patch_window_days": window,
        "releases_known": len(releases),
        "release_data": source,
    }
    if patch_given is None:
        patch_given = has_patch_number(running)
    if not patch_given:
        return unknown(
            f"{what}: the version {running!r} has no patch number, so its patch level cannot be compared "
            f"(it is not read as .0)",
            **evidence,
        )
    if not releases:
        return unknown(f"{what}: no patch releases of the {line} line are known to the lifecycle data", **evidence)
    key = tuple(running_key)
    newer = [r for r in releases if tuple(release_key(r.version)[: len(key)]) > key]
    latest = releases[-1]
    evidence["newest_patch"] = latest.version
    evidence["newest_patch_released"] = latest.date.isoformat()
    if not newer:
        known = any(tuple(release_key(r.version)[: len(key)]) == key for r in releases)
        if not known:
            if running_released is not None:
                evidence["running_released"] = running_released.isoformat()
            when = (
                f"it was released on {running_released}, after the as-of date"
                if running_released is not None and running_released > as_of
                else "the lifecycle data does not know it (newer than the data, or no real release)"
            )
            return unknown(
                f"{what}: {running!r} is not a {line} release published by {as_of} (the newest is {latest.version}); "
                f"{when}, so it cannot be judged current",
                **evidence,
            )
        return Verdict(
            Status.PASS,
            Severity.INFO,
            f"{what} runs the newest patch of {line} released by {as_of}: {latest.version}",
            evidence,
        )
    first = min(newer, key=lambda r: release_key(r.version))
    days = (as_of - first.date).days
    evidence.update(
        {
            "patches_behind": len(newer),
            "newer_patch_available_since": first.date.isoformat(),
            "first_newer_patch": first.version,
            "days_behind": days,
        }
    )
    # Only a fix released on this line counts: a CVE fixed in the next minor (CVE-2023-2431 on
    # 1.23 is fixed in 1.24.14) needs an upgrade, not a patch, and no newer patch fixes it.
    newer_keys = {tuple(release_key(r.version)[: len(key)]) for r in newer}

    def on_line(m: Match) -> bool:
        return bool(m.fixed_in) and tuple(release_key(m.fixed_in or "")[: len(key)]) in newer_keys

    overdue = [(m, d) for m, d in cve_fixes if on_line(m) and d is not None and (as_of - d).days > window]
    if cve_fixes:
        evidence["fixed_cves"] = [
            {
                "id": m.id,
                "fixed_in": m.fixed_in,
                "fix_released": d.isoformat() if d else None,
                "fixed_on_this_line": on_line(m),
            }
            for m, d in cve_fixes
        ]
    base = (
        f"{what} is {len(newer)} patch release{'s' if len(newer) != 1 else ''} behind {latest.version} "
        f"(released {latest.date}); a newer patch has been available since {first.date} ({days} days)"
    )
    gap = PatchGap(
        line=line,
        running=running,
        newest=latest.version,
        newest_released=latest.date,
        behind=len(newer),
        first_newer=first.version,
        available_since=first.date,
        days_behind=days,
        window_days=window,
        fixes_known_cves=tuple(sorted({m.id for m, _ in cve_fixes if on_line(m)})),
    )
    ids = ", ".join(sorted({m.id for m, _ in overdue}))
    if overdue and not vendor_build:
        return Verdict(
            Status.FAIL,
            Severity.HIGH,
            f"{base}; it fixes known CVEs ({ids}) and has been out longer than the {window}-day window",
            evidence,
            patch=gap,
        )
    if overdue:
        evidence["vendor_note"] = vendor_note(vendor_build)
    if days > window and policy.patch_behind is Status.FAIL:
        return Verdict(Status.FAIL, Severity.HIGH, f"{base}, longer than the {window}-day window", evidence, patch=gap)
    if overdue:
        return Verdict(
            Status.WARN,
            Severity.MEDIUM,
            f"{base}; upstream it fixes known CVEs ({ids}) and has been out longer than the {window}-day window, "
            "but this vendor build may carry the fixes: confirm with the vendor's advisories",
            evidence,
            patch=gap,
        )
    inside = "within" if days <= window else "beyond"
    return Verdict(
        Status.WARN,
        Severity.MEDIUM if days > window else Severity.LOW,
        f"{base}, {inside} the {window}-day window",
        evidence,
        patch=gap,
    )


def cve_data_gap(ctx: Context) -> tuple[str, int | None] | None:
    """Why the CVE data cannot say "no known CVE" on the as-of date, and by how many days; None when it can.

    The data speaks up to the date it covers to (``OsvFeed.covered_until``).  When the as-of date is
    more than the policy's ``lifecycle_stale_days`` after it (the limit the report's stale-data
    warning uses), or the data does not say its date, a version it holds no CVE for is unknown, not
    clean: unknown is never pass.  A known CVE stays known, so this only reaches a "no known CVE" result.
    """
    covered = ctx.osv.covered_until
    limit = ctx.policy.lifecycle_stale_days
    if covered is None:
        return "the CVE data does not say what date it covers to; run 'patchlevel lifecycle update'", None
    gap = (ctx.as_of - covered).days
    if gap <= limit:
        return None
    return (
        f"the as-of date {ctx.as_of} is {gap} days after the CVE data ends ({covered}; the policy's "
        f"lifecycle_stale_days allows {limit}): CVEs published since are unknown; run 'patchlevel lifecycle update'",
        gap,
    )


def _cve_severity(text: str) -> Severity | None:
    word = text.strip().lower()
    return Severity(word) if word in {s.value for s in Severity} else None


def cve_vulnerabilities(
    installed: str,
    fixable: Iterable[Match] = (),
    unfixed: Iterable[Match] = (),
    undetermined: Iterable[Match] = (),
    *,
    fixable_status: Status = Status.FAIL,
    fix_released: Mapping[str, date | None] | None = None,
    as_of: date | None = None,
    window_days: int | None = None,
) -> tuple[OpenVulnerability, ...]:
    """Known CVEs of a component release as typed open vulnerabilities, each with its own status:
    ``fixable_status`` for those a release fixes, WARN for those no release fixes yet (mitigate and
    record), UNKNOWN for records whose ranges cannot place this release.  Waivers match these ids.

    ``fix_released`` (CVE id -> release date of its ``fixed_in``), ``as_of`` and ``window_days`` (the
    policy's patch window) time a fixable CVE as the ``*_patch_current`` checks do: its clock starts
    when the fixing release came out, and it is ``overdue`` once that is more than the window before
    the as-of date (PCI DSS 6.3.3).  Without a fix date its clock stays the publication date, untimed.
    The severity is the record's only where it states one (the Go database does not)."""
    out: list[OpenVulnerability] = []
    for matches, status in ((fixable, fixable_status), (unfixed, Status.WARN), (undetermined, Status.UNKNOWN)):
        for m in matches:
            released = fix_released.get(m.id) if fix_released is not None and m.fixed_in else None
            age = (as_of - released).days if released and as_of and window_days is not None else None
            timed = age is not None
            out.append(
                OpenVulnerability(
                    id=m.id,
                    severity=_cve_severity(m.severity),
                    package=m.package,
                    installed_version=installed,
                    fixed_version=m.fixed_in,
                    clock_start=released if timed else m.published,
                    clock="fix release date" if timed else "publication date" if m.published else "",
                    age_days=age,
                    sla_days=window_days if timed else None,
                    overdue=age is not None and window_days is not None and age > window_days,
                    status=status,
                )
            )
    return tuple(out)


def cve_fix_dates(
    matches: Iterable[Match], catalog: Catalog, product: str = "kubernetes"
) -> list[tuple[Match, date | None]]:
    return [(m, catalog.release_date(product, m.fixed_in) if m.fixed_in else None) for m in matches]
