"""The one library call that runs an audit: inputs → inventory → evidence → findings → report.

``run(config, source)`` is what ``patchlevel audit`` does, and what the fleet, the ledger's import,
the planner and the exporter call.  An ``AuditConfig`` holds every choice a user makes (as-of date,
policy, data directory, image evidence, ledger); a source says where the cluster comes from (a
snapshot or bundle path, or a live cluster).  The outcome holds the Report every renderer draws
from, the inventory and facts it was judged on, and why the audit is incomplete when it is.

This module does I/O (it reads inputs, runs scanners, asks registries); the stages
it calls are pure where the design says so (``evaluate``, ``checks``, ``render``).  It never prints:
progress lines go to the ``notify`` callback the caller passes (the CLI prints them on stderr).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from patchlevel.errors import PatchlevelError, UsageError
from patchlevel.evaluate import build_report
from patchlevel.facts import ClusterFacts, derive_facts
from patchlevel.inventory import Inventory
from patchlevel.knowledge import Knowledge, load_default_knowledge, with_epss_for
from patchlevel.model import ExitCode, Report, Resolution, Status, WorkloadFixClock, exit_code
from patchlevel.policy import Policy

if TYPE_CHECKING:
    from patchlevel.collect.live import Progress

Notify = Callable[[str], None]
Clock = Callable[[], datetime]


def quiet(_: str) -> None:
    pass


def utc_now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------
# What the user chose


@dataclass(frozen=True, slots=True)
class NodeScanSpec:
    """One ``--node-scan``: a host scan or SBOM (or a directory of them), and the node it describes when given."""

    path: Path
    node: str = ""  # from NODE=PATH; "" places each scan by its host name or file name

    @classmethod
    def parse(cls, text: str) -> NodeScanSpec:
        """``PATH`` or ``NODE=PATH`` (an existing path is a path, even with "=" in it)."""
        node, sep, rest = text.partition("=")
        if sep and rest and _NODE_NAME.fullmatch(node) and not Path(text).exists():
            return cls(Path(rest), node)
        return cls(Path(text))

    @property
    def label(self) -> str:
        return f"{self.node}={self.path}" if self.node else str(self.path)


# A node name (an RFC 1123 subdomain, as Kubernetes requires; upper case accepted for the host's own name).
_NODE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


@dataclass(frozen=True, slots=True)
class ImageEvidenceOptions:
    """Where image evidence comes from beyond the input itself (``--scan-report``, ``--scan``, ``--registry-check``,
    ``--vex``)."""

    scan_reports: tuple[Path, ...] = ()
    scanner: str | None = None  # "trivy" or "grype": scan every running image
    scan_cache: Path | None = None
    registry_check: bool = False
    insecure_registries: tuple[str, ...] = ()
    registry_timeout: float = 10.0
    docker_config: Path | None = None
    vex: tuple[Path, ...] = ()  # VEX documents (files, or directories of them): OpenVEX, CycloneDX, CSAF
    # Host package evidence (issue 11): scans or SBOMs of nodes' root filesystems (``--node-scan``).
    node_scans: tuple[NodeScanSpec, ...] = ()

    def validate(self) -> None:
        """Usage errors, found before any input is read."""
        if self.scanner is not None and self.scanner not in ("trivy", "grype"):
            raise UsageError(f"--scan {self.scanner!r}: choose trivy or grype")
        if self.scan_cache is not None and self.scanner is None:
            raise UsageError("--scan-cache needs --scan")
        if not self.registry_check and (self.insecure_registries or self.docker_config is not None):
            raise UsageError("--insecure-registry and --docker-config need --registry-check")
        for report_path in self.scan_reports:
            if not report_path.exists():
                raise UsageError(f"--scan-report {report_path}: no such file or directory")
        for vex_path in self.vex:
            if not vex_path.is_file() and not vex_path.is_dir():
                raise UsageError(f"--vex {vex_path}: no such file or directory")
        for spec in self.node_scans:
            if not spec.path.is_file() and not spec.path.is_dir():
                raise UsageError(f"--node-scan {spec.label}: no such file or directory")
        if self.docker_config is not None and not self.docker_config.is_file():
            raise UsageError(f"--docker-config {self.docker_config}: no such file")


@dataclass(frozen=True, slots=True)
class SnapshotSource:
    """A snapshot directory or file (kubectl JSON/YAML), or an evidence bundle (directory or .tar.gz)."""

    path: Path

    @property
    def label(self) -> str:
        return str(self.path)


@dataclass(frozen=True, slots=True)
class LiveSource:
    """A live cluster through its API server; with ``bundle``, the collection is also saved as evidence."""

    context: str | None = None
    kubeconfig: Path | None = None
    request_timeout: float = 30.0
    deadline: float = 900.0
    page_size: int = 500
    bundle: Path | None = None
    force: bool = False

    @property
    def label(self) -> str:
        return f"context {self.context}" if self.context else "the current context"


@dataclass(frozen=True, slots=True)
class InventorySource:
    """An inventory already in memory (tests, the exporter's re-audit of a collection)."""

    inventory: Inventory

    @property
    def label(self) -> str:
        return self.inventory.name or self.inventory.source or "inventory"


Source = SnapshotSource | LiveSource | InventorySource


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """Every choice behind one audit.  ``as_of`` is required: every judgement is made as of a date."""

    as_of: date
    policy: Policy = field(default_factory=Policy)
    data_dir: Path | None = None
    images: ImageEvidenceOptions = field(default_factory=ImageEvidenceOptions)
    ledger: str | None = None  # a ledger URL (sqlite:///…, postgresql://…): record the audit there
    cluster_name: str | None = None  # the cluster's name when the input cannot identify it


# ------------------------------------------------------------------------------------------
# What came of it


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """One audit's result: the Report, what it was judged on, and why it is incomplete, if it is.

    ``incomplete`` lists evidence that was asked for and could not be had, or a record that could not
    be kept (a scanner that did not run, a ledger that could not be written): the report stands, and
    the exit code says 3.
    """

    report: Report
    inventory: Inventory
    facts: ClusterFacts
    incomplete: tuple[str, ...] = ()
    protected: frozenset[Path] = frozenset()  # files this audit read: never written over

    def exit_code(self, fail_on: Status | None) -> ExitCode:
        code = exit_code(self.report.findings, fail_on)
        return ExitCode.INCOMPLETE if self.incomplete else code


@dataclass(frozen=True, slots=True)
class ImageEvidence:
    """The inventory with imported and produced scans added, what registries said, and what failed."""

    inventory: Inventory
    tag_resolutions: dict[str, Resolution] | None  # what registries said each tag points to now
    incomplete: tuple[str, ...]


# ------------------------------------------------------------------------------------------
# The stages


def collect(source: Source, *, notify: Notify = quiet, progress: Progress | None = None) -> Inventory:
    """The inventory of a source: read a snapshot or bundle, or collect a live cluster."""
    if isinstance(source, InventorySource):
        return source.inventory
    if isinstance(source, SnapshotSource):
        from patchlevel.collect.snapshot import read_snapshot

        return read_snapshot(source.path)
    return _collect_live(source, notify=notify, progress=progress)


def _collect_live(source: LiveSource, *, notify: Notify, progress: Progress | None) -> Inventory:
    from patchlevel.collect.kubeconfig import resolve_access
    from patchlevel.collect.live import LiveOptions, collect_bundle, collect_live, system_host

    host = system_host()
    access = resolve_access(kubeconfig=source.kubeconfig, context=source.context, environ=host.environ)
    options = LiveOptions(page_size=source.page_size, request_timeout=source.request_timeout, deadline=source.deadline)
    if source.bundle is None:
        inventory = collect_live(access, host=host, options=options, progress=progress).inventory
    else:
        collection, digest = collect_bundle(
            access, source.bundle, host=host, force=source.force, options=options, progress=progress
        )
        inventory = collection.inventory
        notify(
            f"wrote {source.bundle}: {len(inventory.nodes)} nodes, {len(inventory.pods)} pods from {access.server} "
            f'(context "{access.context}"); manifest sha256 {digest}'
        )
    for warning in inventory.warnings:
        notify(f"warning: {warning}")
    return inventory


def gather_image_evidence(
    inventory: Inventory,
    options: ImageEvidenceOptions,
    policy: Policy,
    *,
    clock: Clock = utc_now,
    notify: Notify = quiet,
) -> ImageEvidence:
    """The I/O behind the image checks: read scan reports and VEX documents, run a scanner, ask registries."""
    from patchlevel.images import registry_references, running_images

    scans = list(inventory.scans)
    inputs = list(inventory.inputs)
    warnings = list(inventory.warnings)
    incomplete: list[str] = []
    vex = list(inventory.vex)
    if options.vex:
        from patchlevel.vuln.vex import read_vex_inputs

        for vex_path in options.vex:
            read = read_vex_inputs(vex_path)
            vex.extend(read.documents)
            inputs.extend(read.inputs)
            warnings.extend(read.warnings)
    if options.scan_reports:
        from patchlevel.importers import load_scan_reports

        for report_path in options.scan_reports:
            loaded = load_scan_reports(report_path)
            scans.extend(loaded.reports)
            inputs.extend(loaded.inputs)
    if options.scanner is not None:
        from patchlevel.scanning import default_cache_dir, run_scans, scan_targets

        run = run_scans(
            scan_targets(running_images(inventory)),
            options.scanner,
            clock=clock,
            max_age_days=policy.scan_max_age_days,
            cache_dir=options.scan_cache or default_cache_dir(os.environ),
        )
        for message in run.messages:
            notify(message)
        scans.extend(run.reports)
        inputs.extend(run.inputs)
        if run.failed:
            warnings.extend(run.messages)
            failed = [r for r in run.reports if r.error]
            incomplete.append(
                f"--scan {options.scanner}: {len(failed)} image scan(s) did not produce a report"
                + (f" ({failed[0].error})" if failed else "")
            )
    tag_resolutions: dict[str, Resolution] | None = None
    if options.registry_check:
        from patchlevel.registry import load_docker_credentials, resolve

        references = registry_references(running_images(inventory))
        tag_resolutions = resolve(
            references,
            timeout=options.registry_timeout,
            insecure_registries=options.insecure_registries,
            credentials=load_docker_credentials(options.docker_config),
            fetch_created=True,
        )
        answered = sum(1 for r in tag_resolutions.values() if r.digest)
        notify(f"registry check: {answered} of {len(tag_resolutions)} image references resolved")
    changed = dataclasses.replace(
        inventory, scans=tuple(scans), inputs=tuple(inputs), warnings=tuple(warnings), vex=tuple(vex)
    )
    return ImageEvidence(changed, tag_resolutions, tuple(incomplete))


def gather_node_evidence(inventory: Inventory, options: ImageEvidenceOptions) -> Inventory:
    """The I/O behind the host checks: read ``--node-scan`` files and place each scan on its node.

    A scan that no rule places (explicit NODE=PATH, the report's host name, a file name equal to a
    node's) is kept unplaced, and a warning names it.
    """
    if not options.node_scans:
        return inventory
    from patchlevel.importers.detect import load_host_scans
    from patchlevel.importers.host import assign_nodes

    names = [node.name for node in inventory.nodes]
    scans = list(inventory.node_scans)
    inputs = list(inventory.inputs)
    warnings = list(inventory.warnings)
    for spec in options.node_scans:
        loaded = load_host_scans(spec.path)
        inputs.extend(loaded.inputs)
        if spec.path.is_dir() and not loaded.scans:
            warnings.append(f"--node-scan {spec.label}: the directory holds no host scan")
        placed = assign_nodes(loaded.scans, names, explicit=spec.node)
        scans.extend(placed.scans)
        warnings.extend(placed.warnings)
    return dataclasses.replace(inventory, node_scans=tuple(scans), inputs=tuple(inputs), warnings=tuple(warnings))


def _protected(source: Source, config: AuditConfig, inventory: Inventory) -> frozenset[Path]:
    """Every file the audit read: reports are never written over them."""
    paths: set[Path] = {Path(i.path) for i in inventory.inputs if i.path}
    if isinstance(source, SnapshotSource) and source.path.exists():
        from patchlevel.collect.snapshot import snapshot_files

        paths.update(snapshot_files(source.path))
        paths.add(source.path)
    if config.policy.source != Policy().source:  # read from a file
        paths.add(Path(config.policy.source))
    paths.update(config.images.scan_reports)
    paths.update(spec.path for spec in config.images.node_scans)
    resolved: set[Path] = set()
    for path in paths:
        try:
            resolved.add(path.resolve())
        except (OSError, RuntimeError):
            continue
    return frozenset(resolved)


def run(
    config: AuditConfig,
    source: Source,
    *,
    knowledge: Knowledge | None = None,
    clock: Clock = utc_now,
    notify: Notify = quiet,
    progress: Progress | None = None,
) -> AuditOutcome:
    """Run one audit.  Raises ``PatchlevelError`` subclasses when it cannot (bad input, unreachable cluster)."""
    config.images.validate()
    # Knowledge first, so broken reference data fails before a long collection; EPSS scores once the
    # scans are known (the whole feed is some 60 MB, an audit needs the scores of its scans' CVEs).
    loads_epss = knowledge is None
    if knowledge is None:
        knowledge = load_default_knowledge(config.data_dir, epss=False)
    inventory = collect(source, notify=notify, progress=progress)
    evidence = gather_image_evidence(inventory, config.images, config.policy, clock=clock, notify=notify)
    inventory = gather_node_evidence(evidence.inventory, config.images)
    if loads_epss:
        knowledge = with_epss_for(knowledge, inventory)
    facts = derive_facts(inventory)
    fix_history: dict[tuple[str, str], WorkloadFixClock] | None = None
    incomplete = list(evidence.incomplete)
    recordable = bool(config.ledger)
    if config.ledger:
        from patchlevel.ledger.errors import LedgerUnavailable

        try:
            fix_history = fix_clocks_from_ledger(config.ledger, inventory, config.cluster_name, config.as_of)
        except LedgerUnavailable as exc:  # nothing can be recorded either: say both in one line, try once
            recordable = False
            incomplete.append(f"not recorded in the ledger, and its clocks come from the scans alone: {exc}")
        except PatchlevelError as exc:  # the audit stands on the scans' own clocks, and says so
            incomplete.append(f"clocks from the ledger's history could not be read: {exc}")
    report = build_report(
        inventory,
        knowledge,
        config.policy,
        config.as_of,
        clock(),
        tag_resolutions=evidence.tag_resolutions,
        facts=facts,
        fix_history=fix_history,
    )
    outcome = AuditOutcome(
        report=report,
        inventory=inventory,
        facts=facts,
        incomplete=tuple(incomplete),
        protected=_protected(source, config, inventory),
    )
    if recordable:
        outcome = record(outcome, config, notify=notify)
    return outcome


FIX_HISTORY_DAYS = 400  # how far back the ledger is read for when fixes were first known (a PCI year and more)


def fix_clocks_from_ledger(
    url: str, inventory: Inventory, cluster_name: str | None, as_of: date
) -> dict[tuple[str, str], WorkloadFixClock]:
    """Clocks from history: per (workload, vulnerability), when the ledger first knew a fix for it in any image
    that workload ran (empty for a cluster the ledger has not recorded yet)."""
    from patchlevel.ledger.clocks import first_known_fix, fix_observations
    from patchlevel.ledger.evidence import cluster_identity
    from patchlevel.ledger.query import recorded_history
    from patchlevel.ledger.store import open_store

    identity = cluster_identity(inventory, cluster_name)
    with open_store(url) as store:
        history = recorded_history(store, identity.key, as_of, FIX_HISTORY_DAYS)
    if history is None:
        return {}
    return {
        key: WorkloadFixClock(clock.start, clock.clock, clock.image)
        for key, clock in first_known_fix(fix_observations(history)).items()
    }


def record(outcome: AuditOutcome, config: AuditConfig, *, notify: Notify = quiet) -> AuditOutcome:
    """Record an audit in ``config.ledger``.  A failure never loses the report: it makes the audit incomplete."""
    from patchlevel.ledger.errors import LedgerError
    from patchlevel.ledger.evidence import policy_digest
    from patchlevel.ledger.record import record_audit

    assert config.ledger is not None
    policy = config.policy
    try:
        recorded = record_audit(
            config.ledger,
            outcome.report,
            outcome.inventory,
            outcome.facts,
            cluster_name=config.cluster_name,
            policy_digest=policy_digest(policy.to_dict(), policy.waivers),
            bundle_digest=outcome.inventory.evidence_digest or None,
        )
    except LedgerError as exc:
        return dataclasses.replace(outcome, incomplete=(*outcome.incomplete, f"not recorded in the ledger: {exc}"))
    notify(recorded.message)
    return outcome


# ------------------------------------------------------------------------------------------
# Several clusters


@dataclass(frozen=True, slots=True)
class FleetOptions:
    """``audit --all-contexts``: where the reports go and what exit code each cluster's audit gets."""

    output: Path
    formats: Sequence[str]
    fail_on: Status | None
    parallel: int = 4


def audit_fleet(
    config: AuditConfig,
    live: LiveSource,
    fleet: FleetOptions,
    *,
    clock: Clock = utc_now,
    notify: Notify = quiet,
) -> int:
    """Audit every kubeconfig context: a report each in ``fleet.output`` and ``fleet-summary.json``.

    Returns the fleet's exit code (the worst of its clusters').
    """
    import json

    from patchlevel.collect.fleet import FleetEntry, fleet_summary, report_stem, run_fleet
    from patchlevel.collect.kubeconfig import kubeconfig_paths, load_kubeconfig
    from patchlevel.collect.live import LiveOptions, collect_live, system_host
    from patchlevel.model import count_by_status
    from patchlevel.output import write_atomically
    from patchlevel.render import EXTENSIONS, Format, render_chunks

    config.images.validate()
    host = system_host()
    kubeconfig = load_kubeconfig(kubeconfig_paths(live.kubeconfig, host.environ), explicit=live.kubeconfig is not None)
    contexts = kubeconfig.context_names()
    if not contexts:
        raise UsageError("--all-contexts: the kubeconfig names no context")
    taken: set[str] = set()
    stems = {name: report_stem(name, taken) for name in contexts}
    options = LiveOptions(page_size=live.page_size, request_timeout=live.request_timeout, deadline=live.deadline)
    knowledge = load_default_knowledge(config.data_dir)
    formats = [Format(f) for f in fleet.formats]

    def audit_one(name: str) -> FleetEntry:
        access = kubeconfig.access(name)
        inventory = collect_live(access, host=host, options=options).inventory
        outcome = run(
            dataclasses.replace(config, cluster_name=config.cluster_name or name),
            InventorySource(inventory),
            knowledge=knowledge,
            clock=clock,
            notify=lambda line: notify(f"{name}: {line}"),
        )
        written = []
        for fmt in formats:
            target = fleet.output / f"{stems[name]}.{EXTENSIONS[fmt]}"
            write_atomically(target, render_chunks(outcome.report, fmt))
            written.append(target.name)
        counts = {status.value: n for status, n in count_by_status(outcome.report.findings).items() if n}
        return FleetEntry(
            name,
            outcome.exit_code(fleet.fail_on),
            server=access.server,
            version=outcome.report.cluster.version,
            counts=counts,
            reports=tuple(written),
        )

    entries = run_fleet(contexts, audit_one, parallel=fleet.parallel)
    summary = fleet_summary(entries, as_of=config.as_of, generated_at=clock())
    write_atomically(fleet.output / "fleet-summary.json", json.dumps(summary, indent=2).encode() + b"\n")
    for entry in entries:
        outcome_line = (
            f"failed: {entry.error}" if entry.failed else f"exit {entry.exit_code}, reports {', '.join(entry.reports)}"
        )
        notify(f"{entry.context}: {outcome_line}")
    notify(f"wrote the fleet summary to {fleet.output / 'fleet-summary.json'}")
    return int(summary["exit_code"])
