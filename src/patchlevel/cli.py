"""The command line: parse options, wire collect → evaluate → render, map outcomes to exit codes.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage error;
3 the audit could not complete.  ``main(argv)`` returns the code and never raises, so tests call
it directly; only ``entry_point`` exits the process.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from patchlevel import __version__
from patchlevel.errors import OutputError, PatchlevelError, UsageError
from patchlevel.model import Status, exit_code

if TYPE_CHECKING:
    from patchlevel.collect.fleet import FleetEntry
    from patchlevel.inventory import Inventory
    from patchlevel.model import Report
    from patchlevel.policy import Policy
    from patchlevel.registry import Resolution
    from patchlevel.render import Format

FAIL_ON = {"fail": Status.FAIL, "unknown": Status.UNKNOWN, "warn": Status.WARN, "never": None}


def _today() -> date:
    return datetime.now(UTC).date()


def _parse_as_of(value: str | None) -> date:
    if value is None:
        return _today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--as-of {value!r} is not a date (use YYYY-MM-DD)") from None


def _formats(value: str) -> list[str]:
    from patchlevel.render import Format

    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    allowed = [f.value for f in Format]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise UsageError(f"--format {value!r}: choose from {', '.join(allowed)} (comma separated)")
    return list(dict.fromkeys(names))


def write_atomically(path: Path, data: bytes | Iterable[bytes], protected: set[Path]) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a report; never over an input."""
    target = path.resolve()
    if target in protected:
        raise OutputError(f"refusing to write the report over an input file: {path}")
    if target.is_dir():
        raise OutputError(f"{path} is a directory", hint="name a file, or give several formats to write into it")
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                for piece in (data,) if isinstance(data, bytes) else data:
                    out.write(piece)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; a report is an ordinary file
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


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
            help="Time allowed for each API request (live clusters).",
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


@dataclass(frozen=True, slots=True)
class _LiveSettings:
    context: str | None
    kubeconfig: Path | None
    request_timeout: float
    deadline: float
    page_size: int

    @property
    def given(self) -> bool:
        return self.context is not None or self.kubeconfig is not None


def _collect_live(live: _LiveSettings, bundle: Path | None = None, force: bool = False) -> Inventory:
    """The live cluster's inventory (into ``bundle`` too when given), with a progress bar on a terminal."""
    import contextlib

    from patchlevel.collect.kubeconfig import resolve_access
    from patchlevel.collect.live import LiveOptions, collect_bundle, collect_live, system_host, terminal_progress

    host = system_host()
    access = resolve_access(kubeconfig=live.kubeconfig, context=live.context, environ=host.environ)
    options = LiveOptions(page_size=live.page_size, request_timeout=live.request_timeout, deadline=live.deadline)
    progress = terminal_progress(sys.stderr)
    with progress if progress is not None else contextlib.nullcontext():
        if bundle is None:
            collection = collect_live(access, host=host, options=options, progress=progress)
        else:
            collection, digest = collect_bundle(
                access, bundle, host=host, force=force, options=options, progress=progress
            )
    inventory = collection.inventory
    if bundle is not None:
        click.echo(
            f"wrote {bundle}: {len(inventory.nodes)} nodes, {len(inventory.pods)} pods from {access.server} "
            f'(context "{access.context}"); manifest sha256 {digest}',
            err=True,
        )
    for warning in inventory.warnings:
        click.echo(f"patchlevel: warning: {warning}", err=True)
    return inventory


def _audit_fleet(
    path: Path | None,
    live: _LiveSettings,
    formats: Sequence[Format],
    output: Path | None,
    fail_on: str,
    day: date,
    report_for: Callable[[Inventory], Report],
) -> int:
    """``audit --all-contexts``: one report per kubeconfig context in ``output``, and fleet-summary.json."""
    import json

    from patchlevel.collect.fleet import FleetEntry, fleet_summary, report_stem, run_fleet
    from patchlevel.collect.kubeconfig import kubeconfig_paths, load_kubeconfig
    from patchlevel.collect.live import LiveOptions, collect_live, system_host
    from patchlevel.model import count_by_status
    from patchlevel.render import EXTENSIONS, Format, render_chunks

    if path is not None or live.context is not None:
        raise UsageError("--all-contexts audits every kubeconfig context: give neither PATH nor --context")
    if output is None or output.is_file() or Format.TERMINAL in formats:
        raise UsageError("--all-contexts writes one report per cluster: give -o DIR and a file format (e.g. json)")
    host = system_host()
    config = load_kubeconfig(kubeconfig_paths(live.kubeconfig, host.environ), explicit=live.kubeconfig is not None)
    contexts = config.context_names()
    if not contexts:
        raise UsageError("--all-contexts: the kubeconfig names no context")
    taken: set[str] = set()
    stems = {name: report_stem(name, taken) for name in contexts}
    options = LiveOptions(page_size=live.page_size, request_timeout=live.request_timeout, deadline=live.deadline)

    def audit_one(name: str) -> FleetEntry:
        access = config.access(name)
        report = report_for(collect_live(access, host=host, options=options).inventory)
        written = []
        for fmt in formats:
            target = output / f"{stems[name]}.{EXTENSIONS[fmt]}"
            write_atomically(target, render_chunks(report, fmt), set())
            written.append(target.name)
        counts = {status.value: n for status, n in count_by_status(report.findings).items() if n}
        code = exit_code(report.findings, FAIL_ON[fail_on])
        return FleetEntry(name, code, server=access.server, version=report.cluster.version, counts=counts,
                          reports=tuple(written))  # fmt: skip

    entries = run_fleet(contexts, audit_one)
    summary = fleet_summary(entries, as_of=day, generated_at=datetime.now(UTC))
    write_atomically(output / "fleet-summary.json", json.dumps(summary, indent=2).encode() + b"\n", set())
    for entry in entries:
        outcome = (
            f"failed: {entry.error}" if entry.failed else f"exit {entry.exit_code}, reports {', '.join(entry.reports)}"
        )
        click.echo(f"patchlevel: {entry.context}: {outcome}", err=True)
    click.echo(f"wrote the fleet summary to {output / 'fleet-summary.json'}", err=True)
    return int(summary["exit_code"])


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
    help="terminal, json, html, junit, oscal or markdown; several, comma separated, need -o DIR.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here (a file, or a directory).")
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    default="fail",
    show_default=True,
    help="Exit 1 when a finding is at or above this status (warn < unknown < fail).",
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Lifecycle data directory to use instead of the default."
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Policy file: thresholds and waivers ('patchlevel policy init' writes one). Default: built-in.",
)
@click.option("--show-passed", is_flag=True, help="List passed findings in the terminal report too.")
@click.option(
    "--color/--no-color", default=None, help="Colour the terminal report (default: when stdout is a terminal)."
)
@click.option(
    "--scan-report",
    "scan_reports",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Trivy, Grype or trivy-operator report, or a directory of them (repeatable).",
)
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
def audit(
    path: Path,
    as_of: str | None,
    fmt: str,
    output: Path | None,
    fail_on: str,
    data_dir: Path | None,
    policy_file: Path | None,
    show_passed: bool,
    color: bool | None,
    scan_reports: tuple[Path, ...],
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
) -> int:
    """Audit a cluster: a snapshot (kubectl JSON/YAML), an evidence bundle, or without PATH the live cluster.

    Without PATH: the kubeconfig's current context (or --context), or inside a pod its service account.
    """
    from patchlevel.audit import audit as run_audit
    from patchlevel.audit import load_knowledge
    from patchlevel.checks import ALL_CHECKS
    from patchlevel.collect.snapshot import read_snapshot, snapshot_files
    from patchlevel.lifecycle.catalog import load_catalog
    from patchlevel.policy import Policy, load_policy
    from patchlevel.render import EXTENSIONS, Format, render_chunks
    from patchlevel.render.terminal import render_terminal

    gc.disable()  # a short-lived run over up to millions of acyclic records: reference counting suffices
    day = _parse_as_of(as_of)
    formats = [Format(f) for f in _formats(fmt)]
    if len(formats) > 1 and output is None:
        raise UsageError("several formats need -o DIR to write them into")
    policy = load_policy(policy_file, {c.id for c in ALL_CHECKS}) if policy_file is not None else Policy()
    knowledge = load_knowledge(load_catalog(data_dir))
    _check_image_options(scan_reports, scan, scan_cache, registry_check, insecure_registries, docker_config)
    live = _LiveSettings(context, kubeconfig, request_timeout, deadline, page_size)
    if all_contexts:

        def fleet_report(inventory: Inventory) -> Report:
            inventory, registry = _image_evidence(
                inventory, policy, scan_reports, scan, scan_cache, registry_check, insecure_registries,
                registry_timeout, docker_config,
            )  # fmt: skip
            return run_audit(inventory, knowledge, policy, day, datetime.now(UTC), registry=registry)

        return _audit_fleet(path, live, formats, output, fail_on, day, fleet_report)
    if path is not None and live.given:
        raise UsageError("--context and --kubeconfig are for live clusters; PATH is a snapshot or bundle")
    inventory = read_snapshot(path) if path is not None else _collect_live(live)
    inventory, registry = _image_evidence(
        inventory,
        policy,
        scan_reports,
        scan,
        scan_cache,
        registry_check,
        insecure_registries,
        registry_timeout,
        docker_config,
    )
    report = run_audit(inventory, knowledge, policy, day, datetime.now(UTC), registry=registry)

    protected = {p.resolve() for p in snapshot_files(path)} if path is not None and path.exists() else set()
    if policy_file is not None:
        protected.add(policy_file.resolve())
    protected |= {Path(i.path).resolve() for i in inventory.inputs}
    if output is None:
        fmt0 = formats[0]
        if fmt0 is Format.TERMINAL:
            use_color = sys.stdout.isatty() if color is None else color
            width = max(100, shutil.get_terminal_size((120, 40)).columns) if sys.stdout.isatty() else 120
            sys.stdout.write(render_terminal(report, color=use_color, width=width, show_passed=show_passed))
        else:
            for piece in render_chunks(report, fmt0):
                sys.stdout.buffer.write(piece)
            sys.stdout.flush()
    elif len(formats) == 1 and not output.is_dir():
        write_atomically(output, render_chunks(report, formats[0]), protected)
        click.echo(f"wrote {formats[0].value} report to {output}", err=True)
    else:
        stem = "patchlevel-report"
        for f in formats:
            target = output / f"{stem}.{EXTENSIONS[f]}"
            write_atomically(target, render_chunks(report, f), protected)
            click.echo(f"wrote {f.value} report to {target}", err=True)
    return exit_code(report.findings, FAIL_ON[fail_on])


def _check_image_options(
    scan_reports: Sequence[Path],
    scan: str | None,
    scan_cache: Path | None,
    registry_check: bool,
    insecure_registries: Sequence[str],
    docker_config: Path | None,
) -> None:
    """Usage errors of the image options, before any input is read."""
    if scan_cache is not None and scan is None:
        raise UsageError("--scan-cache needs --scan")
    if not registry_check and (insecure_registries or docker_config is not None):
        raise UsageError("--insecure-registry and --docker-config need --registry-check")
    for report_path in scan_reports:
        if not report_path.exists():
            raise UsageError(f"--scan-report {report_path}: no such file or directory")
    if docker_config is not None and not docker_config.is_file():
        raise UsageError(f"--docker-config {docker_config}: no such file")


def _image_evidence(
    inventory: Inventory,
    policy: Policy,
    scan_reports: Sequence[Path],
    scan: str | None,
    scan_cache: Path | None,
    registry_check: bool,
    insecure_registries: Sequence[str],
    registry_timeout: float,
    docker_config: Path | None,
) -> tuple[Inventory, dict[str, Resolution] | None]:
    """The I/O behind the image checks: read scan reports, run a scanner, ask registries."""
    import dataclasses

    from patchlevel.images import registry_references, running_images

    scans = list(inventory.scans)
    inputs = list(inventory.inputs)
    warnings = list(inventory.warnings)
    if scan_reports:
        from patchlevel.importers import load_scan_reports

        for report_path in scan_reports:
            loaded = load_scan_reports(report_path)
            scans.extend(loaded.reports)
            inputs.extend(loaded.inputs)
    if scan is not None:
        from patchlevel.scanning import default_cache_dir, run_scans, scan_targets

        run = run_scans(
            scan_targets(running_images(inventory)),
            scan,
            clock=lambda: datetime.now(UTC),
            max_age_days=policy.scan_max_age_days,
            cache_dir=scan_cache or default_cache_dir(os.environ),
        )
        for message in run.messages:
            click.echo(f"patchlevel: {message}", err=True)
        scans.extend(run.reports)
        inputs.extend(run.inputs)
        if run.failed:
            warnings.extend(run.messages)
    registry: dict[str, Resolution] | None = None
    if registry_check:
        from patchlevel.registry import load_docker_credentials, resolve

        references = registry_references(running_images(inventory))
        registry = resolve(
            references,
            timeout=registry_timeout,
            insecure_registries=insecure_registries,
            credentials=load_docker_credentials(docker_config),
            fetch_created=True,
        )
        answered = sum(1 for r in registry.values() if r.digest)
        click.echo(f"patchlevel: registry check: {answered} of {len(registry)} image references resolved", err=True)
    changed = dataclasses.replace(inventory, scans=tuple(scans), inputs=tuple(inputs), warnings=tuple(warnings))
    return changed, registry


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
    _collect_live(_LiveSettings(context, kubeconfig, request_timeout, deadline, page_size), bundle=output, force=force)
    return 0


@cli.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
def verify(bundle: Path) -> int:
    """Check that an evidence bundle is intact: exit 1 naming each changed, added or removed file."""
    from patchlevel.collect.bundle import verify_bundle

    result = verify_bundle(bundle)
    if result.ok:
        click.echo(f"{bundle}: intact: {result.files} files match the manifest (manifest sha256 {result.digest})")
        return 0
    for problem in result.problems:
        click.echo(f"{bundle}: {problem}")
    click.echo(f"patchlevel: {bundle} is NOT intact: {len(result.problems)} problem(s)", err=True)
    return 1


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
def lifecycle_update(products: tuple[str, ...], from_dir: Path | None, data_dir: Path | None, force: bool) -> int:
    """Refresh the lifecycle data from the endoflife.date API v1 (or a directory of its responses)."""
    from patchlevel.lifecycle.update import format_update_result, run_update

    result = run_update(today=_today(), products=products, from_dir=from_dir, data_dir=data_dir, force=force)
    click.echo(format_update_result(result))
    return 0


@cli.command("checks")
def list_checks() -> int:
    """List every check and the requirements it gives evidence for."""
    from patchlevel.audit import check_infos

    for info in check_infos():
        click.echo(f"{info.id}\n  {info.title}\n  requirements: {', '.join(info.requirements) or 'none'}")
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
    from patchlevel.policy import default_policy_text

    text = default_policy_text()
    if str(output) == "-":
        sys.stdout.write(text)
        return 0
    if output.exists() and not force:
        raise UsageError(f"{output} already exists", hint="use --force to overwrite it, or -o to name another file")
    write_atomically(output, text.encode("utf-8"), set())
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
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except PatchlevelError as exc:
        click.echo(f"patchlevel: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("patchlevel: interrupted", err=True)
        return 130
    except MemoryError:
        click.echo("patchlevel: error: out of memory while reading the input", err=True)
        return 3
    except Exception as exc:
        if os.environ.get("PATCHLEVEL_DEBUG"):
            raise
        click.echo(
            f"patchlevel: internal error: {type(exc).__name__}: {exc} (set PATCHLEVEL_DEBUG=1 for a traceback)",
            err=True,
        )
        return 3
    finally:
        if collecting:  # ``audit`` switches the collector off for speed: give a calling process its own back
            gc.enable()
    return result if isinstance(result, int) else 0


def entry_point() -> None:
    sys.exit(main())
