"""``patchlevel plan``'s core: control-plane paths, skew prerequisites, deadlines, API migrations, rollouts.

Clusters are constructed (EKS, AKS, OpenShift, upstream) or real (the demo snapshot, the kind and
minikube nodes of tests/data/kube) and audited by the real ``audit.run``; the plan is derived from
that outcome, as the CLI does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import msgspec
import pytest

from builders import DATA, make_inventory, make_node, make_pod
from patchlevel.audit import SnapshotSource, run
from patchlevel.errors import UsageError
from patchlevel.inventory import Inventory
from patchlevel.kube import Node
from patchlevel.model import Finding, OpenVulnerability, Phase, Severity, Status, SupportWindow
from patchlevel.plan.inputs import (
    NO_DISRUPTION_BUDGETS,
    ApiUsage,
    ApiVersionUse,
    Disruption,
    DisruptionBudget,
    PlanInputs,
    UsageSource,
)
from patchlevel.plan.model import (
    ApiUseStatus,
    Certainty,
    DeadlineBasis,
    PlanState,
    StepKind,
)
from patchlevel.policy import Policy
from plan_helpers import EKS_POOL, before, control_plane_path, plan_for, steps_of

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo-cluster"


def eks_node(name: str, kubelet: str, pool: str, **kw: object) -> Node:
    return make_node(
        name,
        kubelet=kubelet,
        runtime=str(kw.pop("runtime", "containerd://1.7.27")),
        os_image=str(kw.pop("os_image", "Amazon Linux 2023.7.20250512")),
        kernel="6.1.134-152.225.amzn2023.x86_64",
        labels={EKS_POOL: pool},
        created="2025-05-20T00:00:00Z",
    )


def eks_129_with_127_kubelets() -> Inventory:
    nodes = [eks_node(f"old-{i}", "v1.27.16-eks-a18cd3a", "old") for i in range(2)]
    nodes += [eks_node(f"new-{i}", "v1.29.15-eks-473151a", "new") for i in range(2)]
    return make_inventory("v1.29.15-eks-4f2ab7c", nodes=nodes, pods=[])


# ------------------------------------------------------------------------------------------
# The control-plane path and skew prerequisites


def test_eks_129_with_127_kubelets_goes_one_minor_at_a_time_and_upgrades_pools_where_skew_requires() -> None:
    plan = plan_for(eks_129_with_127_kubelets(), date(2025, 6, 1))
    assert plan.target is not None and plan.target.kubernetes == "1.33"  # EKS 1.33: released 2025-05-28
    assert plan.distribution_id == "eks"
    assert control_plane_path(plan) == [
        ("v1.29.15-eks-4f2ab7c", "1.30"),
        ("1.30", "1.31"),
        ("1.31", "1.32"),
        ("1.32", "1.33"),
    ]
    cp = {s.to_version: s for s in steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)}
    for earlier, later in (("1.30", "1.31"), ("1.31", "1.32"), ("1.32", "1.33")):
        assert before(plan, cp[earlier], cp[later])
    pools = steps_of(plan, StepKind.NODE_POOL_UPGRADE)
    old_to_130 = next(s for s in pools if s.pool == f"{EKS_POOL}=old" and s.to_version == "1.30")
    new_to_132 = next(s for s in pools if s.pool == f"{EKS_POOL}=new" and s.to_version == "1.32")
    # 1.27 kubelets may lag 1.30 by three minors, not 1.31 by four: the pool moves after 1.30, before 1.31
    assert before(plan, cp["1.30"], old_to_130) and before(plan, old_to_130, cp["1.31"])
    assert not any(s.pool.endswith("=old") and before(plan, s, cp["1.30"]) for s in pools)
    assert before(plan, cp["1.32"], new_to_132) and before(plan, new_to_132, cp["1.33"])
    assert set(old_to_130.subjects) == {"node/old-0", "node/old-1"}
    assert "3 minors" not in old_to_130.why[0] and "4 minors" in old_to_130.why[0]
    finals = [s for s in pools if s.to_version == "1.33"]
    assert {s.pool for s in finals} == {f"{EKS_POOL}=old", f"{EKS_POOL}=new"}
    assert all(before(plan, cp["1.33"], s) for s in finals)
    # EKS 1.29 is in extended support on 2025-06-01: the first hop names its cost
    assert any("billed per cluster hour" in c for c in cp["1.30"].caveats)
    assert all(s.rollout is not None and s.rollout.batch_size == 1 for s in pools)


def test_a_target_stops_the_path_there() -> None:
    plan = plan_for(eks_129_with_127_kubelets(), date(2025, 6, 1), target="1.31")
    assert [to for _, to in control_plane_path(plan)] == ["1.30", "1.31"]
    assert plan.target is not None and "--target" in plan.target.reason


@pytest.mark.parametrize(
    ("target", "message"),
    [("1.28", "cannot be downgraded"), ("1.37", "does not offer"), ("banana", "minor release"), ("2.1", "minor")],
)
def test_an_unreachable_target_is_a_usage_error(target: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        plan_for(eks_129_with_127_kubelets(), date(2025, 6, 1), target=target)


def test_a_managed_platform_that_no_longer_offers_a_minor_on_the_path_says_so() -> None:
    plan = plan_for(eks_129_with_127_kubelets(), date(2026, 12, 7))
    cp = {s.to_version: s for s in steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)}
    # EKS extended support of 1.30 ended 2026-07-23 and of 1.31 on 2026-11-26
    for minor in ("1.30", "1.31"):
        assert any("no longer offers" in c and "blue/green" in c for c in cp[minor].caveats), cp[minor].caveats
    assert not any("no longer offers" in c for c in cp["1.32"].caveats)


def test_aks_lts_is_named_with_its_contract() -> None:
    nodes = [make_node("aks-1", kubelet="v1.30.14", labels={"kubernetes.azure.com/agentpool": "sys"})]
    plan = plan_for(make_inventory("v1.30.14", nodes=nodes, pods=[]), date(2025, 10, 1))
    first = steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)[0]
    assert plan.distribution_id == "aks"
    assert any("Premium tier" in c and "2026-07-31" in c for c in first.caveats)


def test_openshift_eus_to_eus_pauses_workers_and_names_openshift_releases() -> None:
    nodes = [
        make_node(
            "worker-1",
            kubelet="v1.29.6+a0b4c5e",
            runtime="cri-o://1.29.6-3.rhaos4.16.git7f5a3ee.el9",
            os_image="Red Hat Enterprise Linux CoreOS 416.94.202406251923-0 (Plow)",
            labels={"node-role.kubernetes.io/worker": ""},
        )
    ]
    inventory = make_inventory(
        "v1.29.6+a0b4c5e",
        nodes=nodes,
        pods=[],
        openshift={"status": {"history": [{"state": "Completed", "version": "4.16.3"}]}},
    )
    plan = plan_for(inventory, date(2025, 6, 1))
    assert plan.target is not None and plan.target.platform_release == "4.18"
    hops = steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)
    assert [s.to_version for s in hops] == ["4.17", "4.18"]
    assert all(any("EUS-to-EUS" in c for c in s.caveats) for s in hops)


def test_no_api_server_version_means_no_path_and_says_so() -> None:
    plan = plan_for(make_inventory(None, nodes=[make_node("n1", kubelet="v1.33.4")], pods=[]), date(2026, 11, 27))
    assert not steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)
    assert any("API server's version is not in the input" in u for u in plan.unknowns)
    assert plan.summary.state is not PlanState.COMPLIANT


# ------------------------------------------------------------------------------------------
# Compliant, unproven, and the dates on both sides of each deadline


def all_pass(findings: tuple[Finding, ...]) -> list[Finding]:
    return [f.replace(status=Status.PASS) for f in findings]


def current_upstream(kubelet: str = "v1.36.4", api: str = "v1.36.4") -> Inventory:
    return make_inventory(api, nodes=[make_node("n1", kubelet=kubelet, runtime="containerd://2.3.1")], pods=[])


def test_a_compliant_cluster_gets_an_empty_plan_that_says_so() -> None:
    plan = plan_for(current_upstream(), date(2026, 12, 7), findings=all_pass)
    assert plan.steps == () and plan.open_items == () and plan.unknowns == ()
    assert plan.summary.state is PlanState.COMPLIANT
    assert plan.summary.headline.startswith("Nothing to do: the cluster runs Kubernetes 1.36")


def test_an_empty_plan_with_unknown_findings_is_unproven_not_compliant() -> None:
    def one_unknown(findings: tuple[Finding, ...]) -> list[Finding]:
        passed = all_pass(findings)
        return [*passed[1:], passed[0].replace(status=Status.UNKNOWN, message="evidence missing")]

    plan = plan_for(current_upstream(), date(2026, 12, 7), findings=one_unknown)
    assert plan.steps == ()
    assert plan.summary.state is PlanState.UNPROVEN
    assert [item.status for item in plan.open_items] == ["unknown"]


@pytest.mark.parametrize(("day", "late"), [(date(2026, 12, 30), False), (date(2026, 12, 31), True)])
def test_an_end_of_support_deadline_on_both_sides(day: date, late: bool) -> None:
    # Kubernetes 1.35: end of maintenance 2027-02-28; with the 60-day warning window the latest safe day is 2026-12-30
    plan = plan_for(current_upstream("v1.35.8", "v1.35.8"), day, findings=all_pass)
    (hop,) = steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)
    assert hop.deadline.latest_safe == date(2026, 12, 30)
    assert hop.deadline.basis is DeadlineBasis.END_OF_SUPPORT and "2027-02-28" in hop.deadline.reason
    assert hop.late is late
    assert plan.summary.state is (PlanState.LATE if late else PlanState.ON_TRACK)


def test_the_policy_window_and_extended_support_move_the_date() -> None:
    shorter = plan_for(
        current_upstream("v1.35.8", "v1.35.8"),
        date(2026, 12, 7),
        policy=Policy(support_warning_days=10),
        findings=all_pass,
    )
    assert steps_of(shorter, StepKind.CONTROL_PLANE_UPGRADE)[0].deadline.latest_safe == date(2027, 2, 18)
    inventory = make_inventory("v1.29.15-eks-4f2ab7c", nodes=[eks_node("n1", "v1.29.15-eks-473151a", "a")], pods=[])
    standard = plan_for(inventory, date(2025, 6, 1))
    extended = plan_for(inventory, date(2025, 6, 1), policy=Policy(extended_support=Status.PASS))
    first_std = steps_of(standard, StepKind.CONTROL_PLANE_UPGRADE)[0]
    first_ext = steps_of(extended, StepKind.CONTROL_PLANE_UPGRADE)[0]
    # standard support of EKS 1.29 ended 2025-03-23; extended support ends 2026-03-23
    assert first_std.late and first_std.deadline.latest_safe == date(2025, 1, 22)
    assert not first_ext.late and first_ext.deadline.latest_safe == date(2026, 1, 22)
    assert first_ext.deadline.basis is DeadlineBasis.END_OF_EXTENDED_SUPPORT


def test_a_prerequisite_is_due_no_later_than_the_step_that_needs_it() -> None:
    plan = plan_for(eks_129_with_127_kubelets(), date(2025, 6, 1))
    for step in plan.steps:
        for pid in step.prerequisites:
            prerequisite = plan.step(pid)
            assert prerequisite is not None
            if step.deadline.latest_safe is not None:
                assert prerequisite.deadline.latest_safe is not None
                assert prerequisite.deadline.latest_safe <= step.deadline.latest_safe
            assert [s.id for s in plan.steps].index(pid) < [s.id for s in plan.steps].index(step.id)


# ------------------------------------------------------------------------------------------
# API versions removed on the path


def api_usage(*uses: ApiVersionUse, complete: frozenset[str] = frozenset(), requests: bool = False) -> PlanInputs:
    return PlanInputs(ApiUsage(uses=uses, kinds_complete=complete, requests_read=requests), Disruption())


def upstream_124() -> Inventory:
    return make_inventory("v1.24.17", nodes=[make_node("n1", kubelet="v1.24.17")], pods=[])


def test_apis_in_use_are_migrated_before_the_step_that_removes_them() -> None:
    inputs = api_usage(
        ApiVersionUse("policy/v1beta1", "PodDisruptionBudget", UsageSource.MANIFEST, objects=("shop/web",), count=1),
        ApiVersionUse("autoscaling/v2beta2", "", UsageSource.REQUEST_METRIC, resource="horizontalpodautoscalers"),
    )
    plan = plan_for(upstream_124(), date(2026, 12, 7), target="1.26", inputs=inputs)
    cp = {s.to_version.rsplit(".", 1)[0]: s for s in steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)}
    migrations = {s.to_version: s for s in steps_of(plan, StepKind.API_MIGRATION)}
    pdb = next(m for m in migrations["1.25"].migrations if m.kind == "PodDisruptionBudget")
    assert (pdb.api_version, pdb.replacement, pdb.status) == ("policy/v1beta1", "policy/v1", ApiUseStatus.USED)
    assert "shop/web" in pdb.evidence[0]
    hpa = next(m for m in migrations["1.26"].migrations if m.kind == "HorizontalPodAutoscaler")
    assert (hpa.api_version, hpa.replacement, hpa.status) == (
        "autoscaling/v2beta2",
        "autoscaling/v2",
        ApiUseStatus.USED,
    )
    assert before(plan, migrations["1.25"], cp["1.25"]) and before(plan, migrations["1.26"], cp["1.26"])
    assert migrations["1.25"].certainty is Certainty.REQUIRED


def test_apis_whose_use_the_input_cannot_show_are_listed_to_verify() -> None:
    plan = plan_for(upstream_124(), date(2026, 12, 7), target="1.25")
    (step,) = steps_of(plan, StepKind.API_MIGRATION)
    assert step.certainty is Certainty.VERIFY
    assert {m.status for m in step.migrations} == {ApiUseStatus.UNKNOWN}
    assert any("PodDisruptionBudget" in u for u in step.unknowns)
    assert any("apiserver_requested_deprecated_apis" in u for u in plan.unknowns)


def test_apis_the_input_shows_unused_need_no_step() -> None:
    kinds = frozenset({"PodDisruptionBudget", "PodSecurityPolicy", "HorizontalPodAutoscaler", "CronJob",
                       "EndpointSlice", "Event", "RuntimeClass"})  # fmt: skip
    inputs = api_usage(complete=kinds, requests=True)
    plan = plan_for(upstream_124(), date(2026, 12, 7), target="1.25", inputs=inputs)
    assert not steps_of(plan, StepKind.API_MIGRATION)
    (hop,) = steps_of(plan, StepKind.CONTROL_PLANE_UPGRADE)
    assert any("no use found of the 7 API version(s)" in w for w in hop.why)


# ------------------------------------------------------------------------------------------
# Node rollouts


def pool_with_single_replica() -> Inventory:
    nodes = [eks_node(f"n{i}", "v1.33.5-eks-1", "apps") for i in range(2)]
    pods = [make_pod("web-1", namespace="shop", node="n0", image="registry.example/web:1")]
    return make_inventory("v1.33.5-eks-1", nodes=nodes, pods=pods)


def test_without_disruption_budgets_rollout_blockers_are_unknown_and_single_replicas_named() -> None:
    plan = plan_for(pool_with_single_replica(), date(2026, 12, 7))
    pool = steps_of(plan, StepKind.NODE_POOL_UPGRADE)[-1]
    assert pool.rollout is not None
    assert NO_DISRUPTION_BUDGETS in pool.rollout.unknowns
    assert NO_DISRUPTION_BUDGETS in plan.unknowns
    assert any(b.startswith("Pod/shop/web-1: a single replica") for b in pool.rollout.blockers)


def test_a_budget_that_allows_no_disruption_blocks_its_pool() -> None:
    budget = DisruptionBudget("shop", "web", ("Pod/shop/web-1",), disruptions_allowed=0, max_unavailable="0")
    inputs = PlanInputs(ApiUsage(), Disruption(budgets=(budget,), read=True))
    plan = plan_for(pool_with_single_replica(), date(2026, 12, 7), inputs=inputs)
    pool = steps_of(plan, StepKind.NODE_POOL_UPGRADE)[-1]
    assert pool.rollout is not None
    assert pool.rollout.blockers == ("Pod/shop/web-1: PodDisruptionBudget shop/web allows 0 disruptions",)
    assert NO_DISRUPTION_BUDGETS not in pool.rollout.unknowns and NO_DISRUPTION_BUDGETS not in plan.unknowns


def test_the_demo_cluster_rolls_the_node_with_the_older_kernel_first() -> None:
    plan = plan_for(run_demo_inventory(), date(2026, 11, 27))
    final = steps_of(plan, StepKind.NODE_POOL_UPGRADE)[-1]
    assert final.rollout is not None
    first = final.rollout.order[0]
    assert (first.name, first.reasons) == ("attack-chain-6-worker2", ("older kernel than its pool",))


def run_demo_inventory() -> Inventory:
    from builders import knowledge
    from patchlevel.audit import AuditConfig

    return run(AuditConfig(as_of=date(2026, 11, 27)), SnapshotSource(DEMO), knowledge=knowledge()).inventory


def test_the_real_minikube_node_moves_off_docker_before_its_kubelet_passes_1_24() -> None:
    node = msgspec.convert(json.loads((DATA / "kube" / "minikube-ubuntu2004-docker-v1.23-node.json").read_text()), Node)
    plan = plan_for(make_inventory("v1.23.17", nodes=[node], pods=[]), date(2026, 11, 27), target="1.25")
    runtime = steps_of(plan, StepKind.RUNTIME_UPGRADE)[0]
    pool = next(s for s in steps_of(plan, StepKind.NODE_POOL_UPGRADE) if s.to_version == "1.24" or "1.25" in s.title)
    assert any("dockershim" in w for w in runtime.why)
    assert runtime.id in pool.prerequisites
    os_step = steps_of(plan, StepKind.NODE_POOL_UPGRADE)[-1]
    assert "Ubuntu 26.04" in os_step.title and "node_os_supported" in os_step.resolves


# ------------------------------------------------------------------------------------------
# Images: SLA and KEV dates from typed vulnerabilities


def image_cluster() -> Inventory:
    digest = "sha256:" + "ab" * 32
    pods = [
        make_pod("web-1", namespace="shop", node="n1", image="registry.example/web:1",
                 image_id=f"registry.example/web@{digest}")
    ]  # fmt: skip
    return make_inventory(
        "v1.36.4", nodes=[make_node("n1", kubelet="v1.36.4", runtime="containerd://2.3.1")], pods=pods
    )


def with_vulnerability(
    clock_start: date, image_os_end: date | None = None, *, kev_due: date | None = None, vex: str = ""
) -> Callable[[tuple[Finding, ...]], list[Finding]]:
    subject = "image/registry.example/web@sha256:" + "ab" * 32

    def rewrite(findings: tuple[Finding, ...]) -> list[Finding]:
        out = [f.replace(status=Status.PASS) for f in findings]
        vuln = OpenVulnerability(
            "CVE-2024-3094", Severity.CRITICAL, "xz-utils", "5.6.0-0.2", "5.6.1+really5.4.5-1",
            clock_start=clock_start, clock="fix release date", sla_days=30,
            rank_source="kev" if kev_due else "report", known_exploited_due=kev_due, vex=vex,
        )  # fmt: skip
        out.append(
            Finding("fixable_vulnerabilities_patched_in_time", Status.FAIL, Severity.CRITICAL, subject,
                    "1 fixable critical vulnerability open past its SLA", vulnerabilities=(vuln,))
        )  # fmt: skip
        if image_os_end is not None:
            window = SupportWindow("debian", "11", Phase.ENDED, support_ends=image_os_end)
            out.append(
                Finding("image_os_supported", Status.FAIL, Severity.HIGH, subject, "Debian 11 ended", support=window)
            )
        return out

    return rewrite


@pytest.mark.parametrize(("day", "late"), [(date(2026, 12, 1), False), (date(2026, 12, 2), True)])
def test_an_image_sla_deadline_on_both_sides(day: date, late: bool) -> None:
    plan = plan_for(image_cluster(), day, findings=with_vulnerability(date(2026, 11, 1)))
    (step,) = steps_of(plan, StepKind.IMAGE_REBUILD)
    assert step.title == "Rebuild and redeploy Pod/shop/web-1 (image)"
    assert step.namespace == "shop"
    assert step.deadline.latest_safe == date(2026, 12, 1) and step.deadline.basis is DeadlineBasis.SLA
    assert step.late is late
    (fix,) = step.images[0].fixes
    assert (fix.package, fix.fixed_version, fix.due) == ("xz-utils", "5.6.1+really5.4.5-1", date(2026, 12, 1))


def test_an_open_fix_still_inside_its_sla_is_planned_when_it_runs_out_within_the_warning_window() -> None:
    def passing(start: date) -> Callable[[tuple[Finding, ...]], list[Finding]]:
        rewrite = with_vulnerability(start)
        return lambda fs: [f.replace(status=Status.PASS) for f in rewrite(fs)]

    soon = plan_for(image_cluster(), date(2026, 11, 20), findings=passing(date(2026, 11, 10)))
    (step,) = steps_of(soon, StepKind.IMAGE_REBUILD)
    assert step.deadline.latest_safe == date(2026, 12, 10) and not step.late
    far = plan_for(image_cluster(), date(2026, 11, 20), findings=passing(date(2027, 6, 1)))
    assert not steps_of(far, StepKind.IMAGE_REBUILD)


def test_a_kev_due_date_earlier_than_the_sla_wins() -> None:
    # The check's typed known_exploited_due (CISA KEV's federal due date) dates the fix, not the planner's own lookup.
    rewrite = with_vulnerability(date(2026, 11, 1), kev_due=date(2026, 11, 15))
    plan = plan_for(image_cluster(), date(2026, 11, 20), findings=rewrite)
    (step,) = steps_of(plan, StepKind.IMAGE_REBUILD)
    assert step.deadline.basis is DeadlineBasis.KEV and step.deadline.latest_safe == date(2026, 11, 15)
    assert step.late
    (fix,) = step.images[0].fixes
    assert (fix.due, fix.due_basis) == (date(2026, 11, 15), "CISA KEV due date (known exploited)")


def test_a_vulnerability_vex_takes_out_of_the_sla_is_not_planned() -> None:
    rewrite = with_vulnerability(date(2026, 11, 1), vex="not_affected")
    assert steps_of(
        plan_for(image_cluster(), date(2026, 12, 2), findings=with_vulnerability(date(2026, 11, 1))),
        StepKind.IMAGE_REBUILD,
    )
    assert not steps_of(plan_for(image_cluster(), date(2026, 12, 2), findings=rewrite), StepKind.IMAGE_REBUILD)


def test_an_end_of_life_base_os_dates_the_rebuild_by_its_support_end() -> None:
    rewrite = with_vulnerability(date(2026, 11, 1), image_os_end=date(2026, 8, 14))
    plan = plan_for(image_cluster(), date(2026, 11, 20), findings=rewrite)
    (step,) = steps_of(plan, StepKind.IMAGE_REBUILD)
    assert step.deadline.basis is DeadlineBasis.END_OF_SUPPORT
    assert step.deadline.latest_safe == date(2026, 8, 14) - timedelta(days=60)
    assert any("base OS" in r for r in step.images[0].reasons)


# ------------------------------------------------------------------------------------------
# Invariants over a real snapshot


def test_every_finding_that_asks_for_action_is_in_a_step_or_an_open_item() -> None:
    from builders import knowledge
    from patchlevel.audit import AuditConfig
    from patchlevel.lifecycle.removals import load_removals
    from patchlevel.plan.build import build_plan
    from patchlevel.plan.inputs import from_inventory

    outcome = run(AuditConfig(as_of=date(2026, 11, 27)), SnapshotSource(DEMO), knowledge=knowledge())
    plan = build_plan(outcome.report, outcome.facts, knowledge(), Policy(), removals=load_removals(),
                      inputs=from_inventory(outcome.inventory))  # fmt: skip
    again = build_plan(outcome.report, outcome.facts, knowledge(), Policy(), removals=load_removals(),
                       inputs=from_inventory(outcome.inventory))  # fmt: skip
    assert plan.id == again.id and plan.id.startswith("PL-")
    addressed = {(c, s) for step in plan.steps for c in step.resolves for s in step.subjects}
    open_checks = {item.check for item in plan.open_items}
    for finding in outcome.report.findings:
        if finding.status in (Status.FAIL, Status.WARN, Status.UNKNOWN, Status.ERROR):
            assert (finding.check, finding.subject) in addressed or finding.check in open_checks, finding
    assert [s.id for s in plan.steps] == [f"S{i:02d}" for i in range(1, len(plan.steps) + 1)]
    assert all(s.deadline.reason for s in plan.steps)
    assert plan.summary.state is PlanState.LATE and plan.summary.late
