"""``patchlevel lifecycle show``: what the data says about one product, as of a date."""

from __future__ import annotations

import io
import json
from datetime import date

from rich.console import Console
from rich.table import Table

from patchlevel.lifecycle.catalog import Catalog, PhaseEnd, support_on


def _cell(value: PhaseEnd) -> str:
    if value is None:
        return "—"
    if value is True:
        return "ended (date not recorded)"
    if value is False:
        return "not announced"
    return value.isoformat()


def render_product(catalog: Catalog, product_id: str, as_of: date, *, as_json: bool = False) -> str:
    product = catalog.products[product_id]
    rows = []
    for cycle in product.cycles:
        support = support_on(product, cycle, as_of, catalog.data_date)
        newest = catalog.patches(product_id, cycle.name, as_of)
        rows.append(
            {
                "cycle": cycle.name,
                "codename": cycle.codename or None,
                "released": cycle.release_date.isoformat() if cycle.release_date else None,
                "end_of_active_support": _cell(cycle.eoas),
                "end_of_support": _cell(cycle.eol),
                "end_of_extended_support": _cell(cycle.eoes),
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
        "data_retrieved": catalog.data_date.isoformat(),
        "data_age_days": catalog.age_days(as_of),
        "source": product.source,
        "release_policy": product.policy_link or None,
        "columns": dict(product.column_labels),
        "patch_releases_known": len(product.versions),
    }
    if as_json:
        return json.dumps({**header, "releases": rows}, indent=2) + "\n"
    buffer = io.StringIO()
    console = Console(file=buffer, width=140, no_color=True, highlight=False)
    console.print(f"{product.label} ({product.id}) as of {as_of}")
    console.print(
        f"data retrieved {catalog.data_date} ({header['data_age_days']} days before the as-of date) "
        f"from {product.source}"
    )
    if product.policy_link:
        console.print(f"vendor policy: {product.policy_link}")
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
    for row in rows:
        table.add_row(
            str(row["cycle"]) + (f" ({row['codename']})" if row["codename"] else ""),
            str(row["released"] or "—"),
            str(row["end_of_active_support"]),
            str(row["end_of_support"]),
            str(row["end_of_extended_support"]),
            f"{row['phase']}",
            f"{row['newest_patch'] or '—'}"
            + (f" ({row['newest_patch_released']})" if row["newest_patch_released"] else ""),
        )
    console.print(table)
    return buffer.getvalue()
