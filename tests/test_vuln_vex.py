"""VEX: OpenVEX, CycloneDX and CSAF documents read into one statement record, and matched to running images.

Real documents in tests/data/vex (see its SOURCES.md for the traps each shows) beside a few
constructed ones for what no published document has (a CSAF or CycloneDX statement about an image).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from patchlevel.errors import InputError
from patchlevel.vuln.vex import (
    VexIndex,
    VexMatchBy,
    VexStatus,
    load_vex,
    match_statements,
    parse_purl,
    parse_vex,
    product_from_identifier,
)

VEX = Path(__file__).parent / "data" / "vex"
ALPINE = "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126"
NGINX = "sha256:13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0"
OTHER = "sha256:" + "ab" * 32


def doc(name: str) -> Any:
    documents, skipped = load_vex(VEX / name)
    assert skipped == []
    return documents[0]


def index(*names: str) -> VexIndex:
    return VexIndex.build(doc(n) for n in names)


# ------------------------------------------------------------------------------------------
# Reading every format


@pytest.mark.parametrize(
    ("name", "fmt", "count", "statuses"),
    [
        ("openvex-go-vex-v0.2.0-alpine-digest-fixed-not-affected.json", "OpenVEX 0.2.0", 5, {"fixed", "not_affected"}),
        ("openvex-vexctl-v0.0.1-images-under-investigation.json", "OpenVEX (pre-0.2)", 4, {"under_investigation"}),
        ("openvex-trivy-affected-then-not-affected.json", "OpenVEX (pre-0.2)", 2, {"affected", "not_affected"}),
        ("openvex-aquasec-vexhub-trivy-image.json", "OpenVEX 0.2.0", 7, {"not_affected"}),
        ("openvex-secobserve-affected-under-investigation.json", "OpenVEX 0.2.0", 13, None),
        (
            "cdx-1.4-cisa-case3-mixed.json",
            "CycloneDX 1.4",
            19,
            {"affected", "fixed", "not_affected", "under_investigation"},
        ),
        ("cdx-1.5-trivy-bomlink-not-affected.json", "CycloneDX 1.5", 2, {"not_affected"}),
        ("cdx-1.6-secobserve-exploitable-in-triage.json", "CycloneDX 1.6", 13, None),
        ("csaf-ciq-cve-2022-26365-kernel-fixed.json", "CSAF 2.0", 21, {"fixed"}),
        ("csaf-ciq-cve-2025-11082-fixed-and-not-affected.json", "CSAF 2.0", 10, {"fixed", "not_affected"}),
        ("csaf-secobserve-affected-not-affected-under-investigation.json", "CSAF 2.0", 13, None),
    ],
)
def test_documents_of_every_format(name: str, fmt: str, count: int, statuses: set[str] | None) -> None:
    document = doc(name)
    assert document.format == fmt
    assert len(document.statements) == count
    seen = {s.status.value for s in document.statements}
    assert seen == (statuses or {"affected", "not_affected", "under_investigation"})


def test_openvex_statement_fields() -> None:
    statement = doc("openvex-go-vex-v0.2.0-alpine-digest-fixed-not-affected.json").statements[3]
    assert (statement.vulnerability, statement.status, statement.justification) == (
        "CVE-2023-3446",
        VexStatus.NOT_AFFECTED,
        "vulnerable_code_not_present",
    )
    assert statement.impact_statement == "affected functions were removed before packaging"
    product = statement.products[0]
    assert (product.digest, product.repository) == (ALPINE, "")  # the percent-encoded colon is decoded
    assert product.subcomponents == ("pkg:apk/alpine/libssl3@3.0.8-r3", "pkg:apk/alpine/libcrypto3@3.0.8-r3")
    assert statement.author == "The OpenVEX Project <openvex@openssf.org>"
    assert statement.timestamp == datetime.fromisoformat("2023-07-17T18:28:47.696004-06:00")
    assert statement.describe() == (
        "NOT AFFECTED (VEX: OpenVEX 0.2.0 https://openvex.dev/docs/public/vex-d4e9020b6d0d26f131d535e055902dd6"
        "ccf3e2088bce3079a8cd3588a4b14c78, The OpenVEX Project <openvex@openssf.org>, 2023-07-18): "
        "vulnerable_code_not_present"
    )


def test_real_image_vex_names_repositories_not_digests() -> None:
    trivy = doc("openvex-aquasec-vexhub-trivy-image.json").statements[0]
    assert [p.repository for p in trivy.products] == [
        "docker.io/aquasec/trivy",  # repository_url=index.docker.io%2Faquasec%2Ftrivy: encoded, legacy host
        "public.ecr.aws/aquasecurity/trivy",
        "ghcr.io/aquasecurity/trivy",
    ]
    assert all(p.digest == "" for p in trivy.products)
    rancher = doc("openvex-rancher-vexhub-hardened-coredns.json").statements[0]
    assert rancher.vulnerability == "SUSE-SU-2025:01702-1"  # a SUSE advisory id, not a CVE
    assert rancher.products[0].repository == "docker.io/rancher/hardened-coredns"


def test_early_openvex_products_as_strings() -> None:
    products = [s.products[0] for s in doc("openvex-vexctl-v0.0.1-images-under-investigation.json").statements]
    assert [(p.digest[:15], p.repository, p.tag) for p in products] == [
        ("sha256:f271e74b", "", ""),
        ("", "", ""),  # "nginx": a bare name is not read as an image reference
        ("", "registry.k8s.io/kube-apiserver", "v1.26.0"),
        ("", "registry.k8s.io/kube-apiserver", "v1.26.0"),  # repository_url is the registry: the name follows
    ]


def test_cyclonedx_fields_and_bom_links() -> None:
    mixed = doc("cdx-1.4-cisa-case3-mixed.json").statements[1]
    assert (mixed.vulnerability, mixed.status, mixed.justification) == (
        "CVE-2020-11897",
        VexStatus.NOT_AFFECTED,
        "code_not_present",
    )
    assert mixed.impact_statement == "IPv6 is not supported and code is not present."
    assert mixed.products[0].identifier == "GHI"  # the metadata component's bom-ref, resolved to its name
    linked = doc("cdx-1.5-trivy-bomlink-not-affected.json").statements
    assert linked[0].products[0].identifier == "pkg:maven/org.springframework.boot/spring-boot@2.6.0"
    assert (linked[1].justification, linked[1].impact_statement) == ("", "")  # not_affected with no reason
    spec = doc("cdx-1.6-spec-valid-vulnerability.json").statements[0]
    assert spec.aliases == ("CVE-2018-7489",)  # references[].id
    assert spec.timestamp == datetime(2022, 2, 1, tzinfo=UTC)  # analysis.lastUpdated


def test_csaf_relationships_flags_and_threats() -> None:
    kernel = doc("csaf-ciq-cve-2023-38430-kernel-not-affected.json").statements[0]
    assert kernel.justification == "vulnerable_code_not_present"  # flags[].label for the product
    assert kernel.products[0].identifier == "cpe:2.3:o:ciq:centos_linux_bridge:7.9:*:*:*:*:*:*:*"
    assert kernel.products[0].subcomponents == ("kernel",)  # "kernel as a component of CIQ Bridge"
    assert kernel.author == "Ctrl IQ, Inc"
    trivy = doc("csaf-trivy-known-not-affected.json").statements[0]
    assert (trivy.justification, trivy.impact_statement) == ("", "vulnerable_code_not_in_execute_path")
    relation = doc("csaf-trivy-relationships.json").statements[0]
    assert relation.products[0].identifier == "pkg:golang/github.com/aquasecurity/go-direct1@v2.0.0"
    assert relation.products[0].subcomponents == ("pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0",)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("cdx-1.3-bom-examples-bom-for-vex.json", r"CycloneDX 1.3 is not a VEX version patchlevel reads"),
        ("openvex-aquasec-vexhub-index.json", r"not a VEX document \(no OpenVEX @context"),
    ],
)
def test_files_that_are_not_vex(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_vex(VEX / name)


def test_a_directory_skips_what_is_not_vex_and_says_so() -> None:
    documents, skipped = load_vex(VEX)
    assert len(documents) == 32
    assert sorted(Path(p).name for p, _ in skipped) == [
        "cdx-1.3-bom-examples-bom-for-vex.json",
        "openvex-aquasec-vexhub-index.json",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2]", r"not a JSON object, so not a VEX document"),
        (b"{oops", r"not a JSON object"),
        (
            b'{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"status": "fine", "vulnerability": "x"}]}',
            r"statements\[0\].status 'fine' is not an OpenVEX status",
        ),
        (
            b'{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": "x"}]}',
            r"not a valid OpenVEX document: Object missing required field `status` - at `\$.statements\[0\]`",
        ),
        (b'{"document": {"csaf_version": "2.1"}}', r"CSAF 2.1 is not read"),
        (
            b'{"document": {"csaf_version": "2.0"}, "vulnerabilities": [{"cve": "CVE-2024-1"}]}',
            r"without product statuses is not a VEX document",
        ),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}', r"no vulnerabilities"),
    ],
)
def test_broken_documents(content: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_vex(content, "doc.json")


def test_purls() -> None:
    purl = parse_purl("pkg:oci/trivy?repository_url=index.docker.io%2Faquasec%2Ftrivy&tag=0.53.0")
    assert purl is not None
    assert (purl.type, purl.namespace, purl.name, purl.version) == ("oci", "", "trivy", "")
    assert purl.qualifiers == {"repository_url": "index.docker.io/aquasec/trivy", "tag": "0.53.0"}
    rpm = parse_purl("pkg:rpm/suse/busybox@1.36.1-150600.1.1?arch=x86_64&distro=sles-15.6")
    assert rpm is not None and rpm.same_package(parse_purl("pkg:rpm/suse/busybox"))  # type: ignore[arg-type]
    assert parse_purl("nginx") is None
    assert (
        product_from_identifier("pkg:oci/app@sha256%3A" + "ab" * 32 + "?repository_url=ghcr.io/acme/app").digest
        == OTHER
    )


# ------------------------------------------------------------------------------------------
# Matching running images


def test_match_by_digest() -> None:
    decision = index("openvex-go-vex-v0.2.0-alpine-digest-fixed-not-affected.json").match(
        vulnerability="CVE-2023-3446", repository="alpine", digest=ALPINE, as_of=date(2024, 1, 1), max_age_days=365
    )
    assert decision.applied is not None
    assert (decision.applied.by, decision.applied.statement.status) == (VexMatchBy.DIGEST, VexStatus.NOT_AFFECTED)
    assert decision.removes_from_sla
    other = index("openvex-go-vex-v0.2.0-alpine-digest-fixed-not-affected.json").match(
        vulnerability="CVE-2023-3446", repository="alpine", digest=OTHER, as_of=date(2024, 1, 1), max_age_days=365
    )
    assert (other.applied, other.ignored) == (None, ())  # another digest: nothing applies


def test_fixed_also_takes_a_vulnerability_out_of_the_sla() -> None:
    decision = index("openvex-go-vex-v0.2.0-alpine-digest-fixed-not-affected.json").match(
        vulnerability="CVE-2023-1255", repository="", digest=ALPINE, as_of=date(2024, 1, 1), max_age_days=365
    )
    assert decision.applied is not None and decision.applied.statement.status is VexStatus.FIXED
    assert decision.removes_from_sla


def test_match_by_repository_only_in_any_of_three_registries() -> None:
    vex = index("openvex-aquasec-vexhub-trivy-image.json")
    for repository in ("aquasec/trivy", "index.docker.io/aquasec/trivy", "ghcr.io/aquasecurity/trivy"):
        decision = vex.match(
            vulnerability="CVE-2023-42363",
            repository=repository,
            digest=OTHER,
            as_of=date(2024, 12, 1),
            max_age_days=365,
        )
        assert decision.applied is not None, repository
        assert decision.applied.by is VexMatchBy.REPOSITORY
    elsewhere = vex.match(
        vulnerability="CVE-2023-42363",
        repository="quay.io/aquasec/trivy",
        digest=OTHER,
        as_of=date(2024, 12, 1),
        max_age_days=365,
    )
    assert elsewhere.applied is None


def test_subcomponents_narrow_a_statement_to_its_packages() -> None:
    vex = index("openvex-rancher-vexhub-rke2-upgrade.json")
    common = {"vulnerability": "CVE-2024-12797", "repository": "rancher/rke2-upgrade", "digest": OTHER}
    ssl = vex.match(**common, as_of=date(2026, 7, 1), max_age_days=365, package="pkg:apk/alpine/libssl3@3.3.2-r0")
    assert ssl.applied is not None and ssl.applied.statement.order == 1
    curl = vex.match(**common, as_of=date(2026, 7, 1), max_age_days=365, package="pkg:apk/alpine/curl@8.0")
    assert curl.applied is None
    anyone = vex.match(**common, as_of=date(2026, 7, 1), max_age_days=365)
    assert anyone.applied is not None  # no package given: the statement covers the image


def test_by_alias_and_the_later_statement_wins() -> None:
    """The same statement twice; the second has no timestamp of its own, so the document's (later) applies."""
    decision = index("openvex-vexctl-sample-history-nginx-digest.json").match(
        vulnerability="SNYK-DEBIAN12-LIBDE265-3361563",
        repository="nginx",
        digest=NGINX,
        as_of=date(2023, 9, 1),
        max_age_days=365,
    )
    assert decision.applied is not None and decision.applied.statement.order == 1


def test_a_digest_match_beats_a_newer_repository_match() -> None:
    by_digest = VexIndex.build(
        [
            parse_vex(openvex(f"pkg:oci/app@{OTHER.replace(':', '%3A')}", "not_affected", "2026-01-01T00:00:00Z"), "a"),
            parse_vex(openvex("pkg:oci/app?repository_url=ghcr.io/acme/app", "affected", "2026-06-01T00:00:00Z"), "b"),
        ]
    )
    decision = by_digest.match(
        vulnerability="CVE-2026-0001",
        repository="ghcr.io/acme/app",
        digest=OTHER,
        as_of=date(2026, 7, 1),
        max_age_days=365,
    )
    assert decision.applied is not None
    assert (decision.applied.by, decision.applied.statement.status) == (VexMatchBy.DIGEST, VexStatus.NOT_AFFECTED)


def openvex(product: str, status: str, timestamp: str | None, **extra: str) -> bytes:
    statement: dict[str, Any] = {"vulnerability": {"name": "CVE-2026-0001"}, "products": [{"@id": product}]}
    statement["status"] = status
    statement.update(extra)
    if status == "not_affected" and "justification" not in extra and "impact_statement" not in extra:
        statement["justification"] = "vulnerable_code_not_in_execute_path"
    document: dict[str, Any] = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.invalid/vex",
        "author": "Platform team",
        "statements": [statement],
    }
    if timestamp:
        document["timestamp"] = timestamp
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("timestamp", "extra", "reason"),
    [
        ("2026-06-01T00:00:00Z", {"justification": " "}, "not_affected without a justification or impact statement"),
        (None, {}, "no timestamp in the statement or its document, so its age cannot be judged"),
        ("2026-08-01T00:00:00Z", {}, "dated 2026-08-01, after the as-of date 2026-07-01"),
        (
            "2025-06-30T00:00:00Z",
            {},
            "dated 2025-06-30, 366 days before the as-of date: older than the 365-day maximum",
        ),
    ],
)
def test_statements_that_are_ignored_and_why(timestamp: str | None, extra: dict[str, str], reason: str) -> None:
    vex = VexIndex.build(
        [
            parse_vex(
                openvex("pkg:oci/app?repository_url=ghcr.io/acme/app", "not_affected", timestamp, **extra), "team.json"
            )
        ]
    )
    decision = vex.match(
        vulnerability="CVE-2026-0001",
        repository="ghcr.io/acme/app",
        digest=OTHER,
        as_of=date(2026, 7, 1),
        max_age_days=365,
    )
    assert decision.applied is None
    assert [i.reason for i in decision.ignored] == [reason]
    assert not decision.removes_from_sla


def test_an_impact_statement_is_enough_and_the_age_limit_is_inclusive() -> None:
    body = openvex(
        "pkg:oci/app?repository_url=ghcr.io/acme/app",
        "not_affected",
        "2025-07-01T00:00:00Z",
        impact_statement="the parser is not reachable from the network",
    )
    decision = match_statements(
        parse_vex(body, "team.json").statements,
        vulnerability="cve-2026-0001",
        repository="ghcr.io/acme/app",
        digest="",
        as_of=date(2026, 7, 1),
        max_age_days=365,
    )
    assert decision.applied is not None and decision.applied.by is VexMatchBy.REPOSITORY


def test_affected_and_under_investigation_change_nothing() -> None:
    # The statements name registry.k8s.io/kube-apiserver:v1.26.0 (as a reference and as a purl with &tag=):
    # they describe an image run under that tag.
    decision = index("openvex-vexctl-v0.0.1-images-under-investigation.json").match(
        vulnerability="CVE-1234-5678",
        repository="registry.k8s.io/kube-apiserver",
        digest=OTHER,
        as_of=date(2023, 1, 1),
        max_age_days=365,
        tags=("v1.26.0",),
    )
    assert decision.applied is not None and decision.applied.statement.status is VexStatus.UNDER_INVESTIGATION
    assert decision.applied.by is VexMatchBy.TAG
    assert not decision.removes_from_sla


def test_csaf_and_cyclonedx_statements_about_an_image() -> None:
    """Constructed: no published CSAF or CycloneDX document in the set names a container image."""
    image = "pkg:oci/app@" + OTHER.replace(":", "%3A") + "?repository_url=ghcr.io/acme/app"
    csaf = {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": {"name": "ACME PSIRT"},
            "tracking": {"id": "ACME-2026-1", "current_release_date": "2026-06-01T00:00:00Z"},
        },
        "product_tree": {
            "full_product_names": [
                {"product_id": "app", "name": "app", "product_identification_helper": {"purl": image}},
                {
                    "product_id": "openssl",
                    "name": "openssl",
                    "product_identification_helper": {"purl": "pkg:deb/debian/openssl@3.0.15"},
                },
            ],
            "relationships": [
                {
                    "category": "default_component_of",
                    "product_reference": "openssl",
                    "relates_to_product_reference": "app",
                    "full_product_name": {"product_id": "app:openssl", "name": "openssl in app"},
                }
            ],
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2026-0001",
                "product_status": {"known_not_affected": ["app:openssl"]},
                "flags": [{"label": "vulnerable_code_not_in_execute_path", "product_ids": ["app:openssl"]}],
            }
        ],
    }
    cdx = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:1",
        "metadata": {
            "timestamp": "2026-06-01T00:00:00Z",
            "component": {"type": "container", "name": "app", "bom-ref": "app", "purl": image},
        },
        "components": [{"bom-ref": "openssl", "name": "openssl", "purl": "pkg:deb/debian/openssl@3.0.15"}],
        "vulnerabilities": [
            {
                "id": "CVE-2026-0001",
                "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                "affects": [{"ref": "openssl"}],
            }
        ],
    }
    for name, document in (("csaf.json", csaf), ("cdx.json", cdx)):
        parsed = parse_vex(json.dumps(document).encode(), name)
        product = parsed.statements[0].products[0]
        assert (product.digest, product.repository, product.subcomponents) == (
            OTHER,
            "ghcr.io/acme/app",
            ("pkg:deb/debian/openssl@3.0.15",),
        ), name
        decision = VexIndex.build([parsed]).match(
            vulnerability="CVE-2026-0001",
            repository="ghcr.io/acme/app",
            digest=OTHER,
            as_of=date(2026, 7, 1),
            max_age_days=365,
            package="pkg:deb/debian/openssl@3.0.15?arch=amd64",
        )
        assert decision.applied is not None and decision.applied.by is VexMatchBy.DIGEST, name
        assert decision.removes_from_sla
