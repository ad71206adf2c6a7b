"""Issue 14, node and control-plane checks: half a condition is not a condition, unknown releases are unknown.

Each check whose condition has parts (kube-proxy against the API server and against its kubelet;
a container runtime's own support and its fit with the kubelet; a pool's kernels) must say
UNKNOWN, naming the missing part, when a part cannot be judged, and stay FAIL when a known part
fails.  Patch currency judges only releases the lifecycle data knows: no patch number (``v1.36``
is not ``v1.36.0``), a release after the as-of date or newer than all data, or a 20-digit patch
number are UNKNOWN with the reason and the raw value.  Dates after the as-of date prove nothing.
"""

from __future__ import annotations

from datetime import date

import pytest

from builders import AS_OF, by_subject, make_context, make_kube_proxy_pod, make_node, one, run
from patchlevel.checks.common import Verdict, combine, has_patch_number, patch_verdict, unknown
from patchlevel.lifecycle.catalog import PatchRelease
from patchlevel.model import Severity, Status
from patchlevel.policy import Policy

PROXY = "registry.k8s.io/kube-proxy:v1.33.4"


# ------------------------------------------------------------------------------------------
# kube-proxy: two halves


@pytest.mark.parametrize("kubelet", [None, "", "not-a-version"], ids=["absent", "empty", "garbage"])
def test_kube_proxy_with_an_unknown_kubelet_is_unknown(kubelet: str | None) -> None:
    """The reproducer: kube_proxy_version_skew_allowed passed when the node's kubelet version was unknown."""
    node = make_node("a", kubelet=kubelet)
    ctx = make_context(version="v1.33.4", nodes=[node], pods=[make_kube_proxy_pod("a", PROXY)])
    f = one("kube_proxy_version_skew_allowed", ctx)
    assert f.status is Status.UNKNOWN
    why = f"unrecognised kubelet version {kubelet!r}" if kubelet else "the node reports no kubelet version"
    assert f.message == f"skew against the node's kubelet unknown: {why}"
    assert f.evidence["kube-proxy"] == "v1.33.4" and f.evidence["api_server"] == "v1.33.4"  # the half judged


def test_kube_proxy_known_failure_stays_fail_beside_an_unknown_half() -> None:
    # no API server version, but kube-proxy 1.33 is four minors from kubelet 1.29: that half fails
    node = make_node("a", kubelet="v1.29.10")
    ctx = make_context(version=None, nodes=[node], pods=[make_kube_proxy_pod("a", PROXY)])
    f = one("kube_proxy_version_skew_allowed", ctx)
    assert (f.status, f.severity) == (Status.FAIL, Severity.HIGH)
    assert f.message == (
        "kube-proxy 1.33 is 4 minors away from its node's kubelet 1.29; the skew policy allows 3; "
        "skew against the API server unknown: no API server version in the input"
    )


def test_kube_proxy_passes_only_when_both_halves_pass() -> None:
    nodes = [make_node("a", kubelet="v1.33.4"), make_node("b", kubelet="v1.30.2")]
    pods = [make_kube_proxy_pod("a", PROXY), make_kube_proxy_pod("b", PROXY)]
    f = by_subject(run("kube_proxy_version_skew_allowed", make_context(version="v1.33.4", nodes=nodes, pods=pods)))
    assert (f["node/a"].status, f["node/a"].message) == (
        Status.PASS,
        "kube-proxy 1.33 is within the version-skew policy of API server 1.33",
    )
    assert f["node/a"].evidence["kubelet_minor_gap"] == 0
    assert f["node/b"].status is Status.PASS and f["node/b"].evidence["kubelet_minor_gap"] == 3


# ------------------------------------------------------------------------------------------
# container runtimes: the runtime's support and its fit with the kubelet


@pytest.mark.parametrize(
    ("runtime", "part"),
    [
        ("containerd://2.1.4", "containerd 2.1's support for the node's kubelet is unknown"),
        ("cri-o://1.33.2", "whether CRI-O 1.33 matches the kubelet minor is unknown"),
        ("docker://28.3.0", "whether the kubelet runs Docker through dockershim or cri-dockerd is unknown"),
    ],
    ids=["containerd", "cri-o", "docker"],
)
def test_runtime_with_an_unknown_kubelet_is_unknown(runtime: str, part: str) -> None:
    node = make_node("a", runtime=runtime, kubelet="garbage")
    f = one("container_runtime_supported", make_context(nodes=[node], as_of=date(2025, 9, 1)))
    assert f.status is Status.UNKNOWN
    assert f.message == f"{part}: unrecognised kubelet version 'garbage'"


def test_runtime_known_failure_stays_fail_and_names_the_unknown_part() -> None:
    node = make_node("a", runtime="containerd://1.6.9", kubelet=None)
    f = one("container_runtime_supported", make_context(nodes=[node]))
    assert f.status is Status.FAIL
    assert f.message == (
        "containerd 1.6 reached end of support on 2025-08-23; containerd 1.6's support for the node's kubelet is "
        "unknown: the node reports no kubelet version"
    )


def test_containerd_pass_needs_its_support_table_to_cover_the_kubelet() -> None:
    covered = one(
        "container_runtime_supported",
        make_context(nodes=[make_node("a", runtime="containerd://2.1.4", kubelet="v1.33.4")], as_of=date(2025, 9, 1)),
    )
    assert covered.status is Status.PASS
    beyond = one(
        "container_runtime_supported",
        make_context(nodes=[make_node("a", runtime="containerd://2.3.1", kubelet="v1.37.0")], as_of=date(2026, 9, 1)),
    )
    assert beyond.status is Status.UNKNOWN
    assert "its bundled support table covers Kubernetes 1.32 to 1.36 only" in beyond.message


# ------------------------------------------------------------------------------------------
# patch currency of releases the data does not know


def test_version_without_a_patch_number_is_not_read_as_dot_zero() -> None:
    """The reproducer: v1.36 was read as 1.36.0 and passed patch currency."""
    ctx = make_context(version="v1.36", nodes=[make_node("a", kubelet="v1.36")], as_of=date(2026, 5, 1))
    for check, subject in (("control_plane_patch_current", "cluster"), ("kubelet_patch_current", "node/a")):
        f = one(check, ctx, subject)
        assert f.status is Status.UNKNOWN, check
        assert "the version 'v1.36' has no patch number, so its patch level cannot be compared" in f.message
        assert f.evidence["running"] == "v1.36"
    runtime = make_context(nodes=[make_node("a", runtime="containerd://2.1-k3s2")], as_of=date(2025, 9, 1))
    f = one("container_runtime_patch_current", runtime)
    assert f.status is Status.UNKNOWN and "has no patch number" in f.message


def test_release_after_the_as_of_date_is_not_newer_than_every_release() -> None:
    # Kubernetes 1.36.4 was released on 2026-08-20 (bundled release data)
    ctx = make_context(nodes=[make_node("a", kubelet="v1.36.4")], as_of=date(2026, 8, 1))
    f = one("kubelet_patch_current", ctx)
    assert f.status is Status.UNKNOWN
    assert f.message == (
        "kubelet v1.36.4: 'v1.36.4' is not a Kubernetes 1.36 release published by 2026-08-01 (the newest is "
        "1.36.3); it was released on 2026-08-20, after the as-of date, so it cannot be judged current"
    )
    assert f.evidence["running_released"] == "2026-08-20"
    # containerd 2.2.7 was released on 2026-08-12: same for runtimes
    runtime = make_context(nodes=[make_node("a", runtime="containerd://2.2.7")], as_of=date(2026, 8, 1))
    f = one("container_runtime_patch_current", runtime)
    assert f.status is Status.UNKNOWN and "not a containerd 2.2 release published by 2026-08-01" in f.message


@pytest.mark.parametrize("kubelet", ["v1.33.99", "v1.33.99999999999999999999"])
def test_release_the_data_does_not_know_is_unknown(kubelet: str) -> None:
    f = one("kubelet_patch_current", make_context(nodes=[make_node("a", kubelet=kubelet)]))
    assert f.status is Status.UNKNOWN
    assert repr(kubelet) in f.message  # the raw value, whichever stage refuses it
    if f.evidence.get("running") == kubelet:  # parsed: patch currency itself says why
        assert f"{kubelet!r} is not a Kubernetes 1.33 release published by 2026-11-27" in f.message
        assert "the lifecycle data does not know it" in f.message
    # patch_verdict on its own, whatever the version parser accepts
    releases = (PatchRelease("1.33.4", date(2025, 8, 12)),)
    huge = patch_verdict(
        "kubelet", kubelet, (1, 33, int(kubelet.rsplit(".", 1)[1])), releases, "K 1.33", Policy(), AS_OF
    )
    assert huge.status is Status.UNKNOWN and "the lifecycle data does not know it" in huge.message


def test_patch_verdict_generalises_over_every_unknown_release() -> None:
    releases = (PatchRelease("1.2.0", date(2026, 1, 1)), PatchRelease("1.2.1", date(2026, 2, 1)))
    policy = Policy()

    def verdict(running: str, key: tuple[int, ...]) -> Verdict:
        return patch_verdict("x", running, key, releases, "X 1.2", policy, date(2026, 6, 1))

    assert verdict("1.2.1", (1, 2, 1)).status is Status.PASS
    assert verdict("1.2.0", (1, 2, 0)).status is Status.WARN  # behind a known release: that much is known
    for running, key in (("1.2", (1, 2, 0)), ("1.2.2", (1, 2, 2)), ("1.2.10**20", (1, 2, 10**20))):
        assert verdict(running, key).status is Status.UNKNOWN, running
    assert [has_patch_number(v) for v in ("v1.36", "v1.36.0", "cri-o://1.30", "4.14.3", "")] == [
        False,
        True,
        False,
        True,
        False,
    ]


def test_combine_keeps_a_known_failure_and_never_passes_an_unknown_part() -> None:
    ok = Verdict(Status.PASS, Severity.INFO, "ok", {"a": 1})
    warn = Verdict(Status.WARN, Severity.MEDIUM, "warn", {})
    fail = Verdict(Status.FAIL, Severity.HIGH, "fail", {})
    gap = unknown("gap", b=2)
    assert combine([ok, ok]).message == "ok"
    assert combine([ok, gap]).status is Status.UNKNOWN
    assert combine([warn, gap]).status is Status.UNKNOWN
    assert (combine([gap, fail]).status, combine([gap, fail]).message) == (Status.FAIL, "fail; gap")
    assert combine([ok, gap]).evidence == {"a": 1, "b": 2}


# ------------------------------------------------------------------------------------------
# hosts: pools, reboots and node dates


def test_reboot_required_since_an_unknown_or_future_time_is_unknown() -> None:
    def condition(status: str, since: str) -> list[dict[str, str]]:
        return [{"type": "RebootRequired", "status": status, "lastTransitionTime": since}]

    nodes = [
        make_node("undated", conditions=condition("True", "")),
        make_node("garbled", conditions=condition("True", "yesterday")),
        make_node("future-true", conditions=condition("True", "2027-01-01T00:00:00Z")),
        make_node("future-false", conditions=condition("False", "2027-01-01T00:00:00Z")),
        make_node("recent", conditions=condition("True", "2026-11-20T00:00:00Z")),
    ]
    f = by_subject(run("node_not_pending_reboot", make_context(nodes=nodes)))
    for name in ("undated", "garbled"):
        assert f[f"node/{name}"].status is Status.UNKNOWN
        assert f[f"node/{name}"].message.startswith(
            "RebootRequired condition: a reboot is required (condition RebootRequired); since when is not recorded"
        )
    for name in ("future-true", "future-false"):
        assert f[f"node/{name}"].status is Status.UNKNOWN
        assert "that state began on 2027-01-01, after the as-of date" in f[f"node/{name}"].message
    assert f["node/recent"].status is Status.WARN


def test_node_registered_after_the_as_of_date_is_unknown_whatever_its_image_date() -> None:
    aks = {"kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202611.01.0"}
    node = make_node("a", labels=aks, created="2026-12-01T00:00:00Z")
    f = one("node_image_current", make_context(nodes=[node]))
    assert (f.status, f.message) == (Status.UNKNOWN, "the node was registered after the as-of date")
