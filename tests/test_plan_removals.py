"""The bundled Kubernetes API removal table: what it holds, and that a broken table is an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import BUNDLED_DATA
from patchlevel.lifecycle.removals import REMOVALS_FILE, load_removals, parse_removals

TABLE = BUNDLED_DATA / REMOVALS_FILE


def test_the_table_covers_pdb_and_hpa_removals_with_their_replacements() -> None:
    table = load_removals()
    pdb = table.lookup("policy/v1beta1", "PodDisruptionBudget")
    hpa = table.lookup("autoscaling/v2beta2", "HorizontalPodAutoscaler")
    assert pdb is not None and (pdb.removed_in, pdb.replacement, pdb.resource) == (
        "1.25",
        "policy/v1",
        "poddisruptionbudgets",
    )
    assert hpa is not None and (hpa.removed_in, hpa.replacement, hpa.deprecated_in) == (
        "1.26",
        "autoscaling/v2",
        "1.23",
    )
    assert {"pluto", "kubent"} <= set(pdb.sources)


def test_the_table_is_dated_reaches_1_36_and_names_its_sources() -> None:
    table = load_removals()
    assert table.reaches == "1.36" and str(table.retrieved) == "2026-03-02"
    assert {r.kind for r in table.removed_in("1.36")} == {
        "DeviceClass",
        "ResourceClaim",
        "ResourceClaimTemplate",
        "ResourceSlice",
    }
    assert set(table.sources) == {"pluto", "kubent", "guide"}
    assert all(r.sources for r in table.removals)
    # the Kubernetes deprecation guide decides where the tools disagree
    flow = table.lookup("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema")
    assert flow is not None and flow.removed_in == "1.26" and "guide" in flow.sources
    psp = table.lookup("policy/v1beta1", "PodSecurityPolicy")
    assert psp is not None and psp.replacement is None and "Pod Security Admission" in psp.note


def _table(**change: object) -> bytes:
    doc = json.loads(TABLE.read_text())
    entry = dict(doc["removals"][0])
    entry.update(change)
    doc["removals"] = [entry, *doc["removals"][1:]]
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_table(removed_in="1.x"), "not a Kubernetes minor release"),
        (_table(api_version="Not A Version"), "not group/version"),
        (_table(deprecated_in="1.30"), "after its removal"),
        (_table(sources=["somewhere"]), "must name entries"),
        (_table(surprise=1), "not a patchlevel API removal table"),
        (b'{"format": 1', "not valid JSON"),
    ],
)
def test_a_broken_table_is_an_error_naming_the_entry(data: bytes, message: str) -> None:
    with pytest.raises(LifecycleError, match=message):
        parse_removals(data, "api-removals.json")


def test_a_duplicate_entry_is_an_error(tmp_path: Path) -> None:
    doc = json.loads(TABLE.read_text())
    doc["removals"].append(doc["removals"][0])
    path = tmp_path / REMOVALS_FILE
    path.write_text(json.dumps(doc))
    with pytest.raises(LifecycleError, match="listed twice"):
        load_removals(path)
    with pytest.raises(LifecycleError, match="cannot read"):
        load_removals(tmp_path / "missing.json")
