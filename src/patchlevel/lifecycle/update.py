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

Everything is fetched and validated before anything is written.  The new data directory is then
built in a temporary sibling (``.<name>.XXXX.new``) from the current one (the target when it is
already a data directory, else the bundled data) plus the updated product files and
``manifest.json``, and swapped in with two renames: ``<target>`` → ``<target>.previous``, then
the new directory → ``<target>``.  ``<target>.previous`` is removed once the swap succeeded.
The bundled package data is only ever read.

``manifest.json`` gains, under ``products``: ``source`` (this update's source), ``commit: null``,
``retrieved`` (today), ``per_product`` (per updated product: ``source``, ``retrieved``,
``data_date``, ``schema_version``), and ``base`` (where the product files not listed in
``per_product`` came from).  ``releases/`` (patch versions) and ``osv/`` are copied unchanged:
the v1 API has no patch-version lists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Protocol

import httpx

from patchlevel import __version__
from patchlevel.errors import LifecycleError, UsageError
from patchlevel.lifecycle.catalog import BUNDLED_DATA, data_dir_from_environment, default_user_data_dir

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
        attempts = max(1, self.attempts)
        problem = "no answer"
        for attempt in range(1, attempts + 1):
            retry_after: float | None = None
            try:
                response = client.get(url, follow_redirects=True)
            except httpx.UnsupportedProtocol as exc:
                raise LifecycleError(f"{product}: cannot fetch {url}: {exc}", hint=_UNCHANGED_HINT) from None
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__} ({_one_line(str(exc)) or 'no detail'})"
            except httpx.HTTPError as exc:
                raise LifecycleError(
                    f"{product}: cannot fetch {url}: {_one_line(str(exc))}", hint=_UNCHANGED_HINT
                ) from None
            else:
                status = response.status_code
                if status == 200:
                    if len(response.content) > MAX_RESPONSE_BYTES:
                        raise LifecycleError(
                            f"{product}: the response from {url} is larger than {MAX_RESPONSE_BYTES} bytes",
                            hint=_UNCHANGED_HINT,
                        )
                    return FetchedResponse(product, response.content, str(response.url))
                if status == 404:
                    raise LifecycleError(
                        f"{product}: endoflife.date has no such product (HTTP 404 from {url})",
                        hint="check the id at https://endoflife.date/api/v1/products/; " + _UNCHANGED_HINT,
                    )
                if status != 429 and not 500 <= status <= 599:
                    raise LifecycleError(f"{product}: HTTP {status} from {url}", hint=_UNCHANGED_HINT)
                problem = f"HTTP {status}"
                retry_after = _retry_after(response)
            if attempt < attempts:
                self.sleep(self._delay(attempt, retry_after))
        raise LifecycleError(
            f"{product}: {problem} from {url} after {attempts} attempts",
            hint="try again later, or download the responses and use --from-dir; " + _UNCHANGED_HINT,
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.max_backoff, max(0.0, retry_after))
        return float(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


def new_http_client(timeout: float = 30.0) -> httpx.Client:
    """An httpx client set up the way the update expects (timeout, redirects, user agent)."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": f"patchlevel/{__version__}", "Accept": "application/json"},
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: use our own backoff instead
        return None


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


def _convert(body: bytes, *, product: str, origin: str, retrieved: date) -> ConvertedProduct:
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        start = body[:15].decode("utf-8", "replace").strip()
        if start.startswith("<"):
            raise _Invalid(f"the response is HTML, not JSON (starts with {start!r})") from None
        raise _Invalid(f"the response is not valid JSON ({_one_line(str(exc))})") from None
    if not isinstance(envelope, dict):
        raise _Invalid("the response is not a JSON object")
    schema_version = envelope.get("schema_version")
    if not isinstance(schema_version, str):
        raise _Invalid("the response has no schema_version: not an endoflife.date API v1 response")
    if not _SCHEMA_V1.fullmatch(schema_version):
        raise _Invalid(f"schema_version {schema_version!r} is not supported (expected 1.x)")
    result = envelope.get("result")
    if not isinstance(result, dict):
        raise _Invalid("the response has no 'result' object")
    name = result.get("name")
    if name != product:
        raise _Invalid(f"the response is for product {name!r}, not {product!r}")
    data_date, date_key = _data_date(envelope)

    raw_releases = result.get("releases")
    if not isinstance(raw_releases, list) or not raw_releases:
        raise _Invalid("the response lists no releases")
    releases = [_release(entry, index) for index, entry in enumerate(raw_releases)]
    seen: set[str] = set()
    for release in releases:
        cycle = release["releaseCycle"]
        if cycle in seen:
            raise _Invalid(f"release {cycle!r} appears more than once")
        seen.add(cycle)

    label = result.get("label")
    if not isinstance(label, str) or not label:
        raise _Invalid("the product has no label")
    document: dict[str, Any] = {
        "product": product,
        "label": label,
        "source": origin,
        "commit": None,
        "commit_date": data_date.isoformat(),
        "retrieved": retrieved.isoformat(),
        "releases": releases,
        "identifiers": _identifiers(result.get("identifiers")),
        "front_matter": _front_matter(result, raw_releases),
    }
    notes = () if date_key == "last_modified" else ("no last_modified: the data date is the build date",)
    return ConvertedProduct(product, document, data_date, schema_version, origin, notes)


def _data_date(envelope: Mapping[str, Any]) -> tuple[date, str]:
    for key in ("last_modified", "generated_at"):
        value = envelope.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _Invalid(f"{key} {value!r} is not a date-time")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _Invalid(f"{key} {value!r} is not an ISO-8601 date-time") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.date(), key
    raise _Invalid("the response has neither last_modified nor generated_at: its data date is unknown")


def _release(entry: Any, index: int) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise _Invalid(f"release #{index + 1} is not an object")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise _Invalid(f"release #{index + 1} has no name")
    where = f"release {name}"
    stored: dict[str, Any] = {"releaseCycle": name}
    codename = _optional_str(entry, "codename", where)
    if codename:
        stored["codename"] = codename
    lts = _phase(entry, "lts", "isLts", "ltsFrom", where)
    if lts is not None and lts is not False:
        stored["lts"] = lts
    release_date = entry.get("releaseDate")
    stored["releaseDate"] = _iso_date(release_date, f"{where}: releaseDate")
    for phase in _PHASES:
        is_key = "is" + phase[0].upper() + phase[1:]
        value = _phase(entry, phase, is_key, phase + "From", where)
        if value is None:
            if phase == "eol":
                raise _Invalid(f"{where}: isEol must be true or false")
            continue
        stored[phase] = value
    latest = entry.get("latest")
    if latest is not None:
        if not isinstance(latest, dict):
            raise _Invalid(f"{where}: latest is not an object")
        latest_name = _optional_str(latest, "name", f"{where}: latest")
        if latest_name is not None:
            stored["latest"] = latest_name
        if latest.get("date") is not None:
            stored["latestReleaseDate"] = _iso_date(latest["date"], f"{where}: latest.date")
        link = _optional_str(latest, "link", f"{where}: latest")
        if link is not None:
            stored["link"] = link
    custom = entry.get("custom")
    if custom is not None:
        if not isinstance(custom, dict):
            raise _Invalid(f"{where}: custom is not an object")
        for key, value in custom.items():
            if key in stored or key in _COMPARED or key in ("link", "codename", "releaseCycle"):
                raise _Invalid(f"{where}: custom field {key!r} clashes with a lifecycle field")
            if not isinstance(value, str | int | float | bool) and value is not None:
                raise _Invalid(f"{where}: custom field {key!r} is not a plain value")
            stored[key] = value
    return stored


def _phase(entry: Mapping[str, Any], phase: str, is_key: str, from_key: str, where: str) -> date | bool | str | None:
    """The raw front-matter value of a phase: its date, else its boolean; None when absent."""
    if is_key not in entry and from_key not in entry:
        return None
    flag = entry.get(is_key)
    since = entry.get(from_key)
    if flag is not None and not isinstance(flag, bool):
        raise _Invalid(f"{where}: {is_key} {flag!r} is not true, false or null")
    if since is not None:
        return _iso_date(since, f"{where}: {from_key}")
    return flag


def _iso_date(value: Any, where: str) -> str:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise _Invalid(f"{where} {value!r} is not a valid YYYY-MM-DD date")


def _optional_str(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _Invalid(f"{where}: {key} {value!r} is not a string")


def _identifiers(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Invalid("identifiers is not a list")
    identifiers: list[dict[str, str]] = []
    for item in value:
        if not (isinstance(item, dict) and isinstance(item.get("type"), str) and isinstance(item.get("id"), str)):
            raise _Invalid(f"identifier {item!r} is not a {{type, id}} object")
        identifiers.append({item["type"]: item["id"]})
    return identifiers


def _front_matter(result: Mapping[str, Any], raw_releases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    front_matter: dict[str, Any] = {}
    category = _optional_str(result, "category", "product")
    if category:
        front_matter["category"] = category
    tags = result.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise _Invalid("tags is not a list of strings")
    own_tags = [tag for tag in tags if tag != category]
    if own_tags:
        front_matter["tags"] = " ".join(own_tags)
    links = result.get("links") or {}
    if not isinstance(links, dict):
        raise _Invalid("links is not an object")
    icon = _optional_str(links, "icon", "links")
    slug = _ICON_SLUG.search(icon) if icon else None
    if slug:
        front_matter["iconSlug"] = slug.group(1)
    front_matter["permalink"] = f"/{result['name']}"
    aliases = result.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        raise _Invalid("aliases is not a list of strings")
    if aliases:
        front_matter["alternate_urls"] = [f"/{alias}" for alias in aliases]
    version_command = _optional_str(result, "versionCommand", "product")
    if version_command is not None:
        front_matter["versionCommand"] = version_command
    policy = _optional_str(links, "releasePolicy", "links")
    if policy is not None:
        front_matter["releasePolicyLink"] = policy
    if all(entry.get("latest") is None for entry in raw_releases):
        front_matter["latestColumn"] = False
    labels = result.get("labels") or {}
    if not isinstance(labels, dict):
        raise _Invalid("labels is not an object")
    for phase in _PHASES:
        label = _optional_str(labels, phase, "labels")
        front_matter[f"{phase}Column"] = label if label else False
    return front_matter


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
    data_date: date  # the newest data date among the updated products
    products: tuple[ProductUpdate, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(p.product for p in self.products if p.changed)


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
    wanted = _product_list(products)
    target = Path(target)
    _refuse_bundled(target)
    previous = target.with_name(target.name + PREVIOUS_SUFFIX)
    _check_replaceable(target)
    _check_replaceable(previous)
    base = _current_data_dir(target, previous)

    converted: list[ConvertedProduct] = []
    for product in wanted:
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

    manifest = _updated_manifest(_read_manifest(base), converted, source.describe(), today)
    _install(target, previous, base, converted, manifest, source.describe(), today)
    return UpdateResult(
        target=target,
        source=source.describe(),
        retrieved=today,
        data_date=max(item.data_date for item in converted),
        products=tuple(updates),
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


def _read_manifest(base: Path) -> dict[str, Any]:
    try:
        content = json.loads((base / "manifest.json").read_bytes())
    except OSError as exc:
        raise LifecycleError(f"cannot read {base / 'manifest.json'}: {exc.strerror or exc}") from None
    except ValueError:
        raise LifecycleError(f"{base / 'manifest.json'} is not valid JSON", hint=_UNCHANGED_HINT) from None
    if not isinstance(content, dict):
        raise LifecycleError(f"{base / 'manifest.json'} is not a JSON object", hint=_UNCHANGED_HINT)
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


def _copy_data(base: Path, staging: Path, skip: set[Path]) -> None:
    """Copy the current data into ``staging`` (files only; modes of the package are not kept)."""
    for directory, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        relative = Path(directory).relative_to(base)
        (staging / relative).mkdir(parents=True, exist_ok=True)
        for filename in filenames:
            if relative / filename in skip or filename.endswith(".pyc"):
                continue
            shutil.copyfile(Path(directory) / filename, staging / relative / filename)


_SOURCES_HEADING = "## Updates by `patchlevel lifecycle update`"


def _sources_note(base: Path, converted: Sequence[ConvertedProduct], source: str, today: date) -> str:
    try:
        text = (base / "SOURCES.md").read_text(encoding="utf-8")
    except OSError:
        text = "# Lifecycle data: provenance and licences\n"
    if _SOURCES_HEADING not in text:
        text = text.rstrip("\n") + (
            f"\n\n{_SOURCES_HEADING}\n\n"
            "Product files listed here were replaced with data from the endoflife.date API v1 (MIT);\n"
            "`manifest.json` (`products.per_product`) has the source and data date of each.\n"
        )
    names = ", ".join(item.product for item in converted)
    return text.rstrip("\n") + f"\n- {today.isoformat()}: {names} from {source}\n"


def _install(
    target: Path,
    previous: Path,
    base: Path,
    converted: Sequence[ConvertedProduct],
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
        _copy_data(base, staging, skip)
        (staging / "products").mkdir(exist_ok=True)
        for item in converted:
            (staging / "products" / f"{item.product}.json").write_bytes(_json_bytes(item.document))
        (staging / "SOURCES.md").write_text(_sources_note(base, converted, source, today), encoding="utf-8")
        (staging / "manifest.json").write_bytes(_json_bytes(manifest))
        _verify(staging, converted)
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


def _verify(staging: Path, converted: Sequence[ConvertedProduct]) -> None:
    """Re-read what was written: every product file and the manifest must parse."""
    for path in sorted((staging / "products").glob("*.json")):
        document = json.loads(path.read_bytes())
        if not isinstance(document, dict) or document.get("product") != path.stem:
            raise LifecycleError(f"{path.name} in the new data does not describe {path.stem}", hint=_UNCHANGED_HINT)
    for item in converted:
        if json.loads((staging / "products" / f"{item.product}.json").read_bytes()) != item.document:
            raise LifecycleError(f"{item.product}: the written file does not read back", hint=_UNCHANGED_HINT)
    json.loads((staging / "manifest.json").read_bytes())


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
) -> UpdateResult:
    """``patchlevel lifecycle update [--product P]... [--from-dir DIR] [--data-dir DIR] [--force]``.

    No ``--product`` means ``AUDIT_PRODUCTS``.  ``environ`` defaults to ``os.environ``.
    """
    target = update_target(data_dir, os.environ if environ is None else environ).absolute()
    wanted = products or None
    if from_dir is not None:
        if not from_dir.is_dir():
            raise UsageError(f"--from-dir {from_dir} is not a directory")
        return update_lifecycle_data(
            target, products=wanted, source=DirectorySource(from_dir.absolute()), today=today, force=force
        )
    if client is not None:
        source = HttpSource(base_url=base_url, client=client)
        return update_lifecycle_data(target, products=wanted, source=source, today=today, force=force)
    with new_http_client(timeout) as own_client:
        source = HttpSource(base_url=base_url, client=own_client)
        return update_lifecycle_data(target, products=wanted, source=source, today=today, force=force)


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
    count = len(result.products)
    lines.append(f"{count} product{'s' if count != 1 else ''} updated, {len(result.changed)} changed.")
    return "\n".join(lines)
