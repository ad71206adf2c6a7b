"""What node update and reboot agents say about each node, normalised (PCI container guidance 10.2).

Clusters that patch nodes in place run an agent that records its state in the API.  ``read_agents``
reads every agent patchlevel knows, read-only, and turns each agent's own words into one of six
states per node (``AgentState``), with the raw annotations, labels or resource fields as evidence:

- **kured** (kubereboot/kured): with ``--annotate-nodes`` it writes
  ``weave.works/kured-reboot-in-progress`` (set, with an RFC 3339 time, when it first finds the
  reboot sentinel inside its reboot window; removed after the reboot) and
  ``weave.works/kured-most-recent-reboot-needed`` (kept after the reboot); the node that is
  draining or rebooting holds the lock in the ``weave.works/kured-node-lock`` annotation of kured's
  own DaemonSet (JSON: ``nodeID``, ``created``, ``TTL`` in nanoseconds; ``maxOwners``/``locks`` with
  ``--concurrency`` > 1); ``--pre-reboot-node-labels`` are set before the drain and
  ``--post-reboot-node-labels`` after the uncordon.  kured sets no node condition.  Source:
  ``cmd/kured/main.go`` and ``pkg/daemonsetlock/daemonsetlock.go``, kured 1.23.0 and ``main`` (see
  tests/data/update-agents/CONSTANTS.md).  The ``kured.dev/`` names exist only in the unmerged pull
  request #1000: both prefixes are read, ``weave.works/`` is the released one.  The flags come from
  the DaemonSet's container arguments and its ``KURED_*`` environment variables; only they say
  whether kured marks nodes now (it removes its annotation only while it does, so one left from an
  earlier configuration is stale), so without the DaemonSet an unmarked node is unknown.  kured
  checks the sentinel, and marks, only inside its reboot window (``--reboot-days``, ``--start-time``,
  ``--end-time``, ``--time-zone``; ``rebootAsRequired`` skips the tick outside ``window.Contains``),
  so an unmarked node is up to date only where the window is open around the clock (the defaults)
  and a kured pod runs on it.  A mark older than the node's last return to Ready is possibly stale
  (a reboot made outside kured leaves it).
- **Flatcar Linux Update Operator** (``flatcar-linux-update.v1.flatcar-linux.net/``, and the older
  CoreOS operator's ``container-linux-update.v1.coreos.com/``): ``status`` (update_engine's
  operation), ``reboot-needed``, ``reboot-in-progress``, ``reboot-ok``, ``reboot-paused`` annotations
  and the ``before-reboot`` label (``pkg/constants/constants.go``); "no update waiting" holds as of
  ``last-checked-time`` (UNIX seconds, ``0`` if never checked), which the checks hold to the policy.
- **Bottlerocket update operator** (brupop): the ``BottlerocketShadow`` ``brs-<node>``,
  ``status.current_state``, ``current_version``, ``target_version``, ``crash_count`` and
  ``spec.state_transition_timestamp``; nodes opt in with ``bottlerocket.aws/updater-interface-version``.
- **Rancher system-upgrade-controller**: a ``Plan`` applies to the nodes its ``spec.nodeSelector``
  selects; a node is done with it when its ``plan.upgrade.cattle.io/<plan>`` label equals the
  plan's ``status.latestHash`` (``disabled`` excludes the node); ``status.applying`` names the
  nodes being upgraded now.  A finished plan says nothing about reboots: its readings count for the
  agent's health and for a plan left unapplied, but do not cover a node for ``node_not_pending_reboot``.
- **OpenShift machine-config**: the node's ``machineconfiguration.openshift.io/currentConfig``,
  ``desiredConfig`` and ``state`` (``Done``, ``Working``, ``Rebooting``, ``Degraded``,
  ``Unreconcilable``) annotations, and its ``MachineConfigPool``'s conditions (``Updated``,
  ``Updating``, ``Degraded``).  ``Degraded`` does not imply a pending update (configuration drift).
  A node waiting its turn has currentConfig == desiredConfig: only its pool's target shows it behind,
  so a Done node whose pool is not in the input is unknown.
- a **RebootRequired node condition**: no upstream agent sets one; a node-problem-detector custom
  plugin can, and it is read when present.
- **managed platforms**, only where the API shows an upgrade: AKS labels a node it could not drain
  during an upgrade ``kubernetes.azure.com/upgrade-status=Quarantined`` (Microsoft's
  ``UndrainableNodeBehavior.Cordon`` documentation); Karpenter taints a node it is draining to
  replace it ``karpenter.sh/disrupted`` (``karpenter.sh/disruption`` before v1; karpenter.sh
  "Disruption").  Neither says anything about nodes that are not upgrading, so they add a reading
  without covering the node.

Nothing here does I/O or reads the clock; the checks (``checks.hosts``) judge the readings as of
the audit's date.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from operator import attrgetter

from patchlevel import inventory as inv
from patchlevel.facts import parse_timestamp
from patchlevel.inventory import Inventory
from patchlevel.kube import BottlerocketShadow, DaemonSet, MachineConfigPool, Node, UpgradePlan
from patchlevel.model import JSONValue
from patchlevel.text import visible
from patchlevel.versions import release_key


class AgentState(StrEnum):
    """One node's state as an update agent reports it."""

    UP_TO_DATE = "up_to_date"  # no update waiting (as of the agent's last check)
    UPDATE_DOWNLOADED = "update_downloaded"  # an update is found, downloading or staged, not yet needing a reboot
    REBOOT_PENDING = "reboot_pending"  # an update is installed and waits for a reboot
    REBOOTING = "rebooting"  # draining, rebooting, or being replaced now
    FAILED = "failed"  # the agent reports a failure
    UNKNOWN = "unknown"  # the agent runs here but its state cannot be read

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    AgentState.UP_TO_DATE: "up to date",
    AgentState.UPDATE_DOWNLOADED: "update found or downloaded, not yet applied",
    AgentState.REBOOT_PENDING: "update installed, reboot pending",
    AgentState.REBOOTING: "rebooting or draining",
    AgentState.FAILED: "failed",
    AgentState.UNKNOWN: "unknown",
}

KURED = "kured"
FLUO = "Flatcar Linux Update Operator"
BRUPOP = "Bottlerocket update operator"
SUC = "system-upgrade-controller"
MCO = "OpenShift machine-config"
REBOOT_CONDITION = "RebootRequired condition"
AKS = "AKS node upgrade"
KARPENTER = "Karpenter"

# What each agent is recognised by (the "looked for" list a finding names).
LOOKED_FOR: Mapping[str, str] = {
    KURED: "kured (its pods, its DaemonSet's weave.works/kured-node-lock, node annotations "
    "weave.works/kured-reboot-in-progress; kured.dev/ names of the unreleased PR #1000 too)",
    FLUO: "Flatcar Linux Update Operator (node annotations and labels flatcar-linux-update.v1.flatcar-linux.net/*)",
    BRUPOP: "Bottlerocket update operator (BottlerocketShadow brs-<node>, label "
    "bottlerocket.aws/updater-interface-version)",
    SUC: "Rancher system-upgrade-controller (Plans upgrade.cattle.io/v1 and plan.upgrade.cattle.io/* node labels)",
    MCO: "OpenShift machine-config (node annotations machineconfiguration.openshift.io/currentConfig, "
    "desiredConfig, state; MachineConfigPools)",
    REBOOT_CONDITION: "a RebootRequired node condition (a node-problem-detector custom plugin)",
}


@dataclass(frozen=True, slots=True)
class AgentReading:
    """What one agent says about one node (or about one of its own objects)."""

    agent: str
    state: AgentState
    message: str  # one line, never naming the node (findings group by message)
    since: datetime | None = None  # when the state began, where the agent records it (UTC)
    since_from: str = ""  # what ``since`` was read from
    evidence: Mapping[str, JSONValue] = field(default_factory=dict)
    # False: a reading that says nothing about whether a reboot is pending (managed platforms, whose signal
    # says nothing when absent; system-upgrade-controller, whose finished plan says nothing about reboots)
    covers: bool = True
    # When the agent last looked for updates, for an agent that records it (Flatcar's update_engine): an
    # "up to date" is only as current as that check.  ``checked_by`` names the checker ("" for agents that
    # record no such time); with it, ``checked`` None means the time is 0 (never), absent or unreadable.
    checked: datetime | None = None
    checked_by: str = ""


@dataclass(frozen=True, slots=True)
class AgentObjectReading:
    """The health of an agent's own object: kured's lock, a MachineConfigPool, a Plan."""

    subject: str  # "daemonset/kube-system/kured", "machineconfigpool/worker", "plan/system-upgrade/k3s-server"
    agent: str
    state: AgentState
    message: str
    since: datetime | None = None
    since_from: str = ""
    evidence: Mapping[str, JSONValue] = field(default_factory=dict)
    # For kured's lock: how long it may be held (its TTL), None when it never expires.
    expires_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class AgentFacts:
    """Every agent reading of an inventory."""

    by_node: Mapping[str, tuple[AgentReading, ...]]
    objects: tuple[AgentObjectReading, ...]
    present: Mapping[str, str]  # agent -> how it was found
    gaps: tuple[str, ...]  # evidence an agent needs that the input does not hold

    def readings(self, node: str) -> tuple[AgentReading, ...]:
        return self.by_node.get(node, ())

    def looked_for(self) -> str:
        return "; ".join(LOOKED_FOR.values())


def read_agents(inventory: Inventory) -> AgentFacts:
    """Every agent's readings of every node of ``inventory`` (pure: no I/O, no clock)."""
    out = _Readings()
    nodes = {node.name: node for node in inventory.nodes}
    _read_kured(inventory, nodes, out)
    for node in inventory.nodes:
        _read_fluo(node, out)
        _read_condition(node, out)
        _read_managed(node, out)
    _read_brupop(inventory, nodes, out)
    _read_suc(inventory, nodes, out)
    _read_mco(inventory, nodes, out)
    return AgentFacts(
        {name: tuple(readings) for name, readings in out.by_node.items()},
        tuple(out.objects),
        dict(out.present),
        tuple(dict.fromkeys(out.gaps)),
    )


@dataclass(slots=True)
class _Readings:
    by_node: dict[str, list[AgentReading]] = field(default_factory=lambda: defaultdict(list))
    objects: list[AgentObjectReading] = field(default_factory=list)
    present: dict[str, str] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)

    def add(self, node: str, reading: AgentReading) -> None:
        self.by_node[node].append(reading)

    def found(self, agent: str, how: str) -> None:
        self.present.setdefault(agent, how)


# ------------------------------------------------------------------------------------------
# Helpers


MAX_TEXT = 300  # characters of an outside value kept in a message or evidence


def _text(value: object) -> str:
    return visible(str(value))[:MAX_TEXT]


def moment(text: str | None) -> datetime | None:
    """An RFC 3339 time as an aware UTC datetime; None when it is not one (never raises)."""
    if not text or len(text) > 64:
        return None
    parsed = parse_timestamp(text.strip())
    if parsed is None or parsed.year <= 1:
        return None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def _missing(inventory: Inventory, kind: str, what: str, *, crd: bool = True) -> str:
    """Why ``kind`` cannot be read: denied, or absent (for a CRD: on a live cluster, 404 means not installed)."""
    if kind in inventory.denied:
        return f"{what} could not be read: {inventory.denied[kind]}"
    return f"the input holds no {kind}" + (" (on a live cluster: its CRD is not installed)" if crd else "")


# ------------------------------------------------------------------------------------------
# kured


KURED_PREFIXES = ("weave.works/", "kured.dev/")  # released, and PR #1000 (unmerged)
KURED_LOCK = "kured-node-lock"
KURED_IN_PROGRESS = "kured-reboot-in-progress"
KURED_MOST_RECENT = "kured-most-recent-reboot-needed"
_RELEASED = {"weave.works/": "weave.works/ (released)", "kured.dev/": "kured.dev/ (unreleased pull request #1000)"}


_IMAGE = attrgetter("image")


def _is_kured_image(image: str | None) -> bool:
    if not image or "kured" not in image:  # every pod's images are looked at: the common answer first
        return False
    repository = image.split("@", 1)[0]
    last = repository.rsplit("/", 1)[-1]
    return last.split(":", 1)[0] == "kured"


# kured's reboot window (cmd/kured/main.go flags --reboot-days, --start-time, --end-time, --time-zone, and
# pkg/timewindow): outside it, rebootAsRequired skips the tick before it even checks the sentinel, so it
# neither marks a node that needs a reboot nor reboots it.  Defaults: every day, 0:00 to 23:59:59, UTC.
_WEEKDAYS = {
    **dict.fromkeys(("su", "sun", "sunday", "0"), 0),
    **dict.fromkeys(("mo", "mon", "monday", "1"), 1),
    **dict.fromkeys(("tu", "tue", "tuesday", "2"), 2),
    **dict.fromkeys(("we", "wed", "wednesday", "3"), 3),
    **dict.fromkeys(("th", "thu", "thursday", "4"), 4),
    **dict.fromkeys(("fr", "fri", "friday", "5"), 5),
    **dict.fromkeys(("sa", "sat", "saturday", "6"), 6),
}
# timewindow.parseTime's layouts: "15:04", "15:04:06" (the last field is Go's year, not seconds), "03:04pm",
# "15", "03pm".
_CLOCK_24 = re.compile(r"(\d{1,2})(?::(\d{2})(?::\d{2})?)?")
_CLOCK_12 = re.compile(r"(\d{2})(?::(\d{2}))?(am|pm)")


def _clock(text: str) -> tuple[int, int] | None:
    """A kured --start-time/--end-time as (hour, minute) the way kured parses it; None when kured refuses it."""
    text = text.strip()
    if (match := _CLOCK_24.fullmatch(text)) is not None:
        hour, minute = int(match[1]), int(match[2] or 0)
        return (hour, minute) if hour < 24 and minute < 60 else None
    if (match := _CLOCK_12.fullmatch(text)) is not None:
        hour, minute = int(match[1]), int(match[2] or 0)
        if hour > 12 or minute >= 60:
            return None
        return (hour % 12 + (12 if match[3] == "pm" else 0), minute)
    return None


@dataclass(frozen=True, slots=True)
class KuredWindow:
    """kured's reboot window as its DaemonSet sets it (the raw values; defaults where unset)."""

    days: tuple[str, ...] = ("su", "mo", "tu", "we", "th", "fr", "sa")
    start: str = "0:00"
    end: str = "23:59:59"
    time_zone: str = "UTC"
    set_by: tuple[str, ...] = ()  # the flags or KURED_* variables that set it (none: kured's defaults)

    @property
    def always_open(self) -> bool | None:
        """True: open every day from 0:00 to 23:59 (kured checks around the clock); False: closed some of the
        time; None: a value kured would refuse (it then does not start)."""
        days = [_WEEKDAYS.get(d.strip().lower()) for d in self.days]
        start, end = _clock(self.start), _clock(self.end)
        if any(d is None for d in days) or start is None or end is None:
            return None
        return set(days) == set(range(7)) and start == (0, 0) and end >= (23, 59)

    def describe(self) -> str:
        days = ",".join(_text(d) for d in self.days) if self.days else "no day"
        where = f"{days} between {_text(self.start)} and {_text(self.end)} {_text(self.time_zone)}"
        start, end = _clock(self.start), _clock(self.end)
        if start is not None and end is not None and end <= start:
            where += " (the end is not after the start: kured's window never opens)"
        return where


@dataclass(frozen=True, slots=True)
class KuredFlags:
    """What kured's DaemonSet says about how it runs (flags and ``KURED_*`` environment variables)."""

    annotate_nodes: bool | None  # None: the DaemonSet does not say (default false)
    lock_annotation: str
    pre_reboot_labels: Mapping[str, str]
    post_reboot_labels: Mapping[str, str]
    lock_ttl: timedelta | None  # --lock-ttl; None: not set (0, never expires)
    window: KuredWindow = field(default_factory=KuredWindow)
    period: str = "1h"  # --period: how often kured checks the sentinel (default 60 minutes)


_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> timedelta | None:
    """A Go duration ("1h30m", "90s"); None when it is not one, or zero."""
    text = text.strip()
    if not text or len(text) > 40 or _GO_DURATION.sub("", text) != "":
        return None
    seconds = sum(float(n) * _GO_UNITS[unit] for n, unit in _GO_DURATION.findall(text))
    return timedelta(seconds=seconds) if 0 < seconds < 10**9 else None


def _flag_values(argv: Sequence[str], name: str) -> list[str]:
    """Every value given to ``--name`` (``--name=v``, ``--name v``; a bare boolean flag gives "true")."""
    values: list[str] = []
    for i, arg in enumerate(argv):
        if arg == f"--{name}":
            following = argv[i + 1] if i + 1 < len(argv) else ""
            values.append(following if following and not following.startswith("-") else "true")
        elif arg.startswith(f"--{name}="):
            values.append(arg.split("=", 1)[1])
    return values


def _labels(values: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            key, sep, val = item.strip().partition("=")
            if sep and key:
                out[key] = val
    return out


def kured_flags(daemonset: DaemonSet) -> KuredFlags:
    argv: list[str] = []
    env: dict[str, str] = {}
    for container in daemonset.spec.template.spec.containers:
        if not _is_kured_image(container.image) and container.name != "kured":
            continue
        argv.extend([*(container.command or ()), *(container.args or ())])
        env.update({e.name: e.value for e in container.env or () if e.value is not None})

    def last(name: str) -> str | None:
        values = _flag_values(argv, name)
        if values:
            return values[-1]
        return env.get("KURED_" + name.upper().replace("-", "_"))

    annotate = last("annotate-nodes")
    ttl = last("lock-ttl")
    pre = _flag_values(argv, "pre-reboot-node-labels") or [env.get("KURED_PRE_REBOOT_NODE_LABELS", "")]
    post = _flag_values(argv, "post-reboot-node-labels") or [env.get("KURED_POST_REBOOT_NODE_LABELS", "")]
    return KuredFlags(
        annotate_nodes=None if annotate is None else annotate.strip().lower() in ("true", "1", "t"),
        lock_annotation=last("lock-annotation") or KURED_PREFIXES[0] + KURED_LOCK,
        pre_reboot_labels=_labels(pre),
        post_reboot_labels=_labels(post),
        lock_ttl=go_duration(ttl) if ttl else None,
        window=_kured_window(argv, env),
        period=last("period") or "1h",
    )


def _kured_window(argv: Sequence[str], env: Mapping[str, str]) -> KuredWindow:
    default = KuredWindow()
    set_by: list[str] = []

    def value(name: str, fallback: str) -> str:
        given = _flag_values(argv, name)
        if given:
            set_by.append(f"--{name}")
            return given[-1]
        variable = "KURED_" + name.upper().replace("-", "_")
        if variable in env:
            set_by.append(variable)
            return env[variable]
        return fallback

    # --reboot-days is a string slice: each flag's value is comma-separated and repeated flags add up
    given_days = _flag_values(argv, "reboot-days")
    if given_days:
        set_by.append("--reboot-days")
    elif "KURED_REBOOT_DAYS" in env:
        set_by.append("KURED_REBOOT_DAYS")
        given_days = [env["KURED_REBOOT_DAYS"]]
    days = tuple(d.strip() for v in given_days for d in v.split(",") if d.strip()) if given_days else default.days
    return KuredWindow(
        days,
        value("start-time", default.start),
        value("end-time", default.end),
        value("time-zone", default.time_zone),
        tuple(set_by),
    )


@dataclass(frozen=True, slots=True)
class KuredLock:
    node: str
    created: datetime | None
    ttl: timedelta | None  # None: never expires


def parse_kured_lock(value: str) -> tuple[KuredLock, ...] | None:
    """The holders of kured's lock annotation (single or multi-node form); None when it does not parse."""
    if len(value) > 100_000:
        return None
    try:
        document = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    entries = document.get("locks") if "locks" in document or "maxOwners" in document else [document]
    if entries is None:
        return ()
    if not isinstance(entries, list):
        return None
    holders: list[KuredLock] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("nodeID"), str):
            return None
        created = entry.get("created")
        ttl = entry.get("TTL")
        ttl_delta = (
            timedelta(microseconds=ttl / 1000)
            if isinstance(ttl, int) and not isinstance(ttl, bool) and 0 < ttl < 10**18
            else None
        )
        holders.append(KuredLock(entry["nodeID"], moment(created) if isinstance(created, str) else None, ttl_delta))
    return tuple(holders)


def _read_kured(inventory: Inventory, nodes: Mapping[str, Node], out: _Readings) -> None:
    daemonsets = [
        ds
        for ds in inventory.agents.daemonsets
        if any(_is_kured_image(c.image) for c in ds.spec.template.spec.containers)
        or any(p + KURED_LOCK in (ds.metadata.annotations or {}) for p in KURED_PREFIXES)
    ]
    on_node: dict[str, str] = {}  # node -> running kured pod (the first in the input)
    for pod in inventory.pods:
        node_name = pod.spec.nodeName
        # Only a running pod checks the node's sentinel: a Pending, Failed or Succeeded one (or one whose
        # phase the input does not show) checks nothing.
        if (
            node_name
            and node_name not in on_node
            and pod.status.phase == "Running"
            and any(map(_is_kured_image, map(_IMAGE, pod.spec.containers)))
        ):
            on_node[node_name] = f"{pod.namespace}/{pod.name}"
    annotated = {
        name: prefix
        for name, node in nodes.items()
        for prefix in KURED_PREFIXES
        if prefix + KURED_IN_PROGRESS in node.annotations or prefix + KURED_MOST_RECENT in node.annotations
    }
    if not daemonsets and not on_node and not annotated:
        return
    if daemonsets:
        ds = daemonsets[0]
        out.found(KURED, f"DaemonSet {ds.metadata.namespace}/{ds.metadata.name}")
    elif on_node:
        out.found(KURED, f"pod {next(iter(on_node.values()))}")
    else:
        out.found(KURED, "kured node annotations")
    flags = [kured_flags(ds) for ds in daemonsets]
    # Only the DaemonSet says whether kured marks nodes now: an annotation it wrote under an earlier
    # configuration stays (kured removes it only while it runs with --annotate-nodes).
    annotate: bool | None = None
    annotate_from = "the kured DaemonSet is not in the input"
    if daemonsets:
        annotate = any(f.annotate_nodes for f in flags)
        annotate_from = "the kured DaemonSet's flags" + (
            "" if annotate else " (--annotate-nodes not set: default false)"
        )
    pre = next((f.pre_reboot_labels for f in flags if f.pre_reboot_labels), {})
    post = next((f.post_reboot_labels for f in flags if f.post_reboot_labels), {})
    # the window of the DaemonSet that marks nodes; with several, the first that is not open around the clock
    marking = [f for f in flags if f.annotate_nodes] or flags
    marker = next((f for f in marking if f.window.always_open is not True), marking[0]) if marking else None
    holders: dict[str, tuple[KuredLock, str]] = {}
    for ds, ds_flags in zip(daemonsets, flags, strict=True):
        _kured_lock(ds, ds_flags, out, holders)
    if not inventory.has(inv.DAEMONSETS):
        out.gaps.append(
            "kured's reboot lock and flags are on its DaemonSet: "
            + _missing(inventory, inv.DAEMONSETS, "DaemonSets", crd=False)
        )
    covered = set(on_node) | set(annotated) | {n for n in holders if n in nodes}
    no_pod = (
        "no kured pod runs on the node in the input"
        if inventory.has(inv.PODS)
        else "which nodes kured runs on is unknown: " + inventory.missing_reason(inv.PODS)
    )
    for name in sorted(covered):
        node = nodes.get(name)
        if node is not None:
            seen = _KuredView(on_node.get(name, ""), no_pod, annotate, annotate_from, pre, post, marker)
            out.add(name, _kured_node(node, holders.get(name), seen))
    if not on_node and daemonsets and not inventory.has(inv.PODS):
        out.gaps.append("which nodes kured runs on is unknown: " + inventory.missing_reason(inv.PODS))


def _kured_lock(ds: DaemonSet, flags: KuredFlags, out: _Readings, holders: dict[str, tuple[KuredLock, str]]) -> None:
    annotations = ds.metadata.annotations or {}
    keys = [flags.lock_annotation, *(p + KURED_LOCK for p in KURED_PREFIXES)]
    key = next((k for k in dict.fromkeys(keys) if k in annotations), None)
    subject = f"daemonset/{ds.metadata.namespace}/{ds.metadata.name}"
    if key is None:
        out.objects.append(
            AgentObjectReading(
                subject,
                KURED,
                AgentState.UP_TO_DATE,
                "kured's reboot lock is free: no node is rebooting",
                evidence={"lock_annotation": flags.lock_annotation},
            )
        )
        return
    raw = annotations[key]
    evidence: dict[str, JSONValue] = {"lock_annotation": key, "lock_value": _text(raw)}
    locks = parse_kured_lock(raw)
    if locks is None:
        out.objects.append(
            AgentObjectReading(
                subject,
                KURED,
                AgentState.UNKNOWN,
                f"kured's reboot lock {key} does not parse as kured writes it",
                evidence=evidence,
            )
        )
        return
    if not locks:
        out.objects.append(
            AgentObjectReading(
                subject,
                KURED,
                AgentState.UP_TO_DATE,
                "kured's reboot lock is free: no node is rebooting",
                evidence=evidence,
            )
        )
        return
    for lock in locks:
        holders[lock.node] = (lock, key)
        ttl = lock.ttl or flags.lock_ttl
        out.objects.append(
            AgentObjectReading(
                subject,
                KURED,
                AgentState.REBOOTING,
                f"node {_text(lock.node)} holds kured's reboot lock"
                + (" (no TTL: it never expires)" if ttl is None else ""),
                since=lock.created,
                since_from=f"the lock's created time ({key})",
                evidence={
                    **evidence,
                    "holder": _text(lock.node),
                    "created": _iso(lock.created),
                    "ttl_seconds": ttl.total_seconds() if ttl else None,
                },
                expires_after=ttl,
            )
        )


@dataclass(frozen=True, slots=True)
class _KuredView:
    """What the kured DaemonSet and pods say, for one node."""

    pod: str  # the kured pod on the node ("" none in the input)
    no_pod: str  # why there is none
    annotate: bool | None
    annotate_from: str
    pre: Mapping[str, str]
    post: Mapping[str, str]
    flags: KuredFlags | None  # of the DaemonSet that marks nodes (None: no DaemonSet in the input)


def _kured_node(node: Node, lock: tuple[KuredLock, str] | None, seen: _KuredView) -> AgentReading:
    annotations, labels = node.annotations, node.labels
    annotate = seen.annotate
    evidence: dict[str, JSONValue] = {
        "kured_pod": seen.pod or None,
        "annotate_nodes": annotate,
        "annotate_nodes_from": seen.annotate_from or None,
    }
    if seen.flags is not None:
        window = seen.flags.window
        evidence["reboot_window"] = window.describe()
        evidence["reboot_window_set_by"] = list(window.set_by) or "kured's defaults"
        evidence["sentinel_check_period"] = _text(seen.flags.period)
    family = ""
    for prefix in KURED_PREFIXES:
        for key in (KURED_IN_PROGRESS, KURED_MOST_RECENT):
            if prefix + key in annotations:
                evidence[prefix + key] = _text(annotations[prefix + key])
                family = family or prefix
    if family:
        evidence["annotation_family"] = _RELEASED[family]
    if lock is not None:
        holder, key = lock
        evidence["lock"] = key
        evidence["lock_created"] = _iso(holder.created)
        return AgentReading(
            KURED,
            AgentState.REBOOTING,
            "kured is draining or rebooting the node (it holds the reboot lock)",
            holder.created,
            f"the lock's created time ({key})",
            evidence,
        )
    in_progress = next((p for p in KURED_PREFIXES if p + KURED_IN_PROGRESS in annotations), None)
    if in_progress is not None and annotate is False:
        return AgentReading(
            KURED,
            AgentState.UNKNOWN,
            f"the node carries kured's {in_progress}{KURED_IN_PROGRESS} annotation, but kured runs without "
            "--annotate-nodes, so it is stale (kured removes it only while it annotates)",
            evidence=evidence,
        )
    if in_progress is not None:
        return _kured_pending(node, annotations[in_progress + KURED_IN_PROGRESS], in_progress, evidence)
    pre, post = seen.pre, seen.post
    if pre and all(labels.get(k) == v for k, v in pre.items()) and any(post.get(k) != v for k, v in pre.items()):
        evidence["pre_reboot_labels"] = dict(pre)
        return AgentReading(
            KURED,
            AgentState.REBOOTING,
            "the node carries kured's pre-reboot labels: kured is draining or rebooting it",
            evidence=evidence,
        )
    if annotate and seen.flags is not None:
        return _kured_unmarked(annotations, seen.pod, seen.no_pod, seen.flags, evidence)
    why = (
        "kured runs without --annotate-nodes"
        if annotate is False
        else "whether kured marks nodes that need a reboot (--annotate-nodes) is unknown: its DaemonSet is not in "
        "the input"
    )
    return AgentReading(
        KURED,
        AgentState.UNKNOWN,
        f"{why}: the API shows only which node holds its reboot lock, not whether this node needs a reboot "
        "(that is in kured's kured_reboot_required metric)",
        evidence=evidence,
    )


def _kured_pending(node: Node, raw: str, prefix: str, evidence: dict[str, JSONValue]) -> AgentReading:
    """A node kured marked as needing a reboot: pending since the mark, unless the node came back since."""
    since = moment(raw)
    since_from = (
        f"annotation {prefix}{KURED_IN_PROGRESS} (set when kured first saw the sentinel inside its reboot window: "
        "the reboot may have been needed earlier)"
    )
    # kured removes its mark only after a reboot it made itself (holding the lock); a node rebooted some
    # other way keeps it.  A Ready condition that changed after the mark may be that reboot.
    ready = node.condition("Ready")
    ready_since = moment(ready.lastTransitionTime) if ready is not None and ready.status == "True" else None
    if since is not None and ready_since is not None and ready_since > since:
        evidence["ready_since"] = _iso(ready_since)
        return AgentReading(
            KURED,
            AgentState.UNKNOWN,
            f"kured marked the node as needing a reboot on {_iso(since)}, but the node became Ready again on "
            f"{_iso(ready_since)}, after that: the mark is possibly stale (a reboot made outside kured leaves it in "
            "place; a kubelet restart changes Ready too)",
            since,
            since_from,
            evidence,
        )
    note = "" if since is not None else f" (its time {_text(raw)!r} does not parse)"
    return AgentReading(
        KURED,
        AgentState.REBOOT_PENDING,
        f"kured found the reboot sentinel and waits to reboot the node{note}",
        since,
        since_from,
        evidence,
    )


def _kured_unmarked(
    annotations: Mapping[str, str], pod: str, no_pod: str, flags: KuredFlags, evidence: dict[str, JSONValue]
) -> AgentReading:
    """A node kured (with --annotate-nodes) has not marked: up to date only if kured checks it around the clock."""
    recent = next((p for p in KURED_PREFIXES if p + KURED_MOST_RECENT in annotations), None)
    last = f"; its last reboot was needed on {_text(annotations[recent + KURED_MOST_RECENT])}" if recent else ""
    if not pod:
        return AgentReading(
            KURED,
            AgentState.UNKNOWN,
            f"kured marks nodes that need a reboot, but {no_pod}: nothing is known to check this node's reboot "
            f"sentinel, so the absence of a mark proves nothing{last}",
            evidence=evidence,
        )
    window = flags.window
    open_ = window.always_open
    if open_ is not True:
        why = (
            "a value kured refuses (it would not start)"
            if open_ is None
            else "kured checks the reboot sentinel, and marks a node that needs a reboot, only inside it"
        )
        return AgentReading(
            KURED,
            AgentState.UNKNOWN,
            f"kured's reboot window is {window.describe()}: {why}; outside the window kured neither checks nor "
            f"marks, so the node's missing {KURED_PREFIXES[0]}{KURED_IN_PROGRESS} annotation does not show that no "
            f"reboot is pending{last}",
            evidence=evidence,
        )
    return AgentReading(
        KURED,
        AgentState.UP_TO_DATE,
        "kured found no reboot required at its last check (its reboot window is open around the clock; it checks "
        f"every {_text(flags.period)}){last}",
        evidence=evidence,
    )


# ------------------------------------------------------------------------------------------
# Flatcar Linux Update Operator


FLUO_PREFIXES = ("flatcar-linux-update.v1.flatcar-linux.net/", "container-linux-update.v1.coreos.com/")
_FLUO_UP_TO_DATE = frozenset({"UPDATE_STATUS_IDLE", "UPDATE_STATUS_CHECKING_FOR_UPDATE"})
_FLUO_DOWNLOADING = frozenset(
    {
        "UPDATE_STATUS_UPDATE_AVAILABLE",
        "UPDATE_STATUS_DOWNLOADING",
        "UPDATE_STATUS_VERIFYING",
        "UPDATE_STATUS_FINALIZING",
    }
)


def _read_fluo(node: Node, out: _Readings) -> None:
    annotations, labels = node.annotations, node.labels
    if not any(k.startswith(FLUO_PREFIXES) for k in (*annotations, *labels)):  # most nodes: one pass over the keys
        return
    prefix = next(
        (p for p in FLUO_PREFIXES if any(k.startswith(p) for k in annotations) or any(k.startswith(p) for k in labels)),
        None,
    )
    if prefix is None:
        return
    out.found(FLUO, f"node annotations {prefix}*")

    def value(key: str, *, label: bool = False) -> str | None:
        found = (labels if label else annotations).get(prefix + key)
        return found.strip() if found is not None else None

    status = value("status")
    needed = value("reboot-needed") or value("reboot-needed", label=True)
    in_progress = value("reboot-in-progress")
    ok = value("reboot-ok")
    paused = value("reboot-paused")
    evidence: dict[str, JSONValue] = {
        k: _text(v)
        for k, v in {
            prefix + "status": status,
            prefix + "reboot-needed": needed,
            prefix + "reboot-in-progress": in_progress,
            prefix + "reboot-ok": ok,
            prefix + "reboot-paused": paused,
            prefix + "new-version": value("new-version"),
            prefix + "version (label)": value("version", label=True),
            prefix + "before-reboot (label)": value("before-reboot", label=True),
        }.items()
        if v is not None
    }
    checked = value("last-checked-time")
    last_checked: datetime | None = None
    if checked is not None:
        evidence[prefix + "last-checked-time"] = _text(checked)
        if checked.isdigit() and 0 < len(checked) <= 11 and int(checked) > 0:  # UNIX seconds, "0": never
            last_checked = datetime.fromtimestamp(int(checked), UTC)
            evidence["last_checked"] = _iso(last_checked)
    paused_note = " (reboots of this node are paused by reboot-paused)" if paused == "true" else ""
    if in_progress == "true" or value("before-reboot", label=True) == "true" or (ok == "true" and needed == "true"):
        reading = AgentReading(
            FLUO,
            AgentState.REBOOTING,
            "the update operator is rebooting the node (reboot-in-progress, reboot-ok or the before-reboot label)",
            evidence=evidence,
        )
    elif status == "UPDATE_STATUS_REPORTING_ERROR_EVENT":
        reading = AgentReading(
            FLUO,
            AgentState.FAILED,
            "update_engine reports an error (UPDATE_STATUS_REPORTING_ERROR_EVENT)",
            evidence=evidence,
        )
    elif needed == "true" or status == "UPDATE_STATUS_UPDATED_NEED_REBOOT":
        version = value("new-version")
        to = f" to {_text(version)}" if version and version != "0.0.0" else ""
        reading = AgentReading(
            FLUO,
            AgentState.REBOOT_PENDING,
            f"update_engine installed an update{to} and the node waits for a reboot{paused_note}",
            evidence=evidence,
        )
    elif status in _FLUO_DOWNLOADING:
        version = value("new-version")
        to = f" {_text(version)}" if version and version != "0.0.0" else ""
        reading = AgentReading(
            FLUO, AgentState.UPDATE_DOWNLOADED, f"update_engine is fetching an update{to} ({status})", evidence=evidence
        )
    elif status in _FLUO_UP_TO_DATE and needed in (None, "false"):
        # as of update_engine's last check for updates: the checks judge how old that is
        reading = AgentReading(
            FLUO,
            AgentState.UP_TO_DATE,
            f"update_engine has no update waiting ({status})",
            evidence=evidence,
            checked=last_checked,
            checked_by="update_engine",
        )
    else:
        shown = _text(status) if status is not None else "absent"
        reading = AgentReading(
            FLUO,
            AgentState.UNKNOWN,
            f"the update agent's status is {shown}: not a state it documents",
            evidence=evidence,
        )
    out.add(node.name, reading)


# ------------------------------------------------------------------------------------------
# Bottlerocket update operator


BRUPOP_LABEL = "bottlerocket.aws/updater-interface-version"


def _semver_behind(current: str, target: str) -> bool | None:
    if not current or not target:
        return None
    a, b = release_key(current.split("+", 1)[0]), release_key(target.split("+", 1)[0])
    if not a or not b:
        return None
    return a < b


def _shadow_node(shadow: BottlerocketShadow) -> str:
    owner = next((o.name for o in shadow.metadata.ownerReferences or () if o.kind == "Node" and o.name), "")
    return owner or shadow.metadata.name.removeprefix("brs-")


def _read_brupop(inventory: Inventory, nodes: Mapping[str, Node], out: _Readings) -> None:
    shadows = {_shadow_node(s): s for s in inventory.agents.bottlerocket_shadows}
    opted_in = {name for name, node in nodes.items() if BRUPOP_LABEL in node.labels}
    if not shadows and not opted_in:
        return
    out.found(BRUPOP, "BottlerocketShadows" if shadows else f"node label {BRUPOP_LABEL}")
    for name in sorted((set(shadows) | opted_in) & set(nodes)):
        shadow = shadows.get(name)
        if shadow is None:
            reason = (
                "no BottlerocketShadow for it in the input"
                if inventory.has(inv.BOTTLEROCKET_SHADOWS)
                else _missing(inventory, inv.BOTTLEROCKET_SHADOWS, "BottlerocketShadows")
            )
            out.add(
                name,
                AgentReading(
                    BRUPOP,
                    AgentState.UNKNOWN,
                    f"the node opted in to the Bottlerocket update operator, but {reason}",
                    evidence={BRUPOP_LABEL: _text(nodes[name].labels[BRUPOP_LABEL])},
                ),
            )
            continue
        out.add(name, _brupop_reading(shadow))


def _brupop_reading(shadow: BottlerocketShadow) -> AgentReading:
    status = shadow.status
    spec = shadow.spec
    evidence: dict[str, JSONValue] = {
        "bottlerocketshadow": f"{shadow.metadata.namespace}/{shadow.metadata.name}",
        "api_version": shadow.apiVersion or None,
        "spec.state": _text(spec.state),
        "spec.version": _text(spec.version) if spec.version else None,
        "spec.state_transition_timestamp": spec.state_transition_timestamp,
    }
    if status is None:
        return AgentReading(
            BRUPOP,
            AgentState.UNKNOWN,
            "the BottlerocketShadow has no status: the node's agent has not reported",
            evidence=evidence,
        )
    evidence.update(
        {
            "status.current_state": _text(status.current_state),
            "status.current_version": _text(status.current_version),
            "status.target_version": _text(status.target_version),
            "status.crash_count": status.crash_count,
            "status.state_transition_failure_timestamp": status.state_transition_failure_timestamp,
        }
    )
    state = status.current_state
    behind = _semver_behind(status.current_version, status.target_version)
    versions = f"{_text(status.current_version)} → {_text(status.target_version)}"
    since = moment(spec.state_transition_timestamp)
    since_from = "spec.state_transition_timestamp (when the operator set the desired state)"
    if state == "ErrorReset":
        failed = moment(status.state_transition_failure_timestamp)
        return AgentReading(
            BRUPOP,
            AgentState.FAILED,
            f"the update failed and the agent reset the node (ErrorReset, crash count {status.crash_count})",
            failed,
            "status.state_transition_failure_timestamp",
            evidence,
        )
    if state in ("StagedAndPerformedUpdate", "PerformedUpdate"):
        return AgentReading(
            BRUPOP,
            AgentState.REBOOT_PENDING,
            f"the update is staged ({versions}) and the node waits to reboot into it",
            since if spec.state == state else None,
            since_from,
            evidence,
        )
    if state == "StagedUpdate":
        return AgentReading(
            BRUPOP,
            AgentState.UPDATE_DOWNLOADED,
            f"the update is being staged ({versions})",
            since if spec.state == state else None,
            since_from,
            evidence,
        )
    if state in ("RebootedIntoUpdate", "MonitoringUpdate"):
        if behind:
            return AgentReading(
                BRUPOP,
                AgentState.REBOOTING,
                f"the node is rebooting into the update ({state}, {versions})",
                since,
                since_from,
                evidence,
            )
        return AgentReading(
            BRUPOP,
            AgentState.UP_TO_DATE,
            f"the node rebooted into {_text(status.current_version)} ({state})",
            evidence=evidence,
        )
    if state == "Idle":
        if behind is None:
            return AgentReading(
                BRUPOP, AgentState.UNKNOWN, f"idle, but its versions do not compare ({versions})", evidence=evidence
            )
        if behind:
            return AgentReading(
                BRUPOP,
                AgentState.UPDATE_DOWNLOADED,
                f"an update is available ({versions}); the operator has not started it",
                evidence=evidence,
            )
        return AgentReading(
            BRUPOP,
            AgentState.UP_TO_DATE,
            f"runs the target version {_text(status.current_version)} (Idle)",
            evidence=evidence,
        )
    return AgentReading(
        BRUPOP,
        AgentState.UNKNOWN,
        f"the shadow's state {_text(state) or '(empty)'} is not one the operator defines",
        evidence=evidence,
    )


# ------------------------------------------------------------------------------------------
# Rancher system-upgrade-controller


SUC_NODE_LABEL = "plan.upgrade.cattle.io/"


def _condition_time(plan: UpgradePlan, kind: str) -> datetime | None:
    found = next((c for c in plan.status.conditions or () if c.type == kind), None)
    if found is None:
        return None
    return moment(found.lastUpdateTime) or moment(found.lastTransitionTime)


def _read_suc(inventory: Inventory, nodes: Mapping[str, Node], out: _Readings) -> None:
    plans = inventory.agents.upgrade_plans
    labelled = {
        name: {k.removeprefix(SUC_NODE_LABEL): v for k, v in node.labels.items() if k.startswith(SUC_NODE_LABEL)}
        for name, node in nodes.items()
    }
    labelled = {name: found for name, found in labelled.items() if found}
    if not plans and not labelled:
        return
    out.found(SUC, "Plans" if plans else f"node labels {SUC_NODE_LABEL}*")
    by_name = {plan.metadata.name: plan for plan in plans}
    for plan in plans:
        out.objects.append(_plan_health(plan))
    for name, node in nodes.items():
        labels = labelled.get(name, {})
        selected = [p for p in plans if p.spec.nodeSelector is not None and p.spec.nodeSelector.matches(node.labels)]
        names = list(dict.fromkeys([*(p.metadata.name for p in selected), *labels]))
        for plan_name in names:
            label = labels.get(plan_name)
            if label == "disabled":
                continue
            found = by_name.get(plan_name)
            if found is None:
                reason = (
                    "the plan is not in the input"
                    if inventory.has(inv.UPGRADE_PLANS)
                    else _missing(inventory, inv.UPGRADE_PLANS, "Plans")
                )
                out.add(
                    name,
                    AgentReading(
                        SUC,
                        AgentState.UNKNOWN,
                        f"the node carries the label of plan {_text(plan_name)}, but {reason}",
                        evidence={SUC_NODE_LABEL + plan_name: _text(label or "")},
                        covers=False,
                    ),
                )
                continue
            out.add(name, _plan_reading(found, name, label))


def _plan_reading(plan: UpgradePlan, node: str, label: str | None) -> AgentReading:
    """What one Plan says about one node: applied, being applied, or not yet.

    A plan runs whatever its upgrade container does; the controller records that the Job completed
    (the node label), never whether the node then rebooted or still needs to.  So no SUC reading
    covers a node for ``node_not_pending_reboot`` (``covers=False``): an applied plan is no evidence
    that no reboot is pending, while a plan not applied for too long still counts against the node.
    """
    status = plan.status
    name = _text(plan.metadata.name)
    version = _text(status.latestVersion or plan.spec.version or "")
    evidence: dict[str, JSONValue] = {
        "plan": f"{plan.metadata.namespace}/{plan.metadata.name}",
        "plan_latest_version": version or None,
        "plan_latest_hash": _text(status.latestHash) if status.latestHash else None,
        "node_label": f"{SUC_NODE_LABEL}{plan.metadata.name}={_text(label)}" if label is not None else None,
    }
    if node in (status.applying or ()):
        return AgentReading(
            SUC,
            AgentState.REBOOTING,
            f"the controller is applying plan {name} ({version}) to the node",
            evidence=evidence,
            covers=False,
        )
    if not status.latestHash:
        return AgentReading(
            SUC,
            AgentState.UNKNOWN,
            f"plan {name} has not resolved a version yet (no status.latestHash)",
            evidence=evidence,
            covers=False,
        )
    if label == status.latestHash:
        return AgentReading(
            SUC,
            AgentState.UP_TO_DATE,
            f"plan {name} ({version}) is applied (a plan records its Job's completion, not whether the node rebooted)",
            evidence=evidence,
            covers=False,
        )
    resolved = _condition_time(plan, "LatestResolved")
    if resolved is not None:
        evidence["since_note"] = (
            "LatestResolved's time is when the controller last resolved the plan, which need not be when "
            f"{version or 'this version'} first appeared"
        )
    return AgentReading(
        SUC,
        AgentState.UPDATE_DOWNLOADED,
        f"plan {name} resolved {version or 'a new version'}, not yet applied to the node"
        + (" (its label names an older version)" if label else ""),
        resolved,
        "the plan's LatestResolved condition (when its latest version was resolved)",
        evidence,
        covers=False,
    )


def _plan_health(plan: UpgradePlan) -> AgentObjectReading:
    subject = f"plan/{plan.metadata.namespace}/{plan.metadata.name}"
    conditions = {c.type: c for c in plan.status.conditions or ()}
    evidence: dict[str, JSONValue] = {
        f"condition {c.type}": f"{c.status}"
        + (f": {_text(c.reason)}" if c.reason else "")
        + (f" ({_text(c.message)})" if c.message else "")
        for c in conditions.values()
    }
    evidence["latest_version"] = _text(plan.status.latestVersion) if plan.status.latestVersion else None
    for kind in ("Validated", "LatestResolved"):
        c = conditions.get(kind)
        if c is not None and c.status == "False":
            why = _text(c.message or c.reason or "no reason given")
            return AgentObjectReading(
                subject,
                SUC,
                AgentState.FAILED,
                f"the plan is not {kind} ({why})",
                moment(c.lastUpdateTime) or moment(c.lastTransitionTime),
                f"condition {kind}",
                evidence,
            )
    if not conditions:
        return AgentObjectReading(
            subject,
            SUC,
            AgentState.UNKNOWN,
            "the plan has no status conditions: the controller has not reported on it",
            evidence=evidence,
        )
    return AgentObjectReading(
        subject, SUC, AgentState.UP_TO_DATE, "the plan is valid and its version resolved", evidence=evidence
    )


# ------------------------------------------------------------------------------------------
# OpenShift machine-config


MCO_PREFIX = "machineconfiguration.openshift.io/"
_MCO_FAILED = frozenset({"Degraded", "Unreconcilable"})


def _pool_of(node: Node, pools: Sequence[MachineConfigPool]) -> MachineConfigPool | None:
    desired = node.annotations.get(MCO_PREFIX + "desiredConfig", "")
    for pool in pools:
        names = {r.name for r in (pool.spec.configuration, pool.status.configuration) if r is not None and r.name}
        if desired and desired in names:
            return pool
    matching = [p for p in pools if p.spec.nodeSelector is not None and p.spec.nodeSelector.matches(node.labels)]
    custom = [p for p in matching if p.metadata.name not in ("worker", "master")]
    chosen = custom or matching
    return chosen[0] if chosen else None


def _read_mco(inventory: Inventory, nodes: Mapping[str, Node], out: _Readings) -> None:
    pools = inventory.agents.machine_config_pools
    managed = {
        name: node
        for name, node in nodes.items()
        if any(MCO_PREFIX + k in node.annotations for k in ("currentConfig", "desiredConfig", "state"))
    }
    if not pools and not managed:
        return
    out.found(MCO, f"node annotations {MCO_PREFIX}*" if managed else "MachineConfigPools")
    for pool in pools:
        out.objects.append(_pool_health(pool))
    if managed and not inventory.has(inv.MACHINE_CONFIG_POOLS):
        out.gaps.append(
            "the machine-config pools' Updating times are unknown: "
            + _missing(inventory, inv.MACHINE_CONFIG_POOLS, "MachineConfigPools")
        )
    no_pool = (
        "no MachineConfigPool in the input names the node's desiredConfig or selects its labels"
        if inventory.has(inv.MACHINE_CONFIG_POOLS)
        else _missing(inventory, inv.MACHINE_CONFIG_POOLS, "MachineConfigPools")
    )
    for name, node in managed.items():
        out.add(name, _mco_reading(node, _pool_of(node, pools), no_pool))


def _mco_reading(node: Node, pool: MachineConfigPool | None, no_pool: str = "") -> AgentReading:
    annotations = node.annotations
    current = annotations.get(MCO_PREFIX + "currentConfig")
    desired = annotations.get(MCO_PREFIX + "desiredConfig")
    state = annotations.get(MCO_PREFIX + "state")
    reason = annotations.get(MCO_PREFIX + "reason")
    current_image = annotations.get(MCO_PREFIX + "currentImage")
    desired_image = annotations.get(MCO_PREFIX + "desiredImage")
    evidence: dict[str, JSONValue] = {
        "currentConfig": _text(current) if current is not None else None,
        "desiredConfig": _text(desired) if desired is not None else None,
        "state": _text(state) if state is not None else None,
        "reason": _text(reason) if reason else None,
        "pool": pool.metadata.name if pool is not None else None,
    }
    if current_image or desired_image:
        evidence["currentImage"] = _text(current_image or "")
        evidence["desiredImage"] = _text(desired_image or "")
    updating = pool.condition("Updating") if pool is not None else None
    since = moment(updating.lastTransitionTime) if updating is not None and updating.status == "True" else None
    since_from = f"MachineConfigPool {pool.metadata.name} condition Updating" if pool is not None and since else ""
    # The operator hands nodes their pool's new configuration a few at a time (maxUnavailable): a node
    # still waiting its turn has currentConfig == desiredConfig == the old one, and only the pool's
    # target (spec.configuration) shows that it is behind.
    target = pool.spec.configuration.name if pool is not None and pool.spec.configuration is not None else ""
    if target:
        evidence["pool_target_config"] = _text(target)
    queued = bool(target) and current is not None and current != target
    pending = (current != desired) or queued or (bool(desired_image) and current_image != desired_image)
    if state in _MCO_FAILED:
        return AgentReading(
            MCO,
            AgentState.FAILED,
            f"the machine-config daemon reports {state}: {_text(reason) if reason else 'no reason given'}",
            evidence=evidence,
        )
    if pending and state in ("Working", "Rebooting"):
        return AgentReading(
            MCO,
            AgentState.REBOOTING,
            f"the machine-config daemon is applying the node's update (state {state})",
            since,
            since_from,
            evidence,
        )
    if pending:
        return AgentReading(
            MCO,
            AgentState.REBOOT_PENDING,
            "the node has not applied its pool's rendered machine config yet (an update waits for its reboot)",
            since,
            since_from,
            evidence,
        )
    if state == "Done" and not target:
        # currentConfig == desiredConfig also on a node still waiting for its turn: only the pool's target
        # can show that it is not behind
        why = no_pool if pool is None else f"pool {_text(pool.metadata.name)} has no spec.configuration"
        return AgentReading(
            MCO,
            AgentState.UNKNOWN,
            "the node's annotations say Done, but its pool target is unknown, and a node waiting its turn for an "
            f"update looks the same: {why}",
            evidence=evidence,
        )
    if state == "Done":
        return AgentReading(
            MCO,
            AgentState.UP_TO_DATE,
            "the node runs its pool's rendered machine config (state Done)",
            evidence=evidence,
        )
    if state in ("Working", "Rebooting"):
        return AgentReading(
            MCO, AgentState.REBOOTING, f"the machine-config daemon reports state {state}", evidence=evidence
        )
    shown = _text(state) if state else "absent"
    return AgentReading(MCO, AgentState.UNKNOWN, f"the machine-config daemon's state is {shown}", evidence=evidence)


def _pool_health(pool: MachineConfigPool) -> AgentObjectReading:
    subject = f"machineconfigpool/{pool.metadata.name}"
    status = pool.status
    evidence: dict[str, JSONValue] = {
        "configuration": _text(status.configuration.name) if status.configuration else None,
        "machineCount": status.machineCount,
        "updatedMachineCount": status.updatedMachineCount,
        "degradedMachineCount": status.degradedMachineCount,
        "unavailableMachineCount": status.unavailableMachineCount,
        "paused": pool.spec.paused,
    }
    for c in status.conditions or ():
        evidence[f"condition {c.type}"] = c.status + (f" since {c.lastTransitionTime}" if c.lastTransitionTime else "")
    for kind in ("Degraded", "NodeDegraded", "RenderDegraded"):
        bad = pool.condition(kind)
        if bad is not None and bad.status == "True":
            why = _text(bad.message or bad.reason or "no message")
            return AgentObjectReading(
                subject,
                MCO,
                AgentState.FAILED,
                f"the pool is {kind}: {why}",
                moment(bad.lastTransitionTime),
                f"condition {kind}",
                evidence,
            )
    updating, updated = pool.condition("Updating"), pool.condition("Updated")
    if updating is not None and updating.status == "True":
        paused = " and paused (spec.paused: the update is not rolled out)" if pool.spec.paused else ""
        return AgentObjectReading(
            subject,
            MCO,
            AgentState.REBOOTING,
            f"the pool is updating{paused} ({status.updatedMachineCount} of {status.machineCount} machines updated)",
            moment(updating.lastTransitionTime),
            "condition Updating",
            evidence,
        )
    if updated is not None and updated.status == "True":
        return AgentObjectReading(
            subject, MCO, AgentState.UP_TO_DATE, _text(updated.message or "all machines are updated"), evidence=evidence
        )
    if pool.spec.paused:
        return AgentObjectReading(
            subject,
            MCO,
            AgentState.UPDATE_DOWNLOADED,
            "the pool is paused and not updated: its new configuration is not rolled out",
            evidence=evidence,
        )
    return AgentObjectReading(
        subject, MCO, AgentState.UNKNOWN, "the pool reports neither Updated nor Updating", evidence=evidence
    )


# ------------------------------------------------------------------------------------------
# A RebootRequired node condition; managed platforms


def _read_condition(node: Node, out: _Readings) -> None:
    condition = node.condition("RebootRequired")
    if condition is None:
        return
    out.found(REBOOT_CONDITION, "node condition RebootRequired")
    evidence: dict[str, JSONValue] = {
        "condition": "RebootRequired",
        "status": _text(condition.status),
        "since": condition.lastTransitionTime,
        "reason": _text(condition.reason) if condition.reason else None,
    }
    since = moment(condition.lastTransitionTime)
    since_from = "the condition's lastTransitionTime"
    if condition.status == "True":
        out.add(
            node.name,
            AgentReading(
                REBOOT_CONDITION,
                AgentState.REBOOT_PENDING,
                "a reboot is required (condition RebootRequired)",
                since,
                since_from,
                evidence,
            ),
        )
    elif condition.status == "False":
        out.add(
            node.name,
            AgentReading(
                REBOOT_CONDITION,
                AgentState.UP_TO_DATE,
                "no reboot required (condition RebootRequired)",
                since,
                since_from,
                evidence,
            ),
        )
    else:
        out.add(
            node.name,
            AgentReading(
                REBOOT_CONDITION,
                AgentState.UNKNOWN,
                f"reboot condition RebootRequired is {_text(condition.status) or 'empty'}",
                since,
                since_from,
                evidence,
            ),
        )


AKS_UPGRADE_STATUS = "kubernetes.azure.com/upgrade-status"
KARPENTER_TAINTS = ("karpenter.sh/disrupted", "karpenter.sh/disruption")


def _read_managed(node: Node, out: _Readings) -> None:
    status = node.labels.get(AKS_UPGRADE_STATUS)
    if status == "Quarantined":
        out.found(AKS, f"node label {AKS_UPGRADE_STATUS}")
        out.add(
            node.name,
            AgentReading(
                AKS,
                AgentState.FAILED,
                "AKS could not drain the node during an upgrade and quarantined it "
                f"(label {AKS_UPGRADE_STATUS}=Quarantined)",
                evidence={AKS_UPGRADE_STATUS: status},
                covers=False,
            ),
        )
    for taint in node.spec.taints or ():
        if taint.key in KARPENTER_TAINTS:
            out.found(KARPENTER, f"node taint {taint.key}")
            out.add(
                node.name,
                AgentReading(
                    KARPENTER,
                    AgentState.REBOOTING,
                    f"Karpenter is draining the node to replace it (taint {taint.key}:{taint.effect})",
                    evidence={"taint": f"{taint.key}={_text(taint.value or '')}:{taint.effect}"},
                    covers=False,
                ),
            )
            break
