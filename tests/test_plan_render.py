"""The plan's renderers: every format drawn from one Plan, JSON valid against the published schema,
the approval block in Markdown and HTML, and input text that stays text."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from builders import make_inventory, make_node, make_pod
from patchlevel.plan.model import Plan, StepKind
from patchlevel.render.plan import PLAN_EXTENSIONS, PLAN_RENDERERS, PlanFormat, render_plan
from patchlevel.render.plan_json import plan_document
from patchlevel.render.plan_terminal import render_plan_terminal
from plan_helpers import plan_for

HOSTILE = "<script>alert(1)</script>[x](https://evil.example)\x1b[31m"


def schema() -> dict[str, Any]:
    text = (resources.files("patchlevel") / "schemas" / "plan.schema.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def validator() -> Draft202012Validator:
    return Draft202012Validator(schema(), format_checker=FormatChecker())


def eks_plan() -> Plan:
    nodes = [
        make_node(f"old-{i}", kubelet="v1.27.16-eks-a18cd3a", labels={"eks.amazonaws.com/nodegroup": "old"})
        for i in range(2)
    ]
    pods = [make_pod("web-1", namespace="shop", node="old-0")]
    return plan_for(make_inventory("v1.29.15-eks-4f2ab7c", nodes=nodes, pods=pods), date(2025, 6, 1))


def hostile_plan() -> Plan:
    nodes = [make_node(HOSTILE, kubelet="v1.33.4", labels={"node.kubernetes.io/pool": HOSTILE})]
    pods = [make_pod(HOSTILE[:40].lower().replace("<", "x"), namespace="ns", node=HOSTILE)]
    return plan_for(make_inventory("v1.33.4", nodes=nodes, pods=pods), date(2026, 12, 7))


def compliant_plan() -> Plan:
    inventory = make_inventory(
        "v1.36.4", nodes=[make_node("n1", kubelet="v1.36.4", runtime="containerd://2.3.1")], pods=[]
    )
    return plan_for(inventory, date(2026, 12, 7), findings=lambda fs: [f.replace(status=f.status.PASS) for f in fs])


def test_the_schema_is_valid_draft_2020_12_and_ships_in_the_package() -> None:
    Draft202012Validator.check_schema(schema())
    step_kinds = schema()["properties"]["steps"]["items"]["properties"]["kind"]["enum"]
    assert step_kinds == [k.value for k in StepKind]


@pytest.mark.parametrize("make", [eks_plan, hostile_plan, compliant_plan])
def test_json_plans_are_valid_against_the_published_schema(make: Any) -> None:
    plan = make()
    doc = json.loads(render_plan(plan, PlanFormat.JSON))
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert doc == json.loads(json.dumps(plan_document(plan)))
    assert doc["approval"] == {
        "plan_id": plan.id,
        "as_of": plan.as_of.isoformat(),
        "prepared_by": plan.prepared_by,
        "approved_by": None,
        "approved_on": None,
    }


def test_every_plan_format_has_a_renderer_and_an_extension() -> None:
    assert set(PLAN_RENDERERS) == set(PlanFormat) == set(PLAN_EXTENSIONS)
    plan = eks_plan()
    for fmt in PlanFormat:
        assert plan.id.encode() in render_plan(plan, fmt)


def test_markdown_and_html_carry_the_approval_block() -> None:
    plan = eks_plan()
    markdown = render_plan(plan, PlanFormat.MARKDOWN).decode()
    assert "### Approval (PCI DSS 12.3.4)" in markdown
    assert (
        f"| Plan id | `{plan.id}` |" in markdown and "| Approved by | |" in markdown and "| Approved on | |" in markdown
    )
    assert f"| As of | {plan.as_of} |" in markdown and f"| Prepared by | {plan.prepared_by} |" in markdown
    html = render_plan(plan, PlanFormat.HTML).decode()
    assert "Approval (PCI DSS 12.3.4)" in html
    assert f"<tr><th>Plan id</th><td><code>{plan.id}</code></td></tr>" in html
    assert "<tr><th>Approved by</th><td></td></tr>" in html
    assert "Content-Security-Policy" in html and "<script" not in html


def test_every_step_is_shown_with_its_date_in_each_format() -> None:
    plan = eks_plan()
    text = render_plan_terminal(plan, width=200)
    markdown = render_plan(plan, PlanFormat.MARKDOWN).decode()
    html = render_plan(plan, PlanFormat.HTML).decode()
    for step in plan.steps:
        assert f"{step.id}  " in text and f"### {step.id} ·" in markdown and f'id="{step.id}"' in html
        if step.deadline.latest_safe:
            assert str(step.deadline.latest_safe) in text


def test_input_text_stays_text_in_every_format() -> None:
    plan = hostile_plan()
    assert any(HOSTILE in " ".join(s.subjects) for s in plan.steps)
    html = render_plan(plan, PlanFormat.HTML).decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "\x1b" not in html
    markdown = render_plan(plan, PlanFormat.MARKDOWN).decode()
    assert "<script>" not in markdown and "](https://" not in markdown and "\x1b" not in markdown
    text = render_plan_terminal(plan, color=True)
    assert "\\x1b[31m" in text
    doc = json.loads(render_plan(plan, PlanFormat.JSON))
    assert any(f"node/{HOSTILE}" in step["subjects"] for step in doc["steps"])  # kept whole: the JSON is data


def test_the_compliant_plan_says_so_in_every_format() -> None:
    plan = compliant_plan()
    assert "COMPLIANT: Nothing to do" in render_plan_terminal(plan)
    assert "**COMPLIANT:** Nothing to do" in render_plan(plan, PlanFormat.MARKDOWN).decode()
    assert json.loads(render_plan(plan, PlanFormat.JSON))["summary"]["state"] == "compliant"
