"""The JSON report against its published JSON Schema (draft 2020-12), on real and constructed audits."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from builders import (
    AS_OF,
    DATA,
    knowledge,
    make_inventory,
    make_kube_proxy_pod,
    make_node,
    one_snapshot_of_nodes,
)
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.evaluate import build_report
from patchlevel.model import Finding, Severity, Status, Waiver
from patchlevel.policy import Policy
from patchlevel.render.json import render_json, report_document

GENERATED = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]


def schema() -> dict[str, Any]:
    text = (resources.files("patchlevel") / "schemas" / "report.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validator() -> Draft202012Validator:
    return Draft202012Validator(schema(), format_checker=FormatChecker())


def errors(doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(doc)]


def rendered(inventory: Any, as_of: date = AS_OF) -> dict[str, Any]:
    report = build_report(inventory, knowledge(), Policy(), as_of, GENERATED)
    doc: dict[str, Any] = json.loads(render_json(report))
    return doc


@pytest.fixture(scope="module")
def real_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An audit of a snapshot made from the real node and /version files."""
    snapshot = one_snapshot_of_nodes(
        sorted((DATA / "kube").glob("*-node.json")) + sorted((DATA / "nodes").glob("*.json")),
        tmp_path_factory.mktemp("real"),
    )
    shutil.copy(DATA / "version" / "kind-v1.20.0-version.json", snapshot / "version.json")
    shutil.copy(DATA / "nodes" / "SOURCES.md", snapshot / "SOURCES.md")
    return rendered(read_snapshot(snapshot))


def test_the_schema_is_valid_draft_2020_12_and_ships_in_the_package() -> None:
    doc = schema()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(doc)


def test_status_enum_is_exactly_the_model_statuses() -> None:
    """A new Status must be added to the schema, and the schema must name no status the model lacks."""
    assert schema()["$defs"]["status"]["enum"] == [s.value for s in Status]
    assert schema()["$defs"]["finding"]["properties"]["severity"]["enum"] == [s.value for s in Severity]


def test_real_snapshot_report_validates(real_doc: dict[str, Any]) -> None:
    assert errors(real_doc) == []
    assert (real_doc["as_of"], real_doc["lifecycle_data_date"]) == ("2026-11-27", "2026-08-22")
    assert real_doc["cluster"]["version"] == "v1.20.0"
    assert real_doc["cluster"]["distribution"] == "openshift"  # the RHCOS node's labels say so
    assert real_doc["cluster"]["nodes"] == 5  # every real node, the three "minikube"s renamed apart
    assert not any("more than once" in w for w in real_doc["warnings"])  # no node stands in for another
    assert real_doc["generated_at"] == "2026-11-27T08:30:00Z"


def test_findings_carry_the_required_fields(real_doc: dict[str, Any]) -> None:
    findings = real_doc["findings"]
    assert findings
    statuses = {f["status"] for f in findings}
    assert statuses <= {"pass", "warn", "fail", "unknown"}
    assert {"pass", "fail", "unknown"} <= statuses
    for f in findings:
        assert f["status"] == f["status"].lower()
        assert f["requirements"] and all(isinstance(r, str) for r in f["requirements"])
        assert isinstance(f["evidence"], dict)
        assert f["subject"] == "cluster" or f["subject"].startswith(("node/", "image/"))
    requirements = {r for f in findings for r in f["requirements"]}
    assert {"PCI-CG-10.1", "PCI-CG-10.2", "PCI-DSS-6.3.3", "PCI-DSS-12.3.4"} <= requirements
    by_check = {f["check"]: f for f in findings if f["subject"] == "node/attack-chain-6-control-plane"}
    skew = by_check["kubelet_version_skew_allowed"]
    assert (skew["status"], skew["evidence"]["kubelet"], skew["evidence"]["api_server"]) == (
        "fail",
        "v1.25.3",
        "v1.20.0",
    )


def test_every_requirement_is_summarised(real_doc: dict[str, Any]) -> None:
    summary = real_doc["summary"]
    assert summary["findings"] == len(real_doc["findings"])
    assert sum(summary["by_status"].values()) == len(real_doc["findings"])
    ids = [r["id"] for r in summary["requirements"]]
    assert ids[:2] == ["PCI-CG-10.1", "PCI-CG-10.2"]
    cg101 = summary["requirements"][0]
    assert (cg101["verdict"], cg101["assessed"]) == ("fail", True)


def test_inputs_say_what_each_file_was_read_as(real_doc: dict[str, Any]) -> None:
    read_as = {Path(i["path"]).name: i["read_as"] for i in real_doc["inputs"]}
    assert read_as["version.json"] == "version v1.20.0"
    assert read_as["SOURCES.md"] == "ignored"
    assert read_as["kind-ubuntu2204-containerd-v1.25-node.json"] == "1 node"


def test_demo_cluster_report_validates() -> None:
    demo = REPO / "examples" / "demo-cluster"
    if not demo.is_dir():
        pytest.skip("examples/demo-cluster is not in this checkout")
    doc = rendered(read_snapshot(demo))
    assert errors(doc) == []


def test_constructed_report_with_pods_and_every_status_validates() -> None:
    node = make_node("n1", kubelet="v1.35.2", runtime="containerd://2.2.1", created="2026-02-20T00:00:00Z")
    inventory = make_inventory(
        "v1.35.2", nodes=[node], pods=[make_kube_proxy_pod("n1", "registry.k8s.io/kube-proxy:v1.35.2")]
    )
    report = build_report(inventory, knowledge(), Policy(), date(2026, 3, 1), GENERATED)
    waiver = Waiver(
        "node_os_supported", "node/n1", "replaced next sprint", "platform-team", date(2026, 12, 31), id="W-1"
    )
    extra = (
        Finding("node_os_supported", Status.WAIVED, Severity.LOW, "node/n1", "waived", waiver=waiver, note="n"),
        Finding("kubelet_patch_current", Status.ERROR, Severity.HIGH, "cluster", "the check failed: boom"),
    )
    doc = json.loads(render_json(dataclasses.replace(report, findings=report.findings + extra)))
    assert errors(doc) == []
    assert {f["status"] for f in doc["findings"]} >= {"pass", "waived", "error"}
    assert doc["findings"][-2]["waiver"]["expires"] == "2026-12-31"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d["findings"][0].update(status="PASS"), "'PASS' is not one of"),
        (lambda d: d["findings"][0].update(status="ok"), "'ok' is not one of"),
        (lambda d: d["findings"][0].pop("evidence"), "'evidence' is a required property"),
        (lambda d: d["findings"][0].update(requirements="PCI-CG-10.1"), "is not of type 'array'"),
        (lambda d: d.pop("as_of"), "'as_of' is a required property"),
        (lambda d: d.update(as_of="27/11/2026"), "does not match"),
        (lambda d: d["cluster"].pop("distribution"), "'distribution' is a required property"),
        (lambda d: d.update(lifecycle_data_date=20260822), "is not valid under any of the given schemas"),
        (lambda d: d["summary"]["by_status"].update(maybe=1), "'maybe' is not one of"),
    ],
)
def test_schema_rejects_broken_documents(real_doc: dict[str, Any], change: Any, complaint: str) -> None:
    doc = json.loads(json.dumps(real_doc))
    change(doc)
    problems = errors(doc)
    assert problems and any(complaint in p for p in problems), problems


def test_schema_accepts_new_keys_at_the_top_level(real_doc: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(real_doc))
    doc["future_section"] = {"anything": [1, 2, 3]}
    assert errors(doc) == []


def test_document_and_bytes_agree() -> None:
    inventory = make_inventory("v1.33.4", nodes=[make_node("n1")])
    report = build_report(inventory, knowledge(), Policy(), AS_OF, GENERATED)
    assert json.loads(render_json(report)) == json.loads(json.dumps(report_document(report)))
    assert render_json(report).endswith(b"\n")
