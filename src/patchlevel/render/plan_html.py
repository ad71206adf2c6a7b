"""The plan as one self-contained HTML page: summary, steps with dates and reasons, approval block.

Rendered from ``templates/plan.html.j2`` with autoescape; every value passes ``render.jinja``'s finalize (control
and invisible format characters from the input made visible) before it is escaped.  Inline CSS only,
nothing fetched (the page's Content-Security-Policy forbids it); prints to PDF for a change record.
The approval block (PCI DSS 12.3.4) leaves "approved by" and the date empty for the approver.
"""

from __future__ import annotations

from patchlevel.plan.model import STEP_KIND_LABELS, Plan
from patchlevel.render.jinja import environment

MAX_ITEMS = 50  # reasons, nodes, blockers … listed per step, then "+N more"





def render_plan_html(plan: Plan) -> bytes:
    template = environment().get_template("plan.html.j2")
    text = template.render(
        plan=plan,
        kinds={k.value: v for k, v in STEP_KIND_LABELS.items()},
        max_items=MAX_ITEMS,
        generated=plan.generated_at.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    )
    return text.encode("utf-8", "backslashreplace")
