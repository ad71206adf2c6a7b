"""``patchlevel plan`` through ``main(argv)``: formats, files, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from builders import make_node_doc, version_doc, write_json
from patchlevel.cli import main

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo-cluster"


@pytest.fixture(autouse=True)
def bundled_lifecycle_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATCHLEVEL_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.delenv("PATCHLEVEL_DEBUG", raising=False)


def test_the_demo_plan_on_the_terminal_is_late_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", str(DEMO), "--as-of", "2026-11-27"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("patchlevel plan PL-")
    assert "LATE: 26 steps to Kubernetes 1.36" in out
    assert "Upgrade the control plane from 1.25 to 1.26.15" in out


def test_several_formats_go_into_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan"
    code = main(["plan", str(DEMO), "--as-of", "2026-11-27", "--format", "markdown,json,html", "-o", str(out),
                 "--prepared-by", "Platform team", "--target", "1.27"])  # fmt: skip
    assert code == 1
    doc = json.loads((out / "patchlevel-plan.json").read_text())
    assert doc["target"]["kubernetes"] == "1.27" and doc["prepared_by"] == "Platform team"
    assert [s["to_version"] for s in doc["steps"] if s["kind"] == "control-plane-upgrade"] == ["1.26.15", "1.27.16"]
    assert "| Prepared by | Platform team |" in (out / "patchlevel-plan.md").read_text()
    assert (out / "patchlevel-plan.html").read_text().startswith("<!DOCTYPE html>")
    assert "wrote json plan to" in capsys.readouterr().err


def test_an_on_track_plan_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_json(tmp_path / "version.json", version_doc("v1.35.8"))
    node = make_node_doc("n1", kubelet="v1.35.8", runtime="containerd://2.3.4", created="2026-12-01T00:00:00Z")
    write_json(tmp_path / "nodes.json", {"kind": "NodeList", "items": [node]})
    code = main(["plan", str(tmp_path), "--as-of", "2026-12-07", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["summary"]["state"] == "on-track" and doc["summary"]["next_deadline"] == "2026-12-30"
    assert [(s["kind"], s["deadline"]["latest_safe"], s["late"]) for s in doc["steps"]] == [
        ("api-migration", "2026-12-30", False),
        ("control-plane-upgrade", "2026-12-30", False),
        ("node-pool-upgrade", "2026-12-30", False),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "--format 'pdf': choose from terminal, markdown, json, html"),
        (["--format", "json,html"], "several formats need -o DIR"),
        (["--target", "1.20"], "cannot be downgraded"),
        (["--as-of", "2026-13-01"], "is not a date"),
        (["--context", "prod"], "--context and --kubeconfig are for live clusters"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["plan", str(DEMO), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_plan_is_never_written_over_an_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = tmp_path / "snapshot"
    shutil.copytree(DEMO, snapshot)
    before = (snapshot / "nodes.json").read_bytes()
    code = main(
        ["plan", str(snapshot), "--as-of", "2026-11-27", "--format", "json", "-o", str(snapshot / "nodes.json")]
    )
    assert code == 3
    assert "refusing to write the report over an input file" in capsys.readouterr().err
    assert (snapshot / "nodes.json").read_bytes() == before
