"""The command line: parse options, wire collect → evaluate → render, map outcomes to exit codes.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage error;
3 the audit could not complete.  ``main(argv)`` returns the code and never raises, so tests call
it directly; only ``entry_point`` exits the process.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import click

from patchlevel import __version__
from patchlevel.errors import OutputError, PatchlevelError, UsageError
from patchlevel.model import Status, exit_code

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


def write_atomically(path: Path, data: bytes, protected: set[Path]) -> None:
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
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="patchlevel")
def cli() -> None:
    """Prove whether a Kubernetes cluster is patched (PCI SSC container guidance 10.1-10.3, PCI DSS v4)."""


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), required=True)
@click.option("--as-of", "as_of", metavar="DATE", help="Judge as of this date (YYYY-MM-DD). Default: today, UTC.")
@click.option(
    "--format",
    "fmt",
    default="terminal",
    show_default=True,
    metavar="FORMATS",
    help="terminal or json; several, comma separated, need -o DIR.",
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
@click.option("--show-passed", is_flag=True, help="List passed findings in the terminal report too.")
@click.option(
    "--color/--no-color", default=None, help="Colour the terminal report (default: when stdout is a terminal)."
)
def audit(
    path: Path,
    as_of: str | None,
    fmt: str,
    output: Path | None,
    fail_on: str,
    data_dir: Path | None,
    show_passed: bool,
    color: bool | None,
) -> int:
    """Audit a cluster snapshot: a directory or file of kubectl JSON/YAML output."""
    from patchlevel.audit import audit as run_audit
    from patchlevel.audit import load_knowledge
    from patchlevel.collect.snapshot import read_snapshot, snapshot_files
    from patchlevel.lifecycle.catalog import load_catalog
    from patchlevel.policy import Policy
    from patchlevel.render import EXTENSIONS, Format, render
    from patchlevel.render.terminal import render_terminal

    day = _parse_as_of(as_of)
    formats = [Format(f) for f in _formats(fmt)]
    if len(formats) > 1 and output is None:
        raise UsageError("several formats need -o DIR to write them into")
    policy = Policy()
    knowledge = load_knowledge(load_catalog(data_dir))
    inventory = read_snapshot(path)
    report = run_audit(inventory, knowledge, policy, day, datetime.now(UTC))

    protected = {p.resolve() for p in snapshot_files(path)} if path.exists() else set()
    if output is None:
        fmt0 = formats[0]
        if fmt0 is Format.TERMINAL:
            use_color = sys.stdout.isatty() if color is None else color
            width = max(100, shutil.get_terminal_size((120, 40)).columns) if sys.stdout.isatty() else 120
            sys.stdout.write(render_terminal(report, color=use_color, width=width, show_passed=show_passed))
        else:
            sys.stdout.buffer.write(render(report, fmt0))
            sys.stdout.flush()
    elif len(formats) == 1 and not output.is_dir():
        write_atomically(output, render(report, formats[0]), protected)
        click.echo(f"wrote {formats[0].value} report to {output}", err=True)
    else:
        stem = "patchlevel-report"
        for f in formats:
            target = output / f"{stem}.{EXTENSIONS[f]}"
            write_atomically(target, render(report, f), protected)
            click.echo(f"wrote {f.value} report to {target}", err=True)
    return exit_code(report.findings, FAIL_ON[fail_on])


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


# ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code.  Errors become one line on stderr, never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
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
    return result if isinstance(result, int) else 0


def entry_point() -> None:
    sys.exit(main())
