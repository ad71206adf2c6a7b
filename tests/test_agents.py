"""Node update and reboot agents (issue 11): each agent's state read from its own records, and judged.

Real files: tests/data/update-agents (kured's DaemonSet manifest, the Bottlerocket update operator's
CRD, system-upgrade-controller example Plans, OpenShift MachineConfigPools and Nodes from an
insights archive; CONSTANTS.md quotes every name from the agents' source).  No real object caught in
a changing state exists upstream: each test builds one from the real files, setting only the fields
the agent's source sets, and says so.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from builders import by_subject, make_context, make_inventory, make_node, make_pod, make_pod_doc, run
from patchlevel import inventory as inv
from patchlevel.agents import (
    BRUPOP,
    FLUO,
    KURED,
    LOOKED_FOR,
    MCO,
    SUC,
    AgentState,
    go_duration,
    kured_flags,
    parse_kured_lock,
    read_agents,
)
from patchlevel.checks.common import Context
from patchlevel.inventory import UpdateAgentObjects
from patchlevel.kube import BottlerocketShadow, DaemonSet, MachineConfigPool, Node, Pod, UpgradePlan
from patchlevel.model import Finding, Status
from patchlevel.policy import Policy

DATA = Path(__file__).parent / "data" / "update-agents"
AS_OF = date(2026, 11, 27)
PENDING = "node_not_pending_reboot"
HEALTHY = "node_update_agent_healthy"


def yaml_documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DATA / name).read_text(encoding="utf-8")) if d]


def json_document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return document


def context(
    nodes: Sequence[Node],
    *,
    pods: Iterable[Any] | None = None,
    daemonsets: Sequence[DaemonSet] = (),
    shadows: Sequence[BottlerocketShadow] = (),
    plans: Sequence[UpgradePlan] = (),
    pools: Sequence[MachineConfigPool] = (),
    collected: Iterable[str] = (),
    denied: Mapping[str, str] | None = None,
    as_of: date = AS_OF,
    policy: Policy | None = None,
) -> Context:
    inventory = make_inventory("v1.31.4", nodes=nodes, pods=list(pods) if pods is not None else None)
    inventory = dataclasses.replace(
        inventory,
        agents=UpdateAgentObjects(tuple(daemonsets), tuple(shadows), tuple(plans), tuple(pools)),
        collected=inventory.collected | set(collected),
        denied=dict(denied or {}),
    )
    return make_context(inventory, as_of=as_of, policy=policy)


def findings(check: str, ctx: Context) -> dict[str, Finding]:
    return by_subject(run(check, ctx))


# ------------------------------------------------------------------------------------------
# kured


def kured_daemonset(*args: str, annotations: Mapping[str, str] | None = None) -> DaemonSet:
    """kured's real published DaemonSet; constructed: extra flags, and the lock annotation kured writes on it."""
    [document] = [d for d in yaml_documents("kured-ds.yaml") if d["kind"] == "DaemonSet"]
    document = copy.deepcopy(document)
    document["spec"]["template"]["spec"]["containers"][0]["command"].extend(args)
    if annotations:
        document["metadata"]["annotations"] = dict(annotations)
    return msgspec.convert(document, DaemonSet)


def kured_pod(node: str) -> Any:
    return make_pod(f"kured-{node}", namespace="kube-system", node=node, image="ghcr.io/kubereboot/kured:1.23.0")


# kured's own value format: RFC 3339 (main.go:651)
IN_PROGRESS = "weave.works/kured-reboot-in-progress"
MOST_RECENT = "weave.works/kured-most-recent-reboot-needed"
LOCK = "weave.works/kured-node-lock"


def test_the_real_kured_daemonset_runs_without_annotate_nodes() -> None:
    flags = kured_flags(kured_daemonset())
    assert flags.annotate_nodes is None and flags.lock_annotation == LOCK  # flag absent: default false
    configured = kured_flags(
        kured_daemonset("--annotate-nodes", "--pre-reboot-node-labels=kured=rebooting", "--lock-ttl=30m")
    )
    assert configured.annotate_nodes is True
    assert dict(configured.pre_reboot_labels) == {"kured": "rebooting"}
    assert configured.lock_ttl is not None and configured.lock_ttl.total_seconds() == 1800
    assert go_duration("1h30m") is not None and go_duration("forever") is None


def test_kured_locks_single_multi_and_the_real_one_of_issue_478() -> None:
    real = parse_kured_lock('{"nodeID":"aks-linuxnp-26998637-vmss001nli","metadata":{"unschedulable":false}}')
    assert real is not None and [(lock.node, lock.created, lock.ttl) for lock in real] == [
        ("aks-linuxnp-26998637-vmss001nli", None, None)
    ]
    multi = parse_kured_lock(
        '{"maxOwners":2,"locks":[{"nodeID":"a","created":"2026-11-20T10:00:00Z","TTL":0},'
        '{"nodeID":"b","created":"2026-11-26T10:00:00Z","TTL":3600000000000}]}'
    )
    assert multi is not None and [lock.node for lock in multi] == ["a", "b"]
    assert multi[1].ttl is not None and multi[1].ttl.total_seconds() == 3600
    assert parse_kured_lock("not json") is None and parse_kured_lock('{"locks": 3}') is None


def kured_cluster(*, annotate: bool = True, lock: str | None = None) -> tuple[list[Node], Context]:
    nodes = [
        make_node("pending-3d", annotations={IN_PROGRESS: "2026-11-24T08:00:00Z", MOST_RECENT: "2026-11-24T08:00:00Z"}),
        make_node(
            "pending-10d", annotations={IN_PROGRESS: "2026-11-17T08:00:00Z", MOST_RECENT: "2026-11-17T08:00:00Z"}
        ),
        make_node("rebooted", annotations={MOST_RECENT: "2026-10-02T08:00:00Z"}),  # kept after the reboot
        make_node("quiet"),
        make_node(
            "unreleased",
            annotations={"kured.dev/kured-reboot-in-progress": "2026-11-26T08:00:00Z"},  # PR #1000's names
        ),
        make_node("no-kured"),
    ]
    flags = ("--annotate-nodes",) if annotate else ()
    ds = kured_daemonset(*flags, annotations={LOCK: lock} if lock else None)
    pods = [kured_pod(n.name) for n in nodes if n.name != "no-kured"]
    return nodes, context(nodes, pods=pods, daemonsets=[ds], collected=[inv.DAEMONSETS])


def test_kured_with_annotate_nodes_gives_every_verdict() -> None:
    _, ctx = kured_cluster()
    f = findings(PENDING, ctx)
    assert f["node/pending-3d"].status is Status.WARN
    assert f["node/pending-3d"].message.startswith(
        "kured: kured found the reboot sentinel and waits to reboot the node (3 days since 2026-11-24"
    )
    assert f["node/pending-10d"].status is Status.FAIL
    assert "for 10 days since 2026-11-17: longer than the 7-day policy" in f["node/pending-10d"].message
    assert f["node/rebooted"].status is Status.PASS
    assert "its last reboot was needed on 2026-10-02T08:00:00Z" in f["node/rebooted"].message
    assert f["node/quiet"].status is Status.PASS
    unreleased = f["node/unreleased"]
    assert unreleased.status is Status.WARN
    assert unreleased.evidence["readings"][0]["annotation_family"] == "kured.dev/ (unreleased pull request #1000)"
    no_kured = f["node/no-kured"]
    assert no_kured.status is Status.UNKNOWN
    assert no_kured.message.startswith(
        "no update agent covers this node (found in the cluster: kured; looked for kured"
    )
    assert set(no_kured.evidence["agents_looked_for"]) == set(LOOKED_FOR.values())
    # a longer policy window turns the 10-day reboot into a warning
    longer = findings(PENDING, dataclasses.replace(ctx, policy=Policy(reboot_pending_max_days=14)))
    assert longer["node/pending-10d"].status is Status.WARN


def test_kured_without_annotate_nodes_knows_only_the_lock_holder() -> None:
    lock = '{"nodeID":"quiet","metadata":{"unschedulable":false},"created":"2026-11-26T22:00:00Z","TTL":0}'
    _, ctx = kured_cluster(annotate=False, lock=lock)
    f = findings(PENDING, ctx)
    assert f["node/quiet"].status is Status.WARN
    assert f["node/quiet"].message.startswith(
        "kured: kured is draining or rebooting the node (it holds the reboot lock)"
    )
    reading = read_agents(ctx.inventory).readings("quiet")[0]
    assert reading.state is AgentState.REBOOTING and reading.since is not None
    # an annotation written while kured annotated stays after the flag is dropped: stale, neither pass nor fail
    assert f["node/pending-10d"].status is Status.UNKNOWN and "it is stale" in f["node/pending-10d"].message
    # without the DaemonSet, kured's flags are unknown: a node it has not marked is unknown, a marked one counts
    nodes, _ = kured_cluster()
    bare = context(nodes, pods=[kured_pod(n.name) for n in nodes], denied={inv.DAEMONSETS: "forbidden"})
    g = findings(PENDING, bare)
    assert g["node/pending-10d"].status is Status.FAIL
    assert g["node/quiet"].status is Status.UNKNOWN and "its DaemonSet is not in the input" in g["node/quiet"].message
    # with no kured annotation anywhere and no --annotate-nodes, the nodes' state is unknown
    nodes = [make_node("a"), make_node("b")]
    plain = context(
        nodes, pods=[kured_pod("a"), kured_pod("b")], daemonsets=[kured_daemonset()], collected=[inv.DAEMONSETS]
    )
    g = findings(PENDING, plain)
    assert g["node/a"].status is Status.UNKNOWN
    assert "kured runs without --annotate-nodes" in g["node/a"].message
    assert "kured_reboot_required metric" in g["node/a"].message


def kured_daemonset_env(**env: str) -> DaemonSet:
    """kured's real DaemonSet with --annotate-nodes; constructed: KURED_* variables beside its KURED_NODE_ID."""
    [document] = [d for d in yaml_documents("kured-ds.yaml") if d["kind"] == "DaemonSet"]
    container = document["spec"]["template"]["spec"]["containers"][0]
    container["command"].append("--annotate-nodes")
    container["env"].extend({"name": name, "value": value} for name, value in env.items())
    return msgspec.convert(document, DaemonSet)


def test_the_real_kured_daemonset_has_kureds_default_reboot_window() -> None:
    # the manifest lists --reboot-days, --start-time, --end-time, --time-zone commented out, at their defaults
    window = kured_flags(kured_daemonset()).window
    assert (window.always_open, window.set_by) == (True, ())
    assert window.describe() == "su,mo,tu,we,th,fr,sa between 0:00 and 23:59:59 UTC"
    explicit = kured_flags(
        kured_daemonset("--reboot-days=sun,mon,tue,wed,thu,fri,sat", "--start-time=0:00", "--end-time=23:59:59")
    )
    assert explicit.window.always_open is True
    weekend = kured_flags(kured_daemonset("--reboot-days=sat", "--reboot-days", "sun", "--start-time=02:00")).window
    assert (weekend.days, weekend.start, weekend.always_open) == (("sat", "sun"), "02:00", False)  # a slice adds up
    env = kured_flags(kured_daemonset_env(KURED_REBOOT_DAYS="mo,tu", KURED_END_TIME="05pm")).window
    assert (env.days, env.end, env.set_by, env.always_open) == (("mo", "tu"), "05pm", ("KURED_REBOOT_DAYS",
                                                                "KURED_END_TIME"), False)  # fmt: skip
    assert kured_flags(kured_daemonset("--reboot-days=funday")).window.always_open is None  # kured refuses it
    assert kured_flags(kured_daemonset("--start-time=25:00")).window.always_open is None
    assert kured_flags(kured_daemonset("--period=4h")).period == "4h"


def test_kured_marks_nodes_only_inside_its_reboot_window() -> None:
    """The reproducer: with --annotate-nodes and a weekend window, an unmarked node passed on a weekday, although
    kured does not even check the sentinel outside the window (cmd/kured/main.go rebootAsRequired:
    ``if !window.Contains(time.Now()) { ... continue }`` before ``rebootRequired``)."""
    nodes, _ = kured_cluster()
    pods = [kured_pod(n.name) for n in nodes if n.name != "no-kured"]

    def judged(ds: DaemonSet) -> dict[str, Finding]:
        return findings(PENDING, context(nodes, pods=pods, daemonsets=[ds], collected=[inv.DAEMONSETS]))

    weekend = judged(
        kured_daemonset(
            "--annotate-nodes", "--reboot-days=sat,sun", "--start-time=2:00", "--end-time=5:00",
            "--time-zone=Europe/Berlin",
        )
    )  # fmt: skip
    quiet = weekend["node/quiet"]
    assert quiet.status is Status.UNKNOWN
    assert quiet.message == (
        "kured: kured's reboot window is sat,sun between 2:00 and 5:00 Europe/Berlin: kured checks the reboot "
        "sentinel, and marks a node that needs a reboot, only inside it; outside the window kured neither checks "
        "nor marks, so the node's missing weave.works/kured-reboot-in-progress annotation does not show that no "
        "reboot is pending"
    )
    reading = quiet.evidence["readings"][0]
    assert reading["reboot_window_set_by"] == ["--reboot-days", "--start-time", "--end-time", "--time-zone"]
    assert weekend["node/rebooted"].status is Status.UNKNOWN
    assert "its last reboot was needed on 2026-10-02T08:00:00Z" in weekend["node/rebooted"].message
    # a node kured marked is pending whatever the window
    assert weekend["node/pending-3d"].status is Status.WARN and weekend["node/pending-10d"].status is Status.FAIL
    # the same window from KURED_* variables
    env = judged(kured_daemonset_env(KURED_REBOOT_DAYS="sat,sun", KURED_START_TIME="2:00"))
    assert env["node/quiet"].status is Status.UNKNOWN and "sat,sun between 2:00 and 23:59:59 UTC" in env[
        "node/quiet"].message  # fmt: skip
    # a window whose end is not after its start never opens (timewindow.Contains compares within one day)
    never = judged(kured_daemonset("--annotate-nodes", "--start-time=22:00", "--end-time=04:00"))["node/quiet"]
    assert never.status is Status.UNKNOWN and "kured's window never opens" in never.message
    refused = judged(kured_daemonset("--annotate-nodes", "--reboot-days=funday"))["node/quiet"]
    assert refused.status is Status.UNKNOWN and "a value kured refuses" in refused.message
    # open around the clock, set explicitly: the absence of the mark counts
    always = judged(kured_daemonset("--annotate-nodes", "--reboot-days=0,1,2,3,4,5,6", "--end-time=23:59"))
    assert always["node/quiet"].status is Status.PASS
    assert always["node/quiet"].message == (
        "no reboot pending: kured: kured found no reboot required at its last check (its reboot window is open "
        "around the clock; it checks every 1h)"
    )


def test_an_unmarked_node_without_a_kured_pod_is_unknown() -> None:
    """kured checks a node's sentinel from its pod on that node: with none there, no mark proves nothing."""
    node = make_node("rebooted", annotations={MOST_RECENT: "2026-10-02T08:00:00Z"})
    ds = kured_daemonset("--annotate-nodes")
    other = kured_pod("elsewhere")
    f = findings(PENDING, context([node], pods=[other], daemonsets=[ds], collected=[inv.DAEMONSETS]))["node/rebooted"]
    assert f.status is Status.UNKNOWN
    assert f.message.startswith("kured: kured marks nodes that need a reboot, but no kured pod runs on the node")
    unread = context([node], daemonsets=[ds], collected=[inv.DAEMONSETS], denied={inv.PODS: "forbidden"})
    g = findings(PENDING, unread)["node/rebooted"]
    assert g.status is Status.UNKNOWN and "which nodes kured runs on is unknown" in g.message


def test_a_kured_pod_that_is_not_running_checks_nothing() -> None:
    """A Pending, Failed or Succeeded kured pod (or one without a phase) reads no sentinel: the node is unknown."""
    node = make_node("quiet")
    ds = kured_daemonset("--annotate-nodes")
    running = findings(PENDING, context([node], pods=[kured_pod("quiet")], daemonsets=[ds], collected=[inv.DAEMONSETS]))
    assert running["node/quiet"].status is Status.PASS
    for phase in ("Pending", "Failed", "Succeeded", None):
        doc = make_pod_doc(
            "kured-quiet", namespace="kube-system", node="quiet", image="ghcr.io/kubereboot/kured:1.23.0"
        )
        if phase is None:
            del doc["status"]["phase"]
        else:
            doc["status"]["phase"] = phase
        pod = msgspec.convert(doc, Pod)
        f = findings(PENDING, context([node], pods=[pod], daemonsets=[ds], collected=[inv.DAEMONSETS]))["node/quiet"]
        assert f.status is Status.UNKNOWN, (phase, f.message)
        assert f.message.startswith("no update agent covers this node (found in the cluster: kured;")


def kind_node_marked(mark: str) -> Node:
    """The real kind Ubuntu 22.04 node (Ready since 2024-02-20T11:18:12Z); constructed: kured's mark on it."""
    path = Path(__file__).parent / "data" / "kube" / "kind-ubuntu2204-containerd-v1.25-node.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["metadata"].setdefault("annotations", {}).update({IN_PROGRESS: mark, MOST_RECENT: mark})
    return msgspec.convert(document, Node)


def test_a_kured_mark_older_than_the_nodes_return_to_ready_is_possibly_stale() -> None:
    """kured removes its reboot-in-progress mark only after a reboot it made (holding the lock); a node rebooted
    another way keeps the mark, which then failed the node after 7 days however current it was."""
    as_of = date(2024, 3, 1)
    before = kind_node_marked("2024-02-10T03:00:00Z")  # marked, then Ready again on 2024-02-20
    name = before.name
    ds = kured_daemonset("--annotate-nodes")
    ctx = context([before], pods=[kured_pod(name)], daemonsets=[ds], collected=[inv.DAEMONSETS], as_of=as_of)
    f = findings(PENDING, ctx)[f"node/{name}"]
    assert f.status is Status.UNKNOWN
    assert f.message == (
        "kured: kured marked the node as needing a reboot on 2024-02-10T03:00:00Z, but the node became Ready again "
        "on 2024-02-20T11:18:12Z, after that: the mark is possibly stale (a reboot made outside kured leaves it in "
        "place; a kubelet restart changes Ready too)"
    )
    assert f.evidence["readings"][0]["ready_since"] == "2024-02-20T11:18:12Z"
    # marked after the node's last return to Ready: pending, and past the policy it fails
    after = kind_node_marked("2024-02-21T03:00:00Z")
    ctx = context([after], pods=[kured_pod(name)], daemonsets=[ds], collected=[inv.DAEMONSETS], as_of=as_of)
    assert findings(PENDING, ctx)[f"node/{name}"].status is Status.FAIL  # 9 days


def test_kured_pre_reboot_labels_mean_draining() -> None:
    ds = kured_daemonset(
        "--annotate-nodes", "--pre-reboot-node-labels=kured=rebooting", "--post-reboot-node-labels=kured=done"
    )
    nodes = [make_node("draining", labels={"kured": "rebooting"}), make_node("done", labels={"kured": "done"})]
    ctx = context(nodes, pods=[kured_pod("draining"), kured_pod("done")], daemonsets=[ds], collected=[inv.DAEMONSETS])
    f = findings(PENDING, ctx)
    assert f["node/draining"].status is Status.WARN and "pre-reboot labels" in f["node/draining"].message
    assert f["node/done"].status is Status.PASS


def test_a_kured_lock_held_too_long_blocks_every_reboot() -> None:
    stuck = '{"nodeID":"quiet","metadata":{"unschedulable":false},"created":"2026-11-10T22:00:00Z","TTL":0}'
    _, ctx = kured_cluster(lock=stuck)
    f = findings(HEALTHY, ctx)
    lock = f["daemonset/kube-system/kured"]
    assert (
        lock.status is Status.FAIL
        and "for 17 days" in lock.message
        and "stuck longer than the 7-day policy" in lock.message
    )
    assert findings(PENDING, ctx)["node/quiet"].status is Status.FAIL
    # a lock past its TTL no longer holds
    expired = '{"nodeID":"quiet","created":"2026-11-10T22:00:00Z","TTL":3600000000000}'
    _, ctx2 = kured_cluster(lock=expired)
    assert findings(HEALTHY, ctx2)["daemonset/kube-system/kured"].status is Status.PASS
    # the real lock of kured issue #478 has no created time: how long it is held is unknown
    _, ctx3 = kured_cluster(lock='{"nodeID":"quiet","metadata":{"unschedulable":false}}')
    assert findings(HEALTHY, ctx3)["daemonset/kube-system/kured"].status is Status.UNKNOWN
    free = findings(HEALTHY, kured_cluster()[1])["daemonset/kube-system/kured"]
    assert (free.status, free.message) == (Status.PASS, "kured reports no failure (up to date)")


def test_kureds_daemonset_not_collected_is_a_named_gap() -> None:
    nodes = [make_node("a", annotations={IN_PROGRESS: "2026-11-26T08:00:00Z"})]
    ctx = context(nodes, pods=[kured_pod("a")], denied={inv.DAEMONSETS: "the identity may not list daemonsets.apps"})
    facts = read_agents(ctx.inventory)
    assert any("DaemonSets could not be read: the identity may not list daemonsets.apps" in g for g in facts.gaps)
    assert findings(PENDING, ctx)["node/a"].status is Status.WARN  # the node's own annotation still counts


def test_kured_pods_are_told_by_their_image_name_and_the_first_one_on_a_node_is_named() -> None:
    nodes = [make_node("a"), make_node("b"), make_node("c")]
    pods = [
        make_pod("exporter", namespace="tools", node="a", image="registry.example/tools/kured-exporter:1.0"),
        make_pod("kured-x", namespace="kube-system", node="b", image="ghcr.io/kubereboot/kured@sha256:" + "a" * 64),
        kured_pod("b"),
        make_pod("kured", namespace="default", node="c", image="registry.example/kured:1.23.0", container="main"),
    ]
    facts = read_agents(context(nodes, pods=pods).inventory)
    assert facts.present == {"kured": "pod kube-system/kured-x"}
    assert facts.readings("a") == ()  # "kured" in a longer image name is another program
    (on_b,) = facts.readings("b")
    (on_c,) = facts.readings("c")
    assert (on_b.evidence["kured_pod"], on_c.evidence["kured_pod"]) == ("kube-system/kured-x", "default/kured")


# ------------------------------------------------------------------------------------------
# Flatcar Linux Update Operator


FLUO_PREFIX = "flatcar-linux-update.v1.flatcar-linux.net/"


def fluo_node(name: str, *, labels: Mapping[str, str] | None = None, **annotations: str) -> Node:
    """A Flatcar node with the annotations the update-agent writes (doc/labels-and-annotations.md values)."""
    base = {"last-checked-time": "1501621307", "new-version": "0.0.0", "reboot-in-progress": "false"}
    base.update({k.replace("_", "-"): v for k, v in annotations.items()})
    full_labels = {FLUO_PREFIX + "id": "flatcar", FLUO_PREFIX + "group": "stable", FLUO_PREFIX + "version": "1497.7.0"}
    full_labels.update(labels or {})
    return make_node(
        name,
        os_image="Flatcar Container Linux by Kinvolk 1497.7.0 (Ladybug)",
        annotations={FLUO_PREFIX + k: v for k, v in base.items()},
        labels=full_labels,
    )


# update_engine's LastCheckedTime (UNIX seconds) a day before AS_OF: 2026-11-26T12:00:00Z
CHECKED_YESTERDAY = "1795694400"


def test_every_state_the_flatcar_update_agent_reports() -> None:
    nodes = [
        fluo_node("idle", status="UPDATE_STATUS_IDLE", reboot_needed="false", last_checked_time=CHECKED_YESTERDAY),
        fluo_node("downloading", status="UPDATE_STATUS_DOWNLOADING", reboot_needed="false"),
        fluo_node(
            "needs-reboot", status="UPDATE_STATUS_UPDATED_NEED_REBOOT", reboot_needed="true", new_version="1520.0.0"
        ),
        fluo_node("rebooting", status="UPDATE_STATUS_UPDATED_NEED_REBOOT", reboot_needed="true", reboot_ok="true"),
        fluo_node("error", status="UPDATE_STATUS_REPORTING_ERROR_EVENT", reboot_needed="false"),
        fluo_node("odd", status="SOMETHING_ELSE"),
    ]
    ctx = context(nodes)
    f = findings(PENDING, ctx)
    assert f["node/idle"].status is Status.PASS
    # fetching since a time the agent does not record: for all one can tell, it never finishes
    assert f["node/downloading"].status is Status.UNKNOWN and "fetching an update" in f["node/downloading"].message
    assert "since when is not recorded" in f["node/downloading"].message
    needs = f["node/needs-reboot"]
    assert needs.status is Status.UNKNOWN  # the agent records no time: past the policy or not cannot be told
    assert needs.message.startswith(
        f"{FLUO}: update_engine installed an update to 1520.0.0 and the node waits for a reboot"
    )
    assert "since when is not recorded" in needs.message
    assert f["node/rebooting"].status is Status.WARN
    assert f["node/error"].status is Status.UNKNOWN
    assert f["node/odd"].status is Status.UNKNOWN
    h = findings(HEALTHY, ctx)
    assert h["node/error"].status is Status.FAIL and "UPDATE_STATUS_REPORTING_ERROR_EVENT" in h["node/error"].message
    assert h["node/idle"].status is Status.PASS
    assert h["node/downloading"].status is Status.WARN
    assert h["node/downloading"].message.endswith("not applied yet; since when is not recorded")
    assert f["node/idle"].evidence["readings"][0]["last_checked"] == "2026-11-26T12:00:00Z"


def test_an_idle_update_engine_is_only_as_current_as_its_last_check() -> None:
    """The reproducer: UPDATE_STATUS_IDLE passed with the operator's documented last-checked-time, 1501621307
    (2017-08-01, doc/labels-and-annotations.md): update_engine had not looked for an update in nine years."""
    nodes = [
        fluo_node("stale", status="UPDATE_STATUS_IDLE", reboot_needed="false"),  # the document's value, as is
        fluo_node("never", status="UPDATE_STATUS_IDLE", reboot_needed="false", last_checked_time="0"),
        fluo_node("recent", status="UPDATE_STATUS_IDLE", reboot_needed="false", last_checked_time=CHECKED_YESTERDAY),
        # 2026-11-15T12:00:00Z: 12 days before AS_OF
        fluo_node("12-days", status="UPDATE_STATUS_IDLE", reboot_needed="false", last_checked_time="1794744000"),
    ]
    ctx = context(nodes)
    f, h = findings(PENDING, ctx), findings(HEALTHY, ctx)
    stale = f["node/stale"]
    assert stale.status is Status.UNKNOWN
    assert stale.message == (
        f"{FLUO}: update_engine has no update waiting (UPDATE_STATUS_IDLE); but update_engine has not checked for "
        "updates since 2017-08-01T21:01:47Z (3405 days before the as-of date; policy: 7 days), so updates released "
        "since are unknown"
    )
    assert stale.evidence["readings"][0][FLUO_PREFIX + "last-checked-time"] == "1501621307"
    assert h["node/stale"].status is Status.WARN
    assert "update_engine has not checked for updates since 2017-08-01T21:01:47Z" in h["node/stale"].message
    assert f["node/never"].status is Status.UNKNOWN and h["node/never"].status is Status.WARN
    assert "update_engine records no check for updates" in f["node/never"].message
    assert (f["node/recent"].status, h["node/recent"].status) == (Status.PASS, Status.PASS)
    assert (f["node/12-days"].status, h["node/12-days"].status) == (Status.UNKNOWN, Status.WARN)
    # the policy's reboot_pending_max_days bounds it: a longer one accepts the 12-day-old check
    longer = dataclasses.replace(ctx, policy=Policy(reboot_pending_max_days=14))
    assert findings(PENDING, longer)["node/12-days"].status is Status.PASS
    # a check dated after the as-of date says nothing about that date
    early = findings(PENDING, dataclasses.replace(ctx, as_of=date(2026, 11, 20)))["node/recent"]
    assert early.status is Status.UNKNOWN and "is dated after the as-of date" in early.message


def test_the_older_coreos_operator_names_are_read_too() -> None:
    old = "container-linux-update.v1.coreos.com/"
    node = make_node(
        "old", annotations={old + "status": "UPDATE_STATUS_IDLE", old + "last-checked-time": CHECKED_YESTERDAY}
    )
    assert findings(PENDING, context([node]))["node/old"].status is Status.PASS
    # without the time of update_engine's last check, "idle" is as of an unknown time
    bare = make_node("bare", annotations={old + "status": "UPDATE_STATUS_IDLE"})
    assert findings(PENDING, context([bare]))["node/bare"].status is Status.UNKNOWN


# ------------------------------------------------------------------------------------------
# Bottlerocket update operator


def crd_states(version: str) -> list[str]:
    [crd] = yaml_documents("brupop-bottlerocketshadow-crd.yaml")
    [spec] = [v for v in crd["spec"]["versions"] if v["name"] == version]
    states: list[str] = spec["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["current_state"]["enum"]
    return states


def shadow(node: str, state: str, current: str, target: str, *, spec_state: str | None = None,
           since: str | None = None, crash_count: int = 0) -> BottlerocketShadow:  # fmt: skip
    """A BottlerocketShadow shaped by the operator's CRD (v2), named brs-<node> as the chart's namespace holds them."""
    return msgspec.convert(
        {
            "apiVersion": "brupop.bottlerocket.aws/v2",
            "kind": "BottlerocketShadow",
            "metadata": {"name": f"brs-{node}", "namespace": "brupop-bottlerocket-aws"},
            "spec": {"state": spec_state or state, "state_transition_timestamp": since, "version": target},
            "status": {
                "current_state": state,
                "current_version": current,
                "target_version": target,
                "crash_count": crash_count,
            },
        },
        BottlerocketShadow,
    )


def bottlerocket_node(name: str) -> Node:
    return make_node(
        name,
        os_image="Bottlerocket OS 1.19.4 (aws-k8s-1.27)",
        kernel="5.15.128",
        labels={"bottlerocket.aws/updater-interface-version": "2.0.0"},
    )


def test_every_state_of_the_bottlerocket_shadow_crd() -> None:
    states = crd_states("v2")
    assert states == ["Idle", "StagedAndPerformedUpdate", "RebootedIntoUpdate", "MonitoringUpdate", "ErrorReset"]
    shadows = [
        shadow("idle", "Idle", "1.19.4", "1.19.4"),
        shadow("behind", "Idle", "1.19.4", "1.19.5"),
        shadow("staged-2d", "StagedAndPerformedUpdate", "1.19.4", "1.19.5", since="2026-11-25T00:00:00Z"),
        shadow("staged-9d", "StagedAndPerformedUpdate", "1.19.4", "1.19.5", since="2026-11-18T00:00:00Z"),
        shadow("rebooting", "RebootedIntoUpdate", "1.19.4", "1.19.5", since="2026-11-27T00:00:00Z"),
        shadow("monitoring", "MonitoringUpdate", "1.19.5", "1.19.5"),
        shadow("error", "ErrorReset", "1.19.4", "1.19.5", crash_count=3),
    ]
    nodes = [bottlerocket_node(s.metadata.name.removeprefix("brs-")) for s in shadows]
    nodes.append(bottlerocket_node("no-shadow"))
    ctx = context(nodes, shadows=shadows, collected=[inv.BOTTLEROCKET_SHADOWS])
    f = findings(PENDING, ctx)
    expected = {
        "idle": Status.PASS,
        # an update is available and the operator records no time it became so: it may stay idle behind forever
        "behind": Status.UNKNOWN,
        "staged-2d": Status.WARN,
        "staged-9d": Status.FAIL,
        "rebooting": Status.WARN,
        "monitoring": Status.PASS,
        "error": Status.UNKNOWN,
        "no-shadow": Status.UNKNOWN,
    }
    assert {name: f[f"node/{name}"].status for name in expected} == expected
    assert "an update is available (1.19.4 → 1.19.5)" in f["node/behind"].message
    assert "no BottlerocketShadow for it in the input" in f["node/no-shadow"].message
    h = findings(HEALTHY, ctx)
    assert h["node/error"].status is Status.FAIL and "crash count 3" in h["node/error"].message
    assert h["node/idle"].status is Status.PASS
    # the reproducer: a node idle behind its target_version passed both checks, however long it stayed there
    assert "since when is not recorded" in f["node/behind"].message
    assert (h["node/behind"].status, h["node/behind"].message) == (
        Status.WARN,
        f"{BRUPOP}: an update is available (1.19.4 → 1.19.5); the operator has not started it: not applied yet; "
        "since when is not recorded",
    )
    assert h["node/behind"].evidence["status.target_version"] == "1.19.5"


def test_bottlerocket_shadows_not_collected_leave_opted_in_nodes_unknown() -> None:
    ctx = context([bottlerocket_node("a")], denied={inv.BOTTLEROCKET_SHADOWS: "the identity may not list them"})
    f = findings(PENDING, ctx)["node/a"]
    assert f.status is Status.UNKNOWN and "BottlerocketShadows could not be read" in f.message


# ------------------------------------------------------------------------------------------
# Rancher system-upgrade-controller


def plans(status: Mapping[str, Mapping[str, Any]] | None = None) -> list[UpgradePlan]:
    """The real k3s example Plans; constructed: the status the controller writes (latestVersion, latestHash,
    conditions, applying), per plan name."""
    out = []
    for document in yaml_documents("suc-plan-k3s-upgrade.yaml"):
        if status and document["metadata"]["name"] in status:
            document["status"] = status[document["metadata"]["name"]]
        out.append(msgspec.convert(document, UpgradePlan))
    return out


HASH = "5d2a9f0c0e1b4b3f9d0c0b1a2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f"


def k3s_node(name: str, *, server: bool, label: str | None = None) -> Node:
    labels = {"k3s-upgrade": "true"}
    if server:
        labels["node-role.kubernetes.io/control-plane"] = "true"
    if label is not None:
        labels[f"plan.upgrade.cattle.io/{'k3s-server' if server else 'k3s-agent'}"] = label
    return make_node(name, kubelet="v1.20.11+k3s1", os_image="K3s v1.20.11+k3s1", labels=labels)


def resolved(since: str) -> dict[str, Any]:
    return {
        "latestVersion": "v1.20.11+k3s1",
        "latestHash": HASH,
        "conditions": [
            {"type": "LatestResolved", "status": "True", "reason": "Version", "lastUpdateTime": since},
            {"type": "Validated", "status": "True", "reason": "PlanIsValid"},
        ],
    }


def test_system_upgrade_controller_plans_against_their_node_labels() -> None:
    nodes = [
        k3s_node("server-done", server=True, label=HASH),
        k3s_node("agent-behind-3d", server=False, label="0123older"),
        k3s_node("agent-applying", server=False),
        make_node("unrelated"),  # no k3s-upgrade label: neither plan selects it
    ]
    status = {
        "k3s-server": resolved("2026-11-01T00:00:00Z"),
        "k3s-agent": {**resolved("2026-11-24T00:00:00Z"), "applying": ["agent-applying"]},
    }
    ctx = context(nodes, plans=plans(status), collected=[inv.UPGRADE_PLANS])
    f = findings(PENDING, ctx)
    # The reproducer: an applied plan passed node_not_pending_reboot.  The controller records that the plan's
    # Job completed (the node label), not whether the node rebooted afterwards or still has to.
    done = f["node/server-done"]
    assert done.status is Status.UNKNOWN
    assert done.message.startswith(
        f"no update agent covers this node ({SUC} read it, but not whether it waits for a reboot; found in the "
        f"cluster: {SUC}; looked for kured"
    )
    assert done.evidence["readings"][0]["state"] == "up_to_date"
    behind = f["node/agent-behind-3d"]
    assert behind.status is Status.UNKNOWN  # resolved 3 days ago, within the policy; reboots unknown
    assert behind.evidence["readings"][0]["since_note"].startswith("LatestResolved's time is when the controller")
    assert f["node/agent-applying"].status is Status.UNKNOWN  # being upgraded now; what follows is unknown
    assert f["node/unrelated"].status is Status.UNKNOWN
    late = findings(PENDING, dataclasses.replace(ctx, as_of=date(2026, 12, 10)))
    assert late["node/agent-behind-3d"].status is Status.FAIL  # 16 days: a plan left unapplied still fails
    assert "not yet applied to the node (its label names an older version)" in late["node/agent-behind-3d"].message
    h = findings(HEALTHY, ctx)
    assert h["plan/system-upgrade/k3s-server"].status is Status.PASS
    assert h["node/server-done"].status is Status.PASS
    assert h["node/agent-behind-3d"].status is Status.WARN
    assert h["node/agent-behind-3d"].message.endswith("not applied yet (3 days)")
    # beside an agent that reports reboots (kured marking nodes), that agent decides
    kured_too = [k3s_node("both", server=True, label=HASH)]
    both = context(
        kured_too,
        pods=[kured_pod("both")],
        daemonsets=[kured_daemonset("--annotate-nodes")],
        plans=plans(status),
        collected=[inv.UPGRADE_PLANS, inv.DAEMONSETS],
    )
    covered = findings(PENDING, both)["node/both"]
    assert covered.status is Status.PASS
    assert covered.message.startswith("no reboot pending: kured: kured found no reboot required")
    assert [r["agent"] for r in covered.evidence["readings"]] == [KURED, SUC]


def test_a_plan_that_is_not_valid_fails_and_one_without_status_is_unknown() -> None:
    invalid = {
        "k3s-server": {
            "conditions": [
                {
                    "type": "Validated",
                    "status": "False",
                    "reason": "Error",
                    "message": "spec.upgrade.image is required",
                    "lastUpdateTime": "2026-11-20T00:00:00Z",
                }
            ]
        }
    }
    nodes = [k3s_node("s", server=True), k3s_node("a", server=False)]
    ctx = context(nodes, plans=plans(invalid), collected=[inv.UPGRADE_PLANS])
    h = findings(HEALTHY, ctx)
    assert h["plan/system-upgrade/k3s-server"].status is Status.FAIL
    assert "the plan is not Validated (spec.upgrade.image is required)" in h["plan/system-upgrade/k3s-server"].message
    assert h["plan/system-upgrade/k3s-agent"].status is Status.UNKNOWN  # the real example carries no status
    f = findings(PENDING, ctx)
    assert f["node/a"].status is Status.UNKNOWN and "has not resolved a version yet" in f["node/a"].message


def test_a_disabled_plan_label_excludes_the_node() -> None:
    node = k3s_node("off", server=False, label="disabled")
    ctx = context(
        [node, k3s_node("on", server=False, label=HASH)], plans=plans({"k3s-agent": resolved("2026-11-24T00:00:00Z")})
    )
    assert findings(PENDING, ctx)["node/off"].status is Status.UNKNOWN  # no agent covers it


# ------------------------------------------------------------------------------------------
# OpenShift machine-config


def mco_node(name: str, *, current: str, desired: str, state: str, reason: str = "") -> Node:
    """The real OpenShift 4.7 worker; constructed: its name and machine-config annotations (the daemon's values)."""
    document = json_document("mco-worker-node-4.7-done.json")
    document["metadata"]["name"] = name
    annotations = document["metadata"]["annotations"]
    annotations.update(
        {
            "machineconfiguration.openshift.io/currentConfig": current,
            "machineconfiguration.openshift.io/desiredConfig": desired,
            "machineconfiguration.openshift.io/state": state,
            "machineconfiguration.openshift.io/reason": reason,
        }
    )
    return msgspec.convert(document, Node)


def worker_pool(*, updating_since: str | None = None, degraded: str | None = None) -> MachineConfigPool:
    """The real 4.7 worker pool; constructed: an Updating or Degraded condition as the operator sets it."""
    document = json_document("mco-machineconfigpool-worker-4.7.json")
    conditions = {c["type"]: c for c in document["status"]["conditions"]}
    if updating_since is not None:
        conditions["Updating"].update(status="True", lastTransitionTime=updating_since)
        conditions["Updated"].update(status="False", lastTransitionTime=updating_since, message="")
        document["status"]["configuration"]["name"] = "rendered-worker-new"
        document["spec"]["configuration"]["name"] = "rendered-worker-new"
    if degraded is not None:
        for kind in ("NodeDegraded", "Degraded"):
            conditions[kind].update(status="True", lastTransitionTime="2026-11-25T00:00:00Z", message=degraded)
    return msgspec.convert(document, MachineConfigPool)


def test_the_real_openshift_worker_and_its_pool_are_up_to_date() -> None:
    node = msgspec.convert(json_document("mco-worker-node-4.7-done.json"), Node)
    old = msgspec.convert(json_document("mco-worker-node-4.4-done.json"), Node)
    # (the archive's master.json is byte-for-byte its worker.json: one pool)
    pools = [msgspec.convert(json_document("mco-machineconfigpool-worker-4.7.json"), MachineConfigPool)]
    ctx = context([node], pools=pools, collected=[inv.MACHINE_CONFIG_POOLS], as_of=date(2021, 7, 20))
    f = findings(PENDING, ctx)
    assert f[f"node/{node.name}"].status is Status.PASS
    assert f[f"node/{node.name}"].message == (
        f"no reboot pending: {MCO}: the node runs its pool's rendered machine config (state Done)"
    )
    # the 4.4 node is of another cluster: alone, its own annotations say Done, but without its pool nobody can
    # tell whether it waits its turn for an update
    assert findings(PENDING, context([old], as_of=date(2020, 7, 1)))[f"node/{old.name}"].status is Status.UNKNOWN
    # beside the 4.7 cluster's worker pool it would be behind that pool's target: when since is unknown
    mixed = findings(PENDING, context([old], pools=pools, as_of=date(2021, 7, 20)))[f"node/{old.name}"]
    assert mixed.status is Status.UNKNOWN and "since when is not recorded" in mixed.message
    h = findings(HEALTHY, ctx)
    assert h["machineconfigpool/worker"].status is Status.PASS
    assert h["machineconfigpool/worker"].message == (f"{MCO} reports no failure (up to date)")


def test_a_done_openshift_node_without_its_pool_is_unknown() -> None:
    """The reproducer: the real 4.7 worker (state Done, currentConfig == desiredConfig) passed when its
    MachineConfigPool was not in the input; a node still waiting for its turn has exactly those annotations."""
    node = msgspec.convert(json_document("mco-worker-node-4.7-done.json"), Node)
    subject = f"node/{node.name}"
    rendered = "rendered-worker-39c9df4a2c026c3149a02abe6f88cfc8"
    as_of = date(2021, 7, 20)
    cases = {
        "not collected": (
            context([node], as_of=as_of),
            "the input holds no machineconfigpools (on a live cluster: its CRD is not installed)",
        ),
        "denied": (
            context([node], denied={inv.MACHINE_CONFIG_POOLS: "forbidden"}, as_of=as_of),
            "MachineConfigPools could not be read: forbidden",
        ),
        # the real master pool (its own target is the worker's rendered name in this archive): renamed, with a
        # selector and target of another role, it neither names nor selects the worker
        "another pool only": (
            context([node], pools=[infra_pool()], collected=[inv.MACHINE_CONFIG_POOLS], as_of=as_of),
            "no MachineConfigPool in the input names the node's desiredConfig or selects its labels",
        ),
    }
    for name, (ctx, why) in cases.items():
        f = findings(PENDING, ctx)[subject]
        assert f.status is Status.UNKNOWN, name
        assert f.message == (
            f"{MCO}: the node's annotations say Done, but its pool target is unknown, and a node waiting its turn "
            f"for an update looks the same: {why}"
        ), name
        reading = f.evidence["readings"][0]
        assert (reading["currentConfig"], reading["desiredConfig"], reading["state"], reading["pool"]) == (
            rendered,
            rendered,
            "Done",
            None,
        ), name
        assert findings(HEALTHY, ctx)[subject].status is Status.UNKNOWN, name


def infra_pool() -> MachineConfigPool:
    """The real 4.7 master pool document; constructed: named infra, selecting and targeting infra nodes only."""
    document = json_document("mco-machineconfigpool-master-4.7.json")
    document["metadata"]["name"] = "infra"
    document["spec"]["nodeSelector"] = {"matchLabels": {"node-role.kubernetes.io/infra": ""}}
    for part in ("spec", "status"):
        document[part]["configuration"]["name"] = "rendered-infra-0123"
    return msgspec.convert(document, MachineConfigPool)


def test_an_openshift_node_mid_update_is_judged_by_its_pool_updating_time() -> None:
    nodes = [
        mco_node("waiting", current="rendered-worker-39c9df4a", desired="rendered-worker-new", state="Done"),
        mco_node("applying", current="rendered-worker-39c9df4a", desired="rendered-worker-new", state="Working"),
        mco_node("done", current="rendered-worker-new", desired="rendered-worker-new", state="Done"),
        # not handed the new configuration yet (maxUnavailable): only the pool's target shows it is behind
        mco_node("queued", current="rendered-worker-39c9df4a", desired="rendered-worker-39c9df4a", state="Done"),
        mco_node(
            "degraded",
            current="rendered-worker-new",
            desired="rendered-worker-new",
            state="Degraded",
            reason='content mismatch for file "/etc/mco-test-file"',
        ),
    ]
    recent = context(
        nodes, pools=[worker_pool(updating_since="2026-11-25T00:00:00Z")], collected=[inv.MACHINE_CONFIG_POOLS]
    )
    f = findings(PENDING, recent)
    assert f["node/waiting"].status is Status.WARN and "2 days since 2026-11-25" in f["node/waiting"].message
    assert f["node/applying"].status is Status.WARN
    assert f["node/done"].status is Status.PASS
    assert f["node/queued"].status is Status.WARN
    assert f["node/queued"].evidence["readings"][0]["pool_target_config"] == "rendered-worker-new"
    assert f["node/degraded"].status is Status.UNKNOWN  # drift, not an update: see the health check
    h = findings(HEALTHY, recent)
    assert h["node/degraded"].status is Status.FAIL
    assert 'reports Degraded: content mismatch for file "/etc/mco-test-file"' in h["node/degraded"].message
    assert h["machineconfigpool/worker"].status is Status.PASS  # updating for 2 days: within the policy
    stuck = context(
        nodes, pools=[worker_pool(updating_since="2026-11-10T00:00:00Z")], collected=[inv.MACHINE_CONFIG_POOLS]
    )
    assert findings(PENDING, stuck)["node/waiting"].status is Status.FAIL
    pool = findings(HEALTHY, stuck)["machineconfigpool/worker"]
    assert pool.status is Status.FAIL and "for 17 days" in pool.message
    degraded = context(nodes[2:3], pools=[worker_pool(degraded="Node worker-1 is reporting: failed to drain")])
    assert findings(HEALTHY, degraded)["machineconfigpool/worker"].status is Status.FAIL
    # without pools, a pending update has no time: unknown
    no_pool = findings(PENDING, context(nodes[:1]))
    assert no_pool["node/waiting"].status is Status.UNKNOWN


# ------------------------------------------------------------------------------------------
# A RebootRequired condition, managed platforms, and no agent at all


def reboot_required(status: str, since: str) -> list[dict[str, str]]:
    return [
        {"type": "Ready", "status": "True"},
        {"type": "RebootRequired", "status": status, "lastTransitionTime": since},
    ]


def test_a_reboot_required_condition_is_read_as_it_was() -> None:
    nodes = [
        make_node("required-5d", conditions=reboot_required("True", "2026-11-22T00:00:00Z")),
        make_node("required-40d", conditions=reboot_required("True", "2026-10-18T00:00:00Z")),
        make_node("clear", conditions=reboot_required("False", "2026-11-01T00:00:00Z")),
        make_node("odd", conditions=reboot_required("Unknown", "2026-11-01T00:00:00Z")),
        make_node("future", conditions=reboot_required("True", "2027-01-01T00:00:00Z")),
    ]
    f = findings(PENDING, context(nodes))
    assert f["node/required-5d"].status is Status.WARN
    assert f["node/required-40d"].status is Status.FAIL
    assert f["node/clear"].status is Status.PASS
    assert f["node/odd"].status is Status.UNKNOWN
    assert f["node/future"].status is Status.UNKNOWN and "after the as-of date" in f["node/future"].message


def test_managed_platform_upgrades_add_a_reading_without_covering_the_node() -> None:
    quarantined = make_node("q", labels={"kubernetes.azure.com/upgrade-status": "Quarantined"})
    replaced = Node(
        metadata=make_node("k").metadata,
        spec=msgspec.convert(
            {"taints": [{"key": "karpenter.sh/disrupted", "effect": "NoSchedule"}]}, type(make_node().spec)
        ),
        status=make_node("k").status,
    )
    ctx = context([quarantined, replaced])
    f, h = findings(PENDING, ctx), findings(HEALTHY, ctx)
    assert f["node/k"].status is Status.UNKNOWN and "no update agent covers this node" in f["node/k"].message
    assert "Karpenter is draining the node to replace it" in f["node/k"].message
    assert h["node/q"].status is Status.FAIL and "quarantined it" in h["node/q"].message


def test_with_no_agent_anywhere_each_agent_check_gives_one_cluster_finding() -> None:
    ctx = context([make_node(f"n{i}") for i in range(50)])
    [pending] = run(PENDING, ctx)
    assert (pending.subject, pending.status, pending.evidence["nodes"]) == ("cluster", Status.UNKNOWN, 50)
    for name in (KURED, FLUO, BRUPOP, SUC, MCO):
        assert name in pending.message
    assert "kured with --annotate-nodes" in pending.remediation
    [healthy] = run(HEALTHY, ctx)
    assert (healthy.subject, healthy.status) == ("cluster", Status.UNKNOWN)
    assert run(PENDING, context([])) == [] and run(HEALTHY, context([])) == []


@pytest.mark.parametrize("check", [PENDING, HEALTHY])
def test_each_agent_check_can_pass_warn_fail_and_say_unknown(check: str) -> None:
    seen: set[Status] = set()
    scenarios = [
        kured_cluster()[1],
        kured_cluster(lock='{"nodeID":"quiet","created":"2026-11-01T00:00:00Z"}')[1],
        kured_cluster(lock='{"nodeID":"quiet","metadata":{"unschedulable":false}}')[1],  # kured issue #478's lock
    ]
    nodes = [mco_node("w", current="a", desired="b", state="Done")]
    scenarios.append(context(nodes, pools=[worker_pool(updating_since="2026-11-01T00:00:00Z", degraded="x")]))
    scenarios.append(context([make_node("paused")], pools=[msgspec.convert(
        {"metadata": {"name": "infra"}, "spec": {"paused": True}, "status": {}}, MachineConfigPool)]))  # fmt: skip
    for ctx in scenarios:
        seen |= {f.status for f in run(check, ctx)}
    assert {Status.PASS, Status.FAIL, Status.UNKNOWN} <= seen
    assert Status.WARN in seen


# ------------------------------------------------------------------------------------------
# Snapshots: the agents' real manifests and objects read as files


def test_a_snapshot_reads_the_agents_real_files(tmp_path: Path) -> None:
    import shutil

    from builders import version_doc, write_json
    from patchlevel.collect.snapshot import read_snapshot

    root = tmp_path / "snapshot"
    write_json(root / "version.json", version_doc("v1.20.0+2817867"))
    worker = json_document("mco-worker-node-4.7-done.json")
    write_json(root / "nodes.json", {"apiVersion": "v1", "kind": "NodeList", "items": [worker]})
    for name in (
        "kured-ds.yaml",  # a YAML stream: ServiceAccount, ClusterRole …, the DaemonSet
        "suc-plan-k3s-upgrade.yaml",
        "mco-machineconfigpool-worker-4.7.json",
        "mco-machineconfigpool-master-4.7.json",  # byte-for-byte the worker pool: one object seen twice
        "brupop-bottlerocketshadow-crd.yaml",  # a CRD, not a shadow: not read as one
    ):
        shutil.copy(DATA / name, root / name)

    inventory = read_snapshot(root)
    agents = inventory.agents
    assert [(d.metadata.namespace, d.metadata.name) for d in agents.daemonsets] == [("kube-system", "kured")]
    assert sorted(p.metadata.name for p in agents.upgrade_plans) == ["k3s-agent", "k3s-server"]
    assert [p.metadata.name for p in agents.machine_config_pools] == ["worker"]
    assert agents.bottlerocket_shadows == ()
    assert {inv.DAEMONSETS, inv.UPGRADE_PLANS, inv.MACHINE_CONFIG_POOLS} <= inventory.collected
    assert inv.BOTTLEROCKET_SHADOWS not in inventory.collected
    read_as = {Path(i.path).name: i.read_as for i in inventory.inputs}
    assert "2 system-upgrade-controller Plans" in read_as["suc-plan-k3s-upgrade.yaml"]
    assert "1 MachineConfigPool" in read_as["mco-machineconfigpool-worker-4.7.json"]
    ctx = make_context(inventory, as_of=date(2021, 7, 20))
    assert findings(PENDING, ctx)[f"node/{worker['metadata']['name']}"].status is Status.PASS
    h = findings(HEALTHY, ctx)
    assert h["machineconfigpool/worker"].status is Status.PASS
    assert h["plan/system-upgrade/k3s-server"].status is Status.UNKNOWN  # an example Plan: no status yet


def test_two_different_copies_of_an_agent_object_are_refused(tmp_path: Path) -> None:
    from builders import version_doc, write_json
    from patchlevel.collect.snapshot import read_snapshot
    from patchlevel.errors import InputError

    root = tmp_path / "snapshot"
    write_json(root / "version.json", version_doc("v1.20.0"))
    write_json(root / "nodes.json", {"kind": "NodeList", "items": [json_document("mco-worker-node-4.7-done.json")]})
    pool = json_document("mco-machineconfigpool-worker-4.7.json")
    write_json(root / "a.json", pool)
    pool["status"]["degradedMachineCount"] = 1
    write_json(root / "b.json", pool)
    with pytest.raises(InputError, match=r"MachineConfigPool worker appears in .* with different content"):
        read_snapshot(root)
