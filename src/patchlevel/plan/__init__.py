"""``patchlevel plan``: the dated, ordered path from an audit's findings to a compliant cluster.

``patchlevel.plan.model`` holds the Plan value every renderer draws; ``build.build_plan`` makes it
from one audit (report and facts), the same knowledge and policy, the API removal table and the
typed inputs of ``inputs`` (API versions in use, disruption budgets).  This package imports nothing
at import time: renderers import ``patchlevel.plan.model`` alone.
"""
