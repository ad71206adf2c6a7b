"""The command line: parse options into an ``AuditConfig`` (and friends), call the library, map outcomes to exit codes.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage error;
3 the audit could not complete.  ``main(argv)`` returns the code and never raises, so tests call
it directly; only ``entry_point`` exits the process.  No audit logic lives here: ``patchlevel.audit``
runs audits, ``patchlevel.plan.run`` plans, ``patchlevel.ledger.run`` judges periods,
``patchlevel.serve`` exports metrics, ``patchlevel.output`` writes files.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from patchlevel import __version__
from patchlevel.dates import iso_day
from patchlevel.errors import PatchlevelError, UsageError
from patchlevel.model import ExitCode, Status
from patchlevel.text import visible

if TYPE_CHECKING:
    from patchlevel.audit import AuditConfig, LiveSource, Source
    from patchlevel.collect.live import TerminalProgress
    from patchlevel.policy import Policy
    from patchlevel.render import Format

E = TypeVar("E", bound=StrEnum)  # a kind of output format
F = TypeVar("F", bound=StrEnum)
T = TypeVar("T")

FAIL_ON = {"fail": Status.FAIL, "unknown": Status.UNKNOWN, "warn": Status.WARN, "never": None}


def _today() -> date:
    return datetime.now(UTC).date()


def _parse_as_of(value: str | None, option: str = "--as-of") -> date:
    """A calendar date written YYYY-MM-DD, and nothing else (not 20260901, not 2026-W36-2)."""
    if value is None:
        return _today()
    day = iso_day(value)
    if day is not None:
        return day
    raise UsageError(f"{option} {value!r} is not a date (use YYYY-MM-DD)")


def _choose(value: str, kind: type[E]) -> list[E]:
    """``--format`` values of one kind (report, plan or period formats), comma separated, each once."""
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    allowed = [f.value for f in kind]
    if not names or any(n not in allowed for n in names):
        raise UsageError(f"--format {value!r}: choose from {', '.join(allowed)} (comma separated)")
    return [kind(n) for n in dict.fromkeys(names)]


def _formats(value: str) -> list[Format]:
    from patchlevel.render import Format

    return _choose(value, Format)


def _notify(line: str) -> None:
    click.echo(f"patchlevel: {visible(line)}", err=True)


# ------------------------------------------------------------------------------------------
# Live clusters: the options `audit` (without PATH) and `collect` share


def _live_options(command: Callable[..., int]) -> Callable[..., int]:
    options = (
        click.option(
            "--context", metavar="NAME", help="Kubeconfig context of a live cluster. Default: the current one."
        ),
        click.option(
            "--kubeconfig",
            type=click.Path(path_type=Path),
            metavar="PATH",
            help="Kubeconfig file to use. Default: $KUBECONFIG, else ~/.kube/config, else the pod's service account.",
        ),
        click.option(
            "--request-timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=30.0,
            show_default=True,
            metavar="SECONDS",
            help="Time allowed for each API request, and for a credential plugin without a terminal (live clusters).",
        ),
        click.option(
            "--deadline",
            type=click.FloatRange(min=0, min_open=True),
            default=900.0,
            show_default=True,
            metavar="SECONDS",
            help="Time allowed for the whole collection from a live cluster, retries included.",
        ),
        click.option(
            "--page-size",
            type=click.IntRange(min=1),
            default=500,
            show_default=True,
            metavar="N",
            help="Objects per API list page (live clusters).",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def _live_source(
    context: str | None,
    kubeconfig: Path | None,
    request_timeout: float,
    deadline: float,
    page_size: int,
    bundle: Path | None = None,
    force: bool = False,
) -> LiveSource:
    from patchlevel.audit import LiveSource

    return LiveSource(context, kubeconfig, request_timeout, deadline, page_size, bundle=bundle, force=force)


def _progress() -> TerminalProgress | None:
    """A progress bar on stderr when it is a terminal (live collection), else None."""
    from patchlevel.collect.live import terminal_progress

    return terminal_progress(sys.stderr)


def _options(*options: Callable[[Callable[..., int]], Callable[..., int]]) -> Callable[..., Callable[..., int]]:
    def decorate(command: Callable[..., int]) -> Callable[..., int]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


# What every command that audits reads beyond the cluster: policy, reference data, scans, VEX, host scans.
_evidence_options = _options(
    click.option(
        "--policy",
        "policy_file",
        type=click.Path(path_type=Path),
        metavar="FILE",
        help="Policy file: thresholds and waivers ('patchlevel policy init' writes one). Default: built-in.",
    ),
    click.option(
        "--data-dir", type=click.Path(path_type=Path), help="Lifecycle data directory to use instead of the default."
    ),
    click.option(
        "--scan-report",
        "scan_reports",
        multiple=True,
        type=click.Path(path_type=Path),
        metavar="PATH",
        help="Trivy, Grype or trivy-operator report, or a directory of them (repeatable).",
    ),
    click.option(
        "--vex",
        "vex",
        multiple=True,
        type=click.Path(path_type=Path),
        metavar="PATH",
        help="VEX document (OpenVEX, CycloneDX or CSAF; format from the content), or a directory of them (repeatable).",
    ),
    click.option(
        "--node-scan",
        "node_scans",
        multiple=True,
        metavar="[NODE=]PATH",
        help="Scan or SBOM of a node's root filesystem (Trivy rootfs/fs/vm, CycloneDX, SPDX, NodeVulnerabilityReport), "
        "or a directory of them; placed by NODE=, the report's host name or a file named after the node (repeatable).",
    ),
)

# Recording audits in the ledger (audit, serve).
_recording_options = _options(
    click.option(
        "--ledger",
        envvar="PATCHLEVEL_LEDGER",
        metavar="URL",
        help="Record the audit in a ledger: sqlite:///PATH or postgresql://USER@HOST/DB (env PATCHLEVEL_LEDGER).",
    ),
    click.option(
        "--cluster",
        "cluster_name",
        metavar="NAME",
        help="The cluster's name in the ledger when the input has no kube-system namespace UID to identify it.",
    ),
)


def _config(
    as_of: str | None,
    policy_file: Path | None,
    data_dir: Path | None,
    scan_reports: Sequence[Path],
    vex: Sequence[Path],
    node_scans: Sequence[str],
    *,
    ledger: str | None = None,
    cluster_name: str | None = None,
    **image_options: object,
) -> AuditConfig:
    """The AuditConfig the options describe; usage errors in them are raised before any input is read."""
    from patchlevel.audit import AuditConfig, ImageEvidenceOptions, NodeScanSpec

    images = ImageEvidenceOptions(
        scan_reports=tuple(scan_reports),
        vex=tuple(vex),
        node_scans=tuple(NodeScanSpec.parse(value) for value in node_scans),
        **image_options,  # type: ignore[arg-type]
    )
    images.validate()
    return AuditConfig(
        as_of=_parse_as_of(as_of),
        policy=_load_policy(policy_file),
        data_dir=data_dir,
        images=images,
        ledger=ledger or None,
        cluster_name=cluster_name,
    )


def _source(path: Path | None, live: LiveSource) -> Source:
    from patchlevel.audit import SnapshotSource

    if path is None:
        return live
    if live.context is not None or live.kubeconfig is not None:
        raise UsageError("--context and --kubeconfig are for live clusters; PATH is a snapshot or bundle")
    return SnapshotSource(path)


def _with_progress(source: Source, work: Callable[[TerminalProgress | None], T]) -> T:
    """``work(progress)``, with a progress bar on a terminal while a live cluster is collected."""
    from patchlevel.audit import LiveSource

    progress = _progress() if isinstance(source, LiveSource) else None
    if progress is None:
        return work(None)
    with progress:
        return work(progress)


def _write(
    output: Path | None,
    formats: Sequence[F],
    render: Callable[[F], bytes | Iterable[bytes]],
    extensions: Mapping[F, str],
    *,
    stem: str,
    noun: str,
    protected: Iterable[Path] = (),
    terminal: Callable[[bool, int], str] | None = None,
    terminal_format: F | None = None,
) -> None:
    """Print one format on stdout (the terminal format laid out for it), or write each where ``-o`` says."""
    from patchlevel.output import report_targets, write_atomically, write_stdout

    if output is None:
        if terminal is not None and formats[0] == terminal_format:
            tty = sys.stdout.isatty()
            width = max(100, shutil.get_terminal_size((120, 40)).columns) if tty else 120
            write_stdout(terminal(tty, width).encode("utf-8", "replace"))
        else:
            write_stdout(render(formats[0]))
        return
    targets = report_targets(output, [extensions[f] for f in formats], stem=stem)
    for fmt, target in zip(formats, targets, strict=True):
        write_atomically(target, render(fmt), protected)
        click.echo(f"wrote {fmt} {noun} to {target}", err=True)


# ------------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="patchlevel")
def cli() -> None:
    """Prove whether a Kubernetes cluster is patched (PCI SSC container guidance 10.1-10.3, PCI DSS v4)."""


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_live_options
@click.option(
    "--all-contexts", is_flag=True, help="Audit every kubeconfig context (needs -o DIR): a report each and a summary."
)
@click.option("--as-of", "as_of", metavar="DATE", help="Judge as of this date (YYYY-MM-DD). Default: today, UTC.")
@click.option(
    "--format",
    "fmt",
    default="terminal",
    show_default=True,
    metavar="FORMATS",
    help="terminal, json, html, junit, oscal, markdown or prometheus; several, comma separated, need -o DIR.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here (a file, or a directory).")
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    default="fail",
    show_default=True,
    help="Exit 1 when a finding is at or above this status (warn < unknown < fail).",
)
@click.option("--show-passed", is_flag=True, help="List passed findings in the terminal report too.")
@click.option(
    "--color/--no-color", default=None, help="Colour the terminal report (default: when stdout is a terminal)."
)
@_evidence_options
@click.option("--scan", type=click.Choice(["trivy", "grype"]), help="Scan each running image with this scanner.")
@click.option(
    "--scan-cache",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Cache of --scan results by digest. Default: $XDG_CACHE_HOME/patchlevel/scans.",
)
@click.option("--registry-check", is_flag=True, help="Ask each image's registry where its tag points now (network).")
@click.option(
    "--insecure-registry",
    "insecure_registries",
    multiple=True,
    metavar="HOST",
    help="Speak plain HTTP to this registry (repeatable; loopback registries always are).",
)
@click.option(
    "--registry-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Time allowed per image for the registry check.",
)
@click.option(
    "--docker-config",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Registry credentials (docker config.json). Default: $DOCKER_CONFIG or ~/.docker/config.json.",
)
@_recording_options
def audit(
    path: Path | None,
    as_of: str | None,
    fmt: str,
    output: Path | None,
    fail_on: str,
    data_dir: Path | None,
    policy_file: Path | None,
    show_passed: bool,
    color: bool | None,
    scan_reports: tuple[Path, ...],
    vex: tuple[Path, ...],
    node_scans: tuple[str, ...],
    scan: str | None,
    scan_cache: Path | None,
    registry_check: bool,
    insecure_registries: tuple[str, ...],
    registry_timeout: float,
    docker_config: Path | None,
    context: str | None = None,
    kubeconfig: Path | None = None,
    request_timeout: float = 30.0,
    deadline: float = 900.0,
    page_size: int = 500,
    all_contexts: bool = False,
    ledger: str | None = None,
    cluster_name: str | None = None,
) -> int:
    """Audit a cluster: a snapshot (kubectl JSON/YAML), an evidence bundle, or without PATH the live cluster.

    Without PATH: the kubeconfig's current context (or --context), or inside a pod its service account.
    """
    from patchlevel.audit import FleetOptions, audit_fleet, run
    from patchlevel.render import EXTENSIONS, Format, render_chunks
    from patchlevel.render.terminal import render_terminal

    gc.disable()  # a short-lived run over up to millions of acyclic records: reference counting suffices
    formats = _formats(fmt)
    if len(formats) > 1 and output is None:
        raise UsageError("several formats need -o DIR to write them into")
    config = _config(
        as_of, policy_file, data_dir, scan_reports, vex, node_scans, ledger=ledger, cluster_name=cluster_name,
        scanner=scan, scan_cache=scan_cache, registry_check=registry_check, insecure_registries=insecure_registries,
        registry_timeout=registry_timeout, docker_config=docker_config,
    )  # fmt: skip
    live = _live_source(context, kubeconfig, request_timeout, deadline, page_size)
    if all_contexts:
        if path is not None or context is not None:
            raise UsageError("--all-contexts audits every kubeconfig context: give neither PATH nor --context")
        if cluster_name is not None:  # one name for every context would record them all as one cluster
            raise UsageError(
                "--cluster names one cluster and --all-contexts audits several: each context is recorded under its "
                "kube-system UID, else its context name"
            )
        if output is None or output.is_file() or Format.TERMINAL in formats:
            raise UsageError("--all-contexts writes one report per cluster: give -o DIR and a file format (e.g. json)")
        fleet = FleetOptions(output=output, formats=[f.value for f in formats], fail_on=FAIL_ON[fail_on])
        return audit_fleet(config, live, fleet, notify=_notify)
    source = _source(path, live)
    outcome = _with_progress(source, lambda progress: run(config, source, notify=_notify, progress=progress))
    report = outcome.report
    _write(
        output, formats, lambda f: render_chunks(report, f), EXTENSIONS, stem="patchlevel-report", noun="report",
        protected=outcome.protected, terminal_format=Format.TERMINAL,
        terminal=lambda tty, width: render_terminal(
            report, color=tty if color is None else color, width=width, show_passed=show_passed
        ),
    )  # fmt: skip
    for reason in outcome.incomplete:
        _notify(f"error: the audit is incomplete: {reason}")
    return outcome.exit_code(FAIL_ON[fail_on])


def _load_policy(policy_file: Path | None) -> Policy:
    from patchlevel.checks import ALL_CHECKS
    from patchlevel.policy import Policy, load_policy

    return load_policy(policy_file, {c.id for c in ALL_CHECKS}) if policy_file is not None else Policy()


@cli.command("collect")
@_live_options
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    metavar="BUNDLE",
    help="The evidence bundle to write: a directory, or a file ending in .tar.gz.",
)
@click.option("--force", is_flag=True, help="Replace BUNDLE if it exists (it is never written over otherwise).")
def collect(
    context: str | None,
    kubeconfig: Path | None,
    request_timeout: float,
    deadline: float,
    page_size: int,
    output: Path,
    force: bool,
) -> int:
    """Collect a live cluster into an evidence bundle, to audit (or verify) later, offline."""
    import contextlib

    from patchlevel.audit import collect as collect_source

    source = _live_source(context, kubeconfig, request_timeout, deadline, page_size, bundle=output, force=force)
    progress = _progress()
    with progress if progress is not None else contextlib.nullcontext():
        collect_source(source, notify=_notify, progress=progress)
    return 0


@cli.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
def verify(bundle: Path) -> int:
    """Check that an evidence bundle is intact: exit 1 naming each changed, added or removed file."""
    from patchlevel.collect.bundle import verify_bundle

    result = verify_bundle(bundle)
    if result.ok:
        line = f"{bundle}: intact: {result.files} files match the manifest (manifest sha256 {result.digest})"
        click.echo(visible(line))
        return 0
    for problem in result.problems:
        click.echo(visible(f"{bundle}: {problem}"))
    click.echo(visible(f"patchlevel: {bundle} is NOT intact: {len(result.problems)} problem(s)"), err=True)
    return ExitCode.FINDINGS


@cli.group()
def lifecycle() -> None:
    """Show or update the bundled support lifecycle data."""


@lifecycle.command("list")
@click.option("--data-dir", type=click.Path(path_type=Path))
def lifecycle_list(data_dir: Path | None) -> int:
    """List the products the lifecycle data knows."""
    from patchlevel.lifecycle.catalog import load_catalog

    catalog = load_catalog(data_dir)
    click.echo(f"lifecycle data retrieved {catalog.data_date} from {catalog.source} ({catalog.data_dir})")
    for product in sorted(catalog.products.values(), key=lambda p: p.id):
        click.echo(f"  {product.id:<40} {product.label} ({len(product.cycles)} releases)")
    return 0


@lifecycle.command("show")
@click.argument("product")
@click.option("--as-of", "as_of", metavar="DATE", help="Phase as of this date (default: today, UTC).")
@click.option("--data-dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["terminal", "json"]), default="terminal", show_default=True)
def lifecycle_show(product: str, as_of: str | None, data_dir: Path | None, fmt: str) -> int:
    """Show what the lifecycle data says about PRODUCT, and the data's date."""
    from patchlevel.lifecycle.catalog import load_catalog
    from patchlevel.lifecycle.show import render_product

    catalog = load_catalog(data_dir)
    day = _parse_as_of(as_of)
    if catalog.product(product) is None:
        raise UsageError(f"no lifecycle data for {product!r}", hint="'patchlevel lifecycle list' shows the products")
    sys.stdout.write(render_product(catalog, product, day, as_json=fmt == "json"))
    return 0


@lifecycle.command("update")
@click.option("--product", "products", multiple=True, help="Update only this product (repeatable).")
@click.option(
    "--from-dir", type=click.Path(path_type=Path), help="Read downloaded API responses from here (air-gapped)."
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Write the data here instead of the user data directory."
)
@click.option("--force", is_flag=True, help="Accept data that drops more than half of a product's releases.")
@click.option(
    "--only",
    "feeds",
    multiple=True,
    type=click.Choice(["lifecycle", "vulndb", "kev", "epss"]),
    help="Refresh only this data (repeatable). Default: all four online; with --from-dir, what the directory holds.",
)
def lifecycle_update(
    products: tuple[str, ...], from_dir: Path | None, data_dir: Path | None, force: bool, feeds: tuple[str, ...]
) -> int:
    """Refresh the reference data: support lifecycles (endoflife.date API v1), Kubernetes and runtime CVEs (Go
    vulnerability database), CISA KEV and FIRST EPSS, online or from a directory of downloaded responses."""
    from patchlevel.lifecycle.update import ALL_FEEDS, feeds_in, format_update_result, run_update

    chosen = feeds or (feeds_in(from_dir) if from_dir is not None else ALL_FEEDS)
    result = run_update(
        today=_today(), products=products, from_dir=from_dir, data_dir=data_dir, force=force, feeds=chosen
    )
    click.echo(format_update_result(result))
    return 0


@cli.command("checks")
def list_checks() -> int:
    """List every check and the requirements it gives evidence for: audit checks, then period checks."""
    from patchlevel.checks import ALL_CHECKS
    from patchlevel.evaluate import check_infos
    from patchlevel.frameworks import load_requirements
    from patchlevel.ledger.period import period_check_infos, period_mapping

    sections = (
        ("Audit checks (patchlevel audit: one cluster as of one date)", check_infos()),
        (
            "Period checks (patchlevel period: the audits recorded in a ledger over a period)",
            period_check_infos(period_mapping(load_requirements(c.id for c in ALL_CHECKS))[1]),
        ),
    )
    for heading, infos in sections:
        click.echo(f"{heading}\n")
        for info in infos:
            click.echo(f"{info.id}\n  {info.title}\n  requirements: {', '.join(info.requirements) or 'none'}")
        click.echo("")
    return 0


@cli.group("policy")
def policy_group() -> None:
    """Write or validate a policy file: thresholds and waivers."""


@policy_group.command("init")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("patchlevel.yaml"),
    show_default=True,
    help="Write the policy here; '-' writes it to standard output.",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def policy_init(output: Path, force: bool) -> int:
    """Write a commented policy holding every default (PCI DSS v4.0.1) and an example waiver."""
    from patchlevel.output import write_atomically
    from patchlevel.policy import default_policy_text

    text = default_policy_text()
    if str(output) == "-":
        sys.stdout.write(text)
        return 0
    if output.exists() and not force:
        raise UsageError(f"{output} already exists", hint="use --force to overwrite it, or -o to name another file")
    write_atomically(output, text.encode("utf-8"))
    click.echo(f"wrote the default policy to {output}", err=True)
    return 0


@policy_group.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def policy_check(file: Path) -> int:
    """Validate a policy file; errors name the file, line and field."""
    from patchlevel.checks import ALL_CHECKS
    from patchlevel.policy import load_policy

    policy = load_policy(file, {c.id for c in ALL_CHECKS})
    click.echo(f"{file}: valid ({len(policy.waivers)} waiver{'s' if len(policy.waivers) != 1 else ''})")
    return 0


# ------------------------------------------------------------------------------------------
# serve: the Prometheus exporter (patchlevel.serve)


@cli.command("serve")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_live_options
@click.option(
    "--listen",
    default="127.0.0.1:9877",
    show_default=True,
    metavar="HOST:PORT",
    help="Address to serve /metrics, /healthz and /readyz on (:PORT for every address; port 0 picks one).",
)
@click.option(
    "--interval",
    default="6h",
    show_default=True,
    metavar="DURATION",
    help="Time between the starts of two audits (e.g. 6h, 30m, 1h30m).",
)
@click.option(
    "--retry-interval",
    default="5m",
    show_default=True,
    metavar="DURATION",
    help="Time before another try after a failed audit (at most --interval).",
)
@click.option(
    "--as-of", "as_of", metavar="DATE", help="Judge every audit as of this date. Default: the day each audit runs, UTC."
)
@_evidence_options
@_recording_options
def serve(
    path: Path | None,
    listen: str,
    interval: str,
    retry_interval: str,
    as_of: str | None,
    policy_file: Path | None,
    data_dir: Path | None,
    scan_reports: tuple[Path, ...],
    vex: tuple[Path, ...],
    node_scans: tuple[str, ...],
    context: str | None = None,
    kubeconfig: Path | None = None,
    request_timeout: float = 30.0,
    deadline: float = 900.0,
    page_size: int = 500,
    ledger: str | None = None,
    cluster_name: str | None = None,
) -> int:
    """Export Prometheus metrics: re-audit the live cluster (or PATH) on an interval and serve the latest result.

    Serves /metrics, /healthz (liveness) and /readyz (an audit has completed) until SIGTERM or SIGINT.
    """
    from patchlevel.serve import ServeConfig, parse_duration, parse_listen, stop_on_signals
    from patchlevel.serve import serve as run_exporter

    host, port = parse_listen(listen)
    config = ServeConfig(
        audit=_config(
            as_of, policy_file, data_dir, scan_reports, vex, node_scans, ledger=ledger, cluster_name=cluster_name
        ),
        source=_source(path, _live_source(context, kubeconfig, request_timeout, deadline, page_size)),
        host=host,
        port=port,
        interval=parse_duration(interval),
        retry_interval=parse_duration(retry_interval, "--retry-interval"),
        as_of_today=as_of is None,
    )
    with stop_on_signals() as stop:
        run_exporter(config, stop, notify=_notify)
    return 0


# ------------------------------------------------------------------------------------------
# The audit ledger (patchlevel.ledger): ledger import/list/prune, and the period report


def _ledger_option(command: Callable[..., int]) -> Callable[..., int]:
    return click.option(
        "--ledger",
        "ledger_url",
        envvar="PATCHLEVEL_LEDGER",
        required=True,
        metavar="URL",
        help="The audit ledger: sqlite:///PATH (or a file path) or postgresql://USER@HOST/DB. "
        "Default: $PATCHLEVEL_LEDGER.",
    )(command)


def _ledger_policy(policy_file: Path | None) -> Policy:
    from patchlevel.checks import ALL_CHECKS
    from patchlevel.ledger.period import PERIOD_CHECKS
    from patchlevel.policy import Policy, load_policy

    if policy_file is None:
        return Policy()
    return load_policy(policy_file, {c.id for c in ALL_CHECKS} | {c.id for c in PERIOD_CHECKS})


@cli.group("ledger")
def ledger_group() -> None:
    """The audit ledger: import saved evidence bundles, list recorded audits, prune old ones."""


@ledger_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_ledger_option
@click.option(
    "--cluster", "cluster_name", metavar="NAME", help="The cluster's name when the bundle cannot identify it."
)
@click.option(
    "--as-of", "as_of", metavar="DATE", help="Judge as of this date. Default: each bundle's own collection day."
)
@click.option("--policy", "policy_file", type=click.Path(path_type=Path), metavar="FILE", help="Policy file.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Lifecycle data directory to use.")
def ledger_import(
    paths: tuple[Path, ...],
    ledger_url: str,
    cluster_name: str | None,
    as_of: str | None,
    policy_file: Path | None,
    data_dir: Path | None,
) -> int:
    """Audit saved evidence bundles (or snapshots) and record them: backfill the ledger.

    Each is recorded once: importing a bundle again writes nothing.  Exit 3 when any could not be imported.
    """
    gc.disable()  # as for audits: a short run over many acyclic records
    from patchlevel.ledger.run import ImportOutcome, import_bundles

    day = _parse_as_of(as_of) if as_of is not None else None
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"{missing[0]} does not exist")

    def report(outcome: ImportOutcome) -> None:
        click.echo(f"patchlevel: {visible(outcome.path)}: {visible(outcome.message)}", err=True)

    outcomes = import_bundles(
        ledger_url, list(paths), as_of=day, policy=_ledger_policy(policy_file), data_dir=data_dir,
        cluster_name=cluster_name, notify=report,
    )  # fmt: skip
    failed = sum(1 for o in outcomes if o.error)
    created = sum(1 for o in outcomes if o.created)
    click.echo(
        f"patchlevel: imported {created}, already recorded {len(outcomes) - created - failed}, failed {failed}",
        err=True,
    )
    return 3 if failed else 0


@ledger_group.command("list")
@_ledger_option
@click.option("--cluster", metavar="NAME", help="Only this cluster (its name or kube-system UID).")
@click.option("--format", "fmt", type=click.Choice(["terminal", "json"]), default="terminal", show_default=True)
def ledger_list(ledger_url: str, cluster: str | None, fmt: str) -> int:
    """List the recorded audits, per cluster, oldest first."""
    import json

    from patchlevel.ledger.query import list_audits
    from patchlevel.ledger.store import open_existing
    from patchlevel.output import write_stdout

    with open_existing(ledger_url) as store:  # read-only: never created nor migrated
        audits = list_audits(store, cluster)
    if fmt == "json":
        write_stdout(json.dumps([a.to_json() for a in audits], indent=2).encode() + b"\n")
        return 0
    for a in audits:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(a.status_counts.items()))
        click.echo(
            f"{a.id:>6}  {visible(a.cluster):<24} {a.observed_on}  as of {a.as_of}  {a.source:<8} "
            f"{a.nodes} nodes, {a.images} images  {counts}"
        )
    click.echo(f"{len(audits)} audit{'s' if len(audits) != 1 else ''}", err=True)
    return 0


@ledger_group.command("prune")
@_ledger_option
@click.option(
    "--keep-days", type=click.IntRange(min=1), required=True, metavar="N", help="Keep evidence of the last N days."
)
def ledger_prune(ledger_url: str, keep_days: int) -> int:
    """Remove audits whose evidence is older than --keep-days, and what no remaining audit uses."""
    from patchlevel.ledger.query import prune
    from patchlevel.ledger.store import open_existing

    with open_existing(ledger_url, migrate=True) as store:  # an existing patchlevel ledger only
        outcome = prune(store, keep_days, _today())
    click.echo(
        f"patchlevel: removed {outcome.audits} audit{'s' if outcome.audits != 1 else ''} with evidence before "
        f"{outcome.before} and {outcome.orphans} rows no audit used",
        err=True,
    )
    return 0


@cli.command("period")
@_ledger_option
@click.option("--cluster", metavar="NAME", help="The cluster (its name or kube-system UID). Default: the only one.")
@click.option("--all-clusters", is_flag=True, help="Every cluster in the ledger (needs -o DIR): a fleet table too.")
@click.option("--from", "start", required=True, metavar="DATE", help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", help="Last day of the period (YYYY-MM-DD). Default: today, UTC.")
@click.option(
    "--format",
    "fmt",
    default="terminal",
    show_default=True,
    metavar="FORMATS",
    help="terminal, html, json, markdown or oscal; several, comma separated, need -o DIR.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here (a file or directory).")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path), metavar="FILE", help="Policy file.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Lifecycle data directory to use.")
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    default="fail",
    show_default=True,
    help="Exit 1 when a period finding is at or above this status (warn < unknown < fail).",
)
def period(
    ledger_url: str,
    cluster: str | None,
    all_clusters: bool,
    start: str,
    end: str | None,
    fmt: str,
    output: Path | None,
    policy_file: Path | None,
    data_dir: Path | None,
    fail_on: str,
) -> int:
    """Judge a period from the audit ledger: verdicts per requirement, gaps, SLA days, charts."""
    gc.disable()  # as for audits: a short run over many acyclic records
    from patchlevel.knowledge import load_default_knowledge
    from patchlevel.ledger.run import exit_code_of, period_fleet, period_report
    from patchlevel.render.period_formats import PERIOD_EXTENSIONS, PERIOD_RENDERERS, PeriodFormat

    first, last = _parse_as_of(start, "--from"), _parse_as_of(end, "--to")
    formats = _choose(fmt, PeriodFormat)
    if len(formats) > 1 and output is None:
        raise UsageError("several formats need -o DIR to write them into")
    policy = _ledger_policy(policy_file)
    knowledge = load_default_knowledge(data_dir)
    if all_clusters:
        if cluster is not None:
            raise UsageError("--all-clusters reports every cluster: do not give --cluster")
        if output is None or output.is_file():
            raise UsageError("--all-clusters writes one report per cluster: give -o DIR")
        return period_fleet(
            ledger_url, first, last, policy=policy, knowledge=knowledge, formats=[f.value for f in formats],
            output=output, fail_on=FAIL_ON[fail_on], notify=_notify,
        )  # fmt: skip
    report = period_report(ledger_url, cluster, first, last, policy=policy, knowledge=knowledge)
    _write(
        output, formats, lambda f: PERIOD_RENDERERS[f](report), PERIOD_EXTENSIONS, stem="period-report",
        noun="period report",
    )  # fmt: skip
    return exit_code_of(report, FAIL_ON[fail_on])


# ------------------------------------------------------------------------------------------
# patchlevel plan (patchlevel.plan): the dated, ordered path from the audit's findings to compliant


@cli.command("plan")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_live_options
@click.option("--as-of", "as_of", metavar="DATE", help="Plan as of this date (YYYY-MM-DD). Default: today, UTC.")
@click.option(
    "--target",
    metavar="MINOR",
    help="Kubernetes minor to plan to (e.g. 1.35; on OpenShift also 4.18). "
    "Default: the newest the platform supports on the as-of date.",
)
@click.option(
    "--format",
    "fmt",
    default="terminal",
    show_default=True,
    metavar="FORMATS",
    help="terminal, markdown, json or html; several, comma separated, need -o DIR.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the plan here (a file, or a directory).")
@_evidence_options
@click.option("--prepared-by", metavar="NAME", help="Who prepared the plan (its approval block). Default: patchlevel.")
@click.option("--color/--no-color", default=None, help="Colour the terminal plan (default: when stdout is a terminal).")
def plan_command(
    path: Path | None,
    context: str | None,
    kubeconfig: Path | None,
    request_timeout: float,
    deadline: float,
    page_size: int,
    as_of: str | None,
    target: str | None,
    fmt: str,
    output: Path | None,
    policy_file: Path | None,
    data_dir: Path | None,
    scan_reports: tuple[Path, ...],
    vex: tuple[Path, ...],
    node_scans: tuple[str, ...],
    prepared_by: str | None,
    color: bool | None,
) -> int:
    """Plan the path to compliant: a snapshot, an evidence bundle, or without PATH the live cluster.

    Exit 0 when no step is past its latest safe date, 1 when one is, 3 when the audit was incomplete.
    """
    from patchlevel.plan.run import plan_cluster
    from patchlevel.render.plan import PLAN_EXTENSIONS, PlanFormat, render_plan
    from patchlevel.render.plan_terminal import render_plan_terminal

    formats = _choose(fmt, PlanFormat)
    if len(formats) > 1 and output is None:
        raise UsageError("several formats need -o DIR to write them into")
    config = _config(as_of, policy_file, data_dir, scan_reports, vex, node_scans)
    source = _source(path, _live_source(context, kubeconfig, request_timeout, deadline, page_size))
    outcome = _with_progress(
        source,
        lambda progress: plan_cluster(
            config, source, target=target, prepared_by=prepared_by or "", notify=_notify, progress=progress
        ),
    )
    plan = outcome.plan
    _write(
        output, formats, lambda f: render_plan(plan, f), PLAN_EXTENSIONS, stem="patchlevel-plan", noun="plan",
        protected=outcome.audit.protected, terminal_format=PlanFormat.TERMINAL,
        terminal=lambda tty, width: render_plan_terminal(plan, color=tty if color is None else color, width=width),
    )  # fmt: skip
    for reason in outcome.audit.incomplete:
        _notify(f"error: the audit behind the plan is incomplete: {reason}")
    return outcome.exit_code


# ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code.  Errors become one line on stderr, never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    collecting = gc.isenabled()
    try:
        result = cli.main(args=args, prog_name="patchlevel", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("patchlevel: aborted", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE
    except PatchlevelError as exc:
        click.echo(f"patchlevel: error: {visible(str(exc))}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("patchlevel: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except MemoryError:
        click.echo("patchlevel: error: out of memory while reading the input", err=True)
        return ExitCode.INCOMPLETE
    except RecursionError:
        click.echo("patchlevel: error: the input is nested too deeply to read", err=True)
        return ExitCode.INCOMPLETE
    except Exception as exc:
        if os.environ.get("PATCHLEVEL_DEBUG"):
            raise
        click.echo(
            f"patchlevel: internal error: {type(exc).__name__}: {visible(str(exc))} "
            "(set PATCHLEVEL_DEBUG=1 for a traceback)",
            err=True,
        )
        return ExitCode.INCOMPLETE
    finally:
        if collecting:  # ``audit`` switches the collector off for speed: give a calling process its own back
            gc.enable()
    return result if isinstance(result, int) else ExitCode.OK


def entry_point() -> None:
    sys.exit(main())
