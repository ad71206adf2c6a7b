"""Vulnerability knowledge beside the lifecycle data: known exploitation (CISA KEV), exploit
prediction (FIRST EPSS) and exploitability statements (VEX).

Each module is pure: it parses bytes it is given and answers questions about what it parsed.
The only functions that read files are the explicit ``load_*`` ones; downloads live in
``patchlevel.lifecycle.update``.
"""
