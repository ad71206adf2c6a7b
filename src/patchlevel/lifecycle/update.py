"""Refresh lifecycle data from the endoflife.date API v1 (``patchlevel lifecycle update``).

Only this module downloads anything; the audit itself reads a data directory and never the network.

Sources
-------
``HttpSource`` asks ``{base}/products/<id>/`` (base ``https://endoflife.date/api/v1``) for each
product, following redirects and retrying 429 and 5xx answers a few times with a short, capped
backoff.  ``DirectorySource`` reads the same responses from disk for air-gapped hosts.  For a
product ``<id>`` it takes the first file that exists among::

    DIR/<id>.json                          e.g. curl -o kubernetes.json .../products/kubernetes/
    DIR/<id>/index.json                    the API's own static file layout
    DIR/<id>/index.html                    what ``wget -r`` saves for a URL ending in ``/``
    DIR/products/<id>.json, DIR/products/<id>/index.{json,html}
    DIR/api/v1/products/<id>/index.{json,html}
    DIR/endoflife.date/api/v1/products/<id>/index.{json,html}   (a ``wget -r`` mirror's root)

Each file must be the unmodified body of ``GET /api/v1/products/<id>/``.

What is written
---------------
A v1 response is turned back into the stored product-file shape (``products/<id>.json``): the raw
front-matter values are recovered with ``x = xFrom if xFrom is not null else isX`` for ``eoas``,
``eol``, ``eoes``, ``discontinued`` and ``lts``; a null ``isX`` (a cycle without that phase) leaves
the key out; ``latest`` becomes ``latest``/``latestReleaseDate``/``link``; ``custom`` values become
release keys.  ``front_matter`` keeps what the API carries (category, tags, permalink,
alternate_urls, versionCommand, releasePolicyLink, iconSlug, the ``*Column`` labels, and
``latestColumn: false`` when no release has a ``latest``).  The API does not carry
``releaseLabel``, ``LTSLabel``, ``changelogTemplate``, ``customFields``, ``auto`` or ``addedAt``,
so an updated file has none of them; ``lts: false`` and a null ``codename`` are left out as in the
raw files.  ``source`` is the URL or file read, ``commit`` is null (the API has none),
``commit_date`` is the date (UTC) of the response's ``last_modified``, and ``retrieved`` is the day
of the update.

Everything is fetched and validated before anything is written: a response is decoded with msgspec
Structs naming only the fields read (a wrong type is refused with its path, e.g.
``$.result.releases[3].isEol``), then dates, names and duplicates are checked.  The new data directory is then
built in a temporary sibling (``.<name>.XXXX.new``) from the current one (the target when it is
already a data directory, else the bundled data) plus the updated product files and
``manifest.json``, and swapped in with two renames: ``<target>`` → ``<target>.previous``, then
the new directory → ``<target>``, once the staged copy loads with the audit's own reader
(``load_catalog``).  ``<target>.previous`` is removed once the swap succeeded.
The bundled package data is only ever read.

``manifest.json`` gains, under ``products``: ``source`` (this update's source), ``commit: null``,
``retrieved`` (today), ``per_product`` (per updated product: ``source``, ``retrieved``,
``data_date``, ``schema_version``), and ``base`` (where the product files not listed in
``per_product`` came from).  ``releases/`` (patch versions) and ``osv/`` are copied unchanged:
the v1 API has no patch-version lists.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final, Protocol

import httpx
import msgspec

from patchlevel import __version__
from patchlevel.errors import LifecycleError, UsageError
from patchlevel.lifecycle.catalog import BUNDLED_DATA, data_dir_from_environment, default_user_data_dir, load_catalog
from patchlevel.lifecycle.osv import (
    GO_ATTRIBUTION,
    GO_MODULES,
    GO_SOURCE,
    decode_record,
    read_go_vulndb,
    record_from,
)
from patchlevel.retry import backoff_delay, retry_after_seconds
from patchlevel.timestamps import ACCEPTED as TIME_ACCEPTED
from patchlevel.timestamps import day as utc_day
from patchlevel.timestamps import shown
from patchlevel.vuln.epss import EPSS_FILE, EPSS_FOLDER, EPSS_URL, load_epss, newest_epss_file, parse_epss
from patchlevel.vuln.kev import KEV_FILE, KEV_FOLDER, KEV_LICENCE, KEV_URL, load_kev, parse_kev, trim_kev

AUDIT_PRODUCTS: Final[tuple[str, ...]] = (
    "kubernetes",
    "amazon-eks",
    "azure-kubernetes-service",
    "google-kubernetes-engine",
    "red-hat-openshift",
    "containerd",
    "docker-engine",
    "ubuntu",
    "debian",
    "rhel",
    "amazon-linux",
    "cos",
    "sles",
    "suse-linux-micro",
    "rocky-linux",
    "almalinux",
    "centos",
    "centos-stream",
    "oracle-linux",
    "fedora",
    "windows-server",
    "alpine-linux",
    "vmware-photon",
    "opensuse",
)

DEFAULT_API_BASE: Final = "https://endoflife.date/api/v1"
GO_VULNDB_BASE: Final = "https://vuln.go.dev"
ALL_FEEDS: Final = ("lifecycle", "vulndb", "kev", "epss")
DEFAULT_FEEDS: Final = ("lifecycle",)  # what run_update refreshes unless told (the CLI's behaviour so far)
PREVIOUS_SUFFIX: Final = ".previous"
MAX_RESPONSE_BYTES: Final = 16 * 1024 * 1024

_PRODUCT_ID = re.compile(r"[a-z0-9][a-z0-9._+-]*")
_SCHEMA_V1 = re.compile(r"1(\.[0-9]+)*")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ICON_SLUG = re.compile(r"/icons/([A-Za-z0-9._-]+)\.svg$")
# Phases a v1 release splits into ``isX``/``xFrom``; ``eol`` is mandatory, the others optional.
_PHASES: Final = ("eoas", "eol", "eoes", "discontinued")
# The release fields whose change counts as "the lifecycle data changed".
_COMPARED: Final = (
    "releaseDate",
    "lts",
    "eoas",
    "eol",
    "eoes",
    "discontinued",
    "latest",
    "latestReleaseDate",
)
_UNCHANGED_HINT: Final = "the lifecycle data directory was left unchanged"


# --------------------------------------------------------------------------------------------
# Sources


@dataclass(frozen=True, slots=True)
class FetchedResponse:
    """The raw body of one ``/api/v1/products/<id>/`` response and where it came from."""

    product: str
    body: bytes
    origin: str  # the URL (after redirects) or the file path


class UpdateSource(Protocol):
    """Where v1 product responses come from."""

    def describe(self) -> str:
        """One line for the manifest and the summary, e.g. the base URL or directory."""
        ...

    def fetch(self, product: str) -> FetchedResponse:
        """The response for one product id; raises LifecycleError when it cannot be had."""
        ...


@dataclass(frozen=True, slots=True)
class HttpSource:
    """The live endoflife.date API v1.

    With ``client`` given, every request goes through it (its timeout and transport apply);
    without, each ``fetch`` opens and closes its own client with ``timeout``.
    """

    base_url: str = DEFAULT_API_BASE
    client: httpx.Client | None = None
    timeout: float = 30.0
    attempts: int = 4
    backoff: float = 0.5  # seconds before the second attempt; doubles each time
    max_backoff: float = 8.0
    sleep: Callable[[float], None] = time.sleep

    def describe(self) -> str:
        return f"endoflife.date API v1 ({self.base_url.rstrip('/')}/products/<id>/)"

    def url_for(self, product: str) -> str:
        return f"{self.base_url.rstrip('/')}/products/{product}/"

    def fetch(self, product: str) -> FetchedResponse:
        check_product_id(product)
        if self.client is not None:
            return self._fetch_with(self.client, product)
        with new_http_client(self.timeout) as client:
            return self._fetch_with(client, product)

    def _fetch_with(self, client: httpx.Client, product: str) -> FetchedResponse:
        url = self.url_for(product)
        retry = Retry(self.attempts, self.backoff, self.max_backoff, self.sleep)
        return http_get(
            client,
            url,
            product,
            retry,
            not_found=LifecycleError(
                f"{product}: endoflife.date has no such product (HTTP 404 from {url})",
                hint="check the id at https://endoflife.date/api/v1/products/; " + _UNCHANGED_HINT,
            ),
        )


def new_http_client(timeout: float = 30.0) -> httpx.Client:
    """An httpx client set up the way the update expects (timeout, redirects, user agent)."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": f"patchlevel/{__version__}", "Accept": "application/json"},
    )


@dataclass(frozen=True, slots=True)
class Retry:
    """How often and how long to retry 429, 5xx answers and transport errors."""

    attempts: int = 4
    backoff: float = 0.5  # seconds before the second attempt; doubles each time
    max_backoff: float = 8.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.max_backoff, retry_after)
        return backoff_delay(attempt, self.backoff, self.max_backoff)


def http_get(
    client: httpx.Client,
    url: str,
    label: str,
    retry: Retry,
    *,
    not_found: LifecycleError | None = None,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> FetchedResponse:
    """GET ``url`` (redirects followed), retrying 429, 5xx and transport errors; errors name ``label``."""
    attempts = max(1, retry.attempts)
    problem = "no answer"
    for attempt in range(1, attempts + 1):
        retry_after: float | None = None
        try:
            response = client.get(url, follow_redirects=True)
        except httpx.UnsupportedProtocol as exc:
            raise LifecycleError(f"{label}: cannot fetch {url}: {exc}", hint=_UNCHANGED_HINT) from None
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__} ({_one_line(str(exc)) or 'no detail'})"
        except httpx.HTTPError as exc:
            raise LifecycleError(f"{label}: cannot fetch {url}: {_one_line(str(exc))}", hint=_UNCHANGED_HINT) from None
        else:
            status = response.status_code
            if status == 200:
                if len(response.content) > max_bytes:
                    raise LifecycleError(
                        f"{label}: the response from {url} is larger than {max_bytes} bytes", hint=_UNCHANGED_HINT
                    )
                return FetchedResponse(label, response.content, str(response.url))
            if status == 404:
                raise not_found or LifecycleError(f"{label}: HTTP 404 from {url}", hint=_UNCHANGED_HINT)
            if status != 429 and not 500 <= status <= 599:
                raise LifecycleError(f"{label}: HTTP {status} from {url}", hint=_UNCHANGED_HINT)
            problem = f"HTTP {status}"
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if attempt < attempts:
            retry.sleep(retry.delay(attempt, retry_after))
    raise LifecycleError(
        f"{label}: {problem} from {url} after {attempts} attempts",
        hint="try again later, or download the responses and use --from-dir; " + _UNCHANGED_HINT,
    )


@dataclass(frozen=True, slots=True)
class DirectorySource:
    """Downloaded v1 responses in a directory (see the module docstring for the layout)."""

    root: Path

    def describe(self) -> str:
        return f"endoflife.date API v1 responses in {self.root}"

    def candidates(self, product: str) -> tuple[Path, ...]:
        bases = (
            self.root,
            self.root / "products",
            self.root / "api" / "v1" / "products",
            self.root / "endoflife.date" / "api" / "v1" / "products",
        )
        found: list[Path] = []
        for base in bases:
            found += [base / f"{product}.json", base / product / "index.json", base / product / "index.html"]
        return tuple(found)

    def fetch(self, product: str) -> FetchedResponse:
        check_product_id(product)
        if not self.root.is_dir():
            raise LifecycleError(f"{self.root} is not a directory", hint=_UNCHANGED_HINT)
        for path in self.candidates(product):
            if path.is_file():
                try:
                    body = path.read_bytes()
                except OSError as exc:
                    raise LifecycleError(
                        f"{product}: cannot read {path}: {exc.strerror or exc}", hint=_UNCHANGED_HINT
                    ) from None
                return FetchedResponse(product, body, str(path))
        raise LifecycleError(
            f"{product}: no response file in {self.root} "
            f"(looked for {product}.json, {product}/index.json and mirror layouts)",
            hint=f"save {DEFAULT_API_BASE}/products/{product}/ as {product}.json there, or name the "
            "products you have with --product; " + _UNCHANGED_HINT,
        )


def check_product_id(product: str) -> None:
    """Refuse ids that are not endoflife.date product ids (and could escape a directory)."""
    if not _PRODUCT_ID.fullmatch(product):
        raise UsageError(
            f"{product!r} is not an endoflife.date product id",
            hint="ids are lower-case letters, digits, '.', '-', '_' and '+', e.g. 'kubernetes'",
        )


# --------------------------------------------------------------------------------------------
# Turning a v1 response back into a stored product file


@dataclass(frozen=True, slots=True)
class ConvertedProduct:
    """A validated v1 response in the stored product-file shape."""

    product: str
    document: dict[str, Any]  # what products/<id>.json will hold
    data_date: date
    schema_version: str
    origin: str
    notes: tuple[str, ...] = ()


class _Invalid(Exception):
    """A validation problem; turned into a LifecycleError naming the product and origin."""


def convert_v1_product(body: bytes, *, product: str, origin: str, retrieved: date) -> ConvertedProduct:
    """Validate a ``/api/v1/products/<id>/`` body and convert it to the stored shape.

    Raises LifecycleError with a one-line message naming the product and the problem.
    """
    try:
        return _convert(body, product=product, origin=origin, retrieved=retrieved)
    except _Invalid as exc:
        raise LifecycleError(f"{product}: {exc} ({origin})", hint=_UNCHANGED_HINT) from None


# The v1 response, decoded with msgspec Structs naming only the fields read: a field of the wrong
# type is refused with its path (``$.result.releases[3].isEol``).  What types cannot say (dates
# written YYYY-MM-DD, non-empty names, no duplicate cycles) is checked after decoding; either way
# the response is refused before anything is written.

_Unset = msgspec.UnsetType
_UNSET = msgspec.UNSET


class _V1Latest(msgspec.Struct):
    name: str | None = None
    date: str | None = None
    link: str | None = None


class _V1Release(msgspec.Struct):
    name: str
    releaseDate: str
    codename: str | None = None
    # Each phase is ``isX`` (true/false/null) and ``xFrom`` (a date or null); absent: no such phase.
    isEoas: bool | _Unset | None = _UNSET
    eoasFrom: str | _Unset | None = _UNSET
    isEol: bool | _Unset | None = _UNSET
    eolFrom: str | _Unset | None = _UNSET
    isEoes: bool | _Unset | None = _UNSET
    eoesFrom: str | _Unset | None = _UNSET
    isDiscontinued: bool | _Unset | None = _UNSET
    discontinuedFrom: str | _Unset | None = _UNSET
    isLts: bool | _Unset | None = _UNSET
    ltsFrom: str | _Unset | None = _UNSET
    latest: _V1Latest | None = None
    custom: dict[str, str | int | float | bool | None] | None = None


class _V1Identifier(msgspec.Struct):
    type: str
    id: str


class _V1Links(msgspec.Struct):
    icon: str | None = None
    releasePolicy: str | None = None


class _V1Labels(msgspec.Struct):
    eoas: str | None = None
    eol: str | None = None
    eoes: str | None = None
    discontinued: str | None = None


class _V1Product(msgspec.Struct):
    name: str
    label: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    aliases: list[str] | None = None
    versionCommand: str | None = None
    identifiers: list[_V1Identifier] | None = None
    labels: _V1Labels | None = None
    links: _V1Links | None = None
    releases: list[_V1Release] | None = None


class _V1Envelope(msgspec.Struct):
    schema_version: str | None = None
    last_modified: str | None = None
    generated_at: str | None = None
    result: _V1Product | None = None


def _convert(body: bytes, *, product: str, origin: str, retrieved: date) -> ConvertedProduct:
    try:
        envelope = msgspec.json.decode(body, type=_V1Envelope)
    except msgspec.ValidationError as exc:
        raise _Invalid(f"not an endoflife.date API v1 product response: {exc}") from None
    except msgspec.DecodeError as exc:
        start = body[:15].decode("utf-8", "replace").strip()
        if start.startswith("<"):
            raise _Invalid(f"the response is HTML, not JSON (starts with {start!r})") from None
        raise _Invalid(f"the response is not valid JSON ({_one_line(str(exc))})") from None
    except RecursionError:
        raise _Invalid("the response is nested too deeply to be an endoflife.date API v1 response") from None
    schema_version = envelope.schema_version
    if schema_version is None:
        raise _Invalid("the response has no schema_version: not an endoflife.date API v1 response")
    if not _SCHEMA_V1.fullmatch(schema_version):
        raise _Invalid(f"schema_version {schema_version!r} is not supported (expected 1.x)")
    result = envelope.result
    if result is None:
        raise _Invalid("the response has no 'result' object")
    if result.name != product:
        raise _Invalid(f"the response is for product {result.name!r}, not {product!r}")
    data_date, date_key = _data_date(envelope)

    if not result.releases:
        raise _Invalid("the response lists no releases")
    releases = [_release(entry) for entry in result.releases]
    seen: set[str] = set()
    for release in releases:
        cycle = release["releaseCycle"]
        if cycle in seen:
            raise _Invalid(f"release {cycle!r} appears more than once")
        seen.add(cycle)

    if not result.label:
        raise _Invalid("the product has no label")
    document: dict[str, Any] = {
        "product": product,
        "label": result.label,
        "source": origin,
        "commit": None,
        "commit_date": data_date.isoformat(),
        "retrieved": retrieved.isoformat(),
        "releases": releases,
        "identifiers": [{item.type: item.id} for item in result.identifiers or ()],
        "front_matter": _front_matter(result, result.releases),
    }
    notes = () if date_key == "last_modified" else ("no last_modified: the data date is the build date",)
    return ConvertedProduct(product, document, data_date, schema_version, origin, notes)


def _data_date(envelope: _V1Envelope) -> tuple[date, str]:
    for key, value in (("last_modified", envelope.last_modified), ("generated_at", envelope.generated_at)):
        if value is None:
            continue
        day = utc_day(value)
        if day is None:  # not a time, or one UTC cannot hold (9999-12-31T23:00:00-05:00)
            raise _Invalid(f"{key} {shown(value)} is not {TIME_ACCEPTED}")
        return day, key
    raise _Invalid("the response has neither last_modified nor generated_at: its data date is unknown")


def _release(entry: _V1Release) -> dict[str, Any]:
    name = entry.name
    if not name:
        raise _Invalid("a release has an empty name")
    where = f"release {name}"
    stored: dict[str, Any] = {"releaseCycle": name}
    if entry.codename:
        stored["codename"] = entry.codename
    lts = _phase(entry, "lts", where)
    if lts is not None and lts is not False:
        stored["lts"] = lts
    stored["releaseDate"] = _iso_date(entry.releaseDate, f"{where}: releaseDate")
    for phase in _PHASES:
        value = _phase(entry, phase, where)
        if value is None:
            if phase == "eol":
                raise _Invalid(f"{where}: isEol must be true or false")
            continue
        stored[phase] = value
    latest = entry.latest
    if latest is not None:
        if latest.name is not None:
            stored["latest"] = latest.name
        if latest.date is not None:
            stored["latestReleaseDate"] = _iso_date(latest.date, f"{where}: latest.date")
        if latest.link is not None:
            stored["link"] = latest.link
    for key, custom in (entry.custom or {}).items():
        if key in stored or key in _COMPARED or key in ("link", "codename", "releaseCycle"):
            raise _Invalid(f"{where}: custom field {key!r} clashes with a lifecycle field")
        stored[key] = custom
    return stored


def _phase(entry: _V1Release, phase: str, where: str) -> bool | str | None:
    """The raw front-matter value of a phase: its date, else its boolean; None when absent."""
    is_key, from_key = "is" + phase[0].upper() + phase[1:], phase + "From"
    flag, since = getattr(entry, is_key), getattr(entry, from_key)
    if flag is _UNSET and since is _UNSET:
        return None
    if since is not None and since is not _UNSET:
        return _iso_date(since, f"{where}: {from_key}")
    return None if flag is _UNSET else flag


def _iso_date(value: str, where: str) -> str:
    if _ISO_DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise _Invalid(f"{where} {value!r} is not a valid YYYY-MM-DD date")


def _front_matter(result: _V1Product, releases: Sequence[_V1Release]) -> dict[str, Any]:
    front_matter: dict[str, Any] = {}
    category = result.category
    if category:
        front_matter["category"] = category
    own_tags = [tag for tag in result.tags or () if tag != category]
    if own_tags:
        front_matter["tags"] = " ".join(own_tags)
    links = result.links or _V1Links()
    slug = _ICON_SLUG.search(links.icon) if links.icon else None
    if slug:
        front_matter["iconSlug"] = slug.group(1)
    front_matter["permalink"] = f"/{result.name}"
    if result.aliases:
        front_matter["alternate_urls"] = [f"/{alias}" for alias in result.aliases]
    if result.versionCommand is not None:
        front_matter["versionCommand"] = result.versionCommand
    if links.releasePolicy is not None:
        front_matter["releasePolicyLink"] = links.releasePolicy
    if all(entry.latest is None for entry in releases):
        front_matter["latestColumn"] = False
    labels = result.labels or _V1Labels()
    for phase in _PHASES:
        label = getattr(labels, phase)
        front_matter[f"{phase}Column"] = label if label else False
    return front_matter


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------
# Vulnerability data: Go vulnerability database records, CISA KEV, FIRST EPSS


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """One validated vulnerability feed, ready to be written into the data directory."""

    feed: str  # "vulndb", "kev", "epss"
    source: str
    data_date: date  # the date the data covers to (database modified, catalog released, score date)
    records: int
    records_before: int  # in the current data (0 when absent)
    folder: str  # the data-directory folder this feed replaces as a whole
    files: Mapping[str, bytes] = field(repr=False)  # file name inside ``folder`` -> content
    manifest: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


class _DocumentSource(Protocol):
    def describe(self) -> str: ...

    def fetch(self) -> FetchedResponse: ...


@dataclass(frozen=True, slots=True)
class UrlDocument:
    """One document over HTTP (the KEV catalog, today's EPSS scores)."""

    url: str
    label: str
    client: httpx.Client | None = None
    timeout: float = 60.0
    retry: Retry = field(default_factory=Retry)

    def describe(self) -> str:
        return self.url

    def fetch(self) -> FetchedResponse:
        if self.client is not None:
            return http_get(self.client, self.url, self.label, self.retry)
        with new_http_client(self.timeout) as client:
            return http_get(client, self.url, self.label, self.retry)


@dataclass(frozen=True, slots=True)
class FileDocument:
    """One downloaded document on disk."""

    path: Path
    label: str

    def describe(self) -> str:
        return str(self.path)

    def fetch(self) -> FetchedResponse:
        try:
            if self.path.stat().st_size > MAX_RESPONSE_BYTES:
                raise LifecycleError(f"{self.label}: {self.path} is larger than {MAX_RESPONSE_BYTES} bytes")
            return FetchedResponse(self.label, self.path.read_bytes(), str(self.path))
        except OSError as exc:
            raise LifecycleError(
                f"{self.label}: cannot read {self.path}: {exc.strerror or exc}", hint=_UNCHANGED_HINT
            ) from None


class VulndbSource(Protocol):
    """Where Go vulnerability database records come from (the served layout: index/, ID/)."""

    def describe(self) -> str: ...

    def db_json(self) -> FetchedResponse | None:
        """``index/db.json`` ({"modified": …}), None when the source has none."""
        ...

    def modules_json(self) -> FetchedResponse | None:
        """``index/modules.json``, None when the source has none (then every record it holds is read)."""
        ...

    def record(self, vuln_id: str) -> FetchedResponse: ...

    def record_ids(self) -> tuple[str, ...]:
        """Every record id the source holds (used when it has no modules index)."""
        ...


_GO_ID = re.compile(r"GO-\d{4}-\d{4,}")


@dataclass(frozen=True, slots=True)
class VulndbHttpSource:
    """https://vuln.go.dev: ``index/db.json``, ``index/modules.json``, then ``ID/<id>.json`` per record."""

    base_url: str = GO_VULNDB_BASE
    client: httpx.Client | None = None
    timeout: float = 30.0
    retry: Retry = field(default_factory=Retry)

    def describe(self) -> str:
        return f"Go vulnerability database ({self.base_url.rstrip('/')}/index/modules.json, /ID/<id>.json)"

    def _get(self, path: str, label: str) -> FetchedResponse:
        url = f"{self.base_url.rstrip('/')}/{path}"
        if self.client is not None:
            return http_get(self.client, url, label, self.retry)
        with new_http_client(self.timeout) as client:
            return http_get(client, url, label, self.retry)

    def db_json(self) -> FetchedResponse:
        return self._get("index/db.json", "vulndb")

    def modules_json(self) -> FetchedResponse:
        return self._get("index/modules.json", "vulndb")

    def record(self, vuln_id: str) -> FetchedResponse:
        if not _GO_ID.fullmatch(vuln_id):
            raise LifecycleError(f"vulndb: {vuln_id!r} is not a Go vulnerability id", hint=_UNCHANGED_HINT)
        return self._get(f"ID/{vuln_id}.json", f"vulndb {vuln_id}")

    def record_ids(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class VulndbDirectorySource:
    """Downloaded records: the served layout (``index/db.json``, ``index/modules.json``, ``ID/GO-….json``)
    mirrored into a directory, or ``GO-….json`` files side by side (with ``db.json`` beside them)."""

    root: Path

    def describe(self) -> str:
        return f"Go vulnerability database records in {self.root}"

    def _file(self, *names: str) -> FetchedResponse | None:
        for name in names:
            path = self.root / name
            if path.is_file():
                return FileDocument(path, "vulndb").fetch()
        return None

    def db_json(self) -> FetchedResponse | None:
        return self._file("index/db.json", "db.json")

    def modules_json(self) -> FetchedResponse | None:
        return self._file("index/modules.json", "modules.json")

    def _records_dir(self) -> Path:
        return self.root / "ID" if (self.root / "ID").is_dir() else self.root

    def record(self, vuln_id: str) -> FetchedResponse:
        if not _GO_ID.fullmatch(vuln_id):
            raise LifecycleError(f"vulndb: {vuln_id!r} is not a Go vulnerability id", hint=_UNCHANGED_HINT)
        path = self._records_dir() / f"{vuln_id}.json"
        if not path.is_file():
            raise LifecycleError(
                f"vulndb: {vuln_id} is listed in the modules index but {path} does not exist",
                hint=f"download https://vuln.go.dev/ID/{vuln_id}.json there; " + _UNCHANGED_HINT,
            )
        return FileDocument(path, f"vulndb {vuln_id}").fetch()

    def record_ids(self) -> tuple[str, ...]:
        folder = self._records_dir()
        return tuple(sorted(p.stem for p in folder.glob("GO-*.json") if _GO_ID.fullmatch(p.stem)))


class _DbJson(msgspec.Struct):
    modified: str  # an RFC 3339 time, read by patchlevel.timestamps


class _IndexedVuln(msgspec.Struct):
    id: str
    modified: str = ""


class _IndexedModule(msgspec.Struct):
    path: str
    vulns: list[_IndexedVuln] = []


def _decode_json(body: FetchedResponse, kind: Any, what: str) -> Any:
    try:
        return msgspec.json.decode(body.body, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise LifecycleError(f"{body.origin}: not {what}: {exc}", hint=_UNCHANGED_HINT) from None


def collect_vulndb(
    source: VulndbSource, *, modules: Sequence[str], today: date, base: Path, force: bool = False
) -> FeedUpdate:
    """Fetch and validate the records of ``modules``; nothing is written here.

    With a modules index, the records it lists for ``modules`` are fetched one by one; a directory
    without one gives every ``GO-*.json`` it holds that names one of ``modules``.  The date the data
    covers to is ``index/db.json``'s ``modified``, else the newest ``modified`` of the records
    (the served copies carry real dates; repository copies do not).
    """
    wanted = set(modules)
    db = source.db_json()
    covered: date | None = None
    if db is not None:
        modified = _decode_json(db, _DbJson, "the Go vulnerability database's index/db.json").modified
        covered = utc_day(modified)
        if covered is None:  # not a time, or one UTC cannot hold (9999-12-31T23:00:00-05:00)
            raise LifecycleError(
                f"{db.origin}: not the Go vulnerability database's index/db.json: modified {shown(modified)} "
                f"is not {TIME_ACCEPTED}",
                hint=_UNCHANGED_HINT,
            )
    index = source.modules_json()
    listed_for: dict[str, set[str]] = {}
    if index is not None:
        listed = _decode_json(index, list[_IndexedModule], "the Go vulnerability database's index/modules.json")
        for module in listed:
            if module.path in wanted:
                for vuln in module.vulns:
                    listed_for.setdefault(vuln.id, set()).add(module.path)
        ids = sorted(listed_for)
        if not ids:
            raise LifecycleError(f"{index.origin}: lists no record for {', '.join(modules)}", hint=_UNCHANGED_HINT)
    else:
        ids = list(source.record_ids())
        if not ids:
            raise LifecycleError(f"{source.describe()}: no GO-*.json records", hint=_UNCHANGED_HINT)
    files: dict[str, bytes] = {}
    newest_modified: date | None = None
    for vuln_id in ids:
        fetched = source.record(vuln_id)
        record = decode_record(fetched.body, fetched.origin)
        if record.id != vuln_id:
            raise LifecycleError(f"{fetched.origin}: holds {record.id}, not {vuln_id}", hint=_UNCHANGED_HINT)
        names = {a.package.name for a in record.affected}
        if not names & wanted:
            if index is not None:
                raise LifecycleError(
                    f"{fetched.origin}: the modules index lists {vuln_id} for "
                    f"{', '.join(sorted(listed_for.get(vuln_id, ())))} but the record names none of them",
                    hint=_UNCHANGED_HINT,
                )
            continue  # a directory of the whole database: keep only the modules patchlevel reads
        record_from(record, fetched.origin, GO_SOURCE)  # the ranges must read (unusable ones are kept as such)
        modified = _real_date(record.modified)
        if modified is not None and (newest_modified is None or modified > newest_modified):
            newest_modified = modified
        files[f"{vuln_id}.json"] = fetched.body
    if not files:
        raise LifecycleError(f"{source.describe()}: no record names {', '.join(modules)}", hint=_UNCHANGED_HINT)
    covered = covered or newest_modified
    if covered is None:
        raise LifecycleError(
            f"{source.describe()}: the records do not say what date they cover to (no index/db.json, and "
            "their 'modified' dates are placeholders)",
            hint="add https://vuln.go.dev/index/db.json as index/db.json; " + _UNCHANGED_HINT,
        )
    if covered > today:
        raise LifecycleError(f"{source.describe()}: the data says it was modified on {covered}, after today")
    before, before_date = _current_vulndb(base)
    if before and len(files) * 2 < before and not force:
        raise LifecycleError(
            f"vulndb: the new data has {len(files)} records where the current data has {before}; "
            "refusing to drop more than half",
            hint="check the source, or pass --force to accept it; " + _UNCHANGED_HINT,
        )
    if before_date is not None and covered < before_date and not force:
        raise LifecycleError(
            f"vulndb: the new records cover to {covered}, older than the current data ({before_date})",
            hint="pass --force to go back to older data; " + _UNCHANGED_HINT,
        )
    meta: dict[str, Any] = {
        "source": source.describe(),
        "url": GO_VULNDB_BASE,
        "commit": None,
        "covered_until": covered.isoformat(),
        "retrieved": today.isoformat(),
        "licence": "CC-BY-4.0",
        "attribution": GO_ATTRIBUTION,
        "modules": list(modules),
    }
    files["meta.json"] = _json_bytes(meta)
    manifest = {key: meta[key] for key in ("source", "covered_until", "retrieved", "licence", "attribution")}
    manifest["records"] = len(files) - 1
    return FeedUpdate("vulndb", source.describe(), covered, len(files) - 1, before, "vulndb", files, manifest)


def _real_date(text: str) -> date | None:
    try:
        value = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return value if value.year >= 1990 else None


def _current_vulndb(base: Path) -> tuple[int, date | None]:
    folder = base / "vulndb"
    if not folder.is_dir():
        return 0, None
    count = sum(1 for _ in folder.glob("GO-*.json"))
    try:
        meta = json.loads((folder / "meta.json").read_bytes())
        return count, _real_date(str(meta.get("covered_until", "")))
    except (OSError, ValueError, AttributeError):
        return count, None


def collect_kev(source: _DocumentSource, *, today: date, base: Path, force: bool = False) -> FeedUpdate:
    """Fetch, validate and trim the CISA KEV catalog."""
    fetched = source.fetch()
    catalog = parse_kev(fetched.body, fetched.origin)
    if catalog.released > today:
        raise LifecycleError(f"{fetched.origin}: the catalog was released on {catalog.released}, after today")
    trimmed = trim_kev(fetched.body, source=fetched.origin, retrieved=today, where=fetched.origin)
    current_path = base / KEV_FOLDER / KEV_FILE
    before = 0
    if current_path.is_file():
        try:
            current = load_kev(current_path)
        except LifecycleError:
            current = None
        if current is not None:
            before = len(current)
            if len(catalog) * 10 < before * 9 and not force:
                raise LifecycleError(
                    f"kev: the new catalog has {len(catalog)} entries where the current one has {before}; "
                    "refusing to drop more than a tenth",
                    hint="check the source, or pass --force to accept it; " + _UNCHANGED_HINT,
                )
            if catalog.released < current.released and not force:
                raise LifecycleError(
                    f"kev: the new catalog ({catalog.released}) is older than the current one ({current.released})",
                    hint="pass --force to go back to older data; " + _UNCHANGED_HINT,
                )
    manifest = {
        "source": fetched.origin,
        "catalog_version": catalog.version,
        "released": catalog.released.isoformat(),
        "retrieved": today.isoformat(),
        "entries": len(catalog),
        "licence": KEV_LICENCE,
    }
    return FeedUpdate(
        "kev", fetched.origin, catalog.released, len(catalog), before, KEV_FOLDER, {KEV_FILE: trimmed}, manifest
    )


def collect_epss(source: _DocumentSource, *, today: date, base: Path, force: bool = False) -> FeedUpdate:
    """Fetch and validate one day's EPSS scores; stored gzip-compressed as ``epss_scores-DATE.csv.gz``."""
    fetched = source.fetch()
    scores = parse_epss(fetched.body, fetched.origin)
    if scores.score_date > today:
        raise LifecycleError(f"{fetched.origin}: scores dated {scores.score_date}, after today")
    current = newest_epss_file(base / EPSS_FOLDER)
    if current is not None:
        named = EPSS_FILE.fullmatch(current.name)
        current_date = date.fromisoformat(named[1]) if named else None
        if current_date is not None and scores.score_date < current_date and not force:
            raise LifecycleError(
                f"epss: the new scores ({scores.score_date}) are older than the current ones ({current_date})",
                hint="pass --force to go back to older data; " + _UNCHANGED_HINT,
            )
    body = fetched.body if fetched.body[:2] == b"\x1f\x8b" else gzip.compress(fetched.body, mtime=0)
    name = f"epss_scores-{scores.score_date.isoformat()}.csv.gz"
    manifest = {
        "source": fetched.origin,
        "score_date": scores.score_date.isoformat(),
        "model_version": scores.model_version,
        "retrieved": today.isoformat(),
        "rows": scores.rows,
        "file": f"{EPSS_FOLDER}/{name}",
        "terms": "FIRST EPSS, https://www.first.org/epss/ (see its usage guidelines)",
    }
    before = _manifest_count(base, "epss", "rows")
    return FeedUpdate(
        "epss", fetched.origin, scores.score_date, scores.rows, before, EPSS_FOLDER, {name: body}, manifest
    )


def _manifest_count(base: Path, block: str, key: str) -> int:
    """A count the current data's manifest records for a feed (0 when absent)."""
    try:
        value = json.loads((base / "manifest.json").read_bytes()).get(block, {}).get(key, 0)
    except (OSError, ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _verify_feed(staging: Path, feed: FeedUpdate) -> None:
    """Re-read a written feed the way the audit reads it."""
    folder = staging / feed.folder
    if feed.feed == "vulndb":
        records, source, _ = read_go_vulndb(folder)
        if source is None or not records:
            raise LifecycleError("vulndb: the written records do not read back", hint=_UNCHANGED_HINT)
    elif feed.feed == "kev":
        load_kev(folder / KEV_FILE)
    elif feed.feed == "epss":
        newest = newest_epss_file(folder)
        if newest is None:
            raise LifecycleError("epss: the written scores do not read back", hint=_UNCHANGED_HINT)
        load_epss(newest, only=())


# --------------------------------------------------------------------------------------------
# The update


@dataclass(frozen=True, slots=True)
class ProductUpdate:
    """What an update did to one product."""

    product: str
    releases_before: int  # 0 when the product was not in the current data
    releases_after: int
    newest_cycle: str
    newest_latest: str | None  # the newest cycle's latest version, when published
    changed: bool  # a cycle was added or removed, or a date or latest version differs
    data_date: date  # the response's last_modified date
    source: str  # URL or file read
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateResult:
    target: Path
    source: str
    retrieved: date
    data_date: date  # the newest data date among the updated products (else feeds)
    products: tuple[ProductUpdate, ...] = field(default_factory=tuple)
    feeds: tuple[FeedUpdate, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(p.product for p in self.products if p.changed)


@dataclass(frozen=True, slots=True)
class FeedSources:
    """Where each vulnerability feed of one update comes from; None: that feed is not updated."""

    vulndb: VulndbSource | None = None
    kev: _DocumentSource | None = None
    epss: _DocumentSource | None = None

    def any(self) -> bool:
        return any(s is not None for s in (self.vulndb, self.kev, self.epss))


def update_lifecycle_data(
    target: Path,
    *,
    products: Sequence[str] | None,
    source: UpdateSource,
    today: date,
    force: bool = False,
) -> UpdateResult:
    """Fetch, validate and install new lifecycle data for ``products`` in ``target``.

    ``products`` None means ``AUDIT_PRODUCTS``.  Nothing is written unless every product was
    fetched and validated; a product that would lose more than half of its release cycles is
    refused unless ``force``.  Raises LifecycleError (or UsageError for a bad product id).
    """
    return update_data(target, products=products, source=source, feeds=FeedSources(), today=today, force=force)


def update_data(
    target: Path,
    *,
    products: Sequence[str] | None = None,
    source: UpdateSource | None,
    feeds: FeedSources,
    today: date,
    force: bool = False,
) -> UpdateResult:
    """Fetch and validate lifecycle products (``source``) and vulnerability feeds, then install them at once.

    Nothing is written unless everything asked for was fetched and validated; the data directory
    is swapped in one step (see the module docstring).  A feed that would shrink sharply or go
    back in time is refused unless ``force``.
    """
    if source is None and not feeds.any():
        raise UsageError("nothing to update", hint="name the lifecycle data or a vulnerability feed to update")
    wanted = _product_list(products) if source is not None else ()
    target = Path(target)
    _refuse_bundled(target)
    previous = target.with_name(target.name + PREVIOUS_SUFFIX)
    _check_replaceable(target)
    _check_replaceable(previous)
    base = _current_data_dir(target, previous)

    converted: list[ConvertedProduct] = []
    for product in wanted:
        assert source is not None
        fetched = source.fetch(product)
        converted.append(convert_v1_product(fetched.body, product=product, origin=fetched.origin, retrieved=today))

    updates: list[ProductUpdate] = []
    for item in converted:
        old_releases = _current_releases(base, item.product)
        new_releases: list[dict[str, Any]] = item.document["releases"]
        before, after = len(old_releases), len(new_releases)
        if before and (before - after) * 2 > before and not force:
            raise LifecycleError(
                f"{item.product}: the new data has {after} release cycles where the current data "
                f"has {before}; refusing to drop more than half",
                hint="check the source, or pass --force to accept it; " + _UNCHANGED_HINT,
            )
        newest = new_releases[0]
        notes = list(item.notes)
        lost_latest = sum(1 for r in old_releases if r.get("latest") is not None) - sum(
            1 for r in new_releases if r.get("latest") is not None
        )
        if lost_latest > 0:
            notes.append(f"{lost_latest} cycles no longer have a latest version (the API does not publish it)")
        updates.append(
            ProductUpdate(
                product=item.product,
                releases_before=before,
                releases_after=after,
                newest_cycle=newest["releaseCycle"],
                newest_latest=newest.get("latest"),
                changed=_lifecycle_view(old_releases) != _lifecycle_view(new_releases),
                data_date=item.data_date,
                source=item.origin,
                notes=tuple(notes),
            )
        )

    feed_updates: list[FeedUpdate] = []
    if feeds.vulndb is not None:
        feed_updates.append(collect_vulndb(feeds.vulndb, modules=GO_MODULES, today=today, base=base, force=force))
    if feeds.kev is not None:
        feed_updates.append(collect_kev(feeds.kev, today=today, base=base, force=force))
    if feeds.epss is not None:
        feed_updates.append(collect_epss(feeds.epss, today=today, base=base, force=force))

    described = "; ".join([*([source.describe()] if source is not None else []), *(f.source for f in feed_updates)])
    manifest = _read_manifest(base)
    if converted:
        assert source is not None
        manifest = _updated_manifest(manifest, converted, source.describe(), today)
    for feed in feed_updates:
        manifest[feed.feed] = dict(feed.manifest)
    _install(target, previous, base, converted, feed_updates, manifest, described, today)
    dates = [item.data_date for item in converted] or [f.data_date for f in feed_updates]
    return UpdateResult(
        target=target,
        source=source.describe() if source is not None else described,
        retrieved=today,
        data_date=max(dates),
        products=tuple(updates),
        feeds=tuple(feed_updates),
    )


def _product_list(products: Sequence[str] | None) -> tuple[str, ...]:
    if products is None:
        return AUDIT_PRODUCTS
    if isinstance(products, str):  # a lone id would otherwise be read letter by letter
        products = [products]
    wanted = tuple(dict.fromkeys(products))
    if not wanted:
        raise UsageError(
            "no products to update",
            hint="name at least one with --product, or name none for the default list",
        )
    for product in wanted:
        check_product_id(product)
    return wanted


def _refuse_bundled(target: Path) -> None:
    bundled = BUNDLED_DATA.resolve()
    resolved = target.resolve()
    if resolved == bundled or resolved.is_relative_to(bundled) or bundled.is_relative_to(resolved):
        raise UsageError(
            f"{target} is (or holds) the data shipped inside the package, which is never changed",
            hint="write updates to the user data directory (drop --data-dir) or another directory",
        )


def _is_data_dir(path: Path) -> bool:
    manifest = path / "manifest.json"
    if not (manifest.is_file() and (path / "products").is_dir()):
        return False
    try:
        content = json.loads(manifest.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(content, dict) and "products" in content


def _check_replaceable(path: Path) -> None:
    """Only an absent path, an empty directory or a lifecycle data directory may be replaced."""
    if not path.exists() and not path.is_symlink():
        return
    if path.is_dir() and not path.is_symlink() and (not any(path.iterdir()) or _is_data_dir(path)):
        return
    raise LifecycleError(
        f"refusing to replace {path}: it is not a patchlevel lifecycle data directory",
        hint="choose an empty or new directory with --data-dir, or move that one away",
    )


def _current_data_dir(target: Path, previous: Path) -> Path:
    if _is_data_dir(target):
        return target
    if not target.exists() and _is_data_dir(previous):  # an earlier update stopped between its renames
        return previous
    return BUNDLED_DATA


class _ProductsBlock(msgspec.Struct):
    """The ``products`` block of the current manifest, as far as the update rewrites it."""

    per_product: dict[str, Any] | None = None


class _CurrentManifest(msgspec.Struct):
    products: _ProductsBlock | None = None


def _read_manifest(base: Path) -> dict[str, Any]:
    path = base / "manifest.json"
    try:
        content: dict[str, Any] = msgspec.json.decode(path.read_bytes(), type=dict[str, Any])
        msgspec.convert(content, _CurrentManifest)  # the blocks the update rewrites have the shape it needs
    except OSError as exc:
        raise LifecycleError(f"cannot read {path}: {exc.strerror or exc}") from None
    except msgspec.ValidationError as exc:
        raise LifecycleError(f"{path}: not a lifecycle data manifest: {exc}", hint=_UNCHANGED_HINT) from None
    except (msgspec.DecodeError, RecursionError):
        raise LifecycleError(f"{path} is not valid JSON", hint=_UNCHANGED_HINT) from None
    return content


def _current_releases(base: Path, product: str) -> list[dict[str, Any]]:
    """The product's releases in the current data; [] when absent or unreadable."""
    try:
        document = json.loads((base / "products" / f"{product}.json").read_bytes())
    except (OSError, ValueError):
        return []
    releases = document.get("releases") if isinstance(document, dict) else None
    if not isinstance(releases, list):
        return []
    return [r for r in releases if isinstance(r, dict)]


def _lifecycle_view(releases: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """The fields that decide support and currency, normalised (absent lts = false)."""
    view = []
    for release in releases:
        values = {key: release.get(key) for key in _COMPARED}
        values["lts"] = release.get("lts", False) or False
        view.append((release.get("releaseCycle"), *(values[key] for key in _COMPARED)))
    return view


def _updated_manifest(
    old: Mapping[str, Any], converted: Sequence[ConvertedProduct], source: str, today: date
) -> dict[str, Any]:
    manifest = dict(old)
    block = dict(old.get("products") or {})
    if "base" not in block:
        block["base"] = {key: block[key] for key in ("source", "commit", "retrieved") if key in block}
    per_product = dict(block.get("per_product") or {})
    for item in converted:
        per_product[item.product] = {
            "source": item.origin,
            "retrieved": today.isoformat(),
            "data_date": item.data_date.isoformat(),
            "schema_version": item.schema_version,
        }
    block["source"] = source
    block["commit"] = None
    block["retrieved"] = today.isoformat()
    block["per_product"] = dict(sorted(per_product.items()))
    manifest["products"] = block
    return manifest


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _copy_data(base: Path, staging: Path, skip: set[Path], skip_dirs: Collection[str] = ()) -> None:
    """Copy the current data into ``staging`` (files only; modes of the package are not kept).

    ``skip_dirs``: top-level folders an update replaces whole (their old files are not kept).
    """
    for directory, dirnames, filenames in os.walk(base):
        relative = Path(directory).relative_to(base)
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not (relative == Path(".") and d in skip_dirs)]
        (staging / relative).mkdir(parents=True, exist_ok=True)
        for filename in filenames:
            if relative / filename in skip or filename.endswith(".pyc"):
                continue
            shutil.copyfile(Path(directory) / filename, staging / relative / filename)


_SOURCES_HEADING = "## Updates by `patchlevel lifecycle update`"


def _sources_note(
    base: Path, converted: Sequence[ConvertedProduct], feeds: Sequence[FeedUpdate], source: str, today: date
) -> str:
    try:
        text = (base / "SOURCES.md").read_text(encoding="utf-8")
    except OSError:
        text = "# Lifecycle data: provenance and licences\n"
    if _SOURCES_HEADING not in text:
        text = text.rstrip("\n") + (
            f"\n\n{_SOURCES_HEADING}\n\n"
            "Product files listed here were replaced with data from the endoflife.date API v1 (MIT);\n"
            "`manifest.json` (`products.per_product`) has the source and data date of each.  Vulnerability\n"
            "feeds replace their folder whole: `vulndb/` (Go vulnerability database, CC-BY-4.0, attribution:\n"
            f"{GO_ATTRIBUTION}), `kev/` (CISA KEV, CC0-1.0), `epss/` (FIRST EPSS); `manifest.json` has the\n"
            "source and date of each.\n"
        )
    names = ", ".join([*(item.product for item in converted), *(f"{f.feed} (data to {f.data_date})" for f in feeds)])
    return text.rstrip("\n") + f"\n- {today.isoformat()}: {names} from {source}\n"


def _install(
    target: Path,
    previous: Path,
    base: Path,
    converted: Sequence[ConvertedProduct],
    feeds: Sequence[FeedUpdate],
    manifest: Mapping[str, Any],
    source: str,
    today: date,
) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".new", dir=target.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; the data is not secret
    except OSError as exc:
        raise LifecycleError(f"cannot create a directory next to {target}: {exc.strerror or exc}") from None
    try:
        skip = {Path("manifest.json"), Path("SOURCES.md")}
        skip |= {Path("products") / f"{item.product}.json" for item in converted}
        _copy_data(base, staging, skip, {feed.folder for feed in feeds})
        (staging / "products").mkdir(exist_ok=True)
        for item in converted:
            (staging / "products" / f"{item.product}.json").write_bytes(_json_bytes(item.document))
        for feed in feeds:
            (staging / feed.folder).mkdir(parents=True, exist_ok=True)
            for name, content in feed.files.items():
                (staging / feed.folder / name).write_bytes(content)
        (staging / "SOURCES.md").write_text(_sources_note(base, converted, feeds, source, today), encoding="utf-8")
        (staging / "manifest.json").write_bytes(_json_bytes(manifest))
        _verify(staging, converted, target)
        for feed in feeds:
            _verify_feed(staging, feed)
        _swap(staging, target, previous)
    except OSError as exc:
        raise LifecycleError(
            f"cannot write lifecycle data to {target}: {exc.strerror or exc}", hint=_UNCHANGED_HINT
        ) from None
    except ValueError as exc:  # the staging copy does not read back
        raise LifecycleError(
            f"the new lifecycle data for {target} does not read back: {_one_line(str(exc))}",
            hint=_UNCHANGED_HINT,
        ) from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _verify(staging: Path, converted: Sequence[ConvertedProduct], target: Path) -> None:
    """Re-read what was written: every product file and the manifest must parse."""
    for path in sorted((staging / "products").glob("*.json")):
        document = json.loads(path.read_bytes())
        if not isinstance(document, dict) or document.get("product") != path.stem:
            raise LifecycleError(f"{path.name} in the new data does not describe {path.stem}", hint=_UNCHANGED_HINT)
    for item in converted:
        if json.loads((staging / "products" / f"{item.product}.json").read_bytes()) != item.document:
            raise LifecycleError(f"{item.product}: the written file does not read back", hint=_UNCHANGED_HINT)
    try:  # the audit's own reader: nothing is installed that an audit could not load
        load_catalog(staging)
    except LifecycleError as exc:
        problem = str(exc).replace(f"{staging}{os.sep}", "")  # name the file inside the data, not the staging copy
        raise LifecycleError(
            f"the new lifecycle data for {target} would not load: {problem}", hint=_UNCHANGED_HINT
        ) from None


def _swap(staging: Path, target: Path, previous: Path) -> None:
    if previous.exists():
        shutil.rmtree(previous)
    if target.exists():
        os.replace(target, previous)
        try:
            os.replace(staging, target)
        except OSError:
            os.replace(previous, target)
            raise
        shutil.rmtree(previous, ignore_errors=True)
    else:
        os.replace(staging, target)


# --------------------------------------------------------------------------------------------
# CLI glue


def update_target(data_dir: Path | None, environ: Mapping[str, str]) -> Path:
    """Where ``lifecycle update`` writes: ``--data-dir``, ``$PATCHLEVEL_DATA_DIR``, else the user data dir.

    The user data directory follows the catalog's rule (``catalog.default_user_data_dir``), read
    from ``environ``: ``$XDG_DATA_HOME/patchlevel/lifecycle``, else
    ``~/.local/share/patchlevel/lifecycle``.
    """
    if data_dir is not None:
        return data_dir
    return data_dir_from_environment(environ) or default_user_data_dir(environ)


def run_update(
    *,
    today: date,
    products: Sequence[str] = (),
    from_dir: Path | None = None,
    data_dir: Path | None = None,
    force: bool = False,
    environ: Mapping[str, str] | None = None,
    base_url: str = DEFAULT_API_BASE,
    client: httpx.Client | None = None,
    timeout: float = 30.0,
    feeds: Sequence[str] = DEFAULT_FEEDS,
    vulndb_url: str = GO_VULNDB_BASE,
    kev_url: str = KEV_URL,
    epss_url: str = EPSS_URL,
) -> UpdateResult:
    """``patchlevel lifecycle update [--only FEED]... [--product P]... [--from-dir DIR] [--data-dir DIR] [--force]``.

    ``feeds`` names what to refresh: ``lifecycle`` (endoflife.date products), ``vulndb`` (Go
    vulnerability database records), ``kev`` (CISA KEV), ``epss`` (FIRST EPSS); ``ALL_FEEDS`` is
    every one.  No ``--product`` means ``AUDIT_PRODUCTS``.  With ``from_dir`` each feed reads its
    downloaded files from there (see ``feed_sources``); ``environ`` defaults to ``os.environ``.
    """
    target = update_target(data_dir, os.environ if environ is None else environ).absolute()
    wanted = products or None
    chosen = check_feeds(feeds)
    if from_dir is not None:
        if not from_dir.is_dir():
            raise UsageError(f"--from-dir {from_dir} is not a directory")
        source, sources = feed_sources(chosen, from_dir=from_dir.absolute())
        return update_data(target, products=wanted, source=source, feeds=sources, today=today, force=force)
    if client is not None:
        source, sources = feed_sources(
            chosen, client=client, base_url=base_url, vulndb_url=vulndb_url, kev_url=kev_url, epss_url=epss_url
        )
        return update_data(target, products=wanted, source=source, feeds=sources, today=today, force=force)
    with new_http_client(timeout) as own_client:
        source, sources = feed_sources(
            chosen, client=own_client, base_url=base_url, vulndb_url=vulndb_url, kev_url=kev_url, epss_url=epss_url
        )
        return update_data(target, products=wanted, source=source, feeds=sources, today=today, force=force)


def check_feeds(feeds: Sequence[str]) -> tuple[str, ...]:
    """The feeds named, validated (UsageError for an unknown one or none)."""
    if isinstance(feeds, str):
        feeds = [feeds]
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in feeds))
    if not chosen:
        raise UsageError("no data to update", hint=f"name one or more of {', '.join(ALL_FEEDS)}")
    unknown = [f for f in chosen if f not in ALL_FEEDS]
    if unknown:
        raise UsageError(f"{unknown[0]!r} is not data 'lifecycle update' refreshes", hint=f"use {', '.join(ALL_FEEDS)}")
    return chosen


def feed_sources(
    feeds: Collection[str],
    *,
    from_dir: Path | None = None,
    client: httpx.Client | None = None,
    base_url: str = DEFAULT_API_BASE,
    vulndb_url: str = GO_VULNDB_BASE,
    kev_url: str = KEV_URL,
    epss_url: str = EPSS_URL,
) -> tuple[UpdateSource | None, FeedSources]:
    """Where each chosen feed comes from: online, or downloaded files in ``from_dir``.

    In ``from_dir``: endoflife.date responses as ``DirectorySource`` reads them; Go records in
    ``vulndb/`` (the served layout ``index/db.json``, ``index/modules.json``, ``ID/GO-….json``, or
    ``GO-….json`` side by side) or in ``from_dir`` itself; ``kev/known_exploited_vulnerabilities.json``
    or ``known_exploited_vulnerabilities.json``; ``epss/epss_scores-DATE.csv.gz`` or
    ``epss_scores-DATE.csv.gz`` (the newest date is taken).
    """
    if from_dir is not None:
        lifecycle = DirectorySource(from_dir) if "lifecycle" in feeds else None
        vulndb_dir = from_dir / "vulndb" if (from_dir / "vulndb").is_dir() else from_dir
        return lifecycle, FeedSources(
            vulndb=VulndbDirectorySource(vulndb_dir) if "vulndb" in feeds else None,
            kev=_kev_file(from_dir) if "kev" in feeds else None,
            epss=_epss_file(from_dir) if "epss" in feeds else None,
        )
    return (
        HttpSource(base_url=base_url, client=client) if "lifecycle" in feeds else None,
        FeedSources(
            vulndb=VulndbHttpSource(base_url=vulndb_url, client=client) if "vulndb" in feeds else None,
            kev=UrlDocument(kev_url, "kev", client=client) if "kev" in feeds else None,
            epss=UrlDocument(epss_url, "epss", client=client) if "epss" in feeds else None,
        ),
    )


def feeds_in(from_dir: Path) -> tuple[str, ...]:
    """The feeds whose downloaded files ``from_dir`` holds (in ``ALL_FEEDS`` order), for a default.

    ``lifecycle`` when any response file of ``AUDIT_PRODUCTS`` is there; the others as
    ``feed_sources`` looks for them.
    """
    found: list[str] = []
    products = DirectorySource(from_dir)
    if any(path.is_file() for product in AUDIT_PRODUCTS for path in products.candidates(product)):
        found.append("lifecycle")
    vulndb_dir = from_dir / "vulndb" if (from_dir / "vulndb").is_dir() else from_dir
    if VulndbDirectorySource(vulndb_dir).record_ids():
        found.append("vulndb")
    if any(p.is_file() for p in (from_dir / KEV_FOLDER / KEV_FILE, from_dir / KEV_FILE)):
        found.append("kev")
    if newest_epss_file(from_dir / EPSS_FOLDER) or newest_epss_file(from_dir):
        found.append("epss")
    return tuple(found)


def _kev_file(root: Path) -> FileDocument:
    for path in (root / KEV_FOLDER / KEV_FILE, root / KEV_FILE):
        if path.is_file():
            return FileDocument(path, "kev")
    raise LifecycleError(
        f"kev: no {KEV_FILE} in {root} or {root / KEV_FOLDER}",
        hint=f"download {KEV_URL} there; " + _UNCHANGED_HINT,
    )


def _epss_file(root: Path) -> FileDocument:
    found = newest_epss_file(root / EPSS_FOLDER) or newest_epss_file(root)
    if found is None:
        raise LifecycleError(
            f"epss: no epss_scores-YYYY-MM-DD.csv.gz in {root} or {root / EPSS_FOLDER}",
            hint=f"download {EPSS_URL} (or a dated file) there; " + _UNCHANGED_HINT,
        )
    return FileDocument(found, "epss")


def format_update_result(result: UpdateResult) -> str:
    """A short human summary of an update."""
    lines = [
        f"Lifecycle data updated in {result.target}",
        f"  source: {result.source}; retrieved {result.retrieved}; data as of {result.data_date}",
    ]
    width = max((len(p.product) for p in result.products), default=0)
    for p in result.products:
        newest = p.newest_cycle + (f" (latest {p.newest_latest})" if p.newest_latest else "")
        state = "changed" if p.changed else "unchanged"
        lines.append(
            f"  {p.product:<{width}}  {p.releases_before:>3} -> {p.releases_after} cycles  newest {newest}  {state}"
        )
        lines.extend(f"    note: {note}" for note in p.notes)
    for feed in result.feeds:
        lines.append(
            f"  {feed.feed}: {feed.records_before} -> {feed.records} records, data to {feed.data_date} ({feed.source})"
        )
        lines.extend(f"    note: {note}" for note in feed.notes)
    count = len(result.products)
    summary = f"{count} product{'s' if count != 1 else ''} updated, {len(result.changed)} changed."
    if result.feeds:
        summary += f" {len(result.feeds)} vulnerability feed{'s' if len(result.feeds) != 1 else ''} updated."
    lines.append(summary)
    return "\n".join(lines)
