"""Lifecycle knowledge: is product P, release cycle R supported on date D, and what is its newest patch?

The data is endoflife.date's (see ``data/SOURCES.md``).  Each date-or-boolean field is read by
its meaning, exactly as endoflife.date itself reads it:

* a date ``D``: the phase has ended when the as-of date is *after* ``D`` (day ``D`` is still in);
* ``true``: the phase had ended by the data's retrieval date (the day is not recorded);
* ``false``: not ended, and no end date announced, as of the data's retrieval date;
* key absent: the phase does not apply to that cycle (e.g. no extended support).

``eoas`` ends active support, ``eol`` ends (security) support, ``eoes`` ends extended or paid
support (EKS extended support, AKS LTS, Ubuntu ESM, RHEL ELS, Windows ESU, Debian LTS, …).
What each column means for a product is in its ``front_matter`` ``*Column`` labels, which the
catalog keeps for reports.

The files of a data directory (``manifest.json``, ``products/<id>.json``, ``releases/<id>.json``)
are decoded with msgspec Structs naming only the fields read; a wrong type, a date that is not
YYYY-MM-DD or a missing field raises LifecycleError naming the file and the field
(``releases/kubernetes.json: not a release-data file: Expected `object | null`, got `array` - at
`$.versions```).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from patchlevel.errors import LifecycleError
from patchlevel.model import Phase
from patchlevel.safeinput import NESTED_TOO_DEEP, read_regular
from patchlevel.versions import release_key

BUNDLED_DATA = Path(str(resources.files("patchlevel.lifecycle") / "data"))
DATA_DIR_ENV = "PATCHLEVEL_DATA_DIR"

PhaseEnd = date | bool | None  # None: the phase does not apply (key absent)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class LaterPhase:
    """A support phase after the data's own phases (an overlay, see curated.py): OpenShift EUS Term 2."""

    label: str  # the vendor's name for the phase
    ends: date  # its last day
    basis: str  # how the day was found, in our words
    source: str  # URL of the vendor's statement


@dataclass(frozen=True, slots=True)
class Cycle:
    name: str
    release_date: date | None
    eoas: PhaseEnd
    eol: PhaseEnd
    eoes: PhaseEnd
    lts: bool
    latest: str | None
    latest_date: date | None
    codename: str = ""
    label: str = ""
    # Curated data only (see curated.py): the last day of support lies between ``eol_not_before``
    # and ``eol``; ``eol_unknown`` says why the end is not known (``eol`` then only bounds it);
    # ``eol_basis`` says how the end was derived.
    eol_not_before: date | None = None
    eol_unknown: str = ""
    eol_basis: str = ""
    later_phases: tuple[LaterPhase, ...] = ()  # overlays: phases after eoes, in order


@dataclass(frozen=True, slots=True)
class PatchRelease:
    version: str
    date: date


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    label: str
    cycles: tuple[Cycle, ...]
    versions: tuple[PatchRelease, ...]  # every known patch release, any cycle
    column_labels: Mapping[str, str | None]  # "eoas"/"eol"/"eoes" -> label, None when the column is off
    policy_link: str = ""
    source: str = ""
    retrieved: date | None = None
    curated: bool = False  # from patchlevel's curated data (curated.py), dated by ``retrieved``
    retired_after: date | None = None  # a retired project: no release of any line is supported after this day
    retired_note: str = ""
    curated_note: str = ""  # curated: why a line may be missing (the policy and what was not verified)
    # curated "follows" rule: (pattern over line names with a ``release`` group, product, statement)
    follows: tuple[tuple[str, str, str], ...] = ()
    provenance: tuple[str, ...] = ()  # overlays applied to the data: what was added, from where

    def cycle(self, name: str) -> Cycle | None:
        return next((c for c in self.cycles if c.name == name), None)

    def cycle_by_codename(self, codename: str) -> Cycle | None:
        wanted = codename.lower()
        for c in self.cycles:
            names = {c.codename.lower(), *c.codename.lower().split()}
            if wanted in names or (c.codename and wanted.split()[0] == c.codename.lower().split()[0]):
                return c
        return None


@dataclass(frozen=True, slots=True)
class Support:
    """Where a release cycle stands on the as-of date."""

    product: str
    product_label: str
    cycle: str
    phase: Phase
    phase_label: str = ""  # the product's own name for the current phase ("Extended Support", …)
    phase_ends: date | None = None  # when the current phase ends; None when open-ended or unknown
    support_ends: PhaseEnd = None  # end of standard (security) support: eol
    extended_ends: PhaseEnd = None  # end of extended support: eoes (None when none exists)
    released: date | None = None
    reason: str = ""  # for UNKNOWN, and notes such as "end date not recorded"

    @property
    def supported(self) -> bool | None:
        """True inside standard support, False outside any support, None otherwise."""
        if self.phase in (Phase.ACTIVE, Phase.MAINTENANCE):
            return True
        if self.phase is Phase.ENDED:
            return False
        return None


@dataclass(frozen=True, slots=True)
class Catalog:
    """All lifecycle products of one data directory, with the data's retrieval date."""

    products: Mapping[str, Product]
    data_date: date
    data_dir: Path
    bundled: bool
    source: str
    manifest: Mapping[str, Any] = field(default_factory=dict)
    _patch_cache: dict[tuple[str, str, date], tuple[PatchRelease, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def product(self, product_id: str) -> Product | None:
        return self.products.get(product_id)

    def support(self, product_id: str, cycle_name: str | None, as_of: date) -> Support:
        product = self.products.get(product_id)
        if product is None:
            return Support(
                product_id,
                product_id,
                cycle_name or "",
                Phase.UNKNOWN,
                reason=f"no lifecycle data for {product_id}",
            )
        if not cycle_name:
            return Support(product_id, product.label, "", Phase.UNKNOWN, reason="release not known")
        if product.follows:
            return self._followed(product, cycle_name, as_of)
        cycle = product.cycle(cycle_name)
        data_date = product.retrieved if product.curated and product.retrieved else self.data_date
        if cycle is None:
            if product.retired_after is not None and as_of > product.retired_after:
                return Support(
                    product_id,
                    product.label,
                    cycle_name,
                    Phase.ENDED,
                    phase_label="Retired",
                    support_ends=product.retired_after,
                    reason=product.retired_note,
                )
            older = predates_every_line(product, cycle_name, as_of, data_date)
            if older is not None:
                return older
            return Support(
                product_id,
                product.label,
                cycle_name,
                Phase.UNKNOWN,
                reason=f"{product.label} {cycle_name} is not in the lifecycle data (retrieved {data_date})"
                + (f": {product.curated_note}" if product.curated_note else ""),
            )
        return support_on(product, cycle, as_of, data_date)

    def _followed(self, product: Product, cycle_name: str, as_of: date) -> Support:
        """A line of a product whose lines follow another product's calendar (curated ``follows``)."""
        for pattern, followed_id, statement in product.follows:
            m = re.fullmatch(pattern, cycle_name)
            if m is None:
                continue
            release = m["release"]
            followed = self.support(followed_id, release, as_of)
            note = f"{product.label} {cycle_name} follows {followed.product_label} {release}: {statement}"
            return replace(
                followed,
                product=product.id,
                product_label=product.label,
                cycle=cycle_name,
                reason=f"{note}; {followed.reason}" if followed.reason else note,
            )
        return Support(
            product.id,
            product.label,
            cycle_name,
            Phase.UNKNOWN,
            reason=f"{product.label} {cycle_name} follows no calendar the data knows: {product.curated_note}",
        )

    def patches(self, product_id: str, cycle_name: str, as_of: date) -> tuple[PatchRelease, ...]:
        """Patch releases of a cycle published on or before ``as_of``, oldest first.

        Merges release-data's version list with the cycle's ``latest``; empty when nothing is known.
        """
        key = (product_id, cycle_name, as_of)
        cached = self._patch_cache.get(key)
        if cached is None:
            cached = self._patch_cache[key] = self._patches(product_id, cycle_name, as_of)
        return cached

    def _patches(self, product_id: str, cycle_name: str, as_of: date) -> tuple[PatchRelease, ...]:
        product = self.products.get(product_id)
        if product is None:
            return ()
        found: dict[str, PatchRelease] = {}
        for release in product.versions:
            if release.date <= as_of and in_cycle(release.version, cycle_name):
                found[release.version] = release
        cycle = product.cycle(cycle_name)
        if cycle and cycle.latest and cycle.latest_date and cycle.latest_date <= as_of:
            found.setdefault(cycle.latest, PatchRelease(cycle.latest, cycle.latest_date))
        return tuple(sorted(found.values(), key=lambda r: release_key(r.version)))

    def release_date(self, product_id: str, version: str) -> date | None:
        product = self.products.get(product_id)
        if product is None:
            return None
        for release in product.versions:
            if release.version == version:
                return release.date
        for cycle in product.cycles:
            if cycle.latest == version:
                return cycle.latest_date
        return None

    def age_days(self, as_of: date) -> int:
        return (as_of - self.data_date).days


def in_cycle(version: str, cycle: str) -> bool:
    """Whether a patch version belongs to a cycle: ``1.33.13-gke.1`` is in ``1.33``; ``1.3.1`` is not in ``1.33``."""
    if not version.startswith(cycle):
        return False
    rest = version[len(cycle) :]
    return rest == "" or not rest[0].isdigit()


# --------------------------------------------------------------------------------------------
# A release older than every line of a product's data


_LINE = re.compile(r"([A-Za-z][A-Za-z-]*-)?(\d+(?:\.\d+)*)")


def _line_key(name: str) -> tuple[str, tuple[int, ...]] | None:
    """(non-numeric prefix, numbers) of a version-like line name ("1.31", "cos-109"); None otherwise."""
    m = _LINE.fullmatch(name)
    return (m[1] or "", release_key(m[2])) if m else None


def _final_end(cycle: Cycle) -> date | bool | None:
    """The last day of any support of a line: a date, True (ended by the data's date), None (not known)."""
    if cycle.eol is False or cycle.eoes is False or (cycle.eol is None and cycle.eol_not_before is not None):
        return None  # no end announced, or known only not to come before a day
    days = [d for d in (cycle.eol, cycle.eoes, *(p.ends for p in cycle.later_phases)) if isinstance(d, date)]
    if days:
        return max(days)
    return True if cycle.eol is True or cycle.eoes is True else None


def predates_every_line(product: Product, cycle_name: str, as_of: date, data_date: date) -> Support | None:
    """Support of a release older than the oldest line of the data, or None when that is not decidable.

    A release that predates every listed line ended no later than the oldest line did: once the
    oldest line's last support of any kind has ended, it is ENDED.  Before that day whether it was
    still supported is not recorded (UNKNOWN, saying so).  Decided only when the line names are
    version-like with one shape ("1.31", "cos-109") and their numbering is chronological (the
    lowest-numbered line was released first); otherwise None (Amazon Linux's "2" is newer than
    "2018.03", Windows Server's "2012-r2" is no version).
    """
    wanted = _line_key(cycle_name)
    keys = [(_line_key(c.name), c) for c in product.cycles]
    if wanted is None or not keys or any(k is None or k[0] != wanted[0] for k, _ in keys):
        return None
    oldest_key, oldest = min(((k, c) for k, c in keys if k is not None), key=lambda kc: kc[0][1])
    if not wanted[1] or wanted[1] >= oldest_key[1]:
        return None
    dated = [c.release_date for c in product.cycles if c.release_date is not None]
    if oldest.release_date is None or any(d < oldest.release_date for d in dated):
        return None  # numbering is not chronological: "older" by number is not older in time
    name = f"{product.label} {cycle_name}"
    first = f"{product.label} {oldest.name}, the oldest line in the lifecycle data (retrieved {data_date})"
    end = _final_end(oldest)
    base = {"product": product.id, "product_label": product.label, "cycle": cycle_name}
    if isinstance(end, date) and as_of > end:
        return Support(
            phase=Phase.ENDED,
            phase_label="End of life",
            support_ends=True,
            reason=f"{name} predates every release in the lifecycle data; {first}, reached the end of all "
            f"support on {end}, so {cycle_name} had too",
            **base,  # type: ignore[arg-type]
        )
    if end is True and as_of >= data_date:
        return Support(
            phase=Phase.ENDED,
            phase_label="End of life",
            support_ends=True,
            reason=f"{name} predates every release in the lifecycle data; {first}, had reached the end of "
            f"all support by {data_date}, so {cycle_name} had too",
            **base,  # type: ignore[arg-type]
        )
    until = f"is supported until {end}" if isinstance(end, date) else "has no recorded last day of support"
    return Support(
        phase=Phase.UNKNOWN,
        reason=f"{name} predates every release in the lifecycle data and {first}, {until}; whether "
        f"{cycle_name} was still supported on {as_of} is not recorded",
        **base,  # type: ignore[arg-type]
    )


def _curated_end(product: Product, cycle: Cycle, as_of: date, base: Mapping[str, Any]) -> Support | None:
    """Curated lines whose end is unknown or known only to a window of days; None: judge as usual.

    A window with both days: supported through its earliest day, ended after its latest, unknown
    inside.  An open window (no ``eol``, only ``eol_not_before``): supported through that day,
    unknown after it.  An unknown end bounded by a date (a retirement): unknown until that date.
    """
    if not cycle.eol_unknown and cycle.eol_not_before is None:
        return None
    if isinstance(cycle.eol, date) and as_of > cycle.eol:
        return None  # past the latest possible end: ended, judged as usual
    label = f"{product.label} {cycle.name}"
    if cycle.eol_not_before is not None and as_of <= cycle.eol_not_before:
        window = (
            f"the last day of support lies between {cycle.eol_not_before} and {cycle.eol}; the earlier day is taken"
            if isinstance(cycle.eol, date)
            else f"supported at least through {cycle.eol_not_before}; after it: {cycle.eol_unknown or cycle.eol_basis}"
        )
        return Support(
            phase=Phase.ACTIVE,
            phase_label=product.column_labels.get("eol") or "Support",
            phase_ends=cycle.eol_not_before,
            reason=window,
            **{**base, "support_ends": cycle.eol_not_before},
        )
    if cycle.eol_unknown:
        bound = f"; it ended by {cycle.eol} at the latest" if isinstance(cycle.eol, date) else ""
        after = f" after {cycle.eol_not_before}" if cycle.eol_not_before is not None else ""
        reason = f"end of support of {label} is not known{after}: {cycle.eol_unknown}{bound}"
        return Support(phase=Phase.UNKNOWN, reason=reason, **base)
    return Support(
        phase=Phase.UNKNOWN,
        reason=f"support of {label} ended on a day between {cycle.eol_not_before} and "
        f"{cycle.eol} that the sources do not give ({cycle.eol_basis})",
        **base,
    )


def _ended(end: PhaseEnd, as_of: date) -> bool:
    if isinstance(end, bool):
        return end
    if end is None:
        return False
    return as_of > end


def support_on(product: Product, cycle: Cycle, as_of: date, data_date: date) -> Support:
    labels = product.column_labels
    base = {
        "product": product.id,
        "product_label": product.label,
        "cycle": cycle.name,
        "support_ends": cycle.eol,
        "extended_ends": cycle.later_phases[-1].ends if cycle.later_phases else cycle.eoes,
        "released": cycle.release_date,
    }
    if cycle.release_date and cycle.release_date > as_of:
        return Support(
            phase=Phase.UNRELEASED,
            reason=f"{product.label} {cycle.name} was released on {cycle.release_date}, after the as-of date",
            **base,  # type: ignore[arg-type]
        )
    undecided = _curated_end(product, cycle, as_of, base)
    if undecided is not None:
        return undecided
    if cycle.eol is True and as_of < data_date and cycle.eoes is None:
        # ``true`` only says support had ended by the data's date; before it, the day is unknown.
        return Support(
            phase=Phase.UNKNOWN,
            reason=f"{product.label} {cycle.name} had reached end of support by {data_date} on a day the data "
            f"does not record, so whether it had by {as_of} is not known",
            **base,  # type: ignore[arg-type]
        )
    note = ""
    if isinstance(cycle.eol, bool) and cycle.eol:
        note = f"end date not recorded; ended before {data_date}"
    elif cycle.eol is False and as_of > data_date:
        note = f"no end date announced as of {data_date}"
    if not _ended(cycle.eol, as_of):
        in_maintenance = cycle.eoas is not None and labels.get("eoas") is not None and _ended(cycle.eoas, as_of)
        if in_maintenance:
            return Support(
                phase=Phase.MAINTENANCE,
                phase_label=labels.get("eol") or "Security Support",
                phase_ends=cycle.eol if isinstance(cycle.eol, date) else None,
                reason=note,
                **base,  # type: ignore[arg-type]
            )
        active_end = cycle.eoas if isinstance(cycle.eoas, date) and labels.get("eoas") else cycle.eol
        return Support(
            phase=Phase.ACTIVE,
            phase_label=labels.get("eoas") or "Standard support",
            phase_ends=active_end if isinstance(active_end, date) else None,
            reason=note,
            **base,  # type: ignore[arg-type]
        )
    if cycle.eoes is not None and labels.get("eoes") is not None and not _ended(cycle.eoes, as_of):
        return Support(
            phase=Phase.EXTENDED,
            phase_label=labels.get("eoes") or "Extended Support",
            phase_ends=cycle.eoes if isinstance(cycle.eoes, date) else None,
            reason="" if isinstance(cycle.eoes, date) else f"no end date announced as of {data_date}",
            **base,  # type: ignore[arg-type]
        )
    for later in cycle.later_phases:  # overlays: a further paid phase (OpenShift EUS Term 2)
        if as_of <= later.ends:
            return Support(
                phase=Phase.EXTENDED,
                phase_label=later.label,
                phase_ends=later.ends,
                reason=f"{later.basis} ({later.source})",
                **base,  # type: ignore[arg-type]
            )
    return Support(phase=Phase.ENDED, phase_label="End of life", reason=note, **base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Loading


def default_user_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/patchlevel/lifecycle``, else ``~/.local/share/patchlevel/lifecycle``."""
    env = os.environ if environ is None else environ
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    return base / "patchlevel" / "lifecycle"


def data_dir_from_environment(environ: Mapping[str, str] | None = None) -> Path | None:
    """``$PATCHLEVEL_DATA_DIR`` (``~`` expanded), or None when unset: one rule for reading and updating."""
    value = (os.environ if environ is None else environ).get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def resolve_data_dir(explicit: Path | None = None) -> tuple[Path, bool]:
    """The data directory to use and whether it is the bundled one.

    Order: an explicit ``--data-dir``, ``$PATCHLEVEL_DATA_DIR``, the user data directory written
    by ``patchlevel lifecycle update`` when it exists, else the data shipped in the package.
    """
    if explicit is not None:
        return explicit, False
    env = data_dir_from_environment()
    if env is not None:
        return env, False
    user = default_user_data_dir()
    if (user / "manifest.json").is_file():
        return user, False
    return BUNDLED_DATA, True


# Decoding: msgspec Structs naming only the fields read.  A field of the wrong type, a date that is
# not YYYY-MM-DD, or a missing required field raises LifecycleError naming the file and the field
# (msgspec's path, e.g. ``$.releases[3].eol``); every other key of the files is skipped unread.

_Phase = bool | date | None  # a phase end: a date, true/false, or absent/null (the phase does not apply)


class _FrontMatter(msgspec.Struct):
    eoasColumn: bool | str | None = None
    eolColumn: bool | str | None = None
    eoesColumn: bool | str | None = None
    releasePolicyLink: str | None = None


class _Release(msgspec.Struct):
    releaseCycle: str
    releaseDate: date | None = None
    eoas: _Phase = None
    eol: _Phase = None
    eoes: _Phase = None
    lts: bool | str | None = False  # endoflife.date writes a date for "LTS since" in a few products
    latest: str | None = None
    latestReleaseDate: date | None = None
    codename: str | None = None
    releaseLabel: str | None = None


class _ProductFile(msgspec.Struct):
    """``products/<id>.json``: endoflife.date's front matter, as JSON."""

    product: str
    releases: list[_Release]
    front_matter: _FrontMatter | None = None
    label: str | None = None
    source: str | None = None
    retrieved: date | None = None  # written by ``patchlevel lifecycle update``
    commit_date: date | None = None


class _PatchVersion(msgspec.Struct):
    date: date | None = None


class _ReleasesFile(msgspec.Struct):
    """``releases/<id>.json``: release-data's patch versions and their dates."""

    versions: dict[str, _PatchVersion] | None = None


class _ManifestBlock(msgspec.Struct):
    retrieved: date | None = None
    source: str = ""


class _Manifest(msgspec.Struct):
    products: _ManifestBlock | None = None


def _decode(data: bytes | Mapping[str, Any] | None, kind: type[_T], where: str, what: str) -> _T:
    """Decode JSON bytes (or an already-parsed mapping) into ``kind``; LifecycleError on any problem."""
    try:
        if isinstance(data, bytes):
            return msgspec.json.decode(data, type=kind)
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        detail = str(exc).replace("Invalid RFC3339 encoded date", "Expected a YYYY-MM-DD date")
        raise LifecycleError(f"{where}: not {what}: {detail}") from None
    except msgspec.DecodeError as exc:
        raise LifecycleError(f"lifecycle data {where} is not valid JSON: {exc}") from None
    except RecursionError:
        raise LifecycleError(f"lifecycle data {where} is {NESTED_TOO_DEEP}") from None


def _column_label(value: bool | str | None, key: str, default: str | None) -> str | None:
    if value is None:
        return default
    if value is False:
        return None
    if value is True:
        return default or {"eoas": "Active Support", "eol": "Security Support", "eoes": "Extended Support"}[key]
    return value


def parse_product(
    doc: bytes | Mapping[str, Any],
    versions_doc: bytes | Mapping[str, Any] | None,
    where: str,
    versions_where: str | None = None,
) -> Product:
    """Build a Product from a ``products/<id>.json`` document and its ``releases/<id>.json``.

    Either document may be JSON bytes or a parsed mapping; ``where`` and ``versions_where`` name
    them in errors.
    """
    decoded = _decode(doc, _ProductFile, where, "a lifecycle product file")
    front_matter = decoded.front_matter or _FrontMatter()
    seen: set[str] = set()
    for index, entry in enumerate(decoded.releases):  # two entries for one line: which one holds is a guess
        if entry.releaseCycle in seen:
            raise LifecycleError(
                f"{where}: release {entry.releaseCycle!r} is listed more than once "
                f"- at `$.releases[{index}].releaseCycle`"
            )
        seen.add(entry.releaseCycle)
    cycles = tuple(
        Cycle(
            name=entry.releaseCycle,
            release_date=entry.releaseDate,
            eoas=entry.eoas,
            eol=entry.eol,
            eoes=entry.eoes,
            lts=bool(entry.lts),
            latest=entry.latest,
            latest_date=entry.latestReleaseDate,
            codename=entry.codename or "",
            label=entry.releaseLabel or "",
        )
        for entry in decoded.releases
    )
    versions: list[PatchRelease] = []
    if versions_doc is not None:
        releases = _decode(versions_doc, _ReleasesFile, versions_where or where, "a release-data file")
        for name, info in (releases.versions or {}).items():
            if info.date is not None:
                versions.append(PatchRelease(name, info.date))
    labels = {
        "eoas": _column_label(front_matter.eoasColumn, "eoas", None),
        "eol": _column_label(front_matter.eolColumn, "eol", "Security Support"),
        "eoes": _column_label(front_matter.eoesColumn, "eoes", None),
    }
    return Product(
        id=decoded.product,
        label=decoded.label or decoded.product,
        cycles=cycles,
        versions=tuple(versions),
        column_labels=labels,
        policy_link=front_matter.releasePolicyLink or "",
        source=decoded.source or "",
        retrieved=decoded.retrieved or decoded.commit_date,
    )


def _read(path: Path) -> bytes:
    """A data file's bytes: regular files only, bounded (a FIFO or device named ``*.json`` is refused, not read)."""
    try:
        return read_regular(path)
    except OSError as exc:
        raise LifecycleError(f"cannot read lifecycle data {path}: {exc.strerror or exc}") from None


def load_catalog(data_dir: Path | None = None) -> Catalog:
    """Load every product of a data directory (the bundled one by default)."""
    directory, bundled = resolve_data_dir(data_dir)
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise LifecycleError(
            f"{directory} is not a patchlevel lifecycle data directory (no manifest.json)",
            hint="run 'patchlevel lifecycle update' or drop --data-dir",
        )
    manifest: dict[str, Any] = _decode(_read(manifest_path), dict[str, Any], str(manifest_path), "a JSON object")
    meta = _decode(manifest, _Manifest, str(manifest_path), "a lifecycle data manifest").products
    data_date = meta.retrieved if meta is not None else None
    if meta is None or data_date is None:
        raise LifecycleError(f"{manifest_path} does not say when the data was retrieved")
    products: dict[str, Product] = {}
    for path in sorted((directory / "products").glob("*.json")):
        releases_path = directory / "releases" / path.name
        versions_doc = _read(releases_path) if releases_path.is_file() else None
        product = parse_product(_read(path), versions_doc, str(path), str(releases_path))
        if product.id != path.stem:  # else it would silently replace another product's data
            raise LifecycleError(f"{path}: names product {product.id!r}, not {path.stem!r} - at `$.product`")
        products[product.id] = product
    if not products:
        raise LifecycleError(f"{directory} holds no lifecycle products")
    # Curated products (data/curated/*.yaml) fill what endoflife.date lacks; its data wins when it has them.
    from patchlevel.lifecycle.curated import apply_overlay, curated_products, load_overlays

    curated_dir = directory / "curated" if (directory / "curated").is_dir() else BUNDLED_DATA / "curated"
    for curated in curated_products(curated_dir):
        products.setdefault(curated.id, curated)
    # Overlays add phases a vendor publishes that the product's data lacks (OpenShift EUS Term 2).
    for overlay, where in load_overlays(curated_dir / "overlays"):
        if overlay.product not in products:
            raise LifecycleError(f"{where}: no lifecycle product {overlay.product!r} to overlay")
        products[overlay.product] = apply_overlay(products[overlay.product], overlay, where)
    return Catalog(
        products=products,
        data_date=data_date,
        data_dir=directory,
        bundled=bundled,
        source=meta.source,
        manifest=manifest,
    )
