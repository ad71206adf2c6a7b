"""Risk ranking of image vulnerabilities (issue 10, PCI DSS 6.3.1): CISA KEV, EPSS, report or NVD severity.

Real records: the scan reports of tests/data/scans (unchanged), the CISA KEV catalog bundled with the
package (src/patchlevel/lifecycle/data/kev, CC0), and tests/data/kev.  EPSS files are constructed here
in FIRST's published format (a ``#model_version:…,score_date:…`` comment line, then
``cve,epss,percentile``, some scores in exponent form), since EPSS data is not bundled.
"""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from builders import knowledge, make_context, run
from patchlevel.checks.common import Context
from patchlevel.checks.images import fixable_vulnerabilities_patched_in_time
from patchlevel.evaluate import build_report, data_sources
from patchlevel.inventory import Inventory
from patchlevel.knowledge import Knowledge, scan_cves
from patchlevel.model import Finding, OpenVulnerability, Severity, Status
from patchlevel.policy import Policy, SeveritySource
from patchlevel.scans import CvssScore, ReportedEpss, ReportedKev, Vulnerability
from patchlevel.vuln.epss import EpssScores, load_epss_data
from patchlevel.vuln.kev import KevCatalog, KevEntry, load_kev
from patchlevel.vuln.rank import (
    RANK_EPSS,
    RANK_KEV,
    RANK_NVD,
    RANK_REPORT,
    cvss_severity,
    epss_score,
    known_exploited,
    nvd_score,
    rank,
)
from test_images import BUSYBOX_DIGEST, DATA, make_inventory, make_pod, report

CHECK = "fixable_vulnerabilities_patched_in_time"
TEAMDOJO_DIGEST = "sha256:" + "d" * 64
TEAMDOJO = f"image/docker.io/library/teamdojo@{TEAMDOJO_DIGEST}"
BUSYBOX = f"image/docker.io/library/busybox@{BUSYBOX_DIGEST}"
DEBIAN_IMAGE_ID = "sha256:22ae3921bdaac434bb4cb92dbbc209e46b1f3f70e9fa0b5fbbb43ce7d452c72d"  # trivy all-statuses report
DEBIAN = "image/docker.io/noppaknopsta/example-app:main-159"


def context(inventory: Inventory, as_of: date, policy: Policy | None = None, **data: object) -> Context:
    """The check context as the evaluator builds it: bundled KEV unless ``kev=`` says otherwise."""
    ctx = make_context(inventory, as_of=as_of, policy=policy)
    return dataclasses.replace(ctx, kev=data.get("kev", knowledge().kev), epss=data.get("epss"))  # type: ignore[arg-type]


def judge(ctx: Context, subject: str) -> Finding:
    found = {f.subject: f for f in run(fixable_vulnerabilities_patched_in_time, ctx)}
    return found[subject]


def typed(found: Finding, vulnerability: str) -> OpenVulnerability:
    (only,) = {v for v in found.vulnerabilities if v.id == vulnerability}
    return only


def detail(found: Finding, vulnerability: str) -> dict[str, object]:
    return next(v for v in found.evidence["vulnerabilities"] if v["id"] == vulnerability)


# ------------------------------------------------------------------------------------------
# CISA KEV: critical whatever its CVSS


def teamdojo() -> Inventory:
    # DefectDojo's early SchemaVersion 2 report of teamdojo:latest (alpine 3.9.4): CVE-2020-15999 in
    # freetype is MEDIUM (NVD CVSS 3.1 6.5), fixed in 2.9.1-r3, published 2020-11-03; the bundled CISA
    # KEV catalog added it on 2021-11-03 with the federal due date 2021-11-17.  The report has no
    # digest: it is matched by tag.
    pod = make_pod("dojo", "teamdojo:latest", f"docker.io/library/teamdojo@{TEAMDOJO_DIGEST}")
    return make_inventory([pod], scans=[report("trivy/defectdojo-scheme2-alpine-3.9-many-severities.json")])


def test_a_known_exploited_medium_vulnerability_fails_the_critical_window() -> None:
    found = judge(context(teamdojo(), date(2021, 12, 20)), TEAMDOJO)
    assert found.status is Status.FAIL
    assert (
        "1 fixable known exploited vulnerability open longer than the 30-day window for known exploited "
        "vulnerabilities (clock: date added to CISA KEV): CVE-2020-15999 known exploited (CISA KEV, added "
        "2021-11-03, federal due date 2021-11-17)"
    ) in found.message
    kev = typed(found, "CVE-2020-15999")
    assert (kev.severity, kev.rank_source, kev.status, kev.overdue) == (Severity.CRITICAL, RANK_KEV, Status.FAIL, True)
    assert (kev.known_exploited_due, kev.clock_start, kev.age_days, kev.sla_days) == (
        date(2021, 11, 17),
        date(2021, 11, 3),
        47,
        30,
    )
    ranked = detail(found, "CVE-2020-15999")["rank"]
    assert ranked["report_severity"] == "medium"  # type: ignore[index]
    assert ranked["nvd_cvss"]["score"] == 6.5  # type: ignore[index]
    assert ranked["known_exploited"]["source"] == "CISA KEV catalog 2025.08.25 (2025-08-25)"  # type: ignore[index]
    assert found.evidence["rank_sources"] == {"kev": 1, "report": 4}
    assert found.evidence["known_exploited"][0]["due_date"] == "2021-11-17"  # type: ignore[index]


@pytest.mark.parametrize(("day", "status"), [(date(2021, 12, 3), Status.PASS), (date(2021, 12, 4), Status.FAIL)])
def test_the_known_exploited_window_on_both_sides_of_its_last_day(day: date, status: Status) -> None:
    # The clock starts the day CVE-2020-15999 was added to KEV (2021-11-03), later than its publication.
    kev = typed(judge(context(teamdojo(), day), TEAMDOJO), "CVE-2020-15999")
    assert kev.status is status and kev.clock_start == date(2021, 11, 3)


def test_without_kev_the_same_vulnerability_keeps_the_reports_medium_and_is_not_timed() -> None:
    found = judge(context(teamdojo(), date(2021, 12, 20), kev=None), TEAMDOJO)
    medium = typed(found, "CVE-2020-15999")
    assert (medium.severity, medium.rank_source, medium.status) == (Severity.MEDIUM, RANK_REPORT, Status.PASS)
    assert medium.known_exploited_due is None
    assert "known exploited" not in found.message


def _kev_listing(cve: str, added: date) -> KevCatalog:
    return KevCatalog("test", date(2021, 12, 31), {cve: KevEntry(cve, "v", "p", "n", added, None, None)})


def test_a_kev_listing_never_gives_a_fix_more_time_than_its_own_severity() -> None:
    # CVE-2019-12900 (libbz2) is critical in the report, published 2019-06-19: on 2021-12-20 it is long
    # past the 30-day critical window.  Listed in KEV on 2021-12-01 it would be 19 days into the KEV
    # window: the earlier deadline holds, so adding KEV evidence keeps the FAIL and its own clock.
    day = date(2021, 12, 20)
    without = typed(judge(context(teamdojo(), day, kev=None), TEAMDOJO), "CVE-2019-12900")
    found = judge(context(teamdojo(), day, kev=_kev_listing("CVE-2019-12900", date(2021, 12, 1))), TEAMDOJO)
    listed = typed(found, "CVE-2019-12900")
    assert (without.status, without.clock_start) == (Status.FAIL, date(2019, 6, 19))
    assert (listed.status, listed.rank_source, listed.clock_start, listed.age_days, listed.sla_days) == (
        Status.FAIL,
        RANK_KEV,
        date(2019, 6, 19),
        without.age_days,
        30,
    )
    assert "known exploited" in found.message


def test_a_kev_listing_with_a_shorter_window_than_the_policys_critical_one_counts_from_its_date() -> None:
    # critical gets 90 days, known exploited 14: published 2019-06-19 (deadline 2019-09-17), listed on
    # 2021-12-01 (deadline 2021-12-15): the own window ended first, so the finding fails on it either way.
    policy = Policy(sla_days={Severity.CRITICAL: 90, Severity.HIGH: 90}, known_exploited_sla_days=14)
    kev = _kev_listing("CVE-2019-12900", date(2021, 12, 1))
    found = judge(context(teamdojo(), date(2021, 12, 10), policy, kev=kev), TEAMDOJO)
    listed = typed(found, "CVE-2019-12900")
    assert (listed.status, listed.clock_start, listed.sla_days) == (Status.FAIL, date(2019, 6, 19), 90)
    assert "or their own severity's window where that ended sooner" in found.message


def test_kev_entries_added_after_the_as_of_date_do_not_count() -> None:
    # On 2021-11-02 CVE-2020-15999 was not yet in KEV.
    found = judge(context(teamdojo(), date(2021, 11, 2)), TEAMDOJO)
    assert typed(found, "CVE-2020-15999").rank_source == RANK_REPORT


def test_a_kev_catalog_from_the_tests_data_is_read_by_alias_too() -> None:
    catalog = load_kev(DATA / "kev" / "known_exploited_vulnerabilities.json")
    # GHSA-jfh8-c2jp-5v3q is Log4Shell; Grype names its CVE as a related vulnerability (an alias).
    log4j = Vulnerability("GHSA-jfh8-c2jp-5v3q", Severity.CRITICAL, "log4j-core", "2.14.1", "2.15.0",
                          aliases=("CVE-2021-44228",))  # fmt: skip
    entry = known_exploited(log4j, catalog, date(2022, 1, 1))
    assert entry is not None and (entry.date_added, entry.due_date) == (date(2021, 12, 10), date(2021, 12, 24))
    assert known_exploited(log4j, catalog, date(2021, 12, 9)) is None


def test_a_grype_reports_own_kev_entry_counts_and_the_newer_source_is_shown() -> None:
    catalog = load_kev(DATA / "kev" / "known_exploited_vulnerabilities.json")  # released 2025-08-25
    said = ReportedKev("CVE-2021-44228", date(2021, 12, 10), date(2021, 12, 24))
    v = Vulnerability("CVE-2021-44228", Severity.CRITICAL, "log4j-core", "2.14.1", "2.15.0", known_exploited=said)
    newer = known_exploited(v, catalog, date(2026, 1, 1), report_data_date=date(2025, 9, 1), scanner="grype")
    assert newer is not None and newer.source == "the grype report, vulnerability database of 2025-09-01"
    older = known_exploited(v, catalog, date(2026, 1, 1), report_data_date=date(2025, 8, 1), scanner="grype")
    assert older is not None and older.source.startswith("CISA KEV catalog 2025.08.25")
    only_report = known_exploited(v, None, date(2026, 1, 1), report_data_date=date(2025, 8, 1), scanner="grype")
    assert only_report is not None and only_report.due_date == date(2021, 12, 24)


# ------------------------------------------------------------------------------------------
# EPSS: at or above the policy's threshold raises to high


def busybox() -> Inventory:
    # grype 0.94 (descriptor.timestamp 2025-06-19): CVE-2021-42376 is Medium, fixed in 1.34.0, with
    # the report's own EPSS 0.00028 (percentile 0.06078) of 2025-06-18; no publication date, so the
    # clock is the first scan that listed the fix.
    pod = make_pod("bb", "busybox:1.32.1", f"docker.io/library/busybox@{BUSYBOX_DIGEST}")
    return make_inventory([pod], scans=[report("grype/defectdojo-grype-0.94-busybox-epss.json")])


FRESH = {"scan_max_age_days": 60}  # the 2025-06-19 scan counts as recent on 2025-07-25


def test_an_epss_score_at_the_threshold_raises_a_medium_to_high() -> None:
    policy = Policy(epss_threshold=0.00028, **FRESH)  # type: ignore[arg-type]
    found = judge(context(busybox(), date(2025, 7, 25), policy), BUSYBOX)
    raised = typed(found, "CVE-2021-42376")
    assert (raised.severity, raised.rank_source, raised.status) == (Severity.HIGH, RANK_EPSS, Status.WARN)
    assert (
        "1 fixable high vulnerability open longer than the 30-day window (clock: first scan reporting the fix): "
        "CVE-2021-42376"
    ) in found.message
    why = detail(found, "CVE-2021-42376")["rank"]
    assert why["epss"] == {  # type: ignore[index]
        "cve": "CVE-2021-42376",
        "score": 0.00028,
        "percentile": 0.06078,
        "date": "2025-06-18",
        "source": "the scan report",
    }
    assert "at or above the policy's threshold 0.00028: raised to high from the report's severity medium" in str(
        why["reason"]  # type: ignore[index]
    )


def test_an_epss_score_below_the_threshold_changes_nothing() -> None:
    policy = Policy(epss_threshold=0.0003, **FRESH)  # type: ignore[arg-type]
    medium = typed(judge(context(busybox(), date(2025, 7, 25), policy), BUSYBOX), "CVE-2021-42376")
    assert (medium.severity, medium.rank_source, medium.status) == (Severity.MEDIUM, RANK_REPORT, Status.PASS)
    off = typed(judge(context(busybox(), date(2025, 7, 25), Policy(**FRESH)), BUSYBOX), "CVE-2021-42376")  # type: ignore[arg-type]
    assert off.rank_source == RANK_REPORT  # no threshold: EPSS ranks nothing


def epss_file(directory: Path, day: str, rows: list[str]) -> Path:
    """An EPSS file in FIRST's layout, gzip-compressed, in ``directory/epss``."""
    folder = directory / "epss"
    folder.mkdir(parents=True, exist_ok=True)
    text = f"#model_version:v2025.03.14,score_date:{day}T12:55:00Z\ncve,epss,percentile\n" + "\n".join(rows) + "\n"
    path = folder / f"epss_scores-{day}.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    return path


def test_the_bundled_epss_score_is_preferred_only_when_it_is_newer_than_the_reports(tmp_path: Path) -> None:
    policy = Policy(epss_threshold=0.0002, **FRESH)  # type: ignore[arg-type]
    # Newer than the report's 2025-06-18: its 2e-05 (below the threshold) wins over the report's 0.00028.
    epss_file(tmp_path / "new", "2025-07-01", ["CVE-2021-42376,2e-05,0.00123", "CVE-2021-28831,0.5,0.99"])
    newer = load_epss_data(tmp_path / "new", only={"CVE-2021-42376"})
    assert newer is not None and len(newer) == 1 and newer.rows == 2
    kept = typed(judge(context(busybox(), date(2025, 7, 25), policy, epss=newer), BUSYBOX), "CVE-2021-42376")
    assert (kept.severity, kept.rank_source) == (Severity.MEDIUM, RANK_REPORT)
    # Older than the report's: the report's 0.00028 (at or above 0.0002) raises it.
    epss_file(tmp_path / "old", "2025-06-01", ["CVE-2021-42376,2e-05,0.00123"])
    older = load_epss_data(tmp_path / "old")
    raised = typed(judge(context(busybox(), date(2025, 7, 25), policy, epss=older), BUSYBOX), "CVE-2021-42376")
    assert (raised.severity, raised.rank_source) == (Severity.HIGH, RANK_EPSS)


def test_a_bundled_score_dated_after_the_as_of_date_is_not_used(tmp_path: Path) -> None:
    epss_file(tmp_path, "2025-08-01", ["CVE-2021-42376,0.9,0.99"])
    later = load_epss_data(tmp_path)
    v = Vulnerability("CVE-2021-42376", Severity.MEDIUM, "busybox", "1.32.1", "1.34.0")
    assert later is not None and epss_score(v, later, date(2025, 7, 31)) is None
    found = epss_score(v, later, date(2025, 8, 1))
    assert found is not None and (found.score, found.date) == (0.9, date(2025, 8, 1))


def test_an_unknown_severity_is_not_lowered_to_high_by_epss() -> None:
    v = Vulnerability("CVE-2099-0001", None, "pkg", "1", "2", epss=ReportedEpss("CVE-2099-0001", 0.9, 0.99, None))
    ranked = rank(v, Policy(epss_threshold=0.1), date(2026, 1, 1))
    assert (ranked.severity, ranked.source) == (None, "")
    assert "an unknown severity stays unknown" in ranked.reason


# ------------------------------------------------------------------------------------------
# severity_source: report | nvd | highest


def debian() -> Inventory:
    # DefectDojo's all-statuses Trivy report (CreatedAt 2024-01-15, debian 10.13), matched by image ID:
    # every vulnerability is LOW by Debian and has no fix; NVD scores CVE-2018-12699 9.8 (critical),
    # CVE-2018-12697/12698/12934 7.5 and CVE-2019-18276/CVE-2018-1000876 7.8 (high).
    pod = make_pod("app", "noppaknopsta/example-app:main-159", DEBIAN_IMAGE_ID)
    return make_inventory([pod], scans=[report("trivy/defectdojo-all-statuses-debian-10.13.json")])


def test_severity_source_nvd_changes_the_rank_of_a_real_trivy_reports_vulnerability() -> None:
    day = date(2024, 1, 20)
    by_report = judge(context(debian(), day), DEBIAN)
    assert by_report.status is Status.PASS and by_report.message == "no fixable critical or high vulnerability is open"
    low = typed(by_report, "CVE-2018-12699")
    assert (low.severity, low.rank_source, low.status) == (Severity.LOW, RANK_REPORT, Status.PASS)
    by_nvd = judge(context(debian(), day, Policy(severity_source=SeveritySource.NVD)), DEBIAN)
    critical = typed(by_nvd, "CVE-2018-12699")
    assert (critical.severity, critical.rank_source, critical.status) == (Severity.CRITICAL, RANK_NVD, Status.WARN)
    assert by_nvd.status is Status.WARN
    assert by_nvd.message.startswith("6 vulnerabilities with no fix released yet: CVE-2018-12699, ")
    ranked = detail(by_nvd, "CVE-2018-12699")["rank"]
    assert ranked["reason"] == "NVD CVSS v3.0 9.8 (critical)"  # type: ignore[index]
    assert ranked["report_severity"] == "low"  # type: ignore[index]
    # TEMP-0841856-B18BAF has no NVD score: the report's severity, and the reason says so.
    temp = typed(by_nvd, "TEMP-0841856-B18BAF")
    assert (temp.severity, temp.rank_source) == (Severity.LOW, RANK_REPORT)
    assert by_nvd.evidence["rank_sources"] == {"nvd": 7, "report": 1}


def test_severity_source_highest_takes_the_higher_and_the_report_on_a_tie() -> None:
    v = Vulnerability("CVE-1", Severity.HIGH, "p", "1", "2", nvd_cvss=(CvssScore("3.1", 7.2, source="nvd"),))
    tie = rank(v, Policy(severity_source=SeveritySource.HIGHEST), date(2026, 1, 1))
    assert (tie.severity, tie.source) == (Severity.HIGH, RANK_REPORT)
    lower = dataclasses.replace(v, severity=Severity.MEDIUM)
    higher = rank(lower, Policy(severity_source=SeveritySource.HIGHEST), date(2026, 1, 1))
    assert (higher.severity, higher.source) == (Severity.HIGH, RANK_NVD)
    assert higher.reason == "NVD CVSS v3.1 7.2 (high), higher than the report's medium"


def test_nvd_prefers_v3_and_falls_back_to_v4() -> None:
    both = Vulnerability("CVE-1", None, "p", "1", None,
                         nvd_cvss=(CvssScore("4.0", 9.3), CvssScore("3.1", 7.5)))  # fmt: skip
    assert nvd_score(both) == CvssScore("3.1", 7.5)
    v4 = dataclasses.replace(both, nvd_cvss=(CvssScore("4.0", 9.3),))
    assert nvd_score(v4) == CvssScore("4.0", 9.3)


@pytest.mark.parametrize(
    ("score", "severity"),
    [(10.0, Severity.CRITICAL), (9.0, Severity.CRITICAL), (8.9, Severity.HIGH), (7.0, Severity.HIGH),
     (6.9, Severity.MEDIUM), (4.0, Severity.MEDIUM), (3.9, Severity.LOW), (0.1, Severity.LOW), (0.0, Severity.INFO)],
)  # fmt: skip
def test_cvss_rating_scale(score: float, severity: Severity) -> None:
    assert cvss_severity(score) is severity


# ------------------------------------------------------------------------------------------
# The report: data sources and warnings


def test_epss_is_a_data_source_when_loaded_and_a_missing_feed_warns_only_with_a_threshold(tmp_path: Path) -> None:
    epss_file(tmp_path, "2025-07-01", ["CVE-2021-42376,2e-05,0.00123", "CVE-1999-0001,0.1,0.5"])
    scores = load_epss_data(tmp_path, only=scan_cves(busybox()))
    assert isinstance(scores, EpssScores) and len(scores) == 1
    with_epss = dataclasses.replace(knowledge(), epss=scores)
    (source,) = [s for s in data_sources(with_epss, Policy(), date(2025, 7, 3)) if s.name == "first-epss"]
    assert (source.retrieved, source.age_days, source.stale) == (date(2025, 7, 1), 2, False)
    assert source.source == "FIRST EPSS scores, model v2025.03.14 (epss_scores-2025-07-01.csv.gz)"
    assert source.detail == "2 scores, 1 of them for the scans' CVEs; score date 2025-07-01"

    def warnings(k: Knowledge, policy: Policy) -> list[str]:
        result = build_report(busybox(), k, policy, date(2025, 7, 3), datetime(2025, 7, 3, tzinfo=UTC))
        return [w for w in result.warnings if "EPSS" in w or "epss" in w]

    assert warnings(knowledge(), Policy()) == []
    (missing,) = warnings(knowledge(), Policy(epss_threshold=0.1))
    assert "no FIRST EPSS scores were found; run 'patchlevel lifecycle update'" in missing
    assert warnings(with_epss, Policy(epss_threshold=0.1)) == []
    (stale,) = [
        w
        for w in build_report(
            busybox(), with_epss, Policy(epss_threshold=0.1), date(2025, 8, 1), datetime(2025, 8, 1, tzinfo=UTC)
        ).warnings
        if "EPSS" in w
    ]
    assert stale.startswith("EPSS scores are of 2025-07-01, 31 days before the as-of date 2025-08-01")


def test_the_evaluator_gives_the_checks_kev_and_epss(tmp_path: Path) -> None:
    # Through build_report, as an audit runs: KEV from the bundled knowledge ranks CVE-2020-15999.
    result = build_report(teamdojo(), knowledge(), Policy(), date(2021, 12, 20), datetime(2021, 12, 20, tzinfo=UTC))
    (finding,) = [f for f in result.findings if f.check == CHECK]
    assert typed(finding, "CVE-2020-15999").known_exploited_due == date(2021, 11, 17)


def test_an_audit_reads_the_epss_scores_of_its_scans_cves_only(tmp_path: Path) -> None:
    """The whole feed is some 300,000 rows; audit.run keeps the scores of the CVEs its scans name, and reads no
    EPSS file at all for an input without scans."""
    import shutil

    from patchlevel.audit import AuditConfig, InventorySource, run
    from patchlevel.lifecycle.catalog import BUNDLED_DATA

    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data)
    epss_file(data, "2025-07-01", ["CVE-2021-42376,2e-05,0.00123", "CVE-1999-0001,0.1,0.5"])
    config = AuditConfig(as_of=date(2025, 7, 3), data_dir=data)
    scanned = run(config, InventorySource(busybox()))
    (source,) = [s for s in scanned.report.data_sources if s.name == "first-epss"]
    assert source.detail == "2 scores, 1 of them for the scans' CVEs; score date 2025-07-01"
    unscanned = run(config, InventorySource(dataclasses.replace(busybox(), scans=())))
    assert not [s for s in unscanned.report.data_sources if s.name == "first-epss"]
