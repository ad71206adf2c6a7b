"""CSAF 2.0 product groups: a flag, threat or remediation scoped by ``group_ids`` names the group's products only.

An audit found that a flag with only ``group_ids`` was read as naming every product (``product_groups``
was never parsed), so one group's justification made every ``known_not_affected`` product of the
vulnerability usable.  CSAF 2.0 (OASIS, csaf-v2.0-os): product groups are defined in
``product_tree.product_groups`` (section 3.2.2.3); a flag (3.2.3.5) and a remediation (3.2.3.12) MUST
name at least one of ``group_ids`` and ``product_ids`` (mandatory tests 6.1.32 and 6.1.29: "The given
flag does not specify to which products it should be applied"), so one naming neither applies to no
product; a threat (3.2.3.14) may name neither and is then about the vulnerability as a whole.

No published CSAF document in tests/data/vex uses product groups, so the documents are constructed
here in the shape of the real ones (``csaf-ciq-*``: full_product_names with purl helpers).
"""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

from patchlevel.vuln.vex import VexIndex, parse_vex

DIGEST_A = "sha256:" + "a1" * 32
DIGEST_B = "sha256:" + "b2" * 32
DIGEST_C = "sha256:" + "c3" * 32
REPO = "ghcr.io/acme/app"
CVE = "CVE-2026-0001"


def image(name: str, digest: str) -> dict[str, Any]:
    purl = f"pkg:oci/app@{digest.replace(':', '%3A')}?repository_url={REPO}"
    return {"product_id": name, "name": f"app {name}", "product_identification_helper": {"purl": purl}}


def csaf(vulnerability: dict[str, Any]) -> dict[str, Any]:
    """Three builds of one image; builds a and b form the group ``CSAFGID-ab``; all three known_not_affected."""
    return {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": {"name": "ACME PSIRT"},
            "tracking": {"id": "ACME-2026-7", "current_release_date": "2026-06-01T00:00:00Z"},
        },
        "product_tree": {
            "full_product_names": [image("a", DIGEST_A), image("b", DIGEST_B), image("c", DIGEST_C)],
            "product_groups": [{"group_id": "CSAFGID-ab", "product_ids": ["a", "b"], "summary": "builds a and b"}],
        },
        "vulnerabilities": [{"cve": CVE, "product_status": {"known_not_affected": ["a", "b", "c"]}} | vulnerability],
    }


def statements(document: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_vex(json.dumps(document).encode(), "acme.json")
    return {s.products[0].identifier.split("@")[1][:13]: s for s in parsed.statements}


def applies(document: dict[str, Any], digest: str) -> bool:
    decision = VexIndex.build([parse_vex(json.dumps(document).encode(), "acme.json")]).match(
        vulnerability=CVE, repository=REPO, digest=digest, as_of=date(2026, 7, 1), max_age_days=365
    )
    return decision.removes_from_sla


def test_a_flag_naming_a_group_justifies_the_groups_products_only() -> None:
    document = csaf({"flags": [{"label": "vulnerable_code_not_present", "group_ids": ["CSAFGID-ab"]}]})
    found = statements(document)
    assert {k: s.justification for k, s in found.items()} == {
        "sha256%3Aa1a1": "vulnerable_code_not_present",
        "sha256%3Ab2b2": "vulnerable_code_not_present",
        "sha256%3Ac3c3": "",
    }
    assert applies(document, DIGEST_A) and applies(document, DIGEST_B)
    assert not applies(document, DIGEST_C)  # not_affected without a justification: ignored


def test_threats_and_remediations_expand_groups_too() -> None:
    group = ["CSAFGID-ab"]
    document = csaf(
        {
            "threats": [{"category": "impact", "details": "the parser is not built in", "group_ids": group}],
            "remediations": [{"category": "mitigation", "details": "keep it off the network", "group_ids": group}],
        }
    )
    found = statements(document)
    assert [(s.impact_statement, s.action_statement) for s in found.values()] == [
        ("the parser is not built in", "keep it off the network"),
        ("the parser is not built in", "keep it off the network"),
        ("", ""),
    ]


def test_a_group_that_is_not_defined_names_nothing() -> None:
    document = csaf({"flags": [{"label": "vulnerable_code_not_present", "group_ids": ["CSAFGID-missing"]}]})
    assert [s.justification for s in statements(document).values()] == ["", "", ""]
    assert not any(applies(document, d) for d in (DIGEST_A, DIGEST_B, DIGEST_C))


def test_a_flag_naming_neither_products_nor_groups_applies_to_no_product_and_is_reported() -> None:
    document = csaf({"flags": [{"label": "component_not_present"}]})
    parsed = parse_vex(json.dumps(document).encode(), "acme.json")
    assert [s.justification for s in parsed.statements] == ["", "", ""]
    assert parsed.notes == (
        f"vulnerabilities[0] ({CVE}): 1 flag(s) or remediation(s) name no product or group (invalid in CSAF 2.0, "
        "mandatory tests 6.1.29 and 6.1.32), so they apply to no product",
    )
    assert not applies(document, DIGEST_C)


def test_a_threat_naming_neither_is_about_every_product_of_the_vulnerability() -> None:
    # As in Trivy's adaptation of the OASIS example (csaf-trivy-known-not-affected.json).
    document = csaf({"threats": [{"category": "impact", "details": "no product ships the parser"}]})
    assert [s.impact_statement for s in statements(document).values()] == ["no product ships the parser"] * 3
    assert applies(document, DIGEST_C)


def test_product_ids_and_group_ids_together() -> None:
    document = csaf(
        {"flags": [{"label": "vulnerable_code_not_in_execute_path", "product_ids": ["c"], "group_ids": ["CSAFGID-ab"]}]}
    )
    assert all(applies(document, d) for d in (DIGEST_A, DIGEST_B, DIGEST_C))
    only_c = copy.deepcopy(document)
    only_c["vulnerabilities"][0]["flags"][0].pop("group_ids")
    assert [applies(only_c, d) for d in (DIGEST_A, DIGEST_B, DIGEST_C)] == [False, False, True]
