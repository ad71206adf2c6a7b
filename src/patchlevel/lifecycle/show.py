"""``patchlevel lifecycle show``: what the data says about one product, as of a date."""

from __future__ import annotations

import io
import json
from datetime import date

from rich.console import Console
from rich.table import Table

from patchlevel.lifecycle.catalog import Catalog, Cycle, PhaseEnd, support_on


def _cell(value: PhaseEnd) -> str:
    if value is None:
        return "—"
    if value is True:
        return "ended (date not recorded)"
    if value is False:
        return "not announced"
    return value.isoformat()


def _support_cell(cycle: Cycle) -> str:
    """End of support as the data knows it: a day, a window of days, a lower bound, or unknown."""
    if cycle.eol_not_before is not None:
        if isinstance(cycle.eol, date):
            return f"between {cycle.eol_not_before} and {cycle.eol}"
        return f"not before {cycle.eol_not_before}; then unknown"
    if cycle.eol_unknown:
        return f"unknown (by {cycle.eol} at the latest)" if isinstance(cycle.eol, date) else "unknown"
    return _cell(cycle.eol)


def _extended_cell(cycle: Cycle) -> str:
    later = "; ".join(f"{p.label} {p.ends}" for p in cycle.later_phases)
    return f"{_cell(cycle.eoes)}; {later}" if later else _cell(cycle.eoes)


def render_product(catalog: Catalog, product_id: str, as_of: date, *, as_json: bool = False) -> str:
    product = catalog.products[product_id]
    # a curated product is dated by its own retrieval, not by the endoflife.date data's
    retrieved = product.retrieved if product.curated and product.retrieved else catalog.data_date
    rows = []
    for cycle in product.cycles:
        support = support_on(product, cycle, as_of, retrieved)
        newest = catalog.patches(product_id, cycle.name, as_of)
        rows.append(
            {
                "cycle": cycle.name,
                "codename": cycle.codename or None,
                "released": cycle.release_date.isoformat() if cycle.release_date else None,
                "end_of_active_support": _cell(cycle.eoas),
                "end_of_support": _support_cell(cycle),
                "end_of_support_not_before": cycle.eol_not_before.isoformat() if cycle.eol_not_before else None,
                "end_of_extended_support": _cell(cycle.eoes),
                "later_phases": [{"label": p.label, "ends": p.ends.isoformat()} for p in cycle.later_phases],
                "lts": cycle.lts,
                "phase": support.phase.value,
                "phase_label": support.phase_label,
                "newest_patch": newest[-1].version if newest else None,
                "newest_patch_released": newest[-1].date.isoformat() if newest else None,
            }
        )
    header = {
        "product": product.id,
        "label": product.label,
        "as_of": as_of.isoformat(),
        "data_retrieved": retrieved.isoformat(),
        "data_age_days": (as_of - retrieved).days,
        "source": product.source,
        "release_policy": product.policy_link or None,
        "columns": dict(product.column_labels),
        "patch_releases_known": len(product.versions),
        "follows": [{"lines": p, "product": f, "statement": t} for p, f, t in product.follows],
        "provenance": list(product.provenance),
    }
    if as_json:
        return json.dumps({**header, "releases": rows}, indent=2) + "\n"
    buffer = io.StringIO()
    console = Console(file=buffer, width=140, no_color=True, highlight=False, markup=False)  # data is text
    console.print(f"{product.label} ({product.id}) as of {as_of}")
    console.print(
        f"data retrieved {header['data_retrieved']} ({header['data_age_days']} days before the as-of date) "
        f"from {product.source}"
    )
    if product.policy_link:
        console.print(f"vendor policy: {product.policy_link}")
    for pattern, followed, statement in product.follows:
        console.print(f"lines matching {pattern} follow {followed}: {statement}")
    for note in product.provenance:
        console.print(f"added to the data: {note}")
    labels = product.column_labels
    console.print(
        "columns: end of active support = "
        f"{labels.get('eoas') or 'not used'}; end of support = {labels.get('eol')}; "
        f"end of extended support = {labels.get('eoes') or 'not used'}"
    )
    table = Table(show_lines=False)
    for title in (
        "release",
        "released",
        "active until",
        "supported until",
        "extended until",
        "as of date",
        "newest patch",
    ):
        table.add_column(title)
    for cycle, row in zip(product.cycles, rows, strict=True):
        table.add_row(
            str(row["cycle"]) + (f" ({row['codename']})" if row["codename"] else ""),
            str(row["released"] or "—"),
            str(row["end_of_active_support"]),
            str(row["end_of_support"]),
            _extended_cell(cycle),
            f"{row['phase']}",
            f"{row['newest_patch'] or '—'}"
            + (f" ({row['newest_patch_released']})" if row["newest_patch_released"] else ""),
        )
    console.print(table)
    return buffer.getvalue()
