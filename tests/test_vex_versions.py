"""A VEX product that names a tag or version covers that tag only; ``fixed`` needs a version (issue 10).

An audit found that ``pkg:oci/app?repository_url=ghcr.io/example/app&tag=2.0.0`` (or the reference
``ghcr.io/example/app:2.0.0``) marked not_affected took the vulnerability out of the SLA in every
build of the repository: ``ghcr.io/example/app:1.0.0`` went from FAIL to WARN with ``--vex``.  The
statements here are constructed OpenVEX 0.2.0 documents (no published image VEX names a tag, except
vexctl's test document ``openvex-vexctl-v0.0.1-images-under-investigation.json``, which is real:
``registry.k8s.io/kube-apiserver:v1.26.0`` and ``pkg:oci/kube-apiserver?repository_url=registry.k8s.io&tag=v1.26.0``).
The scan is constructed in Trivy's layout, as in test_vex_images.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from patchlevel.model import Finding, Status
from patchlevel.vuln.vex import (
    FIXED_WITHOUT_VERSION,
    VexIndex,
    VexMatchBy,
    VexStatus,
    load_vex,
    parse_vex,
    product_from_identifier,
    reference_tags,
)
from test_images import make_inventory, make_pod
from test_vex_images import judge, parse, trivy_doc, vulnerability

VEX = Path(__file__).parent / "data" / "vex"
REPO = "ghcr.io/example/app"
DIGEST = "sha256:" + "5" * 64
BY_DIGEST = f"pkg:oci/app@{DIGEST.replace(':', '%3A')}?repository_url={REPO}"
OTHER = "sha256:" + "6" * 64
CVE = "CVE-2024-5535"
SUBJECT = f"image/{REPO}@{DIGEST}"
AS_OF = date(2024, 8, 25)


def openvex(*statements: tuple[str, str, str]) -> bytes:
    """An OpenVEX 0.2.0 document: (product @id, status, timestamp) per statement, all about CVE-2024-5535."""
    body = []
    for product, status, timestamp in statements:
        statement: dict[str, Any] = {
            "vulnerability": {"name": CVE},
            "products": [{"@id": product}],
            "status": status,
            "timestamp": timestamp,
        }
        if status == "not_affected":
            statement["justification"] = "vulnerable_code_not_in_execute_path"
        body.append(statement)
    document = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.invalid/vex/app",
        "author": "App team",
        "statements": body,
    }
    return json.dumps(document).encode()


def decide(document: bytes, *, tags: tuple[str, ...] = ("1.0.0",), digest: str = DIGEST) -> Any:
    return VexIndex.build([parse_vex(document, "team.json")]).match(
        vulnerability=CVE, repository=REPO, digest=digest, as_of=AS_OF, max_age_days=365, tags=tags
    )


# ------------------------------------------------------------------------------------------
# What a product names


def test_a_purl_tag_a_reference_tag_and_a_non_digest_purl_version_each_limit_the_product() -> None:
    tagged = product_from_identifier(f"pkg:oci/app?repository_url={REPO}&tag=2.0.0")
    assert (tagged.repository, tagged.tag, tagged.tags) == (REPO, "2.0.0", frozenset({"2.0.0"}))
    reference = product_from_identifier(f"{REPO}:2.0.0")
    assert (reference.repository, reference.tags) == (REPO, frozenset({"2.0.0"}))
    versioned = product_from_identifier(f"pkg:oci/app@2.0.0?repository_url={REPO}")
    assert (versioned.digest, versioned.version, versioned.tags) == ("", "2.0.0", frozenset({"2.0.0"}))
    by_digest = product_from_identifier(BY_DIGEST)
    assert (by_digest.digest, by_digest.version, by_digest.tags) == (DIGEST, "", frozenset())
    assert product_from_identifier(f"pkg:oci/app?repository_url={REPO}").tags == frozenset()


def test_the_tags_an_image_runs_under_come_from_its_references_to_that_repository() -> None:
    references = (
        f"{REPO}:1.0.0",
        f"{REPO}:stable@{DIGEST}",
        f"{REPO}@{DIGEST}",  # by digest: no tag
        "mirror.example/app:2.0.0",  # another repository's tag says nothing about this one
        "not a reference",
    )
    assert reference_tags(references, REPO) == ("1.0.0", "stable")
    assert reference_tags(("nginx",), "docker.io/library/nginx") == ("latest",)  # what the runtime pulls
    assert reference_tags(("nginx",), "nginx") == ("latest",)  # the repository is normalised like a reference
    assert reference_tags((f"{REPO}@{DIGEST}",), REPO) == ()


# ------------------------------------------------------------------------------------------
# Matching


@pytest.mark.parametrize(
    "product",
    [f"pkg:oci/app?repository_url={REPO}&tag=2.0.0", f"{REPO}:2.0.0", f"pkg:oci/app@2.0.0?repository_url={REPO}"],
)
def test_a_statement_about_another_tag_does_not_match(product: str) -> None:
    document = openvex((product, "not_affected", "2024-08-01T00:00:00Z"))
    assert decide(document, tags=("1.0.0",)).applied is None
    assert decide(document, tags=()).applied is None  # run by digest only: the tag cannot be told
    matched = decide(document, tags=("1.0.0", "2.0.0")).applied
    assert matched is not None and matched.by is VexMatchBy.TAG  # a tag match, not an exact one


def test_the_real_vexctl_document_names_kube_apiserver_v1_26_0_only() -> None:
    (document,), _ = load_vex(VEX / "openvex-vexctl-v0.0.1-images-under-investigation.json")
    products = [s.products[0] for s in document.statements]
    assert [(p.repository, p.tag) for p in products[2:]] == [
        ("registry.k8s.io/kube-apiserver", "v1.26.0"),
        ("registry.k8s.io/kube-apiserver", "v1.26.0"),
    ]
    vex = VexIndex.build([document])
    common = {"vulnerability": "CVE-1234-5678", "repository": "registry.k8s.io/kube-apiserver", "digest": OTHER}
    older = vex.match(**common, as_of=date(2023, 1, 1), max_age_days=365, tags=("v1.25.0",))
    assert (older.applied, older.ignored) == (None, ())
    same = vex.match(**common, as_of=date(2023, 1, 1), max_age_days=365, tags=("v1.26.0",))
    assert same.applied is not None and same.applied.by is VexMatchBy.TAG


def test_a_digest_beats_a_tag_which_beats_a_repository_whatever_their_dates() -> None:
    document = openvex(
        (f"pkg:oci/app?repository_url={REPO}", "affected", "2024-08-03T00:00:00Z"),
        (f"pkg:oci/app?repository_url={REPO}&tag=1.0.0", "not_affected", "2024-08-02T00:00:00Z"),
        (BY_DIGEST, "under_investigation", "2024-08-01T00:00:00Z"),
    )
    exact = decide(document).applied
    assert exact is not None and (exact.by, exact.statement.status) == (
        VexMatchBy.DIGEST,
        VexStatus.UNDER_INVESTIGATION,
    )
    without_digest = decide(document, digest=OTHER)
    tagged = without_digest.applied
    assert tagged is not None and (tagged.by, tagged.statement.status) == (VexMatchBy.TAG, VexStatus.NOT_AFFECTED)
    assert without_digest.removes_from_sla


def test_fixed_naming_only_the_repository_is_ignored_and_says_why() -> None:
    decision = decide(openvex((f"pkg:oci/app?repository_url={REPO}", "fixed", "2024-08-01T00:00:00Z")))
    assert decision.applied is None and not decision.removes_from_sla
    assert [i.reason for i in decision.ignored] == [FIXED_WITHOUT_VERSION]
    # The newer repository-wide "fixed" still supersedes an older repository-wide not_affected: nothing applies.
    both = decide(
        openvex(
            (f"pkg:oci/app?repository_url={REPO}", "not_affected", "2024-07-01T00:00:00Z"),
            (f"pkg:oci/app?repository_url={REPO}", "fixed", "2024-08-01T00:00:00Z"),
        )
    )
    assert both.applied is None and [i.reason for i in both.ignored] == [FIXED_WITHOUT_VERSION]
    # fixed in the tag the image runs under, or in its digest, is about this build
    tagged = decide(openvex((f"pkg:oci/app?repository_url={REPO}&tag=1.0.0", "fixed", "2024-08-01T00:00:00Z")))
    assert tagged.applied is not None and tagged.applied.by is VexMatchBy.TAG and tagged.removes_from_sla


# ------------------------------------------------------------------------------------------
# The image check: FAIL stays FAIL for another tag; a tag match is a WARN


def app_image(tag: str, document: bytes | None) -> dict[str, Finding]:
    distro = "3.20.1"
    listed = [vulnerability(CVE, "libssl3", "3.3.1-r0", "3.3.1-r1", "2024-06-27T11:15:00Z", distro)]
    scan = trivy_doc(f"{REPO}:{tag}", f"{REPO}@{DIGEST}", "2024-08-20T06:00:00Z", listed, distro=distro)
    pod = make_pod("app", f"{REPO}:{tag}", f"{REPO}@{DIGEST}")
    inventory = make_inventory([pod], scans=[parse(scan)])
    if document is not None:
        inventory = dataclasses.replace(inventory, vex=(parse_vex(document, "team.json"),))
    return judge(inventory, AS_OF)


@pytest.mark.parametrize(
    "product",
    [f"pkg:oci/app?repository_url={REPO}&tag=2.0.0", f"{REPO}:2.0.0", f"pkg:oci/app@2.0.0?repository_url={REPO}"],
)
def test_a_statement_about_tag_2_leaves_the_image_running_tag_1_failing(product: str) -> None:
    assert app_image("1.0.0", None)[SUBJECT].status is Status.FAIL
    found = app_image("1.0.0", openvex((product, "not_affected", "2024-08-01T00:00:00Z")))[SUBJECT]
    assert found.status is Status.FAIL and "VEX" not in found.message
    assert all(v.vex == "" for v in found.vulnerabilities)


def test_a_statement_about_the_running_tag_takes_it_out_but_warns() -> None:
    found = app_image("2.0.0", openvex((f"{REPO}:2.0.0", "not_affected", "2024-08-01T00:00:00Z")))[SUBJECT]
    assert found.status is Status.WARN
    assert found.message.startswith(
        "1 vulnerability taken out of the SLA by a VEX statement that names the image's tag, not its digest (a tag "
        f"can be moved to another build): {CVE}; 1 vulnerability out of the SLA by VEX (counted apart)"
    )
    (v,) = found.vulnerabilities
    assert (v.vex, v.status) == ("not_affected", Status.WARN)
    assert found.evidence["vex"][0]["matched_by"] == "tag"  # type: ignore[index]


def test_the_image_check_never_takes_a_repository_wide_fixed_statement() -> None:
    found = app_image("1.0.0", openvex((f"pkg:oci/app?repository_url={REPO}", "fixed", "2024-08-01T00:00:00Z")))
    result = found[SUBJECT]
    assert result.status is Status.FAIL
    assert result.evidence["vex_ignored"][0]["reason"] == FIXED_WITHOUT_VERSION  # type: ignore[index]
    assert "1 VEX statement ignored: CVE-2024-5535 (https://example.invalid/vex/app): fixed, naming" in result.message
    # by digest, fixed is exact: PASS
    by_digest = openvex((BY_DIGEST, "fixed", "2024-08-01T00:00:00Z"))
    assert app_image("1.0.0", by_digest)[SUBJECT].status is Status.PASS
