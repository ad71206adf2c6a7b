"""The command line through ``main(argv)``: exit codes, one-line errors, output files, the README's commands."""

from __future__ import annotations

import gc
import json
import shlex
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from builders import (
    DATA,
    make_node_doc,
    make_pod_doc,
    version_doc,
    write_json,
)
from patchlevel.cli import main
from patchlevel.model import STATUS_RANK, Status

REPO = Path(__file__).resolve().parents[1]
SNAPSHOTS = DATA / "snapshots"
SCHEMA = json.loads((REPO / "src" / "patchlevel" / "schemas" / "report.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def bundled_lifecycle_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run uses the data shipped in the package, never an updated copy in the user's home."""
    monkeypatch.delenv("PATCHLEVEL_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.delenv("PATCHLEVEL_DEBUG", raising=False)


def old_cluster(root: Path) -> Path:
    """A snapshot with failing findings: Kubernetes 1.25 on containerd 1.6, as of 2026."""
    write_json(root / "version.json", version_doc("v1.25.3"))
    write_json(
        root / "nodes.json",
        {"kind": "NodeList", "items": [make_node_doc("old", kubelet="v1.25.3", runtime="containerd://1.6.9")]},
    )
    return root


def current_cluster(root: Path) -> Path:
    """As of 2026-03-01 every 10.1/10.2 check that the input can decide passes, but for two CVEs that no release
    fixes yet (WARN); add-ons and static control-plane pods are not in the input (UNKNOWN); 10.3 has warnings and
    unknowns (no scans)."""
    write_json(root / "version.json", version_doc("v1.35.2"))
    node = make_node_doc(
        "n1",
        kubelet="v1.35.2",
        runtime="containerd://2.2.1",
        created="2026-02-20T00:00:00Z",
        conditions=[{"type": "RebootRequired", "status": "False", "lastTransitionTime": "2026-02-20T00:00:00Z"}],
    )
    write_json(root / "nodes.json", {"kind": "NodeList", "items": [node]})
    pod = make_pod_doc(
        "kube-proxy-n1",
        namespace="kube-system",
        node="n1",
        container="kube-proxy",
        image="registry.k8s.io/kube-proxy:v1.35.2",
    )
    pod["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "kube-proxy"}]
    write_json(root / "pods.json", {"kind": "PodList", "items": [pod]})
    return root


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["audit", *argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------------------------------
# Exit codes


def test_failing_cluster_exits_1_unless_told_never(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = old_cluster(tmp_path)
    assert main(["audit", str(snapshot), "--as-of", "2026-11-27"]) == 1
    assert main(["audit", str(snapshot), "--as-of", "2026-11-27", "--fail-on", "never"]) == 0
    out = capsys.readouterr().out
    assert "As of 2026-11-27" in out and "lifecycle data 2026-08-22" in out


def test_fail_on_levels_follow_the_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = current_cluster(tmp_path)
    codes = {}
    for level in ("never", "warn", "unknown", "fail"):
        code, doc = run_json(capsys, str(snapshot), "--as-of", "2026-03-01", "--fail-on", level)
        worst = max(STATUS_RANK[Status(f["status"])] for f in doc["findings"])
        threshold = {"never": None, "warn": 1, "unknown": 2, "fail": 3}[level]
        assert code == (1 if threshold is not None and worst >= threshold else 0), level
        codes[level] = code
    ten_one_two = [f for f in doc["findings"] if set(f["requirements"]) & {"PCI-CG-10.1", "PCI-CG-10.2"}]
    not_passed = {(f["check"], f["status"]) for f in ten_one_two if f["status"] != "pass"}
    assert not_passed == {
        # CVE-2024-7598 and CVE-2025-1767 have no fixed release: a mitigation to record, never a PASS
        ("control_plane_free_of_known_cves", "warn"),
        ("kubelet_free_of_known_cves", "warn"),
        # the input holds no add-on pod and no static control-plane pod: nothing proves them
        ("addon_version_supported", "unknown"),
        ("addon_patch_current", "unknown"),
        ("addon_free_of_known_cves", "unknown"),
        ("control_plane_components_skew_allowed", "unknown"),
        # no update agent but a RebootRequired condition, and no host scan in the input (issue 11)
        ("node_update_agent_healthy", "unknown"),
        ("node_running_installed_kernel", "unknown"),
        ("node_os_packages_patched_in_time", "unknown"),
        ("node_scanned_recently", "unknown"),
        # no PodDisruptionBudget list in the input: whether the node drains without an outage (issue 13)
        ("node_drain_possible", "unknown"),
    }
    assert codes == {"never": 0, "warn": 1, "unknown": 1, "fail": 0}


def test_fail_is_the_default_threshold(tmp_path: Path) -> None:
    assert main(["audit", str(current_cluster(tmp_path)), "--as-of", "2026-03-01"]) == 0


# ------------------------------------------------------------------------------------------
# Usage errors (exit 2) and failed audits (exit 3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as-of", "2026-13-01"], "--as-of '2026-13-01' is not a date (use YYYY-MM-DD)"),
        (["--as-of", "yesterday"], "--as-of 'yesterday' is not a date (use YYYY-MM-DD)"),
        (["--format", "pdf"], "--format 'pdf': choose from"),
        (["--format", "json,terminal"], "several formats need -o DIR to write them into"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(["audit", str(old_cluster(tmp_path)), *argv]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert line.startswith("patchlevel: error: ") and message in line


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(tmp_path / "nope"), "--as-of", "2026-11-27"]) == 2
    assert one_line_error(capsys.readouterr().err) == f"patchlevel: error: {tmp_path / 'nope'} does not exist"


def test_bad_option_values_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(old_cluster(tmp_path)), "--fail-on", "sometimes"]) == 2
    assert "Invalid value for '--fail-on'" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2


def test_truncated_json_exits_3_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(SNAPSHOTS / "truncated-json-refused"), "--as-of", "2026-11-27"]) == 3
    captured = capsys.readouterr()
    line = one_line_error(captured.err)
    assert line.startswith("patchlevel: error: ") and "nodes.json: invalid JSON" in line
    assert captured.out == ""


@pytest.mark.parametrize(
    ("snapshot", "message"),
    [
        ("not-kubernetes-refused", "no API server version and no nodes found"),
        ("two-clusters-refused", "the input holds the versions of two API servers"),
    ],
)
def test_unusable_snapshots_exit_3(capsys: pytest.CaptureFixture[str], snapshot: str, message: str) -> None:
    assert main(["audit", str(SNAPSHOTS / snapshot), "--as-of", "2026-11-27"]) == 3
    assert message in one_line_error(capsys.readouterr().err)


def test_empty_directory_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(tmp_path), "--as-of", "2026-11-27"]) == 3
    assert "is an empty directory" in one_line_error(capsys.readouterr().err)


def test_node_without_node_info_is_audited_not_crashed(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, str(SNAPSHOTS / "node-without-nodeinfo-unknown"), "--as-of", "2026-11-27")
    assert code == 1  # Kubernetes 1.33 ended on 2026-06-28
    node = [f for f in doc["findings"] if f["subject"] == "node/bare-node"]
    assert node and {f["status"] for f in node} <= {"unknown", "pass"}


# ------------------------------------------------------------------------------------------
# Output files


def test_json_report_to_a_file_validates_against_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = old_cluster(tmp_path / "snap")
    out = tmp_path / "reports" / "report.json"
    assert main(["audit", str(snapshot), "--as-of", "2026-11-27", "--format", "json", "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == f"wrote json report to {out}"
    doc = json.loads(out.read_text(encoding="utf-8"))
    problems = [e.message for e in Draft202012Validator(SCHEMA, format_checker=FormatChecker()).iter_errors(doc)]
    assert problems == []
    assert (doc["as_of"], doc["lifecycle_data_date"]) == ("2026-11-27", "2026-08-22")
    assert (doc["cluster"]["version"], doc["cluster"]["distribution"]) == ("v1.25.3", "upstream")
    assert not list(out.parent.glob(".report.json.*"))  # no temporary file left behind


def test_several_formats_into_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = old_cluster(tmp_path / "snap")
    out = tmp_path / "out"
    out.mkdir()
    assert main(["audit", str(snapshot), "--as-of", "2026-11-27", "--format", "json,terminal", "-o", str(out)]) == 1
    assert json.loads((out / "patchlevel-report.json").read_text(encoding="utf-8"))["as_of"] == "2026-11-27"
    assert "As of 2026-11-27" in (out / "patchlevel-report.txt").read_text(encoding="utf-8")
    capsys.readouterr()


def test_output_over_an_input_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = old_cluster(tmp_path)
    target = snapshot / "nodes.json"
    before = target.read_bytes()
    assert main(["audit", str(snapshot), "--as-of", "2026-11-27", "--format", "json", "-o", str(target)]) == 3
    line = one_line_error(capsys.readouterr().err)
    assert line == f"patchlevel: error: refusing to write the report over an input file: {target}"
    assert target.read_bytes() == before
    single = snapshot / "version.json"
    assert main(["audit", str(single), "--format", "json", "-o", str(single)]) == 3
    assert json.loads(single.read_text(encoding="utf-8")) == version_doc("v1.25.3")
    capsys.readouterr()


def test_json_to_stdout_is_the_same_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, str(old_cluster(tmp_path)), "--as-of", "2026-11-27")
    assert code == 1
    assert doc["schema_version"].startswith("1.")
    checks = {f["check"] for f in doc["findings"]}
    assert {"control_plane_version_supported", "node_os_supported"} <= checks


def test_main_gives_the_garbage_collector_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``audit`` turns the collector off for speed; calling main() from a program must not leave it off."""
    assert gc.isenabled()
    main(["audit", str(old_cluster(tmp_path)), "--as-of", "2026-11-27"])
    capsys.readouterr()
    assert gc.isenabled()


# ------------------------------------------------------------------------------------------
# Other commands


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: patchlevel" in out and "audit" in out and "lifecycle" in out
    assert main(["audit", "--help"]) == 0
    audit_help = capsys.readouterr().out
    for option in ("--as-of", "--format", "--output", "--fail-on", "--data-dir"):
        assert option in audit_help, option


def test_lifecycle_show_kubernetes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "show", "kubernetes", "--as-of", "2026-11-27"]) == 0
    out = capsys.readouterr().out
    assert "Kubernetes (kubernetes) as of 2026-11-27" in out
    assert "data retrieved 2026-08-22 (97 days before the as-of date)" in out
    assert "1.33" in out and "1.33.13" in out


def test_lifecycle_show_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "show", "amazon-eks", "--as-of", "2026-03-01", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["product"], doc["data_retrieved"], doc["as_of"]) == ("amazon-eks", "2026-08-22", "2026-03-01")
    rows = {r["cycle"]: r for r in doc["releases"]}
    assert (rows["1.31"]["phase"], rows["1.31"]["end_of_extended_support"]) == ("extended", "2026-11-26")


def test_lifecycle_show_unknown_product_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "show", "nosuch"]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert line == "patchlevel: error: no lifecycle data for 'nosuch' ('patchlevel lifecycle list' shows the products)"


def test_lifecycle_show_bad_date_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "show", "kubernetes", "--as-of", "2026-02-30"]) == 2
    assert "is not a date" in one_line_error(capsys.readouterr().err)


def test_lifecycle_list_and_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lifecycle", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lifecycle data retrieved 2026-08-22")
    assert "docker-engine" in out
    assert main(["checks"]) == 0
    checks = capsys.readouterr().out
    assert (
        "kubelet_version_skew_allowed\n  Kubelet is within the version-skew policy\n  requirements: PCI-CG-10.1"
        in checks
    )
    # the period report's checks are listed too, after the audit's, with their requirements
    audit_part, period_part = checks.split("Period checks", 1)
    assert "kubelet_version_skew_allowed" in audit_part and "fixes_deployed_within_sla" not in audit_part
    assert "fixes_deployed_within_sla\n" in period_part and "PCI-DSS-6.3.3" in period_part


def test_broken_data_dir_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(old_cluster(tmp_path / "s")), "--data-dir", str(tmp_path)]) == 3
    assert "is not a patchlevel lifecycle data directory" in one_line_error(capsys.readouterr().err)


# ------------------------------------------------------------------------------------------
# The README's commands


def readme_commands() -> list[list[str]]:
    """Every ``patchlevel ...`` command in the README's shell blocks, comments dropped."""
    readme = REPO / "README.md"
    if not readme.is_file():
        return []
    commands: list[list[str]] = []
    in_block = False
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_block = line.strip() in ("```sh", "```shell", "```bash", "```console")
            continue
        if not in_block:
            continue
        for part in line.split("&&"):
            words = shlex.split(part, comments=True)
            if words and words[0] == "patchlevel":
                commands.append(words[1:])
    return commands


README_COMMANDS = readme_commands()


def test_the_readme_shows_commands() -> None:
    if not (REPO / "README.md").is_file():
        pytest.skip("no README yet")
    assert any(c[:1] == ["audit"] for c in README_COMMANDS)


@pytest.mark.parametrize("argv", README_COMMANDS, ids=[" ".join(c) for c in README_COMMANDS])
def test_readme_command_works(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[:2] == ["lifecycle", "update"]:
        pytest.skip("lifecycle update needs the network or downloaded responses (tested in test_lifecycle_update.py)")
    demo = REPO / "examples" / "demo-cluster"
    if not demo.is_dir():
        pytest.skip("examples/demo-cluster is not in this checkout")
    # run where the README's relative paths exist: examples/ and an 'evidence' snapshot (the demo)
    (tmp_path / "examples").mkdir()
    shutil.copytree(demo, tmp_path / "examples" / "demo-cluster")
    shutil.copytree(demo, tmp_path / "evidence")
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if argv[:1] in (["audit"], ["plan"]):  # 1: findings at or above --fail-on / a plan step already late
        assert code in (0, 1), captured.err
        if "-o" in argv:
            written = tmp_path / argv[argv.index("-o") + 1]
            files = sorted(written.iterdir()) if written.is_dir() else [written]  # several formats: a directory
            assert files and all(f.is_file() and f.stat().st_size for f in files), files
            for file in files:
                if file.suffix == ".json":
                    assert json.loads(file.read_text(encoding="utf-8"))["as_of"]
    else:
        assert code == 0, captured.err


def test_readme_demo_command_exits_as_documented(capsys: pytest.CaptureFixture[str]) -> None:
    """The README says the demo audit exits 1: the demo cluster has failing findings."""
    demo = REPO / "examples" / "demo-cluster"
    if not demo.is_dir():
        pytest.skip("examples/demo-cluster is not in this checkout")
    assert main(["audit", str(demo), "--as-of", "2026-11-27"]) == 1
    out = capsys.readouterr().out
    assert "As of 2026-11-27" in out


def test_as_of_defaults_to_today_in_utc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, str(old_cluster(tmp_path)))
    assert code == 1
    assert date.fromisoformat(doc["as_of"]) >= date(2026, 8, 22)


def test_kube_proxy_pod_in_the_snapshot_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = old_cluster(tmp_path)
    pod = make_pod_doc(
        "kube-proxy-old",
        namespace="kube-system",
        node="old",
        container="kube-proxy",
        image="registry.k8s.io/kube-proxy:v1.25.3",
    )
    write_json(snapshot / "pods.json", {"kind": "PodList", "items": [pod]})
    _, doc = run_json(capsys, str(snapshot), "--as-of", "2026-11-27")
    proxy = next(f for f in doc["findings"] if f["check"] == "kube_proxy_version_skew_allowed")
    assert (proxy["status"], proxy["evidence"]["kube-proxy"]) == ("pass", "v1.25.3")
    assert proxy["evidence"]["kube_proxy_source"].startswith("pod kube-system/kube-proxy-old image ")


def test_error_lines_show_control_characters_instead_of_obeying_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path (or any input quoted in an error) with ESC or a newline can neither style the terminal nor
    forge a second line."""
    hostile = tmp_path / "evil\x1b[31mred\nforged line"
    assert main(["audit", str(hostile), "--as-of", "2026-11-27"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1
    assert "evil\\x1b[31mred\\nforged line" in err
