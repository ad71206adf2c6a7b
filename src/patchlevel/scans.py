"""Scan evidence, normalised: what every importer (Trivy, Grype, trivy-operator) produces.

Importers (``patchlevel.importers``) turn scanner output into these records; the image checks
read only these.  A value the scanner did not give stays ``None`` so checks can say UNKNOWN
instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from patchlevel.model import Severity


@dataclass(frozen=True, slots=True)
class CvssScore:
    """A CVSS base score a report carries (NVD's, for ranking by ``severity_source: nvd``)."""

    version: str  # "3.1", "3.0", "4.0"
    score: float  # base score, 0.0 to 10.0
    vector: str = ""
    source: str = ""  # who scored it, as the report says ("nvd", "nvd@nist.gov", a CNA's id); "" when unstated


@dataclass(frozen=True, slots=True)
class ReportedKev:
    """A report's own statement that a vulnerability is in CISA KEV (Grype's ``knownExploited``)."""

    cve: str
    date_added: date | None  # None: the report does not say
    due_date: date | None
    ransomware: bool | None = None  # "Known" -> True; CISA never says "no"


@dataclass(frozen=True, slots=True)
class ReportedEpss:
    """A report's own EPSS score (Grype's ``epss``), dated by the score date it carries."""

    cve: str
    score: float  # 0..1
    percentile: float | None  # 0..1; None: not given
    date: date | None  # the score date; None: the report does not say


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a scanner left a finding out of its list (Trivy's ``ExperimentalModifiedFindings``).

    ``status`` is the scanner's word: ``not_affected`` / ``fixed`` (a VEX statement the scanner
    applied), ``ignored`` (an ignore file such as ``.trivyignore``), ``affected``,
    ``under_investigation`` or ``unknown``.
    """

    status: str
    statement: str = ""  # the justification or ignore reason the scanner recorded
    source: str = ""  # what said so: a VEX document, ".trivyignore", …


@dataclass(frozen=True, slots=True)
class Vulnerability:
    id: str  # CVE-…, GHSA-…, ALAS-…
    severity: Severity | None  # None: the scanner gave no (or an unknown) severity
    package: str
    installed_version: str
    fixed_version: str | None  # None: no fix known; may hold several, comma separated
    status: str = ""  # scanner's status word: fixed, affected, will_not_fix, not-fixed, …
    published: date | None = None  # vulnerability publication date, when the report has it
    fix_released: date | None = None  # release date of the fix, when known
    title: str = ""
    url: str = ""
    # Risk-ranking inputs (issue 10), where the report has them:
    aliases: tuple[str, ...] = ()  # other ids of the same vulnerability (Grype's related CVEs of a GHSA)
    purl: str = ""  # the package URL of the vulnerable package (for VEX statements naming subcomponents)
    severity_origin: str = ""  # whose severity ``severity`` is (Trivy's SeveritySource, Grype's namespace)
    nvd_cvss: tuple[CvssScore, ...] = ()  # NVD's CVSS v3.x / v4.0 base scores
    known_exploited: ReportedKev | None = None  # the report says: in CISA KEV
    epss: ReportedEpss | None = None  # the report's EPSS score
    risk: float | None = None  # Grype's own risk score (shown, not used to rank)
    suppression: Suppression | None = None  # set on ``ScanReport.suppressed`` entries only

    @property
    def fixable(self) -> bool:
        return bool(self.fixed_version)

    @property
    def ids(self) -> tuple[str, ...]:
        """The id and its aliases, upper-case, without repeats."""
        if not self.aliases:  # the common case, kept cheap: it runs for every vulnerability of every image
            key = self.id.strip().upper()
            return (key,) if key else ()
        return tuple(dict.fromkeys(i.strip().upper() for i in (self.id, *self.aliases) if i.strip()))


@dataclass(frozen=True, slots=True)
class ScanReport:
    """One scan of one image."""

    source: str  # file path (or "cluster:" + object name for trivy-operator reports read live)
    format: str  # "trivy", "trivy-k8s", "grype", "trivy-operator"
    scanner: str  # "trivy", "grype"
    scanner_version: str | None
    scanned_at: datetime | None  # when the scan ran (timezone-aware, UTC)
    db_updated_at: datetime | None  # age of the vulnerability database, where the report has it
    artifact: str  # image reference as the scanner saw it ("" when unknown)
    repo_digests: tuple[str, ...]  # "registry/repo@sha256:…" forms
    manifest_digests: tuple[str, ...]  # bare "sha256:…" manifest (or index) digests
    image_id: str | None  # config digest ("sha256:…"), NOT a registry digest
    os_family: str | None
    os_name: str | None
    os_eosl: bool | None  # True: scanner says the OS is end of life; None: not stated
    vulnerabilities: tuple[Vulnerability, ...]
    created: datetime | None = None  # image creation date from its config, where the report has it
    # For trivy-operator and `trivy k8s`: the workload the report belongs to.
    namespace: str = ""
    workload_kind: str = ""
    workload_name: str = ""
    container: str = ""
    repo_tags: tuple[str, ...] = ()  # "registry/repo:tag" names the scanner saw for the image
    # What was scanned: "container_image", "filesystem", "repository", … ("" when the report does
    # not say).  Only container images can be evidence for a running image.
    artifact_type: str = ""
    cluster: str = ""  # `trivy k8s` ClusterName ("" when not given)
    # A scan that was attempted and failed (scanner missing, timed out, exited non-zero): why, in
    # one line.  Such a report is no scan evidence: the image checks judge the image unscanned.
    error: str = ""
    # What the scan examined for packages, as far as the report shows it (see ``absence_unproven``):
    # how many package targets it scanned (Trivy results of class os-pkgs or lang-pkgs; a Grype or
    # trivy-operator scan that identified the image's OS counts its OS packages as one); 0 when the
    # report shows that no package was scanned (only config or secret results, ``Results`` empty,
    # null or absent); None when the report does not say (Grype's JSON lists matches only).
    package_targets: int | None = None
    # Why the report's vulnerability list is known to be incomplete ("" when it is not): e.g. a
    # trivy-operator summary that counts more vulnerabilities than the report lists.
    list_incomplete: str = ""
    # Findings the scanner left out of ``vulnerabilities`` and said why (Trivy with --show-suppressed:
    # a VEX statement it applied, or an ignore file).  Each carries its ``suppression``; only the
    # image checks read them: a VEX ``not_affected``/``fixed`` stays out of the SLA judgement and is
    # shown, anything else (an ignore file is no VEX) is judged like a listed vulnerability.
    suppressed: tuple[Vulnerability, ...] = ()

    @property
    def absence_unproven(self) -> str:
        """Why this report cannot show that the image has no vulnerability beyond those it lists.

        "" when it can: it scanned packages (or lists vulnerabilities, which only a package scan
        finds) and its list is complete.  Only such a report is evidence of "no vulnerability".
        """
        if self.error:
            return f"the scan failed ({self.error.split(' — ', 1)[0]})"
        if self.list_incomplete:
            return self.list_incomplete
        if self.package_targets == 0:
            return (
                "the scan examined no package (its report holds only configuration or secret results, "
                "or no result at all)"
            )
        if self.package_targets is None and not self.vulnerabilities:
            return "the report lists no vulnerability and does not show that any package was scanned"
        return ""

    @property
    def is_image(self) -> bool:
        """Whether the report may describe a container image (unstated types are taken as images)."""
        return self.artifact_type in ("", CONTAINER_IMAGE)

    @property
    def digests(self) -> tuple[str, ...]:
        """Every registry digest the report names: from repo digests and manifest digests."""
        found = [d.rpartition("@")[2] for d in self.repo_digests] + list(self.manifest_digests)
        return tuple(dict.fromkeys(found))


CONTAINER_IMAGE = "container_image"


def failed_scan(
    source: str,
    scanner: str,
    artifact: str,
    error: str,
    *,
    scanned_at: datetime | None,
    repo_digest: str | None = None,
    image_id: str | None = None,
) -> ScanReport:
    """The record of a scan that did not produce a report (see ``ScanReport.error``).

    ``repo_digest`` ("registry/repo@sha256:…") or ``image_id`` name what was to be scanned, so
    the failure is matched to its image like a report would be.
    """
    return ScanReport(
        source=source,
        format=scanner,
        scanner=scanner,
        scanner_version=None,
        scanned_at=scanned_at,
        db_updated_at=None,
        artifact=artifact,
        repo_digests=(repo_digest,) if repo_digest else (),
        manifest_digests=(),
        image_id=image_id,
        os_family=None,
        os_name=None,
        os_eosl=None,
        vulnerabilities=(),
        artifact_type=CONTAINER_IMAGE,
        error=error,
    )
