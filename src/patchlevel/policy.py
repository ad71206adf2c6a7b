"""Policy: the thresholds checks apply, and accepted exceptions (waivers).

Defaults follow PCI DSS v4.0.1: security patches for critical vulnerabilities within one month
of release (6.3.3), so the patch window is 30 days.  A policy file (``--policy``) overrides any
of them; see ``patchlevel policy init`` for a commented template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from patchlevel.model import JSONValue, Severity, Status, Waiver


@dataclass(frozen=True, slots=True)
class Policy:
    # 10.1 / 12.3.4: support lifecycle
    support_warning_days: int = 60  # WARN when support ends within this many days
    extended_support: Status = Status.WARN  # extended/LTS/paid phases: pass, warn or fail
    # 10.1 / 6.3.3: patch currency
    patch_window_days: int = 30  # one month from the release of the patch
    patch_behind: Status = Status.WARN  # behind the newest patch longer than the window, no known CVE
    # 10.2: hosts
    kernel_drift: Status = Status.WARN  # a node runs an older kernel than its pool peers
    node_max_age_days: int = 90  # node object older than this and no dated node image: WARN
    node_image_max_age_days: int = 30  # a dated node image (AKS, AL2023, RHCOS) older than this: WARN
    # 10.3: images
    scan_max_age_days: int = 30
    sla_days: Mapping[Severity, int] = field(default_factory=lambda: {Severity.CRITICAL: 30, Severity.HIGH: 30})
    sla_status: Mapping[Severity, Status] = field(
        default_factory=lambda: {Severity.CRITICAL: Status.FAIL, Severity.HIGH: Status.WARN}
    )
    image_max_age_days: int = 180
    allowed_registries: tuple[str, ...] = ()
    # data freshness
    lifecycle_stale_days: int = 90
    # accepted exceptions
    waivers: tuple[Waiver, ...] = ()
    source: str = "built-in defaults"

    def to_dict(self) -> dict[str, JSONValue]:
        """The thresholds in force, for reports (waivers are reported separately)."""
        out: dict[str, JSONValue] = {}
        for f in fields(self):
            if f.name == "waivers":
                continue
            value: Any = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = {str(k): str(v) if isinstance(v, Status) else v for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Status):
                value = value.value
            out[f.name] = value
        return out
