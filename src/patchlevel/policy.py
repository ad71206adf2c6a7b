"""Policy: the thresholds checks apply, and accepted exceptions (waivers).

Defaults follow PCI DSS v4.0.1: security patches for critical vulnerabilities within one month
of release (6.3.3), so the patch window is 30 days.  A policy file (``--policy``) overrides any
of them; see ``patchlevel policy init`` for a commented template.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from patchlevel.dates import iso_day
from patchlevel.errors import PolicyError
from patchlevel.model import JSONValue, Severity, Status, Waiver


class SeveritySource(StrEnum):
    """Which severity ranks an image vulnerability: the scanner report's, NVD's CVSS, or the higher."""

    REPORT = "report"
    NVD = "nvd"
    HIGHEST = "highest"


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
    # an update agent's reboot pending (or a newer kernel installed, not booted) longer than this: FAIL
    reboot_pending_max_days: int = 7
    # 10.3 / 11.3.1: images
    scan_max_age_days: int = 30  # a running image's newest scan older than this before as-of: FAIL
    # 10.3 / 6.3.3: a fixable vulnerability open longer than its severity's window (counted from the
    # fix's release, else its publication, else the first scan that reported the fix) gets that
    # severity's status.  PCI DSS v4.0.1 6.3.3: critical within one month (FAIL); high is left to the
    # entity's risk assessment (WARN at one month by default); severities not listed are not timed.
    sla_days: Mapping[Severity, int] = field(default_factory=lambda: {Severity.CRITICAL: 30, Severity.HIGH: 30})
    sla_status: Mapping[Severity, Status] = field(
        default_factory=lambda: {Severity.CRITICAL: Status.FAIL, Severity.HIGH: Status.WARN}
    )
    no_fix_status: Status = Status.WARN  # a timed-severity vulnerability with no fix released yet
    image_max_age_days: int = 180  # image created (config date) longer ago than this: WARN
    allowed_registries: tuple[str, ...] = ()
    # 6.3.1 / 6.3.3: risk ranking of image vulnerabilities (issue 10)
    known_exploited_sla_days: int = 30  # a fixable vulnerability in CISA KEV is critical: this window, FAIL
    epss_threshold: float | None = None  # EPSS score at or above which a vulnerability is raised to high; None: off
    severity_source: SeveritySource = SeveritySource.REPORT  # report | nvd | highest
    vex_max_age_days: int = 365  # VEX statements older than this are ignored (and reported)
    scanner_db_max_age_days: int = 7  # a scan whose vulnerability database was older than this: WARN (11.3.1)
    # data freshness
    lifecycle_stale_days: int = 90
    # the period report (``patchlevel period``, from the audit ledger)
    max_evidence_gap_days: int = 7  # longest stretch between recorded audits before the evidence has a gap
    node_max_days_without_reboot: int = 45  # a node up longer than this without a reboot (bootID change): FAIL
    node_kernel_max_lag_days: int = 30  # days a node may run an older kernel than its pool peers: kernel_drift
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
            elif isinstance(value, Status | SeveritySource):
                value = value.value
            out[f.name] = value
        return out


# ------------------------------------------------------------------------------------------
# Loading and validating a policy file.  Every error names the file, the line and the field.

POLICY_FILE_VERSION = 1
MAX_POLICY_DAYS = 36_525  # any day count: a window or age past 100 years means none, and dates would overflow
POLICY_MAX_BYTES = 16 * 1024 * 1024  # a policy with thousands of waivers is well under a megabyte
WAIVER_REQUIRED = ("check", "subject", "reason", "owner", "expires")
WAIVER_OPTIONAL = ("id", "approved_by", "vulnerability")
_NOT_SETTABLE = frozenset({"waivers", "source"})
_STATUS_WORDS = ("pass", "warn", "fail")
_RAW_MAX = 64  # a value quoted in an error is cut here: one readable line, whatever the file holds

# What each threshold means, for ``patchlevel policy init``.  A field missing here (added by a newer
# check) still appears in the template, with its default and a generic comment.
FIELD_DOCS: Mapping[str, str] = {
    "support_warning_days": "Warn when a release's standard support ends within this many days (PCI DSS 12.3.4: "
    "plan the move before end of life).",
    "extended_support": "How to judge a release in extended, LTS or paid support (Ubuntu ESM, EKS extended, "
    "RHEL ELS, Windows ESU): pass, warn or fail.",
    "patch_window_days": "Days a newer patch may be out before running the older one is overdue (PCI DSS 6.3.3: "
    "critical patches within one month of release).",
    "patch_behind": "Status for running an older patch longer than the window when no known CVE is fixed by "
    "the newer one: warn or fail (a fixed known CVE always fails).",
    "kernel_drift": "Status for a node running an older kernel than its pool peers: warn or fail.",
    "node_max_age_days": "A node with no dated node image, registered longer ago than this, warns: in-place "
    "patching must then be proven another way.",
    "node_image_max_age_days": "A dated node image (AKS, Amazon Linux 2023, RHCOS) older than this warns.",
    "reboot_pending_max_days": "Days a node may wait for a reboot before it fails: an update agent (kured, the "
    "Flatcar or Bottlerocket operator, system-upgrade-controller, OpenShift machine-config) reporting a reboot "
    "pending or an update stuck this long, an OpenShift pool updating this long, or a newer kernel installed and "
    "not booted this long after the host scan that showed it (PCI container guidance 10.2). Within it: warn.",
    "scan_max_age_days": "An image scan older than this no longer counts as evidence (PCI DSS 11.3.1).",
    "sla_days": "Days a fixable vulnerability may stay open, per severity, counted from the fix's release "
    "(PCI DSS 6.3.3: critical within one month; other severities as your risk analysis sets).",
    "sla_status": "Status of a vulnerability open past its SLA, per severity: warn or fail.",
    "image_max_age_days": "A running image built longer ago than this warns.",
    "allowed_registries": "Registries images may come from (empty: any).",
    "lifecycle_stale_days": "Warn when the lifecycle data is older than this many days at the as-of date.",
    "known_exploited_sla_days": "Days a fixable vulnerability listed in CISA's Known Exploited Vulnerabilities "
    "catalog may stay open; it is ranked critical whatever its CVSS, and FAILs past this window.",
    "epss_threshold": "An EPSS score (0 to 1) at or above which a vulnerability is raised to high; null: off.",
    "severity_source": "Which severity ranks image vulnerabilities: report (the scanner's vendor severity), nvd "
    "(NVD CVSS v3/v4) or highest.",
    "vex_max_age_days": "VEX statements older than this many days at the as-of date are ignored, and reported.",
    "scanner_db_max_age_days": "A scan whose vulnerability database was older than this many days when it ran "
    "warns (PCI DSS 11.3.1: an up-to-date scan tool).",
    "max_evidence_gap_days": "Period report: the longest time between two recorded audits; a longer gap fails "
    "audit_evidence_continuous and the days in it are unknown for every period check.",
    "node_max_days_without_reboot": "Period report: a node that runs longer than this without a reboot (its bootID "
    "unchanged) fails nodes_rebooted_onto_current_kernel (PCI container guidance 10.2).",
    "node_kernel_max_lag_days": "Period report: days a node may keep an older kernel than its pool peers before "
    "nodes_rebooted_onto_current_kernel reports it with the kernel_drift status.",
}


def _field_types() -> dict[str, Any]:
    import typing

    hints = typing.get_type_hints(Policy)
    return {f.name: hints[f.name] for f in fields(Policy) if f.name not in _NOT_SETTABLE}


def _where(source: str, node: Any) -> str:
    mark = getattr(node, "start_mark", None)
    return f"{source}:{mark.line + 1}" if mark is not None else source


def _fail(source: str, node: Any, field_name: str, problem: str, hint: str = "") -> PolicyError:
    return PolicyError(f"{_where(source, node)}: {field_name}: {problem}", hint=hint)


def _scalar(node: Any) -> Any:
    """The Python value of a YAML scalar node, as PyYAML's safe loader would build it."""
    import yaml

    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except (ValueError, OverflowError, yaml.YAMLError):
        return node.value  # e.g. a timestamp like 2026-13-01: keep the text, the caller names the problem


def _pairs(source: str, node: Any, field_name: str) -> list[tuple[str, Any, Any]]:
    """(key, key node, value node) of a YAML mapping; duplicate or non-string keys are errors."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        raise _fail(source, node, field_name, "expected a mapping of keys to values")
    out: list[tuple[str, Any, Any]] = []
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise _fail(source, key_node, field_name, f"keys must be words, not {key!r}")
        if key in seen:
            raise _fail(source, key_node, f"{field_name}.{key}" if field_name else key, "given twice")
        seen.add(key)
        out.append((key, key_node, value_node))
    return out


# Checks that were renamed, so a policy written for an older release says what to write instead.
RENAMED_CHECKS = {"image_age": "image_built_recently"}


def _suggest(word: str, choices: Iterable[str]) -> str:
    import difflib

    if word in RENAMED_CHECKS:
        return f"it was renamed {RENAMED_CHECKS[word]!r}"

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def _int(source: str, node: Any, name: str) -> int:
    import yaml

    value = _scalar(node) if isinstance(node, yaml.ScalarNode) else None
    # dates this far out overflow (a plan's due dates crashed on 100000000000); an int past int()'s
    # 4,300-digit limit stays text, tagged int
    too_many = isinstance(value, str) and node.tag.endswith(":int")
    if too_many or (isinstance(value, int) and not isinstance(value, bool) and value > MAX_POLICY_DAYS):
        raise _fail(source, node, name, f"must be at most {MAX_POLICY_DAYS} days (100 years), got {_raw(node)}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(source, node, name, f"expected a whole number of days, got {_raw(node)}")
    if value < 0:
        raise _fail(source, node, name, f"must not be negative, got {value}")
    return value


def _status(source: str, node: Any, name: str) -> Status:
    import yaml

    value = _scalar(node) if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(value, str) or value.lower() not in _STATUS_WORDS:
        raise _fail(source, node, name, f"expected one of {', '.join(_STATUS_WORDS)}, got {_raw(node)}")
    return Status(value.lower())


def _text(source: str, node: Any, name: str) -> str:
    import yaml

    value = _scalar(node) if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, node, name, f"expected non-empty text, got {_raw(node)}")
    return value.strip()


def _raw(node: Any) -> str:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        if node.value == "":
            return "nothing"
        text = repr(node.value)
        return text if len(text) <= _RAW_MAX else f"{text[: _RAW_MAX - 1]}… ({len(node.value)} characters)"
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


def _severity_map(source: str, node: Any, name: str, value_type: Any) -> dict[Severity, Any]:
    out: dict[Severity, Any] = {}
    words = [s.value for s in Severity]
    for key, key_node, value_node in _pairs(source, node, name):
        if key.lower() not in words:
            raise _fail(source, key_node, f"{name}.{key}", f"not a severity; use {', '.join(words)}")
        sub = f"{name}.{key}"
        out[Severity(key.lower())] = (
            _int(source, value_node, sub) if value_type is int else _status(source, value_node, sub)
        )
    return out


def _value(source: str, node: Any, name: str, hint: Any) -> Any:
    """Convert a node to a Policy field of type ``hint``."""
    import typing

    import yaml

    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is int:
        return _int(source, node, name)
    if hint is Status:
        return _status(source, node, name)
    if hint is SeveritySource:
        value = _scalar(node) if isinstance(node, yaml.ScalarNode) else None
        words = [s.value for s in SeveritySource]
        if not isinstance(value, str) or value.lower() not in words:
            raise _fail(source, node, name, f"expected one of {', '.join(words)}, got {_raw(node)}")
        return SeveritySource(value.lower())
    if hint == float | None:
        value = _scalar(node) if isinstance(node, yaml.ScalarNode) else None
        if value is None and isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise _fail(source, node, name, f"expected a number above 0 and at most 1, or null, got {_raw(node)}")
        return float(value)
    if hint is bool:
        value = _scalar(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, bool):
            raise _fail(source, node, name, f"expected true or false, got {_raw(node)}")
        return value
    if hint is str:
        return _text(source, node, name)
    if origin is tuple and args[:1] == (str,):
        if not isinstance(node, yaml.SequenceNode):
            raise _fail(source, node, name, f"expected a list, got {_raw(node)}")
        return tuple(_text(source, item, f"{name}[{i}]") for i, item in enumerate(node.value))
    if origin is not None and args and args[0] is Severity:
        return _severity_map(source, node, name, args[1])
    raise _fail(source, node, name, "this setting cannot be set from a policy file")


def _expires(source: str, node: Any, name: str) -> date:
    """The last day a waiver holds, read from the text as written: YYYY-MM-DD naming a real day, only.

    Not YAML's own date reading (which takes ``2026-9-1``), nor ``date.fromisoformat`` (which takes
    ``20260901``, ``2026-W36-2`` and ``2026W362aa``-like text as some other day).
    """
    import yaml

    value = iso_day(node.value) if isinstance(node, yaml.ScalarNode) and isinstance(node.value, str) else None
    if value is None:
        raise _fail(source, node, name, f"expected a date YYYY-MM-DD, got {_raw(node)}")
    return value


def _waiver(source: str, node: Any, index: int, known_checks: Collection[str]) -> Waiver:
    name = f"waivers[{index}]"
    pairs = _pairs(source, node, name)
    given = {key: (key_node, value_node) for key, key_node, value_node in pairs}
    for key, key_node, _ in pairs:
        if key not in WAIVER_REQUIRED and key not in WAIVER_OPTIONAL:
            raise _fail(
                source,
                key_node,
                f"{name}.{key}",
                "unknown key",
                hint=_suggest(key, WAIVER_REQUIRED + WAIVER_OPTIONAL)
                or f"a waiver has {', '.join(WAIVER_REQUIRED)} and optionally {', '.join(WAIVER_OPTIONAL)}",
            )
    missing = [k for k in WAIVER_REQUIRED if k not in given]
    if missing:
        raise _fail(
            source, node, name, f"missing {', '.join(missing)}", hint="every waiver needs " + ", ".join(WAIVER_REQUIRED)
        )
    values: dict[str, Any] = {}
    for key, (_, value_node) in given.items():
        sub = f"{name}.{key}"
        values[key] = _expires(source, value_node, sub) if key == "expires" else _text(source, value_node, sub)
    if known_checks and values["check"] not in known_checks:
        raise _fail(
            source,
            given["check"][1],
            f"{name}.check",
            f"no check is called {values['check']!r}",
            hint=_suggest(values["check"], known_checks) or "'patchlevel checks' lists them",
        )
    return Waiver(**values)


def parse_policy(text: str, source: str, known_checks: Collection[str] = ()) -> Policy:
    """A Policy from YAML text; ``source`` names the file in errors.  An empty document means the defaults.

    ``known_checks``, when given, makes a waiver naming an unknown check an error.
    """
    import yaml

    from patchlevel.safeinput import YAMLLimitError, check_yaml_node

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            check_yaml_node(root)  # aliases that expand into millions of nodes, or loop
    except YAMLLimitError as exc:  # before YAMLError, which it extends
        raise PolicyError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(f"{where}: not valid YAML: {problem}") from None
    except RecursionError:
        raise PolicyError(f"{source}: nested too deeply to be a policy file") from None
    if root is None:
        return Policy(source=source)
    types = _field_types()
    values: dict[str, Any] = {}
    waivers: list[Waiver] = []
    for key, key_node, value_node in _pairs(source, root, ""):
        if key == "version":
            version = _scalar(value_node) if isinstance(value_node, yaml.ScalarNode) else None
            if version != POLICY_FILE_VERSION:
                raise _fail(
                    source, value_node, "version", f"this patchlevel reads policy version 1, not {_raw(value_node)}"
                )
        elif key == "waivers":
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
                continue
            if not isinstance(value_node, yaml.SequenceNode):
                raise _fail(source, value_node, "waivers", f"expected a list of waivers, got {_raw(value_node)}")
            waivers.extend(_waiver(source, item, i, known_checks) for i, item in enumerate(value_node.value))
        elif key in types:
            values[key] = _value(source, value_node, key, types[key])
        else:
            raise _fail(
                source,
                key_node,
                key,
                "unknown setting",
                hint=_suggest(key, [*types, "waivers", "version"]) or "'patchlevel policy init' writes every setting",
            )
    ids = [w.id for w in waivers if w.id]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise PolicyError(f"{source}: waivers: id {duplicate!r} is used by more than one waiver")
    return Policy(**values, waivers=tuple(waivers), source=source)


def load_policy(path: Path, known_checks: Collection[str] = ()) -> Policy:
    """Read and validate a policy file; errors are PolicyError naming the file, line and field."""
    from patchlevel.safeinput import read_regular

    if not path.exists() and not path.is_symlink():
        raise PolicyError(f"policy file {path} does not exist", hint="'patchlevel policy init' writes one")
    if path.is_dir():
        raise PolicyError(f"policy file {path} is a directory")
    try:
        # a regular file only, bounded: a FIFO or device named as the policy must not hang the audit
        text = read_regular(path, POLICY_MAX_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"policy file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror or exc}") from None
    return parse_policy(text, str(path), known_checks)


def _yaml_value(value: Any) -> str:
    import yaml

    if isinstance(value, Mapping):
        if not value:
            return " {}"
        return "".join(f"\n  {k}: {_yaml_value(v).strip()}" for k, v in value.items())
    if isinstance(value, tuple | list):
        return " []" if not value else "".join(f"\n  - {_yaml_value(v).strip()}" for v in value)
    text: str = yaml.safe_dump(value, default_flow_style=True).strip()
    return " " + text.removesuffix("\n...").strip()


def default_policy_text() -> str:
    """A commented policy file holding every setting at its default, for ``patchlevel policy init``."""
    import textwrap

    defaults = Policy().to_dict()
    lines = [
        "# patchlevel policy: thresholds the checks apply, and accepted exceptions (waivers).",
        "# Every value below is the built-in default, which follows PCI DSS v4.0.1; delete what you do",
        "# not change.  Use it with: patchlevel audit SNAPSHOT --policy FILE",
        "version: 1",
    ]
    for name in _field_types():
        doc = FIELD_DOCS.get(name, "See the check that uses this setting.")
        lines.append("")
        lines.extend("# " + line for line in textwrap.wrap(doc, 96))
        lines.append(f"{name}:{_yaml_value(defaults[name])}")
    lines += [
        "",
        "# Waivers: accepted exceptions.  A waived finding is reported as WAIVED (never hidden) and counted",
        "# apart; after 'expires' (the last day it holds) the finding counts again and the waiver is reported",
        "# as expired; a waiver that matches no finding is reported too.",
        "#   check:         a check id ('patchlevel checks' lists them)",
        "#   subject:       glob over the finding's subject, e.g. node/ip-10-0-*.ec2.internal",
        "#   vulnerability: (optional) glob over vulnerability ids, for image findings, e.g. CVE-2024-*",
        "#   reason, owner, expires (YYYY-MM-DD): required; id, approved_by: optional",
        "waivers: []",
        "#  - id: W-001",
        "#    check: node_os_supported",
        "#    subject: node/legacy-*",
        "#    reason: Ubuntu 20.04 ESM covers security fixes until the pool moves to 24.04 (CHG-1234)",
        "#    owner: platform-team@example.com",
        "#    approved_by: ciso@example.com",
        "#    expires: 2027-03-31",
        "",
    ]
    return "\n".join(lines)
