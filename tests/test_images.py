"""The running-image inventory: one entry per digest, who runs it, and how scan reports match it.

Real pods (tests/data/kube, tests/data/images) and real scan reports (tests/data/scans) where
they exist; pods with owners, local image IDs and pending containers are built here, through
the same decoders the snapshot reader uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cluster_gen import write_cluster
from patchlevel import inventory as inv
from patchlevel.collect.snapshot import read_snapshot
from patchlevel.images import (
    Identity,
    MatchBy,
    ScanIndex,
    Workload,
    capped,
    pod_workloads,
    registry_references,
    running_images,
    tag_key,
    workload_of,
)
from patchlevel.importers import load_scan_reports
from patchlevel.inventory import Inventory
from patchlevel.kube import OwnerObject, Pod, VersionInfo
from patchlevel.scans import ScanReport

DATA = Path(__file__).parent / "data"
KUBE = DATA / "kube"
IMAGES = DATA / "images"
SCANS = DATA / "scans"

NGINX_DIGEST = "sha256:482ead44b2203fa32b3390abdaf97cbdc8ad15c07fb03a3e68d7c35a19ad7595"
BUSYBOX_DIGEST = "sha256:ae39a6f5c07297d7ab64dbd4f82c77c874cc6a94cea29fdec309d0992574b4f7"  # grype 0.94 report
ALPINE39_IMAGE_ID = "sha256:055936d3920576da37aa9bc460d70c5f212028bda1c08c0879aedf03d7a66ea1"  # trivy golden
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
LOCAL_ID = "sha256:" + "c" * 64


# ------------------------------------------------------------------------------------------
# builders (shared with the other image test modules)


def container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def status(name: str, image: str, image_id: str, state: str = "running") -> dict[str, Any]:
    states = {
        "running": {"running": {"startedAt": "2026-11-01T00:00:00Z"}},
        "waiting": {"waiting": {"reason": "ContainerCreating"}},
        "terminated": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    return {"name": name, "image": image, "imageID": image_id, "state": states[state]}


def pod_doc(
    name: str,
    image: str = "registry.example/app:1.0",
    image_id: str = "registry.example/app@" + DIGEST_A,
    *,
    namespace: str = "default",
    owner: tuple[str, str] | None = None,
    owner_uid: str = "",
    labels: Mapping[str, str] | None = None,
    containers: Sequence[dict[str, Any]] | None = None,
    statuses: Sequence[dict[str, Any]] | None = None,
    init: Sequence[tuple[dict[str, Any], dict[str, Any] | None]] = (),
    phase: str | None = "Running",
    node: str = "node-1",
) -> dict[str, Any]:
    """A Pod as kubectl writes it; one container ``app`` unless ``containers``/``statuses`` say otherwise."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}"}
    if labels:
        metadata["labels"] = dict(labels)
    if owner:
        metadata["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "uid": owner_uid, "controller": True}
        ]
    spec: dict[str, Any] = {"nodeName": node, "containers": list(containers or [container("app", image)])}
    pod_status: dict[str, Any] = {"containerStatuses": list(statuses or [status("app", image, image_id)])}
    if phase:
        pod_status["phase"] = phase
    if init:
        spec["initContainers"] = [c for c, _ in init]
        pod_status["initContainerStatuses"] = [s for _, s in init if s is not None]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": pod_status}


def make_pod(*args: Any, **kw: Any) -> Pod:
    return msgspec.convert(pod_doc(*args, **kw), Pod)


def owner_doc(kind: str, name: str, uid: str, parent: tuple[str, str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "default", "uid": uid}
    if parent:
        metadata["ownerReferences"] = [{"kind": parent[0], "name": parent[1], "uid": parent[2], "controller": True}]
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": metadata}


def make_inventory(
    pods: Iterable[Pod] | None,
    *,
    owners: Iterable[OwnerObject] = (),
    scans: Iterable[ScanReport] = (),
) -> Inventory:
    """An inventory as a snapshot gives it; ``pods=None``: pods were not collected."""
    collected = {inv.VERSION}
    if pods is not None:
        collected.add(inv.PODS)
    owner_list = list(owners)
    return Inventory(
        version=VersionInfo(gitVersion="v1.31.3"),
        nodes=(),
        pods=tuple(pods or ()),
        owners={o.metadata.uid: o for o in owner_list},
        scans=tuple(scans),
        collected=frozenset(collected | ({inv.OWNERS} if owner_list else set())),
        source="snapshot",
    )


def real_pod(path: Path) -> Pod:
    return msgspec.json.decode(path.read_bytes(), type=Pod)


def report(relative: str) -> ScanReport:
    reports = load_scan_reports(SCANS / relative).reports
    assert len(reports) == 1, reports
    return reports[0]


def by_subject(images: Iterable[Any]) -> dict[str, Any]:
    return {i.subject: i for i in images}


# ------------------------------------------------------------------------------------------
# real pods


def test_dockershim_pod_is_one_image_known_by_its_registry_digest() -> None:
    images = running_images(make_inventory([real_pod(KUBE / "nginx-docker-pullable-pod.json")]))
    assert images.pods_known and images.containers == 1
    (image,) = images.images
    assert image.identity is Identity.DIGEST
    assert image.subject == f"image/docker.io/library/nginx@{NGINX_DIGEST}"
    assert (image.repository, image.digest, image.local_id) == ("docker.io/library/nginx", NGINX_DIGEST, None)
    assert image.references == ("nginx:alpine",)
    assert image.repo_digest == f"docker.io/library/nginx@{NGINX_DIGEST}"
    assert image.workloads == (Workload("Pod", "default", "nginx"),)
    assert image.pod_keys == ("default/nginx",)


def test_init_container_running_the_same_digest_joins_the_same_image() -> None:
    images = running_images(make_inventory([real_pod(IMAGES / "nginx-initcontainer-pod.json")]))
    (image,) = images.images
    assert images.containers == 2
    assert [(u.container, u.container_kind) for u in image.uses] == [("ic1", "init"), ("nginx", "container")]
    assert image.container_kinds == {"container": 1, "init": 1}
    evidence = image.evidence()
    assert (evidence["containers"], evidence["pods"], evidence["workloads"], evidence["namespaces"]) == (2, 1, 1, 1)
    assert evidence["container_kinds"] == {"container": 1, "init": 1}


def test_ephemeral_containers_without_status_are_kept_as_unknown_images() -> None:
    images = running_images(make_inventory([real_pod(KUBE / "ephemeral-containers-pod-spec-only.json")]))
    subjects = {i.subject: i for i in images.images}
    assert set(subjects) == {
        "image/k8s.gcr.io/pause:3.1",
        "image/docker.io/library/busybox:1.28",
        "image/docker.io/library/ubuntu:latest",
    }
    assert all(i.identity is Identity.UNKNOWN and i.digest is None for i in images.images)
    assert subjects["image/docker.io/library/busybox:1.28"].reason == (
        "the pod reports no status for this ephemeral container"
    )
    assert subjects["image/docker.io/library/busybox:1.28"].uses[0].container_kind == "ephemeral"
    assert subjects["image/k8s.gcr.io/pause:3.1"].reason == "the pod reports no status for this container"


# ------------------------------------------------------------------------------------------
# identities


def test_kind_local_image_id_is_flagged_as_not_a_registry_digest() -> None:
    pod = make_pod("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", LOCAL_ID, namespace="kube-system")
    (image,) = running_images(make_inventory([pod])).images
    assert image.identity is Identity.LOCAL_ID
    assert (image.digest, image.local_id) == (None, LOCAL_ID)
    assert image.subject == "image/registry.k8s.io/coredns/coredns:v1.11.1"
    assert "not a registry digest" in image.reason and LOCAL_ID in image.reason
    assert image.repo_digest is None


def test_docker_local_id_scheme_and_bare_hex_are_local_ids_too() -> None:
    pods = [
        make_pod("a", "app:1", "docker://" + LOCAL_ID),
        make_pod("b", "app:1", LOCAL_ID.removeprefix("sha256:")),
    ]
    (image,) = running_images(make_inventory(pods)).images
    assert image.identity is Identity.LOCAL_ID and image.local_id == LOCAL_ID
    assert image.pod_keys == ("default/a", "default/b")


def test_pending_container_with_empty_image_id_is_unknown_and_says_why() -> None:
    pod = make_pod(
        "web",
        "nginx:1.27",
        "",
        statuses=[status("app", "nginx:1.27", "", state="waiting")],
        phase="Pending",
    )
    (image,) = running_images(make_inventory([pod])).images
    assert image.identity is Identity.UNKNOWN
    assert image.subject == "image/docker.io/library/nginx:1.27"
    assert image.reason == "no imageID reported yet (container waiting or not started)"


def test_an_image_id_no_runtime_writes_is_unknown_with_the_raw_value() -> None:
    pod = make_pod("odd", "app:1", "sha256:asdfdasfdasfdafd")  # sanitised data seen in real dumps
    (image,) = running_images(make_inventory([pod])).images
    assert image.identity is Identity.UNKNOWN
    assert "'sha256:asdfdasfdasfdafd'" in image.reason and "not one a container runtime writes" in image.reason


def test_native_sidecar_counts_as_a_sidecar() -> None:
    sidecar = container("proxy", "envoyproxy/envoy:v1.31.0", restartPolicy="Always")
    pod = make_pod(
        "web",
        init=[(sidecar, status("proxy", "envoyproxy/envoy:v1.31.0", "docker.io/envoyproxy/envoy@" + DIGEST_B))],
    )
    images = by_subject(running_images(make_inventory([pod])).images)
    envoy = images[f"image/docker.io/envoyproxy/envoy@{DIGEST_B}"]
    assert envoy.uses[0].container_kind == "sidecar"


# ------------------------------------------------------------------------------------------
# deduplication and counts


def test_one_digest_under_two_tags_is_one_image_and_one_tag_on_two_digests_is_two() -> None:
    pods = [
        make_pod("a", "registry.example/app:1.0", "registry.example/app@" + DIGEST_A, namespace="shop"),
        make_pod("b", "registry.example/app:1.0.3", "registry.example/app@" + DIGEST_A, namespace="pay"),
        make_pod("c", "registry.example/app:1.0", "registry.example/app@" + DIGEST_B, namespace="shop"),
    ]
    images = by_subject(running_images(make_inventory(pods)).images)
    assert set(images) == {f"image/registry.example/app@{DIGEST_A}", f"image/registry.example/app@{DIGEST_B}"}
    a = images[f"image/registry.example/app@{DIGEST_A}"]
    assert a.references == ("registry.example/app:1.0", "registry.example/app:1.0.3")
    assert (a.pod_keys, a.namespaces) == (("pay/b", "shop/a"), ("pay", "shop"))
    assert images[f"image/registry.example/app@{DIGEST_B}"].pod_keys == ("shop/c",)


def test_evidence_lists_are_capped_with_the_full_counts() -> None:
    pods = [make_pod(f"p{i:02d}", namespace=f"ns{i:02d}") for i in range(13)]
    (image,) = running_images(make_inventory(pods)).images
    evidence = image.evidence(cap=10)
    assert evidence["pods"] == 13 and evidence["namespaces"] == 13 and evidence["workloads"] == 13
    names = evidence["pod_names"]
    assert isinstance(names, list) and len(names) == 11
    assert names[:2] == ["ns00/p00", "ns01/p01"] and names[-1] == "… and 3 more"
    assert capped(["a", "b"], 5) == ["a", "b"]


def test_same_reference_as_unknown_and_as_local_image_gets_told_apart() -> None:
    pods = [
        make_pod("a", "app:1", LOCAL_ID),
        make_pod("b", "app:1", "", statuses=[status("app", "app:1", "", state="waiting")]),
    ]
    subjects = sorted(i.subject for i in running_images(make_inventory(pods)).images)
    assert subjects == [
        "image/docker.io/library/app:1 (digest unknown)",
        f"image/docker.io/library/app:1 (image ID {LOCAL_ID})",
    ]


def test_pods_not_collected_means_images_unknown() -> None:
    images = running_images(make_inventory(None))
    assert not images.pods_known and images.images == ()
    assert images.reason == "the snapshot holds no pods"


# ------------------------------------------------------------------------------------------
# workloads


def test_workloads_follow_owner_objects_from_a_real_snapshot(tmp_path: Path) -> None:
    docs = [
        pod_doc("web-7d4b9c8f5-abcde", owner=("ReplicaSet", "web-7d4b9c8f5"), owner_uid="rs-1"),
        pod_doc("nightly-28391040-xyz12", owner=("Job", "nightly-28391040"), owner_uid="job-1"),
        owner_doc("ReplicaSet", "web-7d4b9c8f5", "rs-1", parent=("Deployment", "web", "dep-1")),
        owner_doc("Deployment", "web", "dep-1"),
        owner_doc("Job", "nightly-28391040", "job-1", parent=("CronJob", "nightly", "cj-1")),
    ]
    (tmp_path / "objects.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    (tmp_path / "version.json").write_text(json.dumps({"gitVersion": "v1.31.3", "major": "1", "minor": "31"}))
    inventory = read_snapshot(tmp_path)
    workloads = {u.pod: u.workload for i in running_images(inventory).images for u in i.uses}
    assert workloads == {
        "web-7d4b9c8f5-abcde": Workload("Deployment", "default", "web"),
        "nightly-28391040-xyz12": Workload("CronJob", "default", "nightly"),  # CronJob object not in the input
    }
    assert not any(w.inferred for w in workloads.values())


@pytest.mark.parametrize(
    ("owner", "labels", "expected"),
    [
        (
            ("ReplicaSet", "web-7d4b9c8f5"),
            {"pod-template-hash": "7d4b9c8f5"},
            Workload("Deployment", "default", "web", True),
        ),
        (
            ("ReplicaSet", "standalone"),
            {"pod-template-hash": "7d4b9c8f5"},
            Workload("ReplicaSet", "default", "standalone"),
        ),
        (("Job", "nightly-28391040"), None, Workload("CronJob", "default", "nightly", True)),
        (("Job", "migrate-db"), None, Workload("Job", "default", "migrate-db")),
        (("DaemonSet", "node-exporter"), None, Workload("DaemonSet", "default", "node-exporter")),
        (("StatefulSet", "pg"), None, Workload("StatefulSet", "default", "pg")),
        (("Node", "node-1"), None, Workload("Pod", "default", "pod")),  # static (mirror) pod
        (None, None, Workload("Pod", "default", "pod")),
    ],
)
def test_workload_inferred_from_the_pods_own_owner_reference(
    owner: tuple[str, str] | None, labels: dict[str, str] | None, expected: Workload
) -> None:
    pod = make_pod("pod", owner=owner, owner_uid="missing", labels=labels)
    assert workload_of(pod, {}) == expected


def test_inferred_workloads_are_marked_in_evidence() -> None:
    pod = make_pod("web-7d4b9c8f5-x", owner=("ReplicaSet", "web-7d4b9c8f5"), labels={"pod-template-hash": "7d4b9c8f5"})
    (image,) = running_images(make_inventory([pod])).images
    assert image.evidence()["workload_names"] == ["Deployment/default/web (inferred)"]
    assert image.evidence()["workloads_inferred"] is True


def test_owner_chain_found_by_name_when_owner_references_carry_no_uid() -> None:
    rs = msgspec.convert(owner_doc("ReplicaSet", "api-5f6", "", parent=("Deployment", "api", "")), OwnerObject)
    pod = make_pod("api-5f6-q", owner=("ReplicaSet", "api-5f6"))
    assert workload_of(pod, {"ReplicaSet/default/api-5f6": rs}) == Workload("Deployment", "default", "api")


# ------------------------------------------------------------------------------------------
# matching scan reports


def test_grype_repo_digest_matches_the_running_digest() -> None:
    busybox = report("grype/defectdojo-grype-0.94-busybox-epss.json")
    pod = make_pod("bb", "busybox:1.32.1", f"docker.io/library/busybox@{BUSYBOX_DIGEST}")
    (image,) = running_images(make_inventory([pod])).images
    matches = ScanIndex([busybox]).matches(image)
    assert [(m.by, m.key) for m in matches] == [(MatchBy.DIGEST, BUSYBOX_DIGEST)]
    assert matches[0].usable


def test_grype_manifest_digest_matches_too() -> None:
    debian = report("grype/defectdojo-grype-0.28-debian10-all-fields.json")
    manifest = "sha256:9d8825ab20ac86b40eb71495bece1608a302fb180384740697a28c2b0a5a0fc6"
    pod = make_pod("v", "registry.example/vulnerable-image:2", f"registry.example/vulnerable-image@{manifest}")
    (image,) = running_images(make_inventory([pod])).images
    assert [m.by for m in ScanIndex([debian]).matches(image)] == [MatchBy.DIGEST]


def test_trivy_image_id_matches_a_local_image_id() -> None:
    alpine = report("trivy/trivy-golden-alpine-3.9-eosl-current-schema.json")
    pod = make_pod("a", "ghcr.io/aquasecurity/trivy-test-images:alpine-39", ALPINE39_IMAGE_ID)
    (image,) = running_images(make_inventory([pod])).images
    assert image.identity is Identity.LOCAL_ID
    assert [(m.by, m.key) for m in ScanIndex([alpine]).matches(image)] == [(MatchBy.IMAGE_ID, ALPINE39_IMAGE_ID)]


def test_trivy_operator_report_matches_by_tag_after_normalising_docker_hub_names() -> None:
    nginx = report("trivy-operator/defectdojo-vulnerabilityreport-nginx-alpine.json")
    assert nginx.artifact == "index.docker.io/library/nginx:alpine"
    (image,) = running_images(make_inventory([real_pod(KUBE / "nginx-docker-pullable-pod.json")])).images
    (match,) = ScanIndex([nginx]).matches(image)
    assert (match.by, match.key, match.usable) == (MatchBy.TAG, "docker.io/library/nginx:alpine", True)


def test_trivy_k8s_reports_match_their_images_by_tag() -> None:
    reports = load_scan_reports(SCANS / "trivy" / "defectdojo-trivy-k8s-eks-cluster-legacy.json").reports
    assert {r.cluster for r in reports} == {"arn:aws:eks:us-east-1:576036489467:cluster/monitoring-test-cluster"}
    pod = make_pod("redis-leader-x", "docker.io/redis:6.0.5", "docker.io/library/redis@" + DIGEST_A)
    (image,) = running_images(make_inventory([pod])).images
    (match,) = ScanIndex(reports).matches(image)
    assert (match.by, match.report.workload_name) == (MatchBy.TAG, "redis-leader")


def test_tag_match_naming_another_repo_digest_is_not_evidence() -> None:
    busybox = report("grype/defectdojo-grype-0.94-busybox-epss.json")  # busybox:1.32.1 at BUSYBOX_DIGEST
    pod = make_pod("bb", "busybox:1.32.1", "docker.io/library/busybox@" + DIGEST_B)
    (image,) = running_images(make_inventory([pod])).images
    (match,) = ScanIndex([busybox]).matches(image)
    assert match.by is MatchBy.TAG and not match.usable
    assert match.other_image == (BUSYBOX_DIGEST,)


def test_reports_of_filesystems_are_never_matched() -> None:
    fs = ScanReport(
        source="dir.json",
        format="grype",
        scanner="grype",
        scanner_version="0.80.0",
        scanned_at=None,
        db_updated_at=None,
        artifact="registry.example/app:1.0",
        repo_digests=(),
        manifest_digests=(DIGEST_A,),
        image_id=None,
        os_family=None,
        os_name=None,
        os_eosl=None,
        vulnerabilities=(),
        artifact_type="filesystem",
    )
    index = ScanIndex([fs])
    (image,) = running_images(make_inventory([make_pod("a")])).images
    assert index.matches(image) == [] and index.ignored == [fs]


def test_tag_keys_default_to_latest_and_skip_digest_only_references() -> None:
    assert tag_key("nginx") == "docker.io/library/nginx:latest"
    assert tag_key("index.docker.io/library/nginx:alpine") == "docker.io/library/nginx:alpine"
    assert tag_key("quay.io/x/y:1@" + DIGEST_A) == "quay.io/x/y:1"
    assert tag_key("quay.io/x/y@" + DIGEST_A) is None
    assert tag_key("REDACTED") is None


def test_registry_references_are_the_tags_of_images_known_by_digest() -> None:
    pods = [
        make_pod("a", "registry.example/app:1.0", "registry.example/app@" + DIGEST_A),
        make_pod("b", "registry.example/app@" + DIGEST_A, "registry.example/app@" + DIGEST_A),
        make_pod("c", "registry.example/app", "registry.example/app@" + DIGEST_A),
        make_pod("d", "registry.example/lib:2", LOCAL_ID),
        make_pod("e", "registry.example/new:3", "", statuses=[status("app", "registry.example/new:3", "", "waiting")]),
    ]
    refs = registry_references(running_images(make_inventory(pods)))
    assert refs == ["registry.example/app", "registry.example/app:1.0"]


# ------------------------------------------------------------------------------------------
# snapshots: trivy-operator reports in the snapshot become scan evidence


def test_trivy_operator_reports_in_a_snapshot_become_scans(tmp_path: Path) -> None:
    for name in ("nginx-docker-pullable-pod.json", "kind-ubuntu2204-containerd-v1.25-node.json"):
        (tmp_path / name).write_bytes((KUBE / name).read_bytes())
    source = SCANS / "trivy-operator" / "trivy-operator-envtest-coredns-vulnerabilityreport.json"
    (tmp_path / "vr.json").write_bytes(source.read_bytes())
    inventory = read_snapshot(tmp_path)
    assert inventory.has(inv.VULNERABILITY_REPORTS)
    (scan,) = inventory.scans
    assert (scan.format, scan.artifact, scan.container) == (
        "trivy-operator",
        "k8s.gcr.io/coredns/coredns:v1.8.0",
        "coredns",
    )
    assert scan.source == str(tmp_path / "vr.json")


# ------------------------------------------------------------------------------------------
# a generated cluster


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cluster(tmp_path_factory.mktemp("generated-cluster"), nodes=20, pods=300, images=60, seed=7)


def test_generated_cluster_accounts_for_every_container(generated: Path) -> None:
    raw = json.loads((generated / "pods.json").read_text())["items"]
    expected_digests = set()
    pending = 0
    containers = 0
    for pod in raw:
        for s in pod["status"]["containerStatuses"] + pod["status"].get("initContainerStatuses", []):
            containers += 1
            if s["imageID"]:
                expected_digests.add(s["imageID"].rpartition("@")[2])
            else:
                pending += 1
    images = running_images(read_snapshot(generated))
    assert images.containers == containers
    known = images.by_identity(Identity.DIGEST)
    assert {i.digest for i in known} == expected_digests
    unknown = images.by_identity(Identity.UNKNOWN)
    assert sum(len(i.uses) for i in unknown) == pending > 0
    assert sum(len(i.uses) for i in images.images) == containers
    # every pod's ReplicaSet carries the pod-template-hash: Deployments are inferred
    assert all(w.kind == "Deployment" and w.inferred for i in images.images for w in i.workloads)


def test_importers_record_tags_artifact_types_and_clusters_from_real_reports() -> None:
    trivy = report("trivy/trivy-golden-alpine-3.9-eosl-current-schema.json")
    assert (trivy.artifact_type, trivy.repo_tags) == (
        "container_image",
        ("ghcr.io/aquasecurity/trivy-test-images:alpine-39",),
    )
    legacy = report("trivy/trivy-golden-alpine-3.9-legacy-list.json")
    assert (legacy.artifact_type, legacy.repo_tags, legacy.is_image) == ("", (), True)
    grype = report("grype/defectdojo-grype-0.94-busybox-epss.json")
    assert (grype.artifact_type, grype.repo_tags) == ("container_image", ("busybox:1.32.1",))
    assert grype.digests == (BUSYBOX_DIGEST, "sha256:123b1fd3a44eaaf7322e08e9175d9ca57d49ebf2955d4fa1f5607e99dc31bcbb")
    operator = report("trivy-operator/defectdojo-vulnerabilityreport-nginx-alpine.json")
    assert (operator.artifact_type, operator.error, operator.cluster) == ("container_image", "", "")


def test_workloads_worked_out_once_are_each_pods_in_order(generated: Path) -> None:
    inventory = read_snapshot(generated)
    shared = pod_workloads(inventory.pods, inventory.owners)
    assert list(shared) == [workload_of(p, inventory.owners) for p in inventory.pods]
    assert running_images(inventory, shared) == running_images(inventory)
    with pytest.raises(ValueError, match="300 pods: not the workloads of these pods"):
        running_images(inventory, shared[:-1])
