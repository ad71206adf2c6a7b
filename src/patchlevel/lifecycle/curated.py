"""Curated lifecycle entries for products endoflife.date does not carry (CoreDNS, ingress-nginx, …).

Each product is one YAML file in ``data/curated/`` written by hand from the project's own
announcements, with the URL of every fact and the date it was read.  The file states the project's
support rule in words and as one of a few rules patchlevel knows how to apply; the end of support
of each release line is then derived from dated releases:

``newest-two-minors``
    the two newest minor lines are maintained; line N ends when line N+2 is released (CoreDNS).
``latest-only``
    only the newest release is maintained; line N ends when line N+1 is released (Flannel).
``csi-sidecar``
    each minor line is supported at least one year from its first release and at least three
    months after the next minor is released (Kubernetes CSI sidecars); the later date counts.
``stated``
    each line ends on the day the vendor states (``eol``); a line with no stated end has none
    announced as of the retrieval date (Azure Linux).
``follows``
    the product's lines follow another product's calendar: ``follows`` maps a pattern of line
    names to that product and its release (Bottlerocket's ``aws-k8s-1.31`` variant follows Amazon
    EKS 1.31); a line no pattern covers is unknown, with the policy as the reason.
``none``
    the project publishes no support policy: no line has a known end, so support is unknown.

A line may also give its end (``eol``) explicitly, and a product may be retired: every line ends,
at the latest, on the retirement's last day, and a version of a line the file does not list is
still past support after it.

A fact known only to a window of days is written ``{earliest: DATE, latest: DATE}`` (both days
included).  It is never narrowed to a day: a judgement that falls inside the window is unknown.
``{earliest: DATE}`` alone says the line was supported at least through DATE and its end is not
known (a line that is also a longer-supported channel the node's name does not reveal).  A fact
that could not be verified is left out (``null``) with a note saying so.

``lines_complete_until`` says up to which day the sources were read for new lines: a rule that
ends a line when a newer one is released cannot say the newest line is still supported after
that day (a newer line may have come out), so after it that line's support is unknown.

The result is the catalog's own ``Product``: checks read curated and endoflife.date products alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import Cycle, LaterPhase, PatchRelease, Product
from patchlevel.safeinput import load_yaml_documents, read_regular
from patchlevel.versions import release_key

SupportRule = Literal["newest-two-minors", "latest-only", "csi-sidecar", "stated", "follows", "none"]
CURATED_SOURCE = "patchlevel curated lifecycle data"


class DateWindow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A day known only to lie between two days (both included); ``latest`` None: not before ``earliest``."""

    earliest: date
    latest: date | None = None


class CuratedCycle(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cycle: str
    released: date | DateWindow | None = None  # first release of the line; None: not verified
    released_source: str = ""
    eol: date | DateWindow | None = None  # explicit last day of support; None: derived from the rule
    eol_source: str = ""
    note: str = ""


class CuratedRelease(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    date: date
    source: str
    note: str = ""


class Retirement(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    announced: date
    announcement: str  # URL of the announcement
    last_day: date | DateWindow  # the last day any line of the project was supported
    statement: str  # what the announcement says, in our words


class FollowRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Lines whose name matches ``lines`` follow ``product``'s release named by the ``release`` group."""

    lines: str  # a regular expression over the whole line name, with a group named ``release``
    product: str  # the lifecycle product whose calendar applies
    statement: str  # the vendor's words for the rule, in ours


class CuratedProduct(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    product: str
    label: str
    retrieved: date  # when the facts below were read from their sources
    policy: str  # the project's support rule, in our words
    policy_source: str  # URL
    support_rule: SupportRule
    cycles: tuple[CuratedCycle, ...] = ()
    releases: tuple[CuratedRelease, ...] = ()
    retired: Retirement | None = None
    notes: tuple[str, ...] = ()
    follows: tuple[FollowRule, ...] = ()  # support_rule "follows"
    lines_complete_until: date | None = None  # the sources were read for new lines up to this day


# ------------------------------------------------------------------------------------------
# Windows of days: an exact day is a window of one day


@dataclass(frozen=True, slots=True)
class Days:
    earliest: date
    latest: date | None  # None: open, the day is known only not to be before ``earliest``

    @property
    def exact(self) -> date | None:
        return self.earliest if self.earliest == self.latest else None


def _days(value: date | DateWindow) -> Days:
    if isinstance(value, DateWindow):
        return Days(value.earliest, value.latest)
    return Days(value, value)


def _later(a: Days, b: Days) -> Days:
    latest = None if a.latest is None or b.latest is None else max(a.latest, b.latest)
    return Days(max(a.earliest, b.earliest), latest)


def _sooner(a: Days, b: Days) -> Days:
    ends = [d for d in (a.latest, b.latest) if d is not None]
    return Days(min(a.earliest, b.earliest), min(ends) if ends else None)


def _plus_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _shift(days: Days, months: int) -> Days:
    latest = _plus_months(days.latest, months) if days.latest is not None else None
    return Days(_plus_months(days.earliest, months), latest)


# ------------------------------------------------------------------------------------------
# Deriving each line's end of support


@dataclass(frozen=True, slots=True)
class DerivedCycle:
    """One line with its end of support.

    ``end``: the last day of support (a window when the day is not known), False when no end is
    announced, None when the end is not known at all.  ``unknown`` says why the line's own end is
    not known; a retirement may still bound it (``end`` is then the retirement's last day).
    """

    name: str
    released: Days | None
    end: Days | Literal[False] | None
    how: str  # how the end was found, for reports
    unknown: str = ""


def derive_cycles(product: CuratedProduct) -> tuple[DerivedCycle, ...]:
    """Each listed line with its end of support, by the explicit date, the rule and the retirement."""
    ordered = sorted(product.cycles, key=lambda c: release_key(c.cycle))
    released = [_days(c.released) if c.released is not None else None for c in ordered]
    out: list[DerivedCycle] = []
    for index, cycle in enumerate(ordered):
        end: Days | Literal[False] | None
        if cycle.eol is not None:
            end, how = _days(cycle.eol), f"stated: {cycle.eol_source}"
        else:
            end, how = _rule_end(product.support_rule, released, index)
            if end is False and product.lines_complete_until is not None and product.support_rule != "stated":
                # a newer line may have been released after the sources were read
                end = Days(product.lines_complete_until, None)
                how = (
                    f"{how} up to {product.lines_complete_until}, when the sources were last read for new "
                    "lines; a newer line released since would have ended it"
                )
        if isinstance(end, Days) and end.latest is None and cycle.eol is not None and cycle.note:
            how = f"{how}; {cycle.note}"
        unknown = how if end is None or (isinstance(end, Days) and end.latest is None) else ""
        if product.retired is not None:
            retirement = _days(product.retired.last_day)
            if end is None:  # the line's own end is unknown; the retirement bounds it
                last = retirement.latest or retirement.earliest  # validated: a retirement window is closed
                end = Days(last, last)
            elif end is False or _sooner(end, retirement) != end:
                end = retirement if end is False else _sooner(end, retirement)
                how = f"{how}; the project was retired ({product.retired.announcement})"
        out.append(DerivedCycle(cycle.cycle, released[index], end, how, unknown))
    return tuple(out)


def _rule_end(
    rule: SupportRule, released: Sequence[Days | None], index: int
) -> tuple[Days | Literal[False] | None, str]:
    later = list(released[index + 1 :])
    if rule == "none":
        return None, "the project publishes no support policy"
    if rule == "stated":
        return False, "no end stated by the vendor"
    if rule == "follows":
        return None, "a line listed here follows no other product's calendar"
    if rule == "newest-two-minors":
        if len(later) < 2:
            return False, "one of the two newest lines: no end announced"
        successor = later[1]
        if successor is None:
            return None, "ends when the line after next is released, whose date is not verified"
        return successor, "ends when the line after next is released (N, N-1 supported)"
    if rule == "latest-only":
        if not later:
            return False, "the newest line: no end announced"
        if later[0] is None:
            return None, "ends when the next line is released, whose date is not verified"
        return later[0], "ends when the next line is released (latest release only)"
    # csi-sidecar: at least a year from its first release and three months after the next minor.
    own = released[index]
    if not later:
        return False, "the newest line: supported at least until three months after the next minor"
    if own is None or later[0] is None:
        return None, "release dates needed by the rule are not verified"
    return (
        _later(_shift(own, 12), _shift(later[0], 3)),
        "one year after its release or three months after the next minor's, whichever is later",
    )


# ------------------------------------------------------------------------------------------
# Loading


def parse_curated(text: str | bytes, where: str) -> CuratedProduct:
    """Decode and validate one curated file; errors name the file and the entry."""
    try:
        doc = _one_document(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise LifecycleError(f"{where}: not valid YAML ({_one_line(str(exc))})") from None
    if not isinstance(doc, dict):
        raise LifecycleError(f"{where}: expected a mapping with product, label, retrieved, policy, …")
    try:
        product = msgspec.convert(doc, CuratedProduct)
    except msgspec.ValidationError as exc:
        raise LifecycleError(f"{where}: {exc}") from None
    _validate(product, where)
    return product


def _one_document(text: str | bytes) -> Any:
    """The one YAML document of a data file, read within safeinput's limits (no alias bombs, no deep nesting)."""
    documents = load_yaml_documents(text, yaml.SafeLoader)
    if len(documents) > 1:
        raise ValueError("expected one YAML document, found more")
    return documents[0] if documents else None


def _validate(product: CuratedProduct, where: str) -> None:
    here = f"{where} ({product.product})"
    if not product.policy_source.startswith("https://"):
        raise LifecycleError(f"{here}: policy_source must be an https URL")
    seen: set[str] = set()
    for cycle in product.cycles:
        if cycle.cycle in seen:
            raise LifecycleError(f"{here}: cycle {cycle.cycle!r} is listed twice")
        seen.add(cycle.cycle)
        if not release_key(cycle.cycle):
            raise LifecycleError(f"{here}: cycle {cycle.cycle!r} is not a version line")
        for label, value, source in (
            ("released", cycle.released, cycle.released_source),
            ("eol", cycle.eol, cycle.eol_source),
        ):
            if isinstance(value, DateWindow) and value.latest is not None and value.earliest > value.latest:
                raise LifecycleError(f"{here}: cycle {cycle.cycle} {label}: earliest is after latest")
            if label == "released" and isinstance(value, DateWindow) and value.latest is None:
                raise LifecycleError(f"{here}: cycle {cycle.cycle} released: a release window needs its latest day")
            if value is not None and not source.startswith("https://"):
                raise LifecycleError(f"{here}: cycle {cycle.cycle} {label} has no https source")
        if cycle.released is None and not cycle.note:
            raise LifecycleError(f"{here}: cycle {cycle.cycle} has no release date and no note saying why")
    versions: set[str] = set()
    for release in product.releases:
        if release.version in versions:
            raise LifecycleError(f"{here}: release {release.version} is listed twice")
        versions.add(release.version)
        if not release.source.startswith("https://"):
            raise LifecycleError(f"{here}: release {release.version} has no https source")
    retired = product.retired
    if retired is not None:
        if not retired.announcement.startswith("https://"):
            raise LifecycleError(f"{here}: retired.announcement must be an https URL")
        last = retired.last_day
        if isinstance(last, DateWindow) and (last.latest is None or last.earliest > last.latest):
            raise LifecycleError(f"{here}: retired.last_day: a window needs a latest day on or after its earliest")
    if (product.support_rule == "follows") != bool(product.follows):
        raise LifecycleError(f"{here}: 'follows' rules are given exactly when support_rule is 'follows'")
    for follow in product.follows:
        try:
            pattern = re.compile(follow.lines)
        except re.error as exc:
            raise LifecycleError(
                f"{here}: follows.lines {follow.lines!r} is not a regular expression ({exc})"
            ) from None
        if "release" not in pattern.groupindex:
            raise LifecycleError(f"{here}: follows.lines {follow.lines!r} has no group named 'release'")
    if product.lines_complete_until is not None and product.lines_complete_until > product.retrieved:
        raise LifecycleError(f"{here}: lines_complete_until is after the retrieval date {product.retrieved}")
    if product.retrieved < max((r.date for r in product.releases), default=product.retrieved):
        raise LifecycleError(f"{here}: a release is dated after the retrieval date {product.retrieved}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def load_curated(directory: Path) -> tuple[CuratedProduct, ...]:
    """Every ``*.yaml`` of a curated directory, sorted by file name; an absent directory holds none."""
    if not directory.is_dir():
        return ()
    products = []
    ids: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        try:
            text = read_regular(path)
        except OSError as exc:
            raise LifecycleError(f"cannot read curated lifecycle data {path}: {exc.strerror or exc}") from None
        product = parse_curated(text, str(path))
        if product.product in ids:
            raise LifecycleError(f"{path}: product {product.product!r} is defined twice")
        ids.add(product.product)
        products.append(product)
    return tuple(products)


def cycle_support_ends(cycle: DerivedCycle) -> tuple[date | bool | None, date | None]:
    """(``eol`` as the catalog reads it, the earliest possible last day when the day is a window).

    An open window (no latest day) reads as no ``eol`` and its earliest day: supported through that
    day, unknown after it (``DerivedCycle.unknown`` says why).
    """
    if cycle.end is None:
        return None, None
    if cycle.end is False:
        return False, None
    if cycle.end.latest is None:
        return None, cycle.end.earliest
    exact = cycle.end.exact
    if exact is not None or cycle.unknown:
        return cycle.end.latest, None
    return cycle.end.latest, cycle.end.earliest


def to_product(curated: CuratedProduct) -> Product:
    """The catalog's ``Product`` for a curated entry: lines with their derived ends, dated releases."""
    cycles = []
    for derived in derive_cycles(curated):
        eol, not_before = cycle_support_ends(derived)
        released = derived.released.earliest if derived.released is not None else None
        cycles.append(
            Cycle(
                name=derived.name,
                release_date=released,
                eoas=None,
                eol=eol,
                eoes=None,
                lts=False,
                latest=None,
                latest_date=None,
                eol_not_before=not_before,
                eol_unknown=derived.unknown,
                eol_basis=derived.how,
            )
        )
    retired = curated.retired
    return Product(
        id=curated.product,
        label=curated.label,
        cycles=tuple(cycles),
        versions=tuple(PatchRelease(r.version, r.date) for r in curated.releases),
        column_labels={"eoas": None, "eol": "Support", "eoes": None},
        policy_link=curated.policy_source,
        source=f"{CURATED_SOURCE}: {curated.policy_source}",
        retrieved=curated.retrieved,
        curated=True,
        retired_after=_days(retired.last_day).latest if retired is not None else None,
        follows=tuple((f.lines, f.product, f.statement) for f in curated.follows),
        retired_note=(
            f"{curated.label} was retired ({retired.statement}; announced {retired.announced}, {retired.announcement})"
            if retired is not None
            else ""
        ),
        curated_note=" ".join((curated.policy, *curated.notes[:1])),
    )


def curated_products(directory: Path) -> tuple[Product, ...]:
    return tuple(to_product(c) for c in load_curated(directory))


# ------------------------------------------------------------------------------------------
# Overlays: phases a vendor publishes that the product's own data (endoflife.date) does not carry


class PhaseOverlay(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cycle: str
    label: str  # the vendor's name for the phase ("Extended Update Support Term 2")
    ends: date  # its last day
    basis: str  # how the day was found, in our words
    source: str  # https URL of the vendor's statement


class ProductOverlay(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    product: str
    retrieved: date  # when the sources were read
    statement: str  # what the overlay adds, in our words
    source: str  # https URL of the vendor's policy
    phases: tuple[PhaseOverlay, ...] = ()
    notes: tuple[str, ...] = ()


def load_overlays(directory: Path) -> tuple[tuple[ProductOverlay, str], ...]:
    """Every ``*.yaml`` of an overlays directory with its path; an absent directory holds none."""
    if not directory.is_dir():
        return ()
    found = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            overlay = msgspec.convert(_one_document(read_regular(path)), ProductOverlay)
        except OSError as exc:
            raise LifecycleError(f"cannot read lifecycle overlay {path}: {exc.strerror or exc}") from None
        except (yaml.YAMLError, ValueError) as exc:
            raise LifecycleError(f"{path}: not valid YAML ({_one_line(str(exc))})") from None
        except msgspec.ValidationError as exc:
            raise LifecycleError(f"{path}: {exc}") from None
        if not overlay.source.startswith("https://") or any(
            not p.source.startswith("https://") for p in overlay.phases
        ):
            raise LifecycleError(f"{path}: every overlay source must be an https URL")
        found.append((overlay, str(path)))
    return tuple(found)


def apply_overlay(product: Product, overlay: ProductOverlay, where: str) -> Product:
    """The product with the overlay's later phases added to its lines, and a provenance line per phase."""
    cycles = {c.name: c for c in product.cycles}
    notes = list(product.provenance)
    for phase in overlay.phases:
        cycle = cycles.get(phase.cycle)
        if cycle is None:
            raise LifecycleError(f"{where}: {product.id} has no line {phase.cycle!r} to add {phase.label!r} to")
        last = max(
            (d for d in (cycle.eol, cycle.eoes, *(p.ends for p in cycle.later_phases)) if isinstance(d, date)),
            default=None,
        )
        if last is not None and phase.ends <= last:
            raise LifecycleError(
                f"{where}: {phase.label} of {product.id} {phase.cycle} ends on {phase.ends}, "
                f"not after the line's support ({last})"
            )
        cycles[phase.cycle] = replace(
            cycle, later_phases=(*cycle.later_phases, LaterPhase(phase.label, phase.ends, phase.basis, phase.source))
        )
        notes.append(
            f"{phase.cycle}: {phase.label} until {phase.ends} ({phase.basis}; {phase.source}; read {overlay.retrieved})"
        )
    return replace(product, cycles=tuple(cycles[c.name] for c in product.cycles), provenance=tuple(notes))
