"""The collector against a misbehaving API server: throttling, errors, resets, hangs, expired continue
tokens, refusals and TLS problems.  Each fault has its outcome and its message checked."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeapi import Action, Cluster, Fault, KubeAPIServer, fault_body
from patchlevel import inventory as inv
from patchlevel.collect.bundle import BundleWriter, verify_bundle
from patchlevel.collect.kubeconfig import load_kubeconfig
from patchlevel.collect.live import LiveOptions, collect_live
from patchlevel.errors import CollectError
from patchlevel.model import Status
from test_live_collect import VERSION, FakeHost, access_for, cluster_objects, collect, run_audit

PODS = "/api/v1/pods"
NODES = "/api/v1/nodes"


@pytest.fixture
def api() -> Iterator[KubeAPIServer]:
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as server:
        yield server


# -- retried faults ----------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(PODS, Action.STATUS, status=429, retry_after=7, page=2)])
    fake = FakeHost()

    collection = collect(api, tmp_path, LiveOptions(page_size=4), fake)

    assert fake.sleeps == [7.0]
    assert [r.status for r in api.requests_to(PODS)] == [200, 429, 200, 200]
    assert len(collection.inventory.pods) == 10
    assert collection.metadata["retries"] == [
        "list pods (page 2): 429 Too Many Requests: Too many requests, please try again later.; retried after 7.0s"
    ]


def test_5xx_are_retried_with_exponential_backoff_and_jitter(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(NODES, Action.STATUS, status=503, times=2), Fault(PODS, Action.STATUS, status=500)])
    fake = FakeHost()

    collection = collect(api, tmp_path, LiveOptions(backoff_base=0.5), fake)

    # half-way jitter: 0.75 of 0.5 s, 1 s, then the first wait of the next request again
    assert fake.sleeps == [0.375, 0.75, 0.375]
    assert [r.status for r in api.requests_to(NODES)] == [503, 503, 200]
    assert len(collection.inventory.nodes) == 3


def test_backoff_is_capped(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(NODES, Action.STATUS, status=502, times=5)])
    fake = FakeHost()

    collect(api, tmp_path, LiveOptions(backoff_base=1.0, backoff_cap=3.0), fake)

    assert fake.sleeps == [0.75, 1.5, 2.25, 2.25, 2.25]


def test_giving_up_after_max_attempts_names_the_request_and_the_last_answer(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(NODES, Action.STATUS, status=500, times=None)])

    with pytest.raises(CollectError) as raised:
        collect(api, tmp_path, LiveOptions(max_attempts=3))

    assert len(api.requests_to(NODES)) == 3
    message = str(raised.value)
    assert message.startswith(f"could not list nodes (page 1) at {api.url}: gave up after 3 attempts; last: 500")
    assert "Internal error occurred: injected fault" in message


def test_a_connection_reset_is_retried(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(PODS, Action.RESET, page=2)])
    fake = FakeHost()

    collection = collect(api, tmp_path, LiveOptions(page_size=4), fake)

    assert [r.page for r in api.requests_to(PODS)] == [1, 2, 2, 3]
    assert len(collection.inventory.pods) == 10
    assert len(fake.sleeps) == 1
    assert "connection lost" in collection.metadata["retries"][0]


def test_a_hanging_request_times_out_and_is_retried(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(NODES, Action.HANG)])

    started = time.monotonic()
    collection = collect(api, tmp_path, LiveOptions(request_timeout=0.5))

    assert time.monotonic() - started < 10
    assert len(api.requests_to(NODES)) == 2
    assert collection.metadata["retries"][0].startswith("list nodes (page 1): no complete answer within 0.5s")


def test_a_slow_answer_beyond_the_request_timeout_is_retried(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault("/version", Action.DELAY, seconds=2)])

    collection = collect(api, tmp_path, LiveOptions(request_timeout=0.5))

    assert len(api.requests_to("/version")) == 2
    assert collection.inventory.version is not None


def test_the_deadline_bounds_the_whole_collection(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(NODES, Action.HANG, times=None)])

    started = time.monotonic()
    with pytest.raises(CollectError) as raised:
        collect(api, tmp_path, LiveOptions(request_timeout=0.4, deadline=1.5))

    assert time.monotonic() - started < 5
    assert "the collection deadline of 1.5s" in str(raised.value)
    assert "list nodes" in str(raised.value)
    assert "raise --deadline" in str(raised.value)


def test_a_retry_after_beyond_the_deadline_fails_at_once(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(NODES, Action.STATUS, status=429, retry_after=600)])
    fake = FakeHost()

    with pytest.raises(CollectError) as raised:
        collect(api, tmp_path, LiveOptions(deadline=60), fake)

    assert fake.sleeps == []
    assert "would pass while waiting 600.0s to retry (list nodes (page 1): 429 Too Many Requests" in str(raised.value)


# -- 410 Expired ---------------------------------------------------------------------------------


def test_an_expired_continue_token_relists_from_the_start_and_says_so(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(PODS, Action.EXPIRE, page=3)])
    writer = BundleWriter(tmp_path / "bundle")
    access = access_for(api, tmp_path)

    collection = collect_live(access, host=FakeHost().host(), options=LiveOptions(page_size=3), sink=writer)
    writer.finish(collection.metadata)

    assert [(r.page, r.status) for r in api.requests_to(PODS)] == [
        (1, 200), (2, 200), (3, 410), (1, 200), (2, 200), (3, 200), (4, 200),
    ]  # fmt: skip
    inventory = collection.inventory
    assert len(inventory.pods) == 10
    assert inventory.warnings == (
        "listing pods: the continue token expired on page 3 (410 Gone); the list was read again from the start",
    )
    assert "appeared more than once" not in " ".join(inventory.warnings)  # the first attempt was dropped
    assert [i.path for i in inventory.inputs].count("test:pods/page-0001.json") == 1
    report = run_audit(inventory)
    assert inventory.warnings[0] in report.warnings
    verification = verify_bundle(tmp_path / "bundle")
    assert verification.ok
    pod_pages = [f["path"] for f in verification.manifest["files"] if f["path"].startswith("pods/")]
    assert pod_pages == [f"pods/page-000{n}.json" for n in (1, 2, 3, 4)]


def test_a_list_that_keeps_expiring_fails_with_advice(api: KubeAPIServer, tmp_path: Path) -> None:
    api.set_faults([Fault(PODS, Action.EXPIRE, page=2, times=None)])

    with pytest.raises(CollectError) as raised:
        collect(api, tmp_path, LiveOptions(page_size=4, max_relists=2))

    assert str(raised.value) == (
        "listing pods: the continue token expired 3 times (410 Gone) "
        "(the API server compacts faster than the list is read; raise --page-size)"
    )


# -- refusals ------------------------------------------------------------------------------------


def test_401_is_one_line_naming_the_context_and_what_was_refused(api: KubeAPIServer, tmp_path: Path) -> None:
    access = dataclasses.replace(access_for(api, tmp_path), token="not-the-token")

    with pytest.raises(CollectError) as raised:
        collect_live(access, host=FakeHost().host())

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        f'the API server at {api.url} refused the credentials of context "test" (bearer token) to get /version: '
        "401 Unauthorized: Unauthorized"
    )
    assert "deploy/rbac.yaml" in message


def test_403_on_nodes_is_an_error_naming_verb_resource_and_manifest(tmp_path: Path) -> None:
    with (
        KubeAPIServer(Cluster(objects=cluster_objects()), forbidden=["nodes"]) as server,
        pytest.raises(CollectError) as raised,
    ):
        collect(server, tmp_path)

    assert str(raised.value) == (
        "the API server refused to list nodes (403 Forbidden: nodes is forbidden: User "
        '"system:serviceaccount:patchlevel:patchlevel" cannot list resource "nodes" in API group "" at the '
        "cluster scope) (deploy/rbac.yaml grants it (ClusterRole patchlevel-reader); apply it, or give the identity "
        "the same rule)"
    )


def test_403_on_pods_makes_the_image_checks_unknown_never_pass(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION), forbidden=["pods"]) as server:
        inventory = collect(server, tmp_path).inventory

    assert not inventory.has(inv.PODS)
    assert inventory.denied[inv.PODS].startswith("the identity may not list pods (403 Forbidden: pods is forbidden")
    report = run_audit(inventory)
    image_checks = {"running_image_digest_known", "image_scanned_recently", "image_reference_immutable"}
    judged = [f for f in report.findings if f.check in image_checks]
    assert {f.check for f in judged} == image_checks
    assert all(f.status is Status.UNKNOWN for f in judged)
    assert all("the identity may not list pods" in f.message for f in judged)
    assert any(w.startswith("pods could not be read: the identity may not list pods") for w in report.warnings)


def test_403_on_replicasets_is_recorded_and_workloads_are_inferred(tmp_path: Path) -> None:
    from patchlevel.images import workload_of

    with KubeAPIServer(Cluster(objects=cluster_objects()), forbidden=["replicasets.apps"]) as server:
        collection = collect(server, tmp_path)

    inventory = collection.inventory
    assert "may not list replicasets.apps (403 Forbidden" in inventory.denied[inv.OWNERS]
    assert inventory.warnings[-1].endswith("workload names are inferred from owner references")
    assert (
        next(r for r in collection.metadata["resources"] if r["status"] == "denied")["resource"] == "replicasets.apps"
    )
    nginx = next(p for p in inventory.pods if p.name == "app-0000000")
    assert workload_of(nginx, inventory.owners).kind == "ReplicaSet"  # no object to follow to the Deployment


def test_403_on_vulnerability_reports_never_passes_the_scan_checks(tmp_path: Path) -> None:
    forbidden = ["vulnerabilityreports.aquasecurity.github.io"]
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION), forbidden=forbidden) as server:
        inventory = collect(server, tmp_path).inventory

    assert inv.VULNERABILITY_REPORTS in inventory.denied and inventory.scans == ()
    scanned = [f for f in run_audit(inventory).findings if f.check == "image_scanned_recently"]
    assert scanned and all(f.status is not Status.PASS for f in scanned)


def test_403_on_version_makes_the_control_plane_unknown(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects()), forbidden=["/version"]) as server:
        inventory = collect(server, tmp_path).inventory

    assert inventory.version is None and inv.VERSION in inventory.denied
    control_plane = [f for f in run_audit(inventory).findings if f.check == "control_plane_version_supported"]
    assert [f.status for f in control_plane] == [Status.UNKNOWN]


def test_no_self_subject_review_is_not_fatal(tmp_path: Path) -> None:
    forbidden = ["selfsubjectreviews.authentication.k8s.io"]
    with KubeAPIServer(Cluster(objects=cluster_objects()), forbidden=forbidden) as server:
        collection = collect(server, tmp_path)

    assert collection.metadata["identity"] == {
        "source": "unavailable",
        "reason": "v1: 403 Forbidden",
        "kubeconfig_user": "test-user",
        "auth": "bearer token",
    }
    assert len(collection.inventory.nodes) == 3


# -- TLS -------------------------------------------------------------------------------------------


def test_a_server_certificate_from_another_ca_is_refused(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects())) as one, KubeAPIServer() as other:
        access = dataclasses.replace(access_for(one, tmp_path), ca_pem=other.ca_pem)
        with pytest.raises(CollectError) as raised:
            collect_live(access, host=FakeHost().host())
        assert one.requests == []
        url = one.url

    assert str(raised.value).startswith(f"TLS with {url} failed: CERTIFICATE_VERIFY_FAILED")
    assert "certificate-authority" in str(raised.value)


def test_insecure_skip_tls_verify_works_and_is_warned_about_in_the_report(tmp_path: Path) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects(), version=VERSION)) as api:
        kubeconfig = tmp_path / "kubeconfig"
        text = api.write_kubeconfig(kubeconfig).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if "certificate-authority-data" not in line]
        server_line = next(i for i, line in enumerate(lines) if "server:" in line)
        lines.insert(server_line, lines[server_line].replace(f"server: {api.url}", "insecure-skip-tls-verify: true"))
        kubeconfig.write_text("\n".join(lines) + "\n", encoding="utf-8")
        access = load_kubeconfig([kubeconfig]).access()
        collection = collect_live(access, host=FakeHost().host())

    assert access.insecure and access.ca_pem is None
    assert collection.metadata["cluster"]["insecure_skip_tls_verify"] is True
    warning = collection.inventory.warnings[0]
    assert warning.startswith('TLS verification is off for context "test" (insecure-skip-tls-verify)')
    assert warning in run_audit(collection.inventory).warnings


def test_fault_bodies_are_what_the_messages_quote() -> None:
    """The message of a 500 above comes from the server's Status body, not from our own text."""
    assert b"Internal error occurred: injected fault" in fault_body(Fault(NODES, Action.STATUS, status=500))


@pytest.mark.parametrize(("name", "accepted"), [("localhost", True), ("api.wrong.example", False)])
def test_tls_server_name_is_the_name_the_certificate_is_checked_against(
    tmp_path: Path, name: str, accepted: bool
) -> None:
    with KubeAPIServer(Cluster(objects=cluster_objects())) as api:  # its certificate names 127.0.0.1 and localhost
        access = dataclasses.replace(access_for(api, tmp_path), tls_server_name=name)
        if accepted:
            assert len(collect_live(access, host=FakeHost().host()).inventory.nodes) == 3
        else:
            with pytest.raises(CollectError, match="CERTIFICATE_VERIFY_FAILED"):
                collect_live(access, host=FakeHost().host())
