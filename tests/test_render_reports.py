"""Real Reports for the renderer tests, built through ``patchlevel.audit.audit``, and golden files.

Reports come from the demo snapshot (examples/demo-cluster), the licensed node fixtures
(tests/data/render/nodes) and a small generated cluster (tests/cluster_gen.py), all
judged as of 2026-11-27 with a fixed generation time.  The other test_render_* modules import the
builders from here.

Golden files: tests/golden/demo.* hold every format rendered from the demo with a waiver policy.
Regenerate them all with ``PATCHLEVEL_REGEN_GOLDEN=1 pytest tests/test_render_reports.py``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from builders import one_snapshot_of_nodes
from cluster_gen import write_cluster
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.evaluate import build_report
from patchlevel.knowledge import Knowledge, load_knowledge
from patchlevel.lifecycle.catalog import load_catalog
from patchlevel.model import Report, Status
from patchlevel.policy import Policy, parse_policy
from patchlevel.render import EXTENSIONS, RENDERERS, Format, render

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
GOLDEN = ROOT / "tests" / "golden"
DEMO = ROOT / "examples" / "demo-cluster"
NODES = DATA / "render" / "nodes"
AS_OF = date(2026, 11, 27)
GENERATED_AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
REGENERATE = os.environ.get("PATCHLEVEL_REGEN_GOLDEN") == "1"

# Waivers over the demo: one in force, one expired, one matching nothing.
DEMO_POLICY = """\
waivers:
  - id: W-OS-1
    check: node_os_supported
    subject: node/minikube
    reason: Ubuntu 20.04 ESM covers security fixes until the legacy node is retired (CHG-1001)
    owner: platform-team@example.com
    approved_by: ciso@example.com
    expires: 2027-03-31
  - id: W-RT-1
    check: container_runtime_supported
    subject: node/minikube
    reason: Docker Engine replacement was planned for October
    owner: platform-team@example.com
    expires: 2026-10-31
  - id: W-GONE-1
    check: kubelet_version_supported
    subject: node/decommissioned-*
    reason: nodes already removed
    owner: platform-team@example.com
    expires: 2027-01-31
"""


@functools.cache
def knowledge() -> Knowledge:
    return load_knowledge(load_catalog(None))


def _relative_inputs(report: Report) -> Report:
    """Input paths relative to the repository, so golden files do not depend on where it is cloned."""
    inputs = tuple(
        dataclasses.replace(i, path=os.path.relpath(i.path, ROOT) if os.path.isabs(i.path) else i.path)
        for i in report.inputs
    )
    return dataclasses.replace(report, inputs=inputs)


def build(path: Path, policy: Policy | None = None) -> Report:
    report = build_report(read_snapshot(path), knowledge(), policy or Policy(), AS_OF, GENERATED_AT)
    return _relative_inputs(report)


def demo_policy() -> Policy:
    return parse_policy(DEMO_POLICY, "tests/demo-policy.yaml")


@functools.cache
def demo_report() -> Report:
    return build(DEMO, demo_policy())


@functools.cache
def nodes_report() -> Report:
    """Real nodes of several clusters (kind, minikube, OpenShift) as one snapshot, each node kept."""
    return build(one_snapshot_of_nodes(sorted(NODES.glob("*-node.json")), Path(tempfile.mkdtemp(prefix="nodes-"))))


@functools.cache
def generated_report() -> Report:
    """A 20-node, 300-pod, 50-image cluster from tests/cluster_gen.py."""
    out = Path(tempfile.mkdtemp(prefix="patchlevel-generated-"))
    return build(write_cluster(out, nodes=20, pods=300, images=50))


# ------------------------------------------------------------------------------------------


def test_every_format_has_a_renderer_and_an_extension() -> None:
    assert set(RENDERERS) == set(Format)
    assert set(EXTENSIONS) == set(Format)
    assert len(set(EXTENSIONS.values())) == len(Format)


def test_demo_report_carries_waived_expired_and_unmatched_waivers() -> None:
    report = demo_report()
    by_id = {w.waiver.id: w for w in report.waivers}
    assert (by_id["W-OS-1"].matched, by_id["W-OS-1"].expired) == (1, False)
    assert (by_id["W-RT-1"].matched, by_id["W-RT-1"].expired) == (1, True)
    assert by_id["W-GONE-1"].matched == 0
    waived = [f for f in report.findings if f.status is Status.WAIVED]
    assert [(f.check, f.subject) for f in waived] == [("node_os_supported", "node/minikube")]
    runtime = next(
        f for f in report.findings if f.check == "container_runtime_supported" and f.subject == "node/minikube"
    )
    assert runtime.status is Status.FAIL
    assert "W-RT-1 expired on 2026-10-31" in runtime.note


GOLDEN_NAMES = {fmt: f"demo.{EXTENSIONS[fmt]}" for fmt in Format}


@pytest.mark.parametrize("fmt", list(Format), ids=[f.value for f in Format])
def test_golden(fmt: Format) -> None:
    rendered = render(demo_report(), fmt)
    path = GOLDEN / GOLDEN_NAMES[fmt]
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered)
    assert path.is_file(), f"{path} is missing: run PATCHLEVEL_REGEN_GOLDEN=1 pytest {__file__}"
    expected = path.read_bytes()
    assert rendered == expected, (
        f"{fmt.value} output differs from {path}; if the change is intended, regenerate with "
        "PATCHLEVEL_REGEN_GOLDEN=1 pytest tests/test_render_reports.py and review the diff"
    )


@pytest.mark.parametrize("fmt", list(Format), ids=[f.value for f in Format])
def test_every_format_names_every_requirement_and_waiver(fmt: Format) -> None:
    report = demo_report()
    text = render(report, fmt).decode("utf-8")
    for requirement in report.requirements:
        assert requirement.id in text, f"{requirement.id} missing from {fmt.value}"
    assert "W-OS-1" in text or fmt is Format.TERMINAL or fmt is Format.MARKDOWN
    assert "waived" in text.lower()


@pytest.mark.parametrize("builder", [nodes_report, generated_report], ids=["fixture-nodes", "generated"])
@pytest.mark.parametrize("fmt", list(Format), ids=[f.value for f in Format])
def test_every_format_renders_real_reports(builder: object, fmt: Format) -> None:
    report = builder()  # type: ignore[operator]
    data = render(report, fmt)
    assert data
    data.decode("utf-8")
    for requirement in report.requirements:
        assert requirement.id.encode() in data


def test_cli_writes_every_format_into_a_directory_with_a_policy(tmp_path: Path) -> None:
    from patchlevel.cli import main

    policy = tmp_path / "patchlevel.yaml"
    policy.write_text(DEMO_POLICY)
    out = tmp_path / "reports"
    names = ",".join(f.value for f in Format if f is not Format.TERMINAL)
    code = main(
        ["audit", str(DEMO), "--as-of", "2026-11-27", "--policy", str(policy), "--format", names, "-o", str(out)]
    )
    assert code == 1  # the demo has failing findings
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"patchlevel-report.{EXTENSIONS[f]}" for f in Format if f is not Format.TERMINAL)
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "W-OS-1" in text or path.suffix == ".md", path
        assert "PCI-DSS-11.3.1.2" in text, path
    assert str(policy) in (out / "patchlevel-report.html").read_text()
