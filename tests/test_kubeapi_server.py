"""The test API server answers like kube-apiserver: kubectl reads it, paging is exact, and the
error statuses (401, 403, 404, 410, 429, 500) and faults look like the real ones."""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cluster_gen import write_cluster
from kubeapi import (  # tests/ is on sys.path under pytest's default import mode
    CONTINUE_EXPIRED,
    SERVICE_ACCOUNT,
    TOO_MANY_REQUESTS,
    Action,
    Cluster,
    Fault,
    Generated,
    KubeAPIServer,
    User,
    fault_body,
    load_faults,
    load_snapshot,
    namespaces_of,
    synthetic_pod,
    write_kubeconfig,
)

DATA = Path(__file__).parent / "data" / "kube"
REPO = Path(__file__).parent.parent
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return document


NODES = [
    load("kind-ubuntu2204-containerd-v1.25-node.json"),
    load("minikube-ubuntu2004-docker-v1.23-node.json"),
    load("openshift-4.7-rhcos-master-node.json"),
]
REAL_PODS = [load("nginx-docker-pullable-pod.json"), load("ephemeral-containers-pod-spec-only.json")]
PODS = REAL_PODS + [synthetic_pod(i, namespaces=3) for i in range(3)]


def bare(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("kind", "apiVersion")}


def names(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i["metadata"].get("namespace", ""), i["metadata"]["name"]) for i in items]


def vulnerability_report(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {"name": name, "namespace": namespace},
        "report": {"artifact": {"repository": "library/nginx", "tag": "1.25"}, "vulnerabilities": []},
    }


def client(api: KubeAPIServer, token: str | None = "default", **options: Any) -> httpx.Client:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {api.token if token == 'default' else token}"
    verify = ssl.create_default_context(cadata=api.ca_pem.decode())
    return httpx.Client(base_url=api.url, verify=verify, headers=headers, **options)


@pytest.fixture
def api() -> Iterator[KubeAPIServer]:
    cluster = Cluster(objects={"nodes": NODES, "pods": PODS, "namespaces": namespaces_of(PODS)})
    with KubeAPIServer(cluster) as server:
        yield server


def kubectl(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    cache = kubeconfig.parent / "kube-cache"
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "HOME": str(kubeconfig.parent)},
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


# -- kubectl reads it ----------------------------------------------------------------------------


@needs_kubectl
def test_kubectl_lists_exactly_the_served_nodes(api: KubeAPIServer, tmp_path: Path) -> None:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")

    output = kubectl(kubeconfig, "get", "nodes", "-o", "json", "--show-managed-fields").stdout
    listed = json.loads(output)["items"]

    assert [bare(i) for i in listed] == [bare(n) for n in NODES]
    assert {(i["kind"], i["apiVersion"]) for i in listed} == {("Node", "v1")}


@needs_kubectl
def test_kubectl_pages_through_all_pods_with_chunk_size_2(api: KubeAPIServer, tmp_path: Path) -> None:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")

    output = kubectl(kubeconfig, "get", "pods", "-A", "-o", "json", "--chunk-size=2", "--show-managed-fields").stdout
    listed = json.loads(output)["items"]

    assert [bare(i) for i in listed] == [bare(p) for p in PODS]
    pages = api.requests_to("/api/v1/pods")
    assert [(r.query.get("limit"), r.page, r.status) for r in pages] == [("2", 1, 200), ("2", 2, 200), ("2", 3, 200)]


@needs_kubectl
def test_kubectl_discovery_falls_back_from_aggregated_to_legacy(api: KubeAPIServer, tmp_path: Path) -> None:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")

    kubectl(kubeconfig, "get", "pods", "-A", "-o", "name")

    apis = api.requests_to("/apis")
    assert apis and "as=APIGroupDiscoveryList" in apis[0].headers["accept"]  # kubectl asked for aggregated
    asked = {r.path for r in api.requests}
    assert {"/api", "/apis", "/api/v1", "/apis/apps/v1", "/apis/batch/v1"} <= asked  # and fell back
    assert not any(p.startswith("/apis/aquasecurity.github.io") for p in asked)


@needs_kubectl
def test_kubectl_raw_version_and_whoami(api: KubeAPIServer, tmp_path: Path) -> None:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")

    version = json.loads(kubectl(kubeconfig, "get", "--raw", "/version").stdout)
    review = json.loads(kubectl(kubeconfig, "auth", "whoami", "-o", "json").stdout)

    assert version == dict(api.cluster.version)
    assert review["status"]["userInfo"]["username"] == SERVICE_ACCOUNT.name
    assert review["status"]["userInfo"]["groups"] == list(SERVICE_ACCOUNT.groups)


@needs_kubectl
def test_kubectl_finds_vulnerability_reports_only_with_the_crd(tmp_path: Path) -> None:
    reports = [vulnerability_report("replicaset-nginx-nginx"), vulnerability_report("pod-db-db", "prod")]
    with KubeAPIServer(Cluster(objects={"vulnerabilityreports": reports})) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "with" / "kubeconfig")
        listed = json.loads(kubectl(kubeconfig, "get", "vulns", "-A", "-o", "json").stdout)["items"]
    with KubeAPIServer(Cluster()) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "without" / "kubeconfig")
        missing = kubectl(kubeconfig, "get", "vulnerabilityreports", "-A", check=False)

    assert listed == reports
    assert missing.returncode != 0
    assert "the server doesn't have a resource type" in missing.stderr


@needs_kubectl
def test_kubectl_reports_a_wrong_token_as_unauthorized(api: KubeAPIServer, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", api.url, api.ca_pem, "not-the-token")

    result = kubectl(kubeconfig, "get", "--raw", "/api/v1/nodes", check=False)

    assert result.returncode != 0
    assert "Unauthorized" in result.stderr


@needs_kubectl
def test_kubectl_authenticates_with_a_client_certificate(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects={"nodes": NODES}), client_certificates=True) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig", client_certificate=True)

        review = json.loads(kubectl(kubeconfig, "auth", "whoami", "-o", "json").stdout)
        listed = json.loads(kubectl(kubeconfig, "get", "nodes", "-o", "json").stdout)["items"]

    assert review["status"]["userInfo"]["username"] == SERVICE_ACCOUNT.name
    assert "system:serviceaccounts:patchlevel" in review["status"]["userInfo"]["groups"]
    assert len(listed) == len(NODES)


# -- lists ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 6, 500])
def test_paging_returns_every_item_once(api: KubeAPIServer, limit: int) -> None:
    seen: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": limit}
    with client(api) as http:
        while True:
            page = http.get("/api/v1/pods", params=query).json()
            assert page["kind"] == "PodList" and page["apiVersion"] == "v1"
            assert page["metadata"]["resourceVersion"] == "1000"
            seen += page["items"]
            token = page["metadata"].get("continue")
            if not token:
                assert "remainingItemCount" not in page["metadata"]
                break
            assert page["metadata"]["remainingItemCount"] == len(PODS) - len(seen)
            query = {"limit": limit, "continue": token}

    assert seen == [bare(p) for p in PODS]
    assert all("kind" not in item and "apiVersion" not in item for item in seen)


def test_a_namespaced_list_holds_only_that_namespace(api: KubeAPIServer) -> None:
    with client(api) as http:
        first = http.get("/api/v1/namespaces/default/pods", params={"limit": 1}).json()
        rest = http.get(
            "/api/v1/namespaces/default/pods", params={"limit": 1, "continue": first["metadata"]["continue"]}
        ).json()
        empty = http.get("/api/v1/namespaces/nowhere/pods").json()

    assert names(first["items"] + rest["items"]) == [("default", "nginx"), ("default", "ephemeral")]
    assert first["metadata"]["remainingItemCount"] == 1
    assert "continue" not in rest["metadata"]
    assert empty["items"] == []


def test_a_list_without_objects_is_empty_and_named_for_its_kind(api: KubeAPIServer) -> None:
    with client(api) as http:
        replicasets = http.get("/apis/apps/v1/replicasets").json()
        jobs = http.get("/apis/batch/v1/namespaces/default/jobs").json()

    assert replicasets == {
        "kind": "ReplicaSetList",
        "apiVersion": "apps/v1",
        "metadata": {"resourceVersion": "1000"},
        "items": [],
    }
    assert (jobs["kind"], jobs["apiVersion"], jobs["items"]) == ("JobList", "batch/v1", [])


def test_get_one_object_by_name(api: KubeAPIServer) -> None:
    with client(api) as http:
        node = http.get("/api/v1/nodes/minikube")
        pod = http.get("/api/v1/namespaces/default/pods/nginx")
        missing = http.get("/api/v1/namespaces/default/pods/absent")

    assert node.status_code == 200 and node.json()["kind"] == "Node"
    assert pod.json()["metadata"]["name"] == "nginx"
    assert missing.status_code == 404
    assert missing.json()["message"] == 'pods "absent" not found'
    assert missing.json()["details"] == {"name": "absent", "kind": "pods"}


def test_vulnerability_reports_are_served_only_when_the_crd_is_installed() -> None:
    reports = [vulnerability_report("replicaset-nginx-nginx")]
    path = "/apis/aquasecurity.github.io/v1alpha1/vulnerabilityreports"
    with KubeAPIServer(Cluster()) as without, client(without) as http:
        absent = http.get(path)
        groups_without = [g["name"] for g in http.get("/apis").json()["groups"]]
    with KubeAPIServer(Cluster(objects={"vulnerabilityreports": reports})) as with_crd, client(with_crd) as http:
        present = http.get(path).json()
        groups_with = [g["name"] for g in http.get("/apis").json()["groups"]]
        version = http.get("/apis/aquasecurity.github.io/v1alpha1").json()

    assert absent.status_code == 404
    assert absent.json()["message"] == "the server could not find the requested resource"
    assert "aquasecurity.github.io" not in groups_without
    assert "aquasecurity.github.io" in groups_with
    assert version["resources"][0]["kind"] == "VulnerabilityReport"
    assert present["kind"] == "VulnerabilityReportList"
    assert present["items"] == reports  # custom resources keep kind and apiVersion in lists


def test_paging_over_20000_generated_pods_returns_each_once() -> None:
    count = 20_000
    cluster = Cluster(objects={"pods": Generated(synthetic_pod, count)})
    seen: set[str] = set()
    pages = 0
    with KubeAPIServer(cluster) as api, client(api, timeout=30) as http:
        query: dict[str, Any] = {"limit": 500}
        while True:
            response = http.get("/api/v1/pods", params=query)
            page = response.json()
            pages += 1
            for item in page["items"]:
                assert item["metadata"]["name"] not in seen
                seen.add(item["metadata"]["name"])
            if not page["metadata"].get("continue"):
                break
            query = {"limit": 500, "continue": page["metadata"]["continue"]}
        encoding = response.headers.get("content-encoding")

    assert len(seen) == count and pages == count // 500
    assert encoding == "gzip"  # a page of 500 pods is over kube-apiserver's 128 KiB threshold


def test_an_unlimited_big_list_streams_in_chunks() -> None:
    cluster = Cluster(objects={"pods": Generated(synthetic_pod, 3000)})
    with KubeAPIServer(cluster, gzip=False) as api, client(api, timeout=30) as http:
        response = http.get("/api/v1/pods")

    assert response.headers.get("transfer-encoding") == "chunked"
    assert len(response.json()["items"]) == 3000


# -- authentication and authorization -------------------------------------------------------------

UNAUTHORIZED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


@pytest.mark.parametrize("token", [None, "wrong"])
def test_a_missing_or_wrong_token_gets_401_with_a_status(api: KubeAPIServer, token: str | None) -> None:
    with client(api, token=token) as http:
        response = http.get("/api/v1/nodes")

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_anonymous_access_reads_version_only_when_enabled() -> None:
    with KubeAPIServer(Cluster(), anonymous=True) as api, client(api, token=None) as http:
        version = http.get("/version")
        pods = http.get("/api/v1/pods")
        discovery = http.get("/api")
        wrong = http.get("/version", headers={"Authorization": "Bearer wrong"})

    assert version.status_code == 200
    assert pods.status_code == 403
    assert pods.json()["message"] == (
        'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" at the cluster scope'
    )
    assert discovery.json()["message"] == 'forbidden: User "system:anonymous" cannot get path "/api"'
    assert wrong.status_code == 401  # a bad credential is refused, not downgraded to anonymous


def test_rbac_denial_is_403_with_kubernetes_wording() -> None:
    forbidden = ["pods", "replicasets.apps", "/version"]
    with KubeAPIServer(Cluster(objects={"nodes": NODES}), forbidden=forbidden) as api, client(api) as http:
        pods = http.get("/api/v1/pods").json()
        namespaced = http.get("/api/v1/namespaces/default/pods").json()
        replicasets = http.get("/apis/apps/v1/replicasets").json()
        version = http.get("/version").json()
        nodes = http.get("/api/v1/nodes")

    user = "system:serviceaccount:patchlevel:patchlevel"
    assert pods == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'pods is forbidden: User "{user}" cannot list resource "pods" in API group "" at the cluster scope',
        "reason": "Forbidden",
        "details": {"kind": "pods"},
        "code": 403,
    }
    assert namespaced["message"].endswith('in API group "" in the namespace "default"')
    assert replicasets["message"] == (
        f'replicasets.apps is forbidden: User "{user}" cannot list resource "replicasets" in API group "apps"'
        " at the cluster scope"
    )
    assert replicasets["details"] == {"group": "apps", "kind": "replicasets"}
    assert version["message"] == f'forbidden: User "{user}" cannot get path "/version"'
    assert nodes.status_code == 200


def test_self_subject_review_returns_the_user() -> None:
    user = User("system:serviceaccount:patchlevel:patchlevel", uid="u-1", groups=("system:authenticated",))
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    with KubeAPIServer(Cluster(), user=user) as api, client(api) as http:
        response = http.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json=body)
        get = http.get("/apis/authentication.k8s.io/v1/selfsubjectreviews")

    assert response.status_code == 201
    assert response.json()["status"]["userInfo"] == {
        "username": user.name,
        "uid": "u-1",
        "groups": ["system:authenticated"],
    }
    assert get.status_code == 405


def test_a_client_certificate_authenticates_as_its_common_name(tmp_path: Path) -> None:
    auditor = User("auditor@example.com", groups=("auditors", "system:authenticated"))
    with KubeAPIServer(Cluster(), client_certificates=True, user=auditor) as api:
        pair = api.client_certificate()
        (tmp_path / "tls.crt").write_bytes(pair.cert_pem)
        (tmp_path / "tls.key").write_bytes(pair.key_pem)
        verify = ssl.create_default_context(cadata=api.ca_pem.decode())
        verify.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
        with httpx.Client(base_url=api.url, verify=verify) as http:
            review = http.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={}).json()
        with client(api, token=None) as http:
            without = http.get("/api/v1/nodes")

    assert review["status"]["userInfo"] == {"username": auditor.name, "groups": ["auditors", "system:authenticated"]}
    assert without.status_code == 401


def test_unknown_paths_and_write_methods_answer_with_a_status(api: KubeAPIServer) -> None:
    with client(api) as http:
        unknown = http.get("/apis/example.com/v1/widgets")
        nowhere = http.get("/nothing/here")
        subresource = http.get("/api/v1/namespaces/default/pods/nginx/log")
        delete = http.delete("/api/v1/namespaces/default/pods/nginx")

    for response in (unknown, nowhere, subresource):
        assert response.status_code == 404
        assert response.json()["reason"] == "NotFound"
    assert delete.status_code == 405
    assert delete.json()["reason"] == "MethodNotAllowed"


# -- continue tokens -----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_old_continue_token_is_410_expired_with_a_resumable_token() -> None:
    clock = FakeClock()
    cluster = Cluster(objects={"pods": PODS})
    with KubeAPIServer(cluster, continue_ttl=60, clock=clock) as api, client(api) as http:
        first = http.get("/api/v1/pods", params={"limit": 2}).json()
        clock.now += 61
        expired = http.get("/api/v1/pods", params={"limit": 2, "continue": first["metadata"]["continue"]})
        resumed = http.get("/api/v1/pods", params={"limit": 10, "continue": expired.json()["metadata"]["continue"]})

    assert expired.status_code == 410
    status = expired.json()
    assert (status["reason"], status["code"], status["message"]) == ("Expired", 410, CONTINUE_EXPIRED)
    assert status["message"].startswith("The provided continue parameter is too old to display a consistent list")
    assert names(resumed.json()["items"]) == names(PODS[2:])  # the inconsistent remainder


def test_expire_continue_tokens_invalidates_tokens_already_issued(api: KubeAPIServer) -> None:
    with client(api) as http:
        first = http.get("/api/v1/pods", params={"limit": 2}).json()
        api.expire_continue_tokens()
        expired = http.get("/api/v1/pods", params={"limit": 2, "continue": first["metadata"]["continue"]})
        fresh = http.get("/api/v1/pods", params={"limit": 2})

    assert expired.status_code == 410
    assert fresh.status_code == 200


def test_a_garbled_continue_token_is_400(api: KubeAPIServer) -> None:
    with client(api) as http:
        response = http.get("/api/v1/pods", params={"limit": 2, "continue": "not-a-token!"})

    assert response.status_code == 400
    assert response.json()["message"].startswith("continue key is not valid")


# -- faults --------------------------------------------------------------------------------------


def test_the_second_request_answers_429_with_retry_after(api: KubeAPIServer) -> None:
    api.set_faults([Fault("/api/v1/pods", Action.STATUS, status=429, retry_after=1, nth=2)])
    with client(api) as http:
        codes = [http.get("/api/v1/pods") for _ in range(3)]

    assert [r.status_code for r in codes] == [200, 429, 200]
    assert codes[1].headers["retry-after"] == "1"
    assert codes[1].text == TOO_MANY_REQUESTS  # APF answers in plain text, not a Status
    assert [r.fault for r in api.requests_to("/api/v1/pods")] == [None, Action.STATUS, None]


def test_500_three_times_then_success(api: KubeAPIServer) -> None:
    api.set_faults([Fault("/api/v1/nodes", Action.STATUS, status=500, times=3)])
    with client(api) as http:
        responses = [http.get("/api/v1/nodes") for _ in range(4)]

    assert [r.status_code for r in responses] == [500, 500, 500, 200]
    assert responses[0].json()["reason"] == "InternalError"
    assert [r.status for r in api.requests_to("/api/v1/nodes")] == [500, 500, 500, 200]


def test_injected_statuses_carry_kubernetes_reasons_and_retry_after(api: KubeAPIServer) -> None:
    unavailable = Fault("/api/v1/nodes", Action.STATUS, status=503, retry_after=2)
    api.set_faults([unavailable, Fault("/version", Action.STATUS, status=504, method="GET")])
    with client(api) as http:
        nodes = http.get("/api/v1/nodes")
        version = http.get("/version")

    assert nodes.headers["retry-after"] == "2"
    assert nodes.content == fault_body(unavailable)
    assert nodes.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server is currently unable to handle the request",
        "reason": "ServiceUnavailable",
        "details": {"retryAfterSeconds": 2},
        "code": 503,
    }
    assert (version.status_code, version.json()["reason"]) == (504, "Timeout")


def test_expire_the_continue_token_on_page_3(api: KubeAPIServer) -> None:
    api.set_faults([Fault("/api/v1/pods", Action.EXPIRE, page=3)])
    statuses = []
    with client(api) as http:
        query: dict[str, Any] = {"limit": 2}
        for _ in range(3):
            response = http.get("/api/v1/pods", params=query)
            statuses.append(response.status_code)
            if response.status_code != 200:
                break
            query = {"limit": 2, "continue": response.json()["metadata"]["continue"]}

    assert statuses == [200, 200, 410]
    assert response.json()["reason"] == "Expired"


def test_reset_drops_the_connection_then_recovers(api: KubeAPIServer) -> None:
    api.set_faults([Fault("/version", Action.RESET)])
    with client(api) as http:
        with pytest.raises(httpx.TransportError):
            http.get("/version")
        after = http.get("/version")

    assert after.status_code == 200
    assert [r.status for r in api.requests_to("/version")] == [None, 200]


def test_delay_answers_late_but_normally(api: KubeAPIServer) -> None:
    api.set_faults([Fault("/api/v1/nodes", Action.DELAY, seconds=0.3)])
    with client(api) as http:
        started = time.monotonic()
        response = http.get("/api/v1/nodes")
        elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed >= 0.3


def test_hang_lasts_until_the_client_gives_up(api: KubeAPIServer) -> None:
    api.set_faults([Fault("/api/v1/pods", Action.HANG)])
    with client(api, timeout=httpx.Timeout(5, read=0.3)) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.get("/api/v1/pods")
        after = http.get("/api/v1/pods")

    assert after.status_code == 200
    assert [(r.fault, r.status) for r in api.requests_to("/api/v1/pods")] == [(Action.HANG, None), (None, 200)]


def test_faults_load_from_yaml_and_reject_unknown_fields(tmp_path: Path) -> None:
    rules = tmp_path / "faults.yaml"
    rules.write_text(
        "- {path: /api/v1/pods, action: status, status: 429, retry_after: 1, nth: 2}\n"
        "- {path: '/apis/*', action: hang, times: null}\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {path: /api/v1/pods, when: later}\n")

    assert load_faults(rules) == (
        Fault("/api/v1/pods", Action.STATUS, status=429, retry_after=1, nth=2),
        Fault("/apis/*", Action.HANG, times=None),
    )
    with pytest.raises(ValueError, match="unknown fault field"):
        load_faults(bad)


# -- kubeconfig, snapshots and the separate process -----------------------------------------------


def test_write_kubeconfig_writes_a_private_real_kubeconfig(api: KubeAPIServer, tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "kc", api.url, api.ca_pem, "t0k3n", context="ctx", cluster="c", user="u")
    config = yaml.safe_load(path.read_text())

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config["current-context"] == "ctx"
    assert config["contexts"] == [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}]
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == api.url
    assert base64.b64decode(cluster["certificate-authority-data"]) == api.ca_pem
    assert config["users"] == [{"name": "u", "user": {"token": "t0k3n"}}]


def test_a_make_cluster_snapshot_is_served(tmp_path: Path) -> None:
    snapshot = write_cluster(tmp_path / "snapshot", nodes=4, pods=25, images=10)
    written = json.loads((snapshot / "pods.json").read_text())["items"]

    with KubeAPIServer(load_snapshot(snapshot)) as api, client(api) as http:
        pods = http.get("/api/v1/pods", params={"limit": 10}).json()
        nodes = http.get("/api/v1/nodes").json()
        version = http.get("/version").json()
        namespaces = http.get("/api/v1/namespaces").json()

    assert pods["items"] == [bare(p) for p in written[:10]]
    assert pods["metadata"]["remainingItemCount"] == 15
    assert len(nodes["items"]) == 4
    assert version["gitVersion"] == json.loads((snapshot / "version.json").read_text())["gitVersion"]
    assert {n["metadata"]["name"] for n in namespaces["items"]} == {p["metadata"]["namespace"] for p in written}


def test_the_server_runs_as_a_separate_process(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "nodes.json").write_text(json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": NODES}))
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {path: /api/v1/nodes, status: 503}\n")
    kubeconfig = tmp_path / "kubeconfig"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.kubeapi", "--snapshot", str(snapshot), "--kubeconfig", str(kubeconfig),
         "--token", "s3cret", "--faults", str(faults)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        config = yaml.safe_load(kubeconfig.read_text())
        ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        verify = ssl.create_default_context(cadata=ca)
        with httpx.Client(base_url=url, verify=verify, headers={"Authorization": "Bearer s3cret"}) as http:
            first = http.get("/api/v1/nodes")
            second = http.get("/api/v1/nodes")
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert url.startswith("https://127.0.0.1:")
    assert config["clusters"][0]["cluster"]["server"] == url
    assert first.status_code == 503
    assert [bare(n) for n in second.json()["items"]] == [bare(n) for n in NODES]
    assert process.returncode == 0
