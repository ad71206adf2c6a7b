"""Running scanners on the running images: a fake ``trivy``/``grype`` on PATH writes real reports.

The fake scanner is a small script (written per test) that logs its arguments and then behaves as
told by its environment: print a real report from tests/data/scans, fail, hang, or print garbage.
No real scanner runs here.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from patchlevel.cli import main
from patchlevel.errors import UsageError
from patchlevel.evaluate import evaluate
from patchlevel.images import running_images
from patchlevel.model import Status
from patchlevel.policy import Policy
from patchlevel.scanning import ScanTarget, default_cache_dir, run_scans, scan_targets
from test_image_checks import knowledge
from test_images import (
    ALPINE39_IMAGE_ID,
    BUSYBOX_DIGEST,
    DIGEST_A,
    DIGEST_B,
    LOCAL_ID,
    make_inventory,
    make_pod,
    pod_doc,
    status,
)

SCANS = Path(__file__).parent / "data" / "scans"
TRIVY_ALPINE = SCANS / "trivy" / "trivy-golden-alpine-3.9-eosl-current-schema.json"  # CreatedAt 2021-08-25
TRIVY_LEGACY = SCANS / "trivy" / "trivy-golden-alpine-3.9-legacy-list.json"  # no scan time at all
GRYPE_BUSYBOX = SCANS / "grype" / "defectdojo-grype-0.94-busybox-epss.json"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

FAKE_SCANNER = """#!{python}
import json, os, pathlib, subprocess, sys, time
log = pathlib.Path(os.environ["FAKE_LOG"])
entry = {{"argv": sys.argv[1:], "pid": os.getpid()}}
mode = os.environ.get("FAKE_MODE", "ok")
running = os.environ.get("FAKE_RUNNING")
if running:
    mine = pathlib.Path(running) / str(os.getpid())
    mine.touch()
    entry["running"] = len(list(pathlib.Path(running).iterdir()))
if mode == "hang":
    entry["child"] = subprocess.Popen(["sleep", "60"]).pid
with log.open("a") as out:
    out.write(json.dumps(entry) + "\\n")
if mode == "hang":
    time.sleep(60)
time.sleep(float(os.environ.get("FAKE_DELAY", "0")))
if running:
    mine.unlink()
if mode == "fail":
    print("2026-11-27T10:00:00Z\\tFATAL\\timage scan error: unable to find the specified image", file=sys.stderr)
    sys.exit(1)
if mode == "garbage":
    print("Usage: this is not JSON")
    sys.exit(0)
sys.stdout.buffer.write(pathlib.Path(os.environ["FAKE_REPORT"]).read_bytes())
"""


class FakeScanner:
    """A fake scanner executable in its own PATH directory, and what it was asked."""

    def __init__(self, directory: Path, name: str = "trivy") -> None:
        self.bin = directory / "bin"
        self.bin.mkdir(parents=True)
        self.log = directory / "calls.jsonl"
        script = self.bin / name
        script.write_text(FAKE_SCANNER.format(python=sys.executable))
        script.chmod(0o755)
        self.env = {"PATH": f"{self.bin}:/usr/bin:/bin", "FAKE_LOG": str(self.log), "HOME": str(directory)}

    def set(self, **values: str | Path) -> FakeScanner:
        self.env.update({f"FAKE_{k.upper()}": str(v) for k, v in values.items()})
        return self

    @property
    def calls(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def trivy(tmp_path: Path) -> FakeScanner:
    return FakeScanner(tmp_path / "fake").set(report=TRIVY_ALPINE)


def target(digest: str = DIGEST_A) -> ScanTarget:
    return ScanTarget(f"registry.example/app@{digest}", digest, repo_digest=f"registry.example/app@{digest}")


def clock_at(moment: datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


# ------------------------------------------------------------------------------------------
# what gets scanned


def test_targets_are_digests_then_local_images_by_reference_and_never_unknown_ones() -> None:
    pods = [
        make_pod("a", "registry.example/app:1.0", f"registry.example/app@{DIGEST_A}"),
        make_pod("b", "registry.example/app:1.1", f"registry.example/app@{DIGEST_A}"),
        make_pod("c", "kindest/local:dev", LOCAL_ID),
        make_pod("d", "nginx:1.27", "", statuses=[status("app", "nginx:1.27", "", "waiting")]),
    ]
    targets = scan_targets(running_images(make_inventory(pods)))
    assert targets == [
        ScanTarget("kindest/local:dev", LOCAL_ID, image_id=LOCAL_ID),
        ScanTarget(f"registry.example/app@{DIGEST_A}", DIGEST_A, repo_digest=f"registry.example/app@{DIGEST_A}"),
    ]


def test_default_cache_dir_follows_xdg() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/var/cache/me"}) == Path("/var/cache/me/patchlevel/scans")
    assert default_cache_dir({}, home=Path("/home/a")) == Path("/home/a/.cache/patchlevel/scans")


# ------------------------------------------------------------------------------------------
# scanning and caching


def test_scan_by_digest_writes_the_report_to_the_cache_and_names_the_digest(trivy: FakeScanner, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run = run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, cache_dir=cache, environ=trivy.env)
    assert (run.scanned, run.cached, run.failed) == (1, 0, 0)
    (call,) = trivy.calls
    argv = call["argv"]
    assert isinstance(argv, list)
    assert argv[:6] == ["image", "--format", "json", "--quiet", "--scanners", "vuln"]
    assert argv[-1] == f"registry.example/app@{DIGEST_A}"
    (report,) = run.reports
    assert report.scanned_at == datetime(2021, 8, 25, 12, 20, 30, tzinfo=UTC)  # the report's own CreatedAt
    assert f"registry.example/app@{DIGEST_A}" in report.repo_digests  # what was scanned, by digest
    cached = cache / "trivy" / f"sha256-{'a' * 64}.json"
    assert report.source == str(cached)
    assert cached.read_bytes() == TRIVY_ALPINE.read_bytes()
    meta = json.loads((cache / "trivy" / f"sha256-{'a' * 64}.meta.json").read_text())
    assert (meta["scanned_at"], meta["target"], meta["key"]) == (NOW.isoformat(), argv[-1], DIGEST_A)
    (read,) = run.inputs
    assert read.path == str(cached) and read.read_as.endswith("(scanned)")
    assert run.messages == ("trivy: 1 image: 1 scanned, 0 from the cache, 0 failed",)


def test_cached_result_is_reused_while_within_the_scan_age_then_scanned_again(
    trivy: FakeScanner, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, cache_dir=cache, environ=trivy.env)
    again = run_scans(
        [target()],
        "trivy",
        clock=clock_at(NOW + timedelta(days=30)),
        max_age_days=30,
        cache_dir=cache,
        environ=trivy.env,
    )
    assert (again.scanned, again.cached, len(trivy.calls)) == (0, 1, 1)
    assert again.inputs[0].read_as.endswith("(cached)")
    later = run_scans(
        [target()],
        "trivy",
        clock=clock_at(NOW + timedelta(days=31)),
        max_age_days=30,
        cache_dir=cache,
        environ=trivy.env,
    )
    assert (later.scanned, later.cached, len(trivy.calls)) == (1, 0, 2)


def test_cached_results_serve_even_when_the_scanner_is_gone(trivy: FakeScanner, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, cache_dir=cache, environ=trivy.env)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    run = run_scans(
        [target(), target(DIGEST_B)], "trivy", clock=clock_at(NOW), max_age_days=30, cache_dir=cache,
        environ={"PATH": str(empty)},
    )  # fmt: skip
    assert (run.cached, run.failed) == (1, 1)
    failed = next(r for r in run.reports if r.error)
    assert failed.error == "trivy is not installed (not found on PATH)"
    assert failed.repo_digests == (f"registry.example/app@{DIGEST_B}",)
    assert any("trivy is not installed" in m and "--scan-report" in m for m in run.messages)


def test_a_damaged_cache_entry_is_scanned_again(trivy: FakeScanner, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, cache_dir=cache, environ=trivy.env)
    (cache / "trivy" / f"sha256-{'a' * 64}.meta.json").write_text("{not json")
    run = run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, cache_dir=cache, environ=trivy.env)
    assert (run.scanned, len(trivy.calls)) == (1, 2)


@pytest.mark.parametrize(
    "scanned_at",
    ["9999-12-31T23:00:00-05:00", "2099-01-01T00:00:00+00:00", "yesterday", 20260101, None],
)
def test_a_cache_entry_dated_in_the_future_or_not_at_all_is_scanned_again(
    trivy: FakeScanner, tmp_path: Path, scanned_at: object
) -> None:
    """A time UTC cannot hold, a future one (it would never expire), or none: the entry is no cached scan."""
    cache = tmp_path / "cache"
    run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, cache_dir=cache, environ=trivy.env)
    meta_path = cache / "trivy" / f"sha256-{'a' * 64}.meta.json"
    meta = json.loads(meta_path.read_text())
    meta["scanned_at"] = scanned_at
    meta_path.write_text(json.dumps(meta))
    run = run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, cache_dir=cache, environ=trivy.env)
    assert (run.scanned, run.cached, len(trivy.calls)) == (1, 0, 2)


def test_a_report_without_its_own_scan_time_gets_the_time_the_scan_ran(tmp_path: Path) -> None:
    legacy = FakeScanner(tmp_path / "fake").set(report=TRIVY_LEGACY)
    run = run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, cache_dir=None, environ=legacy.env)
    (report,) = run.reports
    assert report.scanned_at == NOW
    assert report.source == f"trivy registry.example/app@{DIGEST_A}"  # no cache: named by what was scanned


def test_grype_is_run_with_its_own_arguments(tmp_path: Path) -> None:
    grype = FakeScanner(tmp_path / "fake", "grype").set(report=GRYPE_BUSYBOX)
    busybox = ScanTarget(
        f"docker.io/library/busybox@{BUSYBOX_DIGEST}",
        BUSYBOX_DIGEST,
        repo_digest=f"docker.io/library/busybox@{BUSYBOX_DIGEST}",
    )
    run = run_scans(
        [busybox], "grype", clock=clock_at(NOW), max_age_days=30, cache_dir=tmp_path / "c", environ=grype.env
    )
    (call,) = grype.calls
    assert call["argv"] == [busybox.reference, "--output", "json", "--quiet"]
    (report,) = run.reports
    assert (report.scanner, report.scanner_version) == ("grype", "0.94.0")
    assert report.db_updated_at == datetime(2025, 6, 19, 4, 12, 38, tzinfo=UTC)


# ------------------------------------------------------------------------------------------
# failures: never a traceback, always an UNKNOWN image with the reason


def test_scanner_exit_status_and_its_last_words_become_the_error(trivy: FakeScanner) -> None:
    trivy.set(mode="fail")
    run = run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, environ=trivy.env)
    (report,) = run.reports
    assert report.error.startswith("trivy exited with status 1 — ")
    assert "unable to find the specified image" in report.error
    assert report.scanned_at == NOW and report.vulnerabilities == ()
    assert run.failed == 1
    assert run.messages[1].startswith("trivy exited with status 1 for 1 image(s), which have no scan evidence")
    assert not run.complete and run.failures == run.reports


def test_output_that_is_no_report_is_a_failure(trivy: FakeScanner) -> None:
    trivy.set(mode="garbage")
    (report,) = run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, environ=trivy.env).reports
    assert report.error.startswith("trivy wrote no readable report — ")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_a_hanging_scanner_is_killed_with_its_children_at_the_timeout(trivy: FakeScanner) -> None:
    trivy.set(mode="hang")
    started = time.monotonic()
    run = run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, timeout=1, environ=trivy.env)
    assert time.monotonic() - started < 10
    (report,) = run.reports
    assert report.error == "trivy timed out after 1 s"
    (call,) = trivy.calls
    assert isinstance(call["pid"], int) and isinstance(call["child"], int)
    deadline = time.monotonic() + 5
    while (_alive(call["pid"]) or _alive(call["child"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(call["pid"]) and not _alive(call["child"])


def test_no_more_scanners_run_at_once_than_the_concurrency(trivy: FakeScanner, tmp_path: Path) -> None:
    running = tmp_path / "running"
    running.mkdir()
    trivy.set(running=running, delay="0.3")
    targets = [target("sha256:" + str(n) * 64) for n in range(6)]
    run = run_scans(targets, "trivy", clock=clock_at(NOW), max_age_days=30, concurrency=2, environ=trivy.env)
    assert run.scanned == 6 and len(trivy.calls) == 6
    assert max(int(str(c["running"])) for c in trivy.calls) <= 2


def test_nothing_to_scan_runs_nothing() -> None:
    assert run_scans([], "trivy", clock=clock_at(NOW), max_age_days=30, environ={"PATH": ""}).messages == ()


def test_unknown_scanner_and_nonsense_settings_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown scanner 'clair'"):
        run_scans([target()], "clair", clock=clock_at(NOW), max_age_days=30)
    with pytest.raises(UsageError):
        run_scans([target()], "trivy", clock=clock_at(NOW), max_age_days=30, timeout=0)


def test_duplicate_targets_are_scanned_once(trivy: FakeScanner) -> None:
    run = run_scans([target(), target()], "trivy", clock=clock_at(NOW), max_age_days=30, environ=trivy.env)
    assert len(trivy.calls) == 1 and len(run.reports) == 1


# ------------------------------------------------------------------------------------------
# end to end: the checks see the scans


def test_failed_scans_leave_their_images_unscanned_in_the_checks(trivy: FakeScanner) -> None:
    trivy.set(mode="fail")
    inventory = make_inventory([make_pod("a", "registry.example/app:1.0", f"registry.example/app@{DIGEST_A}")])
    run = run_scans(
        scan_targets(running_images(inventory)), "trivy", clock=clock_at(NOW), max_age_days=30, environ=trivy.env
    )
    scanned = make_inventory(inventory.pods, scans=run.reports)
    findings = evaluate(scanned, knowledge(), Policy(), NOW.date())
    mine = {f.check: f for f in findings if f.subject == f"image/registry.example/app@{DIGEST_A}"}
    assert mine["image_scanned_recently"].status is Status.FAIL
    assert mine["image_scanned_recently"].message == (
        "the scan of this image failed (trivy exited with status 1): no scan evidence"
    )
    assert "unable to find the specified image" in mine["image_scanned_recently"].evidence["failed_scans"][0]
    assert mine["fixable_vulnerabilities_patched_in_time"].status is Status.UNKNOWN


@pytest.mark.parametrize("mode", ["missing", "fail", "garbage", "hang"])
def test_asking_for_a_scan_that_cannot_run_never_judges_better_than_not_asking(mode: str, tmp_path: Path) -> None:
    """The reproducer of issue 14: --scan with the scanner absent turned FAIL into UNKNOWN."""
    pods = [
        make_pod("a", "registry.example/app:1.0", f"registry.example/app@{DIGEST_A}"),
        make_pod("c", "kindest/local:dev", LOCAL_ID),
    ]
    inventory = make_inventory(pods)
    fake = FakeScanner(tmp_path / "fake").set(report=TRIVY_ALPINE, mode=mode)
    env = {**fake.env, "PATH": str(tmp_path / "empty")} if mode == "missing" else fake.env
    run = run_scans(
        scan_targets(running_images(inventory)), "trivy", clock=clock_at(NOW), max_age_days=30, environ=env, timeout=1
    )
    assert run.failed == 2 and not run.complete
    without = {(f.check, f.subject): f for f in evaluate(inventory, knowledge(), Policy(), NOW.date())}
    asked = evaluate(make_inventory(pods, scans=run.reports), knowledge(), Policy(), NOW.date())
    rank = {Status.PASS: 0, Status.WARN: 1, Status.UNKNOWN: 2, Status.FAIL: 3, Status.ERROR: 3}
    for finding in asked:
        before = without[(finding.check, finding.subject)]
        assert rank[finding.status] >= rank[before.status], (finding, before)
    scanned = [f for f in asked if f.check == "image_scanned_recently"]
    assert scanned and all(f.status is Status.FAIL and "failed" in f.message for f in scanned)


def test_cli_scan_runs_the_scanner_on_each_running_image(
    trivy: FakeScanner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    pods = [
        pod_doc("alpine", "registry.example/alpine:3.9", f"registry.example/alpine@{DIGEST_A}"),
        pod_doc("kind-local", "ghcr.io/aquasecurity/trivy-test-images:alpine-39", ALPINE39_IMAGE_ID),
    ]
    (snapshot / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": pods}))
    (snapshot / "version.json").write_text(json.dumps({"gitVersion": "v1.31.3", "major": "1", "minor": "31"}))
    for key, value in trivy.env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "report.json"
    cache = tmp_path / "cache"
    args = ["audit", str(snapshot), "--as-of", "2021-09-01", "--format", "json", "-o", str(out), "--fail-on", "never"]
    assert main([*args, "--scan", "trivy", "--scan-cache", str(cache)]) == 0
    doc = json.loads(out.read_text())
    scanned = {f["subject"]: f for f in doc["findings"] if f["check"] == "image_scanned_recently"}
    assert scanned[f"image/registry.example/alpine@{DIGEST_A}"]["evidence"]["matched_by"] == "digest"
    local = scanned["image/ghcr.io/aquasecurity/trivy-test-images:alpine-39"]
    assert (local["status"], local["evidence"]["matched_by"]) == ("pass", "image-id")
    assert sorted(c["argv"][-1] for c in trivy.calls) == [
        "ghcr.io/aquasecurity/trivy-test-images:alpine-39",
        f"registry.example/alpine@{DIGEST_A}",
    ]
    assert {i["read_as"] for i in doc["inputs"] if i["path"].startswith(str(cache))} == {
        "trivy scan of ghcr.io/aquasecurity/trivy-test-images:alpine-39 (scanned)",
        f"trivy scan of registry.example/alpine@{DIGEST_A} (scanned)",
    }
    os_findings = [f for f in doc["findings"] if f["check"] == "image_os_supported"]
    assert {f["status"] for f in os_findings} == {"fail"}  # alpine 3.9: EOSL
    assert date.fromisoformat(doc["as_of"]) == date(2021, 9, 1)


# ------------------------------------------------------------------------------------------
# a failed scan keeps its reason whatever its date (issue 14)


def test_a_failed_scan_run_after_the_as_of_date_still_says_why_it_failed(trivy: FakeScanner) -> None:
    """The scan runs now, so for a past as-of date its failure record is dated after it."""
    trivy.set(mode="fail")
    inventory = make_inventory([make_pod("a", "registry.example/app:1.0", f"registry.example/app@{DIGEST_A}")])
    run = run_scans(
        scan_targets(running_images(inventory)), "trivy", clock=clock_at(NOW), max_age_days=30, environ=trivy.env
    )
    as_of = date(2026, 9, 1)
    assert run.reports[0].scanned_at is not None and run.reports[0].scanned_at.date() > as_of
    findings = evaluate(make_inventory(inventory.pods, scans=run.reports), knowledge(), Policy(), as_of)
    mine = {f.check: f for f in findings if f.subject == f"image/registry.example/app@{DIGEST_A}"}
    scanned = mine["image_scanned_recently"]
    assert scanned.status is Status.FAIL
    assert scanned.message == "the scan of this image failed (trivy exited with status 1): no scan evidence"
    assert "unable to find the specified image" in scanned.evidence["failed_scans"][0]
    assert "reports_after_as_of" not in scanned.evidence
    vulnerabilities = mine["fixable_vulnerabilities_patched_in_time"]
    assert vulnerabilities.status is Status.UNKNOWN
    assert vulnerabilities.message.startswith("the scan of this image failed (trivy exited with status 1)")


def test_cli_scan_that_fails_for_a_past_as_of_date_reports_the_failure(
    trivy: FakeScanner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reproducer: ``--scan trivy`` with a trivy that exits 1 and ``--as-of`` in the past."""
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    pods = [pod_doc("alpine", "registry.example/alpine:3.9", f"registry.example/alpine@{DIGEST_A}")]
    (snapshot / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": pods}))
    (snapshot / "version.json").write_text(json.dumps({"gitVersion": "v1.31.3", "major": "1", "minor": "31"}))
    trivy.set(mode="fail")
    for key, value in trivy.env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "report.json"
    args = ["audit", str(snapshot), "--as-of", "2021-09-01", "--format", "json", "-o", str(out), "--fail-on", "never"]
    assert main([*args, "--scan", "trivy", "--scan-cache", str(tmp_path / "cache")]) == 3  # incomplete
    doc = json.loads(out.read_text())
    (scanned,) = [f for f in doc["findings"] if f["check"] == "image_scanned_recently"]
    assert scanned["status"] == "fail"
    assert scanned["message"] == "the scan of this image failed (trivy exited with status 1): no scan evidence"
    assert "only later scans" not in scanned["message"]
