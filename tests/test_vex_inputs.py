"""--vex reads regular files only, within a size bound, through ``patchlevel.safeinput`` (issue 10).

An audit found that a FIFO named ``*.json`` in a ``--vex`` directory made the audit wait forever
(``Path.read_bytes`` opens it and blocks until something writes).  Like ``--scan-report``, a file
that is not regular is now listed as an ignored input and never opened.  The audits run in a child
process with a timeout, and the in-process reads under a watchdog that releases a blocked reader,
so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hostile_inputs import fifo
from patchlevel.errors import InputError
from patchlevel.vuln.vex import load_vex, read_vex_inputs
from test_images import pod_doc
from test_vex_images import ALPINE_DIGEST, GO_VEX, alpine_doc

TIMEOUT = 60


def vex_directory(tmp_path: Path) -> Path:
    directory = tmp_path / "vex"
    directory.mkdir()
    shutil.copy(GO_VEX, directory / GO_VEX.name)
    return directory


def test_a_fifo_in_a_vex_directory_is_listed_as_not_read(tmp_path: Path) -> None:
    directory = vex_directory(tmp_path)
    with fifo(directory / "stuck.json"):
        read = read_vex_inputs(directory)
        documents, skipped = load_vex(directory)
    assert [d.document for d in read.documents] == [str(directory / GO_VEX.name)]
    ignored = {Path(i.path).name: i for i in read.inputs if i.read_as == "ignored"}
    assert ignored["stuck.json"].reason == "a FIFO (named pipe), not read"
    assert ignored["stuck.json"].sha256 == ""  # never opened
    assert len(documents) == 1 and skipped == [(str(directory / "stuck.json"), "a FIFO (named pipe), not read")]


def test_a_vex_path_that_is_a_fifo_is_a_one_line_error(tmp_path: Path) -> None:
    with fifo(tmp_path / "vex.json") as path, pytest.raises(InputError) as raised:
        read_vex_inputs(path)
    assert (
        raised.value.message == f"VEX path {path} is a FIFO (named pipe), not a regular file or a directory; not read"
    )


def test_links_to_what_is_not_a_regular_file_are_not_followed(tmp_path: Path) -> None:
    directory = vex_directory(tmp_path)
    (directory / "null.json").symlink_to("/dev/null")
    (directory / "loop.json").symlink_to(directory / "loop.json")
    (directory / "sub").symlink_to(directory)  # a link to a directory: not walked (no loop)
    read = read_vex_inputs(directory)
    reasons = {Path(i.path).name: i.reason for i in read.inputs if i.read_as == "ignored"}
    assert reasons == {
        "null.json": "a symbolic link to a character device, not read",
        "loop.json": "a symbolic link loop, not read",
    }
    assert len(read.documents) == 1


def test_the_input_size_limit_bounds_a_vex_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHLEVEL_MAX_INPUT_BYTES", "1000")  # the go-vex document is 2811 bytes
    with pytest.raises(InputError, match=r"larger than 1000 bytes; not read as VEX"):
        read_vex_inputs(GO_VEX)


# ------------------------------------------------------------------------------------------
# The whole audit, in a child process that cannot outlive TIMEOUT


def cluster(tmp_path: Path) -> list[str]:
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    pods = {"apiVersion": "v1", "kind": "List", "items": [
        pod_doc("web", "alpine:3.17.4", f"docker.io/library/alpine@{ALPINE_DIGEST}")
    ]}  # fmt: skip
    (snapshot / "pods.json").write_text(json.dumps(pods))
    (snapshot / "version.json").write_text(json.dumps({"gitVersion": "v1.31.3", "major": "1", "minor": "31"}))
    (tmp_path / "scan.json").write_text(json.dumps(alpine_doc("2023-09-01T08:00:00Z")))
    (tmp_path / "policy.yaml").write_text(
        "version: 1\nsla_days: {critical: 30, high: 30, medium: 30}\nsla_status: {critical: fail, high: warn, "
        "medium: fail}\n"
    )
    return [
        "audit", str(snapshot), "--as-of", "2023-09-10", "--scan-report", str(tmp_path / "scan.json"),
        "--policy", str(tmp_path / "policy.yaml"), "--fail-on", "fail",
    ]  # fmt: skip


def child(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from patchlevel.cli import main; sys.exit(main(sys.argv[1:]))", *argv],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
    )


def test_an_audit_with_a_fifo_in_the_vex_directory_finishes_and_lists_it(tmp_path: Path) -> None:
    directory = vex_directory(tmp_path)
    os.mkfifo(directory / "stuck.json")  # nothing releases it: only the child's timeout stands between us and a hang
    out = tmp_path / "report.json"
    done = child([*cluster(tmp_path), "--vex", str(directory), "--format", "json", "-o", str(out)])
    assert done.returncode == 0, done.stderr  # the go-vex statements still apply: PASS
    report = json.loads(out.read_text())
    inputs = {Path(i["path"]).name: i for i in report["inputs"]}
    assert inputs["stuck.json"]["read_as"] == "ignored"
    assert inputs["stuck.json"]["reason"] == "a FIFO (named pipe), not read"
    assert inputs[GO_VEX.name]["read_as"] == "OpenVEX 0.2.0 VEX (5 statements)"


def test_an_audit_given_a_fifo_as_vex_fails_in_one_line(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "vex.json")
    done = child([*cluster(tmp_path), "--vex", str(tmp_path / "vex.json")])
    # The command line's own check (audit.py) refuses it first as "no such file or directory" (2); read
    # anyway, the reader refuses it as a FIFO (3).  Either way: one line, no wait, no traceback.
    assert done.returncode in (2, 3), done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith(f"patchlevel: error: --vex {tmp_path / 'vex.json'}") or (
        "is a FIFO (named pipe), not a regular file or a directory; not read" in done.stderr
    )
