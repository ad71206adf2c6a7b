"""The ledger commands end to end: bundles collected from the HTTPS test API server on given days, imported
(backfill), listed, judged over a period in every format, pruned; and their errors, each one line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kubeapi import Cluster, KubeAPIServer
from kubeapi.cluster import namespace_object
from patchlevel.cli import main
from patchlevel.collect.live import LiveOptions, collect_bundle
from pg_harness import ENGINES, ledger_url_for
from test_live_collect import VERSION, FakeHost, access_for, cluster_objects

DAYS = [date(2026, 11, 2) + timedelta(days=3 * i) for i in range(6)]  # 2026-11-02 … 2026-11-17


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One evidence bundle per day in DAYS, collected live from the test API server (with kube-system)."""
    root = tmp_path_factory.mktemp("bundles")
    objects = cluster_objects()
    objects["namespaces"] = [*objects["namespaces"], namespace_object("kube-system")]
    made = []
    with KubeAPIServer(Cluster(objects=objects, version=VERSION)) as api:
        access = access_for(api, root / "kube")
        for day in DAYS:
            moment = datetime(day.year, day.month, day.day, 3, 17, tzinfo=UTC)
            host = FakeHost(wall_clock=lambda moment=moment: moment).host()  # type: ignore[misc]
            target = root / f"prod-{day.isoformat()}.tar.gz"
            collect_bundle(access, target, host=host, options=LiveOptions(page_size=4))
            made.append(target)
    return made


@pytest.fixture(params=ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ledger_url_for(request.param, tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_list_and_period_from_saved_bundles(
    url: str, bundles: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "ledger", "import", *bundles, "--ledger", url)
    assert code == 0, err
    assert f"imported {len(bundles)}, already recorded 0, failed 0" in err
    code, _, err = run(capsys, "ledger", "import", *bundles[:2], "--ledger", url)
    assert code == 0 and "imported 0, already recorded 2" in err  # the same bundle is one audit

    code, out, _ = run(capsys, "ledger", "list", "--ledger", url, "--format", "json")
    listed = json.loads(out)
    assert [a["observed_on"] for a in listed] == [d.isoformat() for d in DAYS]  # dated by collection, not import
    assert {a["cluster_key"] for a in listed} == {f"uid:{namespace_object('kube-system')['metadata']['uid']}"}
    assert all(a["bundle_digest"].startswith("sha256:") or len(a["bundle_digest"]) == 64 for a in listed)

    out_dir = tmp_path / "period"
    code, _, err = run(
        capsys, "period", "--ledger", url, "--from", "2026-11-02", "--to", "2026-11-17",
        "--format", "html,json,markdown,oscal", "-o", out_dir,
    )  # fmt: skip
    assert code in (0, 1), err
    written = sorted(p.name for p in out_dir.iterdir())
    assert written == ["period-report.html", "period-report.json", "period-report.md", "period-report.oscal.json"]
    document = json.loads((out_dir / "period-report.json").read_text())
    assert document["evidence"]["audits"] == len(DAYS) and document["evidence"]["gaps"] == []
    continuity = [f for f in document["findings"] if f["check"] == "audit_evidence_continuous"]
    assert [f["status"] for f in continuity] == ["pass"]


def test_a_gap_makes_continuity_fail_and_the_exit_code_one(
    url: str, bundles: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "ledger", "import", bundles[0], bundles[-1], "--ledger", url)  # 2026-11-02 and 2026-11-17
    code, out, _ = run(capsys, "period", "--ledger", url, "--from", "2026-11-02", "--to", "2026-11-17")
    assert code == 1
    assert "no evidence 2026-11-03 to 2026-11-16 (14 days)" in out
    code, _, _ = run(
        capsys, "period", "--ledger", url, "--from", "2026-11-02", "--to", "2026-11-17", "--fail-on", "never"
    )
    assert code == 0


def test_all_clusters_writes_a_report_each_and_the_fleet_table(
    url: str, bundles: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "ledger", "import", *bundles, "--ledger", url)
    out_dir = tmp_path / "fleet"
    code, _, err = run(
        capsys, "period", "--ledger", url, "--all-clusters", "--from", "2026-11-02", "--to", "2026-11-17",
        "--format", "json,markdown", "-o", out_dir,
    )  # fmt: skip
    assert code in (0, 1), err
    names = sorted(p.name for p in out_dir.iterdir())
    assert "fleet.json" in names and "fleet.md" in names and len(names) == 4
    fleet = json.loads((out_dir / "fleet.json").read_text())
    assert len(fleet["clusters"]) == 1 and fleet["clusters"][0]["audits"] == len(DAYS)


def test_prune_removes_old_evidence_and_what_nothing_uses(
    url: str, bundles: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "ledger", "import", *bundles, "--ledger", url)
    keep = (datetime.now(UTC).date() - DAYS[3]).days  # keep DAYS[3:] (evidence on or after that day)
    code, _, err = run(capsys, "ledger", "prune", "--ledger", url, "--keep-days", str(keep))
    assert code == 0 and "removed 3 audits" in err
    _, out, _ = run(capsys, "ledger", "list", "--ledger", url, "--format", "json")
    assert [a["observed_on"] for a in json.loads(out)] == [d.isoformat() for d in DAYS[3:]]


@pytest.mark.parametrize(
    ("argv", "code", "problem"),
    [
        (["period", "--from", "2026-11-02"], 2, "Missing option '--ledger'"),
        (["period", "--ledger", "{url}", "--from", "2026-02-30"], 2, "--from '2026-02-30' is not a date"),
        (["period", "--ledger", "{url}", "--from", "2026-11-02", "--to", "2026-11-01"], 2, "before --from"),
        (["period", "--ledger", "{url}", "--from", "2026-11-02", "--format", "pdf"], 2, "choose from"),
        (["period", "--ledger", "{url}", "--from", "2026-11-02", "--all-clusters"], 2, "give -o DIR"),
        (["period", "--ledger", "{url}", "--from", "2026-11-02", "--cluster", "nope"], 3, "no cluster named 'nope'"),
        (["period", "--ledger", "mysql://x/y", "--from", "2026-11-02"], 3, "supports SQLite and PostgreSQL"),
        (["ledger", "import", "{missing}", "--ledger", "{url}"], 2, "does not exist"),
        (["ledger", "prune", "--ledger", "{url}", "--keep-days", "0"], 2, "--keep-days"),
    ],
)
def test_errors_are_one_line_and_the_right_exit_code(
    argv: list[str], code: int, problem: str, url: str, bundles: list[Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    run(capsys, "ledger", "import", bundles[0], "--ledger", url)
    filled = [a.format(url=url, missing=tmp_path / "missing.tar.gz") for a in argv]
    got, _, err = run(capsys, *filled)
    assert got == code, err
    assert problem in err
    assert "Traceback" not in err


def test_a_bundle_that_cannot_be_read_is_reported_and_the_others_are_imported(
    url: str, bundles: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tarball")
    code, _, err = run(capsys, "ledger", "import", broken, bundles[0], "--ledger", url)
    assert code == 3
    assert "broken.tar.gz: not imported:" in err and "imported 1, already recorded 0, failed 1" in err


def test_a_ledger_from_a_newer_patchlevel_is_refused(
    url: str, bundles: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from patchlevel.ledger.schema import VERSION_TABLE
    from patchlevel.ledger.store import open_store

    run(capsys, "ledger", "import", bundles[0], "--ledger", url)
    with open_store(url) as store, store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '0042'")
    code, _, err = run(capsys, "period", "--ledger", url, "--from", "2026-11-02")
    assert code == 3
    assert "schema revision 0042" in err and "newer patchlevel" in err and err.count("\n") == 1


def test_the_ledger_url_comes_from_the_environment(
    bundles: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATCHLEVEL_LEDGER", str(tmp_path / "env-ledger.db"))
    code, _, err = run(capsys, "ledger", "import", bundles[0])
    assert code == 0, err
    assert (tmp_path / "env-ledger.db").is_file()


def test_one_cluster_name_for_every_context_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # every context would be recorded as the one cluster --cluster names, their audits mixed in one history
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    code, _, err = run(
        capsys, "audit", "--kubeconfig", kubeconfig, "--all-contexts", "--cluster", "prod", "--format", "json",
        "-o", tmp_path / "out", "--ledger", tmp_path / "ledger.db",
    )  # fmt: skip
    assert code == 2
    assert "--cluster names one cluster and --all-contexts audits several" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "ledger.db").exists() and not (tmp_path / "out").exists()
