"""The hostile corpus through the command line: ``audit``, ``verify``, ``policy check`` and the importers.

Every document of tests/data/hostile/ (one per class of issue 14), and the big or special ones
made at test time, goes through ``patchlevel.cli.main``.  For each: no internal error (the exit
code never comes from the "internal error" path, stderr is one line with no traceback), no hang
(cases that could block, such as FIFOs and credential plugins, run in a child process under a
timeout), and no PASS the input cannot justify.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from builders import version_doc, write_json
from hostile_inputs import AS_OF, HOSTILE, alias_bomb, deep_json, retar, small_bundle, tar_member
from patchlevel.cli import main

TIMEOUT = 60  # seconds for a child process; a hang fails the test instead of stalling CI


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str
    report: dict[str, Any] | None

    def statuses(self, check: str, subject_prefix: str = "") -> set[str]:
        assert self.report is not None
        return {
            f["status"]
            for f in self.report["findings"]
            if f["check"] == check and f["subject"].startswith(subject_prefix)
        }


def clean(outcome: Outcome, codes: tuple[int, ...]) -> Outcome:
    """The common promise: an expected exit code, never the internal-error path, errors in one line."""
    assert "internal error" not in outcome.err and "Traceback" not in outcome.err, outcome.err
    assert outcome.code in codes, (outcome.code, outcome.err)
    if outcome.code in (2, 3):
        assert outcome.err.startswith("patchlevel: error: ") or outcome.err.startswith("Error: "), outcome.err
        assert outcome.err.strip().count("\n") == 0, outcome.err
    return outcome


def run(argv: list[str], capsys: pytest.CaptureFixture[str], report: Path | None = None) -> Outcome:
    code = main(argv)
    captured = capsys.readouterr()
    document = json.loads(report.read_text(encoding="utf-8")) if report is not None and report.exists() else None
    return Outcome(code, captured.out, captured.err, document)


def run_child(argv: list[str], env: dict[str, str] | None = None, *, timeout: float = TIMEOUT) -> Outcome:
    """``patchlevel ARGV`` in a child process that cannot outlive ``timeout`` seconds."""
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from patchlevel.cli import main; sys.exit(main(sys.argv[1:]))", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    return Outcome(child.returncode, child.stdout, child.stderr, None)


def audit(path: Path | str, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> Outcome:
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    argv = ["audit", str(path), "--as-of", AS_OF, "--format", "json", "-o", str(report), *extra]
    return run(argv, capsys, report)


# -- snapshots -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "names"),
    [
        ("duplicate-node-conflict", "node worker-1 appears in"),
        ("nameless-nodes", "a node without a name appears twice"),
        ("duplicate-pod-conflict", "pod default/app-1 appears twice"),
        ("yaml-alias-bomb", "YAML aliases expand the document"),
    ],
)
def test_refused_snapshots(case: str, names: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = clean(audit(HOSTILE / case, tmp_path, capsys), (3,))
    assert names in outcome.err and outcome.report is None


def test_identical_duplicates_are_audited_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = clean(audit(HOSTILE / "duplicate-node-identical", tmp_path, capsys), (0, 1))
    assert outcome.report is not None
    assert {f["subject"] for f in outcome.report["findings"] if f["subject"].startswith("node/")} == {"node/worker-1"}


def test_no_phantom_nodes_from_a_nodelist_of_pods(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = clean(audit(HOSTILE / "nodelist-of-pods", tmp_path, capsys), (0, 1))
    assert outcome.report is not None
    assert {f["subject"] for f in outcome.report["findings"] if f["subject"].startswith("node/")} == {"node/worker-1"}
    assert any("a NodeList holds 2 items of kind 'Pod'" in w for w in outcome.report["warnings"])


VERSION_CHECKS = (
    "control_plane_version_supported",
    "control_plane_patch_current",
    "control_plane_free_of_known_cves",
    "kubelet_version_supported",
    "kubelet_patch_current",
    "kubelet_free_of_known_cves",
    "kubelet_version_skew_allowed",
    "kube_proxy_version_skew_allowed",
    "container_runtime_supported",
    "container_runtime_patch_current",
    "node_os_supported",
    "node_kernel_consistent_in_pool",
)


def test_digit_runs_give_unknown_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = clean(audit(HOSTILE / "digit-runs", tmp_path, capsys), (0, 1))
    for check in VERSION_CHECKS:
        assert outcome.statuses(check) <= {"unknown"}, check


@pytest.mark.parametrize("report", sorted(p.name for p in (HOSTILE / "scan-timestamps").glob("*.json")))
def test_undated_scans_give_no_pass(report: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scan = HOSTILE / "scan-timestamps" / report
    outcome = clean(
        audit(HOSTILE / "scan-timestamps" / "cluster", tmp_path, capsys, "--scan-report", str(scan)), (0, 1)
    )
    for check in ("image_scanned_recently", "fixable_vulnerabilities_patched_in_time", "image_built_recently"):
        assert "pass" not in outcome.statuses(check, "image/"), check


# An integer field patchlevel reads (a budget's minAvailable); integers in fields it does not read are skipped.
HUGE_INTEGER = (
    b'{"kind": "PodDisruptionBudget", "metadata": {"name": "p"}, "spec": {"minAvailable": ' + b"9" * 5000 + b"}}"
)


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda d: (d / "nodes.json").write_bytes(deep_json(inside="NodeList")), "JSON nested too deeply"),
        (lambda d: (d / "pods.yaml").write_bytes(b"items: " + b"[" * 5000 + b"]" * 5000), "nesting depth"),
        (lambda d: (d / "nodes.json.gz").write_bytes(gzip.compress(bytes(4 << 20))), "not JSON or YAML text"),
        (lambda d: (d / "pdbs.json").write_bytes(HUGE_INTEGER), "Integer value out of range"),
    ],
    ids=["deep-json", "deep-yaml", "gzip-of-zeros", "huge-integer"],
)
def test_bombs_in_a_snapshot_are_one_line_errors(
    write: Callable[[Path], Any], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    write_json(snapshot / "version.json", version_doc("v1.33.4"))
    write(snapshot)
    outcome = clean(audit(snapshot, tmp_path, capsys), (3,))
    assert message in outcome.err


def test_a_gz_past_the_size_limit_is_refused(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    write_json(snapshot / "version.json", version_doc("v1.33.4"))
    (snapshot / "nodes.json.gz").write_bytes(gzip.compress(b'{"kind": "NodeList", "items": []}' + b" " * (2 << 20)))
    outcome = clean(run_child(["audit", str(snapshot), "--as-of", AS_OF], {"PATCHLEVEL_MAX_INPUT_BYTES": "1M"}), (3,))
    assert "decompresses to more than 1,048,576 bytes, the input size limit" in outcome.err


# A long run of blank space that does not open a JSON value. The JSON sniffer's regex once split
# such a run between two ``\s*`` in every way: 128 KiB of spaces took minutes, an 80 MB .gz of
# spaces more than five. Each case now takes about a second; 20 s fails a regression, never hangs.
BLANK_RUN = b" " * (128 * 1024) + b"x"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("dump", BLANK_RUN),
        ("nodes.json", BLANK_RUN),
        ("pods.yaml", BLANK_RUN[: 64 * 1024] + b"\xef\xbb\xbf" + BLANK_RUN[64 * 1024 :]),
        ("dump.gz", gzip.compress(b" " * (8 << 20) + b"x")),
        ("nodes.json.gz", gzip.compress(b"\n" * (8 << 20) + b"x")),
    ],
    ids=["plain", "json-name", "bom-yaml-name", "gz-8MB", "gz-8MB-json-name"],
)
def test_a_long_blank_run_is_read_in_linear_time(name: str, content: bytes, tmp_path: Path) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    write_json(snapshot / "version.json", version_doc("v1.33.4"))
    (snapshot / name).write_bytes(content)
    report = tmp_path / "report.json"
    argv = ["audit", str(snapshot), "--as-of", AS_OF, "--format", "json", "-o", str(report)]
    clean(run_child(argv, timeout=20), (0, 1))
    inputs = {Path(i["path"]).name: i for i in json.loads(report.read_text(encoding="utf-8"))["inputs"]}
    assert inputs[name]["read_as"] == "ignored"
    assert inputs[name]["reason"] == "nothing patchlevel uses (1 document that is not an object)"


def test_fifos_and_devices_in_or_as_a_snapshot_never_block(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    write_json(snapshot / "version.json", version_doc("v1.33.4"))
    os.mkfifo(snapshot / "nodes.json")
    (snapshot / "zero.json").symlink_to("/dev/zero")
    report = tmp_path / "report.json"
    clean(run_child(["audit", str(snapshot), "--as-of", AS_OF, "--format", "json", "-o", str(report)]), (0, 1))
    inputs = {Path(i["path"]).name: i for i in json.loads(report.read_text(encoding="utf-8"))["inputs"]}
    assert inputs["nodes.json"]["reason"] == "a FIFO (named pipe), not read"
    assert inputs["zero.json"]["reason"] == "a symbolic link to a character device, not read"
    outcome = clean(run_child(["audit", str(snapshot / "nodes.json"), "--as-of", AS_OF]), (2,))
    assert "is a FIFO (named pipe), not a snapshot directory" in outcome.err
    outcome = clean(run_child(["audit", "/dev/null", "--as-of", AS_OF]), (2,))
    assert "/dev/null is a character device" in outcome.err


# -- bundles ---------------------------------------------------------------------------------------


def test_unsafe_tarball_members_fail_verify_and_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = small_bundle(tmp_path / "evidence")
    members = [
        tar_member("evidence/../x.json", b"{}"),
        tar_member("evidence/nodes/link.json", kind=b"2", linkname="/etc/shadow"),
        tar_member("evidence/zero", kind=b"3"),
        tar_member("evidence/forged\nevidence.tar.gz: intact\x1b[2J", b"{}"),
    ]
    target = retar(directory, tmp_path / "evidence.tar.gz", members)
    outcome = clean(run(["verify", str(target)], capsys), (1,))
    lines = outcome.out.splitlines()
    assert len(lines) == 4 and all(line.startswith(f"{target}: unsafe: ") for line in lines)
    assert "\x1b" not in outcome.out
    clean(audit(target, tmp_path, capsys), (3,))


def test_a_bundle_with_a_bomb_page_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = small_bundle(tmp_path / "evidence")
    target = retar(
        directory, tmp_path / "evidence.tar.gz", [tar_member("evidence/nodes/page-0002.json", bytes(1 << 20))]
    )
    clean(run(["verify", str(target)], capsys), (1,))
    clean(audit(target, tmp_path, capsys), (3,))


# -- scan reports ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda p: p.write_text(alias_bomb(head="SchemaVersion: 2"), encoding="utf-8"),
        lambda p: p.write_bytes(b'{"SchemaVersion": 2, "Results": ' + deep_json() + b"}"),
        lambda p: p.write_bytes(b'{"SchemaVersion": ' + b"9" * 5000 + b"}"),
    ],
    ids=["alias-bomb", "deep", "huge-integer"],
)
def test_hostile_scan_reports_are_one_line_errors(
    write: Callable[[Path], Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scan = tmp_path / "scan.json"
    write(scan)
    clean(audit(HOSTILE / "scan-timestamps" / "cluster", tmp_path, capsys, "--scan-report", str(scan)), (3,))


def test_a_scan_report_fifo_never_blocks(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "scan.json")
    argv = ["audit", str(HOSTILE / "scan-timestamps" / "cluster"), "--as-of", AS_OF, "--scan-report"]
    outcome = clean(run_child([*argv, str(tmp_path / "scan.json")]), (3,))
    assert "a FIFO (named pipe), not a regular file" in outcome.err


# -- policy files, lifecycle data ------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda p: p.write_text(alias_bomb(head="version: 1"), encoding="utf-8"),
        lambda p: p.write_text("version: 1\nwaivers: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8"),
        lambda p: p.write_text("version: 1\nwaivers: &w [*w]\n", encoding="utf-8"),
    ],
    ids=["alias-bomb", "deep", "recursive-alias"],
)
def test_hostile_policy_files_are_one_line_errors(
    write: Callable[[Path], Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    write(policy)
    clean(run(["policy", "check", str(policy)], capsys), (2, 3))
    clean(audit(HOSTILE / "duplicate-node-identical", tmp_path, capsys, "--policy", str(policy)), (2, 3))


def test_deep_lifecycle_data_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "manifest.json").write_bytes(deep_json())
    clean(audit(HOSTILE / "duplicate-node-identical", tmp_path, capsys, "--data-dir", str(data)), (2, 3))


# -- live: kubeconfigs and credential plugins ------------------------------------------------------


def _kubeconfig(path: Path, user: dict[str, Any]) -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_a_kubeconfig_alias_bomb_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = clean(run(["audit", "--kubeconfig", str(HOSTILE / "kubeconfig-alias-bomb.yaml")], capsys), (2,))
    assert "alias bomb" in outcome.err


def test_a_token_file_fifo_never_blocks(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "token")
    config = _kubeconfig(tmp_path / "config", {"tokenFile": str(tmp_path / "token")})
    outcome = clean(run_child(["audit", "--kubeconfig", str(config), "--as-of", AS_OF]), (2,))
    assert f"cannot read token file {tmp_path / 'token'}: a FIFO (named pipe)" in outcome.err


def test_a_silent_credential_plugin_ends_at_the_deadline(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    plugin.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(120)\n", encoding="utf-8")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    exec_user = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin), "interactiveMode": "Never"}
    }
    config = _kubeconfig(tmp_path / "config", exec_user)
    argv = ["audit", "--kubeconfig", str(config), "--as-of", AS_OF, "--deadline", "2", "--request-timeout", "30"]
    outcome = clean(run_child(argv), (3,))
    assert f"exec plugin {plugin} gave no credential within" in outcome.err
    assert textwrap.shorten(outcome.err, 400) == outcome.err.strip()
