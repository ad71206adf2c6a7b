"""One skeleton per check family: checks yield judgements, the runner stamps each check's id.

A check never writes its own id: ``evaluate`` makes every judgement a Finding carrying the id of the
spec that yielded it, and refuses anything else a check yields.  Node checks share one verdict per
node configuration; image checks share each image's scan evidence, derived once per context.
Pods and the scan report are real files (tests/data/kube, tests/data/scans; see their SOURCES.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date

import pytest

from builders import AS_OF, knowledge, make_context, make_inventory, make_node, run
from patchlevel.checks import ALL_CHECKS, CheckSpec
from patchlevel.checks.common import Context, Judgement
from patchlevel.checks.images import image_evidence, scan_evidence
from patchlevel.evaluate import evaluate
from patchlevel.images import ScanIndex
from patchlevel.inventory import Inventory
from patchlevel.model import Finding, Severity, Status
from patchlevel.policy import Policy
from test_images import KUBE, NGINX_DIGEST, real_pod, report

NGINX = f"image/docker.io/library/nginx@{NGINX_DIGEST}"
# trivy-operator VulnerabilityReport of nginx:alpine, updateTimestamp 2023-03-23T16:23:01Z (matched by tag)
NGINX_REPORT = "trivy-operator/defectdojo-vulnerabilityreport-nginx-alpine.json"
SCANNED = date(2023, 3, 23)


def nginx_inventory() -> Inventory:
    inventory = make_inventory(
        "v1.33.4",
        nodes=[make_node("node-1", labels={"eks.amazonaws.com/nodegroup": "blue"})],
        pods=[real_pod(KUBE / "nginx-docker-pullable-pod.json")],
    )
    return dataclasses.replace(inventory, scans=(report(NGINX_REPORT),))


def test_every_finding_carries_the_id_of_the_check_that_judged_it_in_registry_order() -> None:
    findings = evaluate(nginx_inventory(), knowledge(), Policy(), SCANNED)
    ids = [spec.id for spec in ALL_CHECKS]
    assert list(dict.fromkeys(f.check for f in findings)) == ids  # each check's findings together, in order
    by_check = {spec.id: [f for f in findings if f.check == spec.id] for spec in ALL_CHECKS}
    assert [f.subject for f in by_check["image_scanned_recently"]] == [NGINX]
    assert [f.subject for f in by_check["kubelet_version_supported"]] == ["node/node-1"]
    node = by_check["kubelet_version_supported"][0]
    assert node.node_pool == "eks.amazonaws.com/nodegroup=blue"
    assert node.requirements  # from the requirement mapping, by the stamped id


def yields_a_finding(ctx: Context) -> Iterator[Judgement]:
    """A check written the old way: it types an id (another check's) into a Finding of its own."""
    yield Finding(  # type: ignore[misc]
        check="kubelet_version_supported",
        status=Status.PASS,
        severity=Severity.INFO,
        subject="cluster",
        message="typed by hand",
    )


def test_a_check_that_yields_anything_but_a_judgement_is_refused() -> None:
    """A finding made by the check could carry another check's id: a programming error, not an ERROR finding."""
    spec = CheckSpec(yields_a_finding, "Old style", "Yields a Finding it made itself.")
    with pytest.raises(TypeError, match="check yields_a_finding yielded a Finding, not a Judgement"):
        evaluate(make_inventory(nodes=[make_node()]), knowledge(), Policy(), AS_OF, checks=(spec,))


def test_a_passing_finding_carries_no_remediation_and_a_failing_one_does() -> None:
    ctx = make_context(nodes=[make_node("old", kubelet="v1.25.3"), make_node("new", kubelet="v1.35.2")])
    found = {f.subject: f for f in run("kubelet_version_supported", ctx)}
    assert found["node/old"].status is Status.FAIL and found["node/old"].remediation
    assert found["node/new"].status is Status.PASS and found["node/new"].remediation == ""


def test_nodes_of_one_configuration_share_one_verdict_and_evidence_object() -> None:
    """per_node judges each distinct configuration once; its nodes' findings share the evidence (5,000 nodes)."""
    nodes = [make_node(f"n{i}", kubelet="v1.31.2") for i in range(3)] + [make_node("other", kubelet="v1.33.4")]
    findings = evaluate(make_inventory(nodes=nodes), knowledge(), Policy(), AS_OF)
    kubelet = [f for f in findings if f.check == "kubelet_patch_current"]
    assert [f.subject for f in kubelet] == ["node/n0", "node/n1", "node/n2", "node/other"]
    same = kubelet[:3]
    assert same[0].evidence is same[1].evidence is same[2].evidence
    assert same[0].evidence["running"] == "v1.31.2"
    assert kubelet[3].evidence is not same[0].evidence and kubelet[3].evidence["running"] == "v1.33.4"


def test_scan_evidence_is_derived_once_per_context_and_anew_for_another_policy() -> None:
    ctx = make_context(nginx_inventory(), as_of=date(2023, 4, 10))
    first = ctx.derived(image_evidence)
    for check in ("image_scanned_recently", "fixable_vulnerabilities_patched_in_time", "image_os_supported"):
        assert [f.subject for f in run(check, ctx)] == [NGINX]
    assert ctx.derived(image_evidence) is first  # every image check read the one derivation
    (nginx,) = first
    assert nginx.image.subject == NGINX
    index = ScanIndex(ctx.inventory.scans)
    assert nginx.scans == scan_evidence(nginx.image, index, ctx.policy, ctx.as_of)
    assert nginx.scans.best is not None and nginx.scans.fresh(ctx.policy.scan_max_age_days, ctx.as_of)
    # 18 days after the scan: a 7-day policy is another context, with its own evidence (the scan is stale).
    strict = dataclasses.replace(ctx, policy=Policy(scan_max_age_days=7))
    (stale,) = strict.derived(image_evidence)
    assert stale is not nginx and not stale.scans.fresh(7, strict.as_of)
    assert run("image_scanned_recently", strict)[0].status is Status.FAIL


def count_images(ctx: Context) -> int:
    computed_on.append(ctx.as_of)
    return len(ctx.facts.images.images)


computed_on: list[date] = []


def test_a_derived_value_is_computed_once_per_context() -> None:
    computed_on.clear()
    ctx = make_context(nginx_inventory(), as_of=date(2023, 4, 10))
    assert (ctx.derived(count_images), ctx.derived(count_images)) == (1, 1)
    assert computed_on == [date(2023, 4, 10)]
    later = dataclasses.replace(ctx, as_of=date(2023, 5, 1))
    assert later.derived(count_images) == 1 and computed_on == [date(2023, 4, 10), date(2023, 5, 1)]
