"""The control-plane path: from the running minor to the target one minor at a time, each hop dated.

The API server never skips a minor (Kubernetes version-skew policy), so the path from 1.29 to 1.33
is four hops.  Each hop is dated by the end of support of the minor it leaves (minus the policy's
warning window) on the cluster's own platform calendar (EKS, AKS, GKE, OpenShift, or upstream for
self-managed clusters, k3s and RKE2), and checked against what that platform offers on the as-of
date.  APIs the hop's release stops serving become an API migration step before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from patchlevel.errors import UsageError
from patchlevel.facts import Distribution, openshift_release_for_kube_minor
from patchlevel.lifecycle.catalog import Product, Support
from patchlevel.lifecycle.removals import ApiRemoval, RemovalTable
from patchlevel.model import Phase
from patchlevel.plan.draft import (
    Drafts,
    DraftStep,
    PlanContext,
    earliest,
    patch_deadline,
    support_deadline,
    typed_patch_deadline,
)
from patchlevel.plan.inputs import ApiUsage, UsageSource
from patchlevel.plan.model import (
    ApiMigration,
    ApiUseStatus,
    Certainty,
    Deadline,
    DeadlineBasis,
    PlanTarget,
    StepKind,
)
from patchlevel.versions import KubeVersion, release_key

# Costs and contracts of the support phases past standard support, by distribution id; each names its
# source (the platform's own documentation).
EXTENDED_CAVEATS: dict[str, str] = {
    "eks": "Amazon EKS extended support (until {ends}) is billed per cluster hour on top of standard support "
    "(https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html)",
    "aks": "AKS Long Term Support (until {ends}) needs the Premium tier and the AKSLongTermSupport support plan "
    "(https://learn.microsoft.com/azure/aks/long-term-support)",
    "openshift": "OpenShift Extended Update Support (until {ends}) applies only where the subscription includes EUS "
    "(https://access.redhat.com/support/policy/updates/openshift)",
}
CONTROL_PLANE_CHECKS = (
    "control_plane_version_supported",
    "control_plane_patch_current",
    "control_plane_free_of_known_cves",
    "control_plane_components_skew_allowed",
)
MAX_EVIDENCE = 5  # objects named per API version


@dataclass(frozen=True, slots=True)
class Platform:
    """The cluster's platform and its calendar: which releases exist, when each is supported."""

    distribution: Distribution
    product: Product | None

    @property
    def openshift(self) -> bool:
        return self.distribution.id == "openshift"

    @property
    def managed(self) -> bool:
        return self.distribution.provider_patches_control_plane

    @property
    def label(self) -> str:
        return self.distribution.label

    def release(self, minor: int) -> str:
        """The platform's name for Kubernetes 1.<minor>: "1.30", or the OpenShift release "4.17"."""
        if self.openshift:
            return openshift_release_for_kube_minor(minor) or f"(OpenShift for Kubernetes 1.{minor})"
        return f"1.{minor}"

    def name(self, minor: int) -> str:
        if self.openshift:
            return f"OpenShift {self.release(minor)} (Kubernetes 1.{minor})"
        return f"Kubernetes 1.{minor}" + ("" if self.distribution.id == "upstream" else f" ({self.label})")

    def support(self, ctx: PlanContext, minor: int) -> Support:
        return ctx.support(self.distribution.lifecycle_product, self.release(minor))


def kube_minor_of_cycle(platform: Platform, cycle: str) -> int | None:
    """The Kubernetes minor of a platform release cycle ("1.30" -> 30; OpenShift "4.17" -> 30)."""
    parts = release_key(cycle)
    if len(parts) < 2:
        return None
    if platform.openshift:
        return parts[1] + 13 if parts[0] == 4 and parts[1] >= 4 else None
    return parts[1] if parts[0] == 1 else None


def default_target(platform: Platform, ctx: PlanContext) -> tuple[int, str] | None:
    """The newest minor in standard support on the platform on the as-of date, and the reason."""
    product = platform.product
    if product is None:
        return None
    best: int | None = None
    for cycle in product.cycles:
        minor = kube_minor_of_cycle(platform, cycle.name)
        if minor is None or (best is not None and minor <= best):
            continue
        if platform.support(ctx, minor).phase in (Phase.ACTIVE, Phase.MAINTENANCE):
            best = minor
    if best is None:
        return None
    return best, f"the newest release {platform.label} supports on {ctx.as_of}"


def parse_target(text: str, platform: Platform) -> int:
    """``--target 1.35`` (or ``v1.35``; on OpenShift also ``4.22``) as a Kubernetes minor."""
    value = text.strip().removeprefix("v")
    parts = value.split(".")
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 3 for p in parts):
        raise UsageError(f"--target {text!r}: give a minor release such as 1.35")
    major, minor = int(parts[0]), int(parts[1])
    if major == 1:
        return minor
    if platform.openshift and major == 4 and minor >= 4:
        return minor + 13
    raise UsageError(f"--target {text!r}: give a Kubernetes minor release such as 1.35")


def choose_target(
    platform: Platform, ctx: PlanContext, running: KubeVersion | None, requested: str | None
) -> tuple[PlanTarget | None, int | None, list[str]]:
    """The target minor, its PlanTarget and what is unknown about it."""
    unknowns: list[str] = []
    current = running.minor if running is not None and running.major == 1 else None
    if requested is not None:
        minor = parse_target(requested, platform)
        if current is not None and minor < current:
            raise UsageError(
                f"--target {requested}: the cluster already runs {running.cycle if running else ''}; "
                "the API server cannot be downgraded"
            )
        support = platform.support(ctx, minor)
        if support.phase in (Phase.UNKNOWN, Phase.UNRELEASED):
            raise UsageError(
                f"--target {requested}: {platform.label} does not offer {platform.release(minor)} on {ctx.as_of} "
                f"({support.reason or 'not in the lifecycle data'})"
            )
        if support.phase is Phase.ENDED and current != minor:
            unknowns.append(
                f"the target {platform.name(minor)} is past end of support on {ctx.as_of}: the plan reaches it, "
                "but the cluster will not be compliant there"
            )
        reason = f"chosen with --target (on {ctx.as_of}: {support.phase.value} support)"
        return PlanTarget(f"1.{minor}", platform.release(minor), reason), minor, unknowns
    found = default_target(platform, ctx)
    if found is None:
        unknowns.append(
            f"the lifecycle data names no {platform.label} release in standard support on {ctx.as_of}: "
            "no target can be chosen (give --target)"
        )
        return None, None, unknowns
    minor, reason = found
    if current is not None and current > minor:
        reason = (
            f"the running release: it is newer than the newest release the lifecycle data knows in standard support "
            f"({platform.release(minor)}); update the data with 'patchlevel lifecycle update'"
        )
        minor = current
    return PlanTarget(f"1.{minor}", platform.release(minor), reason), minor, unknowns


# ------------------------------------------------------------------------------------------
# Steps


def _offered(platform: Platform, ctx: PlanContext, minor: int) -> tuple[bool, str]:
    """Whether the platform offers the release on the as-of date, and if not (or barely) why."""
    support = platform.support(ctx, minor)
    name = platform.name(minor)
    if support.phase is Phase.UNKNOWN:
        return False, f"{name} is not in the {platform.label} lifecycle data ({support.reason})"
    if support.phase is Phase.UNRELEASED:
        return False, f"{platform.label} offers {name} only from {support.released}, after {ctx.as_of}"
    if support.phase is Phase.ENDED:
        if platform.managed or platform.openshift:
            return (
                False,
                f"{platform.label} no longer offers {name} on {ctx.as_of} (support ended): an in-place upgrade cannot "
                "pass through it; replace the cluster at a supported release (blue/green) or ask the provider",
            )
        return True, f"{name} is past end of support: pass through it on the way to the target, do not stay on it"
    return True, ""


def _extended_caveat(platform: Platform, support: Support) -> str | None:
    template = EXTENDED_CAVEATS.get(platform.distribution.id)
    ends = support.extended_ends
    if template is None or not isinstance(ends, date):
        return None
    return template.format(ends=ends)


def _eus(platform: Platform, ctx: PlanContext, minor: int) -> bool:
    """An OpenShift release with Extended Update Support in the data (an ``eoes`` date)."""
    return platform.openshift and isinstance(platform.support(ctx, minor).extended_ends, date)


def control_plane_steps(
    platform: Platform,
    ctx: PlanContext,
    running: KubeVersion,
    target: int,
    drafts: Drafts,
) -> list[tuple[int, str]]:
    """One control-plane step per minor from the running one to ``target``; returns (minor, key) per hop."""
    hops: list[tuple[int, str]] = []
    current = running.minor
    data_date = ctx.catalog.data_date
    previous_key: str | None = None
    for minor in range(current + 1, target + 1):
        leaving = platform.support(ctx, minor - 1)
        deadline, ended_undated = support_deadline(leaving, platform.name(minor - 1), ctx.policy, data_date)
        offered, note = _offered(platform, ctx, minor)
        caveats = [note] if note and offered else []
        unknowns: list[str] = []
        if not offered:
            caveats.append(note)
        if leaving.phase is Phase.EXTENDED and minor == current + 1:
            caveat = _extended_caveat(platform, leaving)
            if caveat:
                caveats.append(caveat)
        why = [f"the API server never skips a minor: {platform.name(minor - 1)} → {platform.name(minor)}"]
        if leaving.phase is Phase.ENDED:
            why.append(f"{platform.name(minor - 1)} is past end of support on {ctx.as_of}")
        elif leaving.phase is Phase.EXTENDED:
            why.append(f"{platform.name(minor - 1)} is past standard support, in {leaving.phase_label or 'extended'}")
        if minor == target:
            why.append(f"{platform.name(target)} is the plan's target")
        if (
            platform.openshift
            and _eus(platform, ctx, target)
            and _eus(platform, ctx, current)
            and target - current == 2
        ):
            caveats.append(
                f"EUS-to-EUS update {platform.release(current)} → {platform.release(target)}: pause the worker "
                "MachineConfigPools during both control-plane hops so workers reboot once, at the end"
            )
        to_version = platform.release(minor)
        if not platform.managed and not platform.openshift:
            newest = _newest_patch(ctx, platform, minor)
            if newest:
                to_version = newest
        step = drafts.add(
            DraftStep(
                key=f"cp:{minor}",
                kind=StepKind.CONTROL_PLANE_UPGRADE,
                title=f"Upgrade the control plane from {platform.release(minor - 1)} to {to_version}",
                why=why,
                deadline=deadline,
                late_anyway=ended_undated,
                subjects=["cluster"],
                from_version=running.raw if minor == current + 1 else platform.release(minor - 1),
                to_version=to_version,
                resolves=CONTROL_PLANE_CHECKS if minor == target else (),
                caveats=caveats,
                unknowns=unknowns,
            )
        )
        if previous_key is not None:
            step.after.add(previous_key)
        previous_key = step.key
        hops.append((minor, step.key))
    return hops


def _newest_patch(ctx: PlanContext, platform: Platform, minor: int) -> str:
    releases = ctx.catalog.patches(platform.distribution.lifecycle_product, f"1.{minor}", ctx.as_of)
    return releases[-1].version if releases else ""


def control_plane_patch_step(platform: Platform, ctx: PlanContext, running: KubeVersion, drafts: Drafts) -> None:
    """At the target minor already: the newest patch, on clusters whose operator patches the control plane."""
    if platform.managed or platform.openshift:
        return
    finding = ctx.needs_action("control_plane_patch_current", "cluster")
    product = platform.distribution.lifecycle_product
    what = f"control plane {running.raw}"
    deadline = typed_patch_deadline(finding, what) or patch_deadline(
        ctx.catalog, product, running.cycle, running.semver, what, ctx.policy, ctx.as_of
    )
    if deadline is None:
        return
    newest = _newest_patch(ctx, platform, running.minor)
    why = [f"a newer patch of {running.cycle} is out: {newest}"]
    if finding is not None:
        why.append(f"{finding.check}: {finding.message}")
    leaving = platform.support(ctx, running.minor)
    support, _ = support_deadline(leaving, platform.name(running.minor), ctx.policy, ctx.catalog.data_date)
    drafts.add(
        DraftStep(
            key=f"cp-patch:{running.minor}",
            kind=StepKind.CONTROL_PLANE_UPGRADE,
            title=f"Upgrade the control plane from {running.raw} to {newest}",
            why=why,
            deadline=earliest([deadline, support]) or deadline,
            subjects=["cluster"],
            from_version=running.raw,
            to_version=newest,
            resolves=CONTROL_PLANE_CHECKS,
        )
    )


# ------------------------------------------------------------------------------------------
# API versions the hops remove


def _migration(removal: ApiRemoval, usage: ApiUsage) -> ApiMigration:
    uses = usage.uses_of(removal.api_version, removal.kind, removal.resource)
    note = removal.note
    if removal.replacement is None and not note:
        note = "nothing replaces it: remove its objects"
    if uses:
        evidence: list[str] = []
        for use in uses:
            if use.source is UsageSource.REQUEST_METRIC:
                since = f" since {usage.requests_since}" if usage.requests_since else " since the API server started"
                evidence.append(f"clients requested {removal.api_version} {use.resource or removal.resource}{since}")
            else:
                names = list(use.objects[:MAX_EVIDENCE])
                more = max(0, use.count - len(names))
                listed = ", ".join(names) + (f" and {more} more" if more else "")
                evidence.append(
                    f"{use.count} object(s) written as {removal.api_version} ({use.source.value}): {listed}"
                )
        return ApiMigration(
            removal.api_version,
            removal.kind,
            removal.removed_in,
            removal.replacement,
            ApiUseStatus.USED,
            tuple(evidence),
            note,
        )
    complete = removal.kind in usage.kinds_complete
    if complete and usage.requests_read:
        since = f" since {usage.requests_since}" if usage.requests_since else " since the API server started"
        return ApiMigration(
            removal.api_version,
            removal.kind,
            removal.removed_in,
            removal.replacement,
            ApiUseStatus.NOT_FOUND,
            (f"no {removal.kind} object is written in it, and no client requested it{since}",),
            note,
        )
    missing = []
    if not complete:
        missing.append("the objects as written are not in the input")
    if not usage.requests_read:
        missing.append("the API server's deprecated-API request metric was not read")
    return ApiMigration(
        removal.api_version,
        removal.kind,
        removal.removed_in,
        removal.replacement,
        ApiUseStatus.UNKNOWN,
        ("; ".join(missing),),
        note,
    )


def api_migration_steps(
    platform: Platform,
    ctx: PlanContext,
    hops: list[tuple[int, str]],
    removals: RemovalTable,
    usage: ApiUsage,
    drafts: Drafts,
) -> None:
    """Before each hop, the API versions its release stops serving that the cluster uses (or may use)."""
    for minor, hop_key in hops:
        hop = drafts.steps[hop_key]
        if minor > removals.reaches_minor:
            hop.unknowns.append(
                f"the API removal table reaches Kubernetes {removals.reaches}: API versions Kubernetes 1.{minor} stops "
                "serving are not known to it"
            )
            continue
        removed = removals.removed_in(f"1.{minor}")
        if not removed:
            continue
        migrations = tuple(_migration(r, usage) for r in removed)
        open_ = [m for m in migrations if m.status is not ApiUseStatus.NOT_FOUND]
        if not open_:
            hop.why.append(f"no use found of the {len(migrations)} API version(s) Kubernetes 1.{minor} stops serving")
            continue
        used = [m for m in open_ if m.status is ApiUseStatus.USED]
        names = ", ".join(f"{m.api_version} {m.kind}" for m in open_)
        why = [f"Kubernetes 1.{minor} stops serving {names}"]
        if used:
            why.append(f"{len(used)} of them are in use: " + "; ".join(f"{m.api_version} {m.kind}" for m in used))
        step = drafts.add(
            DraftStep(
                key=f"api:{minor}",
                kind=StepKind.API_MIGRATION,
                title=f"Migrate manifests and clients off the API versions removed in Kubernetes 1.{minor}",
                why=why,
                deadline=Deadline(None, DeadlineBasis.NONE, "needed before the control-plane step that removes them"),
                certainty=Certainty.REQUIRED if used else Certainty.VERIFY,
                subjects=["cluster"],
                to_version=f"1.{minor}",
                unknowns=_unknown_uses(open_),
                migrations=open_and_found(migrations),
            )
        )
        hop.after.add(step.key)
        # The replacement must be served when manifests move to it: after the hop that brings it.
        current = hops[0][0] - 1
        needs = [_minor(m.replacement_available_in) for m in removed_entries(removals, open_)]
        ready = max((n for n in needs if n is not None and n < minor), default=current)
        if current < ready < minor:
            step.after.add(f"cp:{ready}")
        late_replacements = [m for m in open_ if (_minor(_available(removals, m)) or 0) >= minor]
        for m in late_replacements:
            step.caveats.append(
                f"{m.replacement} is served only from Kubernetes {_available(removals, m)}, the release that removes "
                f"{m.api_version}: {m.kind} objects must be recreated in {m.replacement} after the upgrade"
            )


def _unknown_uses(migrations: list[ApiMigration]) -> list[str]:
    """One line per reason: "whether <kinds> use them is unknown: <reason>"."""
    by_reason: dict[str, list[str]] = {}
    for m in migrations:
        if m.status is ApiUseStatus.UNKNOWN:
            kinds = by_reason.setdefault(m.evidence[0] if m.evidence else "no evidence", [])
            if m.kind not in kinds:
                kinds.append(m.kind)
    return [
        f"whether {', '.join(kinds)} objects or clients use these API versions is unknown: {reason}"
        for reason, kinds in by_reason.items()
    ]


def _minor(release: str | None) -> int | None:
    if not release:
        return None
    parts = release_key(release)
    return parts[1] if len(parts) >= 2 and parts[0] == 1 else None


def removed_entries(removals: RemovalTable, migrations: list[ApiMigration]) -> list[ApiRemoval]:
    found = (removals.lookup(m.api_version, m.kind) for m in migrations)
    return [r for r in found if r is not None]


def _available(removals: RemovalTable, migration: ApiMigration) -> str | None:
    entry = removals.lookup(migration.api_version, migration.kind)
    return entry.replacement_available_in if entry is not None and entry.replacement else None


def open_and_found(migrations: tuple[ApiMigration, ...]) -> tuple[ApiMigration, ...]:
    """Used first, then unknown, then not found: the order a reader acts on them."""
    rank = {ApiUseStatus.USED: 0, ApiUseStatus.UNKNOWN: 1, ApiUseStatus.NOT_FOUND: 2}
    return tuple(sorted(migrations, key=lambda m: (rank[m.status], m.api_version, m.kind)))
