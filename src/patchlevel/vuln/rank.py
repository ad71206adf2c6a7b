"""The risk rank of one image vulnerability (PCI DSS 6.3.1): which severity its SLA applies, and why.

The rank is decided in this order, and the result names the source that set it:

1. **Known exploited** (``kev``): a vulnerability in CISA's KEV catalog on the as-of date is ranked
   critical whatever its CVSS.  KEV comes from the bundled catalog (``lifecycle update`` refreshes
   it) and from the scan report itself (Grype's ``knownExploited``).  A vulnerability either lists
   counts: CISA adds entries and practically never withdraws them, and a report's database may be
   older or newer than the bundled catalog; when both list it, the report's entry (its dates) is
   shown unless the bundled catalog is newer than the report's vulnerability database.
2. **The base severity** under the policy's ``severity_source``: ``report`` (default) takes the
   scanner report's vendor severity (a distribution's, GitHub's, or NVD's, as the report says);
   ``nvd`` takes NVD's CVSS base score (v3.x, else v4.0; the qualitative scale of both CVSS
   versions: 9.0-10.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low, 0.0 none) and falls
   back to the report's severity when the report carries no NVD score (the reason says so);
   ``highest`` takes the higher of the two (the report's on a tie).
3. **EPSS** (``epss``): with the policy's ``epss_threshold`` set, a vulnerability whose EPSS score
   is at or above it is raised to high when its base severity is lower.  A vulnerability without any
   severity stays unknown: raising it to high could weaken an UNKNOWN verdict into a WARN.  The score
   is the bundled one (``lifecycle update`` fetches FIRST's daily file) or the report's (Grype's
   ``epss``), whichever is dated later (the report's on a tie); a score dated after the as-of date
   describes a later day and is not used.

Nothing here reads files or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from patchlevel.model import SEVERITY_RANK, JSONValue, Severity
from patchlevel.policy import Policy, SeveritySource
from patchlevel.scans import CvssScore, Vulnerability
from patchlevel.vuln.epss import EpssScores
from patchlevel.vuln.kev import KevCatalog

RANK_KEV: Final = "kev"
RANK_EPSS: Final = "epss"
RANK_REPORT: Final = "report"
RANK_NVD: Final = "nvd"
RANK_LABELS: Final = {
    RANK_KEV: "CISA KEV",
    RANK_EPSS: "EPSS",
    RANK_REPORT: "report severity",
    RANK_NVD: "NVD CVSS",
    "": "no severity",
}


def cvss_severity(score: float) -> Severity:
    """The CVSS v3.x / v4.0 qualitative rating of a base score ("None" for 0.0 is INFO here)."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def nvd_score(vulnerability: Vulnerability) -> CvssScore | None:
    """NVD's v3.x score (the version NVD itself assesses), else its v4.0 score; None when the report has neither."""
    for major in ("3", "4"):
        for score in vulnerability.nvd_cvss:
            if score.version.startswith(major):
                return score
    return None


@dataclass(frozen=True, slots=True)
class KnownExploited:
    """A CISA KEV entry of a vulnerability, and where patchlevel read it."""

    cve: str
    date_added: date | None  # None: the report that says so gives no date
    due_date: date | None  # the US federal remediation due date (BOD 22-01)
    source: str  # "CISA KEV catalog 2025.08.25 (2025-08-25)", "the grype report (database of 2025-06-19)"
    ransomware: bool | None = None

    def describe(self) -> str:
        added = f"added {self.date_added}" if self.date_added else "date added not stated"
        due = f", federal due date {self.due_date}" if self.due_date else ""
        return f"known exploited (CISA KEV, {added}{due})"

    def evidence(self) -> dict[str, JSONValue]:
        return {
            "cve": self.cve,
            "date_added": self.date_added.isoformat() if self.date_added else None,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "known_ransomware_use": self.ransomware,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class EpssEvidence:
    """An EPSS score of a vulnerability, and where patchlevel read it."""

    cve: str
    score: float
    percentile: float | None
    date: date | None
    source: str  # "FIRST EPSS of 2026-12-01 (model v2025.03.14)", "the grype report"

    def describe(self) -> str:
        percentile = f", percentile {self.percentile:.3f}" if self.percentile is not None else ""
        when = f" of {self.date}" if self.date else ""
        return f"EPSS {self.score:.5f}{percentile}{when} ({self.source})"

    def evidence(self) -> dict[str, JSONValue]:
        return {
            "cve": self.cve,
            "score": self.score,
            "percentile": self.percentile,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Rank:
    """The severity a vulnerability's SLA applies, the source that set it, and every input considered."""

    severity: Severity | None
    source: str  # RANK_KEV, RANK_EPSS, RANK_REPORT, RANK_NVD; "" when no source gives a severity
    reason: str  # one line: why this rank
    report_severity: Severity | None
    nvd: CvssScore | None = None
    known_exploited: KnownExploited | None = None
    epss: EpssEvidence | None = None
    # The severity it would have without CISA KEV: its own window still holds when that ends sooner.
    severity_without_kev: Severity | None = None

    @property
    def nvd_severity(self) -> Severity | None:
        return cvss_severity(self.nvd.score) if self.nvd is not None else None

    def evidence(self) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = {
            "severity": self.severity.value if self.severity else "unknown",
            "source": self.source or None,
            "reason": self.reason,
            "report_severity": self.report_severity.value if self.report_severity else None,
        }
        if self.nvd is not None:
            out["nvd_cvss"] = {
                "version": self.nvd.version,
                "score": self.nvd.score,
                "vector": self.nvd.vector or None,
                "scored_by": self.nvd.source or None,
                "severity": cvss_severity(self.nvd.score).value,
            }
        if self.known_exploited is not None:
            out["known_exploited"] = self.known_exploited.evidence()
        if self.epss is not None:
            out["epss"] = self.epss.evidence()
        return out


def known_exploited(
    vulnerability: Vulnerability,
    catalog: KevCatalog | None,
    as_of: date,
    *,
    report_data_date: date | None = None,
    scanner: str = "scan",
) -> KnownExploited | None:
    """The KEV entry of a vulnerability (or an alias) on ``as_of``, from the catalog or the report."""
    bundled: KnownExploited | None = None
    if catalog is not None:
        for cve in vulnerability.ids:
            entry = catalog.lookup(cve, as_of)
            if entry is not None:
                bundled = KnownExploited(
                    entry.cve_id,
                    entry.date_added,
                    entry.due_date,
                    f"CISA KEV catalog {catalog.version} ({catalog.released})",
                    entry.known_ransomware,
                )
                break
    reported: KnownExploited | None = None
    said = vulnerability.known_exploited
    if said is not None and (said.date_added is None or said.date_added <= as_of):
        database = f", vulnerability database of {report_data_date}" if report_data_date else ""
        reported = KnownExploited(
            said.cve, said.date_added, said.due_date, f"the {scanner} report{database}", said.ransomware
        )
    if bundled is None or reported is None:
        return bundled or reported
    # Both list it: the report's entry, unless the bundled catalog is newer (or the report's data is undated).
    assert catalog is not None
    return bundled if report_data_date is None or catalog.released > report_data_date else reported


def epss_score(vulnerability: Vulnerability, scores: EpssScores | None, as_of: date) -> EpssEvidence | None:
    """The EPSS score to rank by: the bundled one only when dated later than the report's (and not after ``as_of``)."""
    bundled: EpssEvidence | None = None
    if scores is not None and scores.score_date <= as_of:
        for cve in vulnerability.ids:
            found = scores.lookup(cve)
            if found is not None:
                bundled = EpssEvidence(
                    found.cve,
                    found.score,
                    found.percentile,
                    found.date,
                    f"FIRST EPSS scores, model {found.model_version}",
                )
                break
    reported: EpssEvidence | None = None
    said = vulnerability.epss
    if said is not None and (said.date is None or said.date <= as_of):
        reported = EpssEvidence(said.cve, said.score, said.percentile, said.date, "the scan report")
    if bundled is None or reported is None:
        return bundled or reported
    assert bundled.date is not None
    return bundled if reported.date is None or bundled.date > reported.date else reported


def _base(vulnerability: Vulnerability, source: SeveritySource) -> tuple[Severity | None, str, str, CvssScore | None]:
    """(severity, source, reason, NVD score) before KEV and EPSS."""
    reported = vulnerability.severity
    origin = f" ({vulnerability.severity_origin})" if vulnerability.severity_origin else ""
    report_reason = f"the report's severity {reported.value}{origin}" if reported else "the report gives no severity"
    nvd = nvd_score(vulnerability)
    nvd_severity = cvss_severity(nvd.score) if nvd else None
    nvd_reason = f"NVD CVSS v{nvd.version} {nvd.score:.1f} ({nvd_severity.value})" if nvd and nvd_severity else ""
    report_or_none = RANK_REPORT if reported else ""
    if source is SeveritySource.REPORT or nvd_severity is None:
        if source is not SeveritySource.REPORT:
            report_reason += f" (no NVD CVSS v3/v4 in the report for severity_source {source.value})"
        return reported, report_or_none, report_reason, nvd
    if source is SeveritySource.NVD:
        return nvd_severity, RANK_NVD, nvd_reason, nvd
    # highest: the higher of the two, the report's on a tie
    if reported is not None and SEVERITY_RANK[reported] >= SEVERITY_RANK[nvd_severity]:
        return reported, RANK_REPORT, f"{report_reason}, not lower than {nvd_reason}", nvd
    lower = f"the report's {reported.value}" if reported else "the report's unknown severity"
    return nvd_severity, RANK_NVD, f"{nvd_reason}, higher than {lower}", nvd


def rank(
    vulnerability: Vulnerability,
    policy: Policy,
    as_of: date,
    *,
    kev: KevCatalog | None = None,
    epss: EpssScores | None = None,
    report_data_date: date | None = None,
    scanner: str = "scan",
) -> Rank:
    """The rank of one vulnerability under ``policy`` on ``as_of`` (see the module docstring)."""
    severity, source, reason, nvd = _base(vulnerability, policy.severity_source)
    exploited = known_exploited(vulnerability, kev, as_of, report_data_date=report_data_date, scanner=scanner)
    score = epss_score(vulnerability, epss, as_of)

    threshold = policy.epss_threshold
    if threshold is not None and score is not None and score.score >= threshold:
        if severity is not None and SEVERITY_RANK[severity] < SEVERITY_RANK[Severity.HIGH]:
            reason = f"{score.describe()} at or above the policy's threshold {threshold}: raised to high from {reason}"
            severity, source = Severity.HIGH, RANK_EPSS
        elif severity is None:
            reason += f"; {score.describe()} is at or above the threshold, but an unknown severity stays unknown"
    if exploited is not None:
        why = f"{exploited.describe()}: critical whatever its CVSS"
        return Rank(Severity.CRITICAL, RANK_KEV, why, vulnerability.severity, nvd, exploited, score, severity)
    return Rank(severity, source, reason, vulnerability.severity, nvd, exploited, score, severity)
