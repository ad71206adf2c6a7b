"""``patchlevel lifecycle update``: v1 responses → stored product files, validated, swapped in atomically."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from patchlevel.errors import LifecycleError, UsageError
from patchlevel.lifecycle.catalog import BUNDLED_DATA, load_catalog
from patchlevel.lifecycle.osv import load_cve_feed
from patchlevel.lifecycle.update import (
    ALL_FEEDS,
    AUDIT_PRODUCTS,
    PREVIOUS_SUFFIX,
    DirectorySource,
    FeedSources,
    HttpSource,
    UpdateResult,
    VulndbDirectorySource,
    check_feeds,
    convert_v1_product,
    feeds_in,
    format_update_result,
    run_update,
    update_data,
    update_lifecycle_data,
    update_target,
)
from patchlevel.vuln.epss import load_epss, newest_epss_file
from patchlevel.vuln.kev import load_kev

API = Path(__file__).parent / "data" / "eol-api"
SNAPSHOT = API / "snapshot"
NEWER = API / "newer"
RECORDED = ("kubernetes", "amazon-eks", "azure-kubernetes-service", "containerd", "ubuntu")
TODAY = date(2026, 9, 1)
COLUMN_DEFAULTS = {"eoas": "Active Support", "eol": "Security Support", "eoes": "Extended Support"}


# --------------------------------------------------------------------------------------------
# helpers


def tree_digest(root: Path) -> str:
    """A hash of every path and file byte under ``root`` (empty string when it does not exist)."""
    if not root.exists():
        return ""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def bundled_product(product: str) -> dict[str, Any]:
    path = BUNDLED_DATA / "products" / f"{product}.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def response(product: str, root: Path = SNAPSHOT) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((root / f"{product}.json").read_text(encoding="utf-8"))
    return document


def responses_dir(tmp_path: Path, name: str = "responses", **overrides: bytes) -> Path:
    """A copy of the snapshot responses, with some bodies replaced."""
    directory = tmp_path / name
    shutil.copytree(SNAPSHOT, directory)
    for product, body in overrides.items():
        (directory / f"{product.replace('_', '-')}.json").write_bytes(body)
    return directory


def dumps(document: Any) -> bytes:
    return json.dumps(document).encode()


def column_label(front_matter: dict[str, Any], phase: str) -> str | None:
    value = front_matter.get(f"{phase}Column", phase == "eol")
    if isinstance(value, str):
        return value
    return COLUMN_DEFAULTS[phase] if value else None


def convert(body: bytes, product: str = "kubernetes") -> dict[str, Any]:
    return convert_v1_product(body, product=product, origin="test", retrieved=TODAY).document


@pytest.fixture()
def installed(tmp_path: Path) -> Path:
    """A user data directory written by one update from the snapshot responses."""
    target = tmp_path / "data" / "lifecycle"
    update_lifecycle_data(target, products=RECORDED, source=DirectorySource(SNAPSHOT), today=TODAY)
    return target


# --------------------------------------------------------------------------------------------
# v1 response → stored shape


@pytest.mark.parametrize("product", RECORDED)
def test_round_trip_gives_back_the_bundled_entries(product: str) -> None:
    bundled = bundled_product(product)
    stored = convert((SNAPSHOT / f"{product}.json").read_bytes(), product)

    assert stored["product"] == product
    assert stored["label"] == bundled["label"]
    assert stored["identifiers"] == bundled["identifiers"]
    assert stored["commit"] is None
    assert stored["retrieved"] == TODAY.isoformat()
    assert [r["releaseCycle"] for r in stored["releases"]] == [r["releaseCycle"] for r in bundled["releases"]]
    latest_on = bundled["front_matter"].get("latestColumn", True) is not False
    for old, new in zip(bundled["releases"], stored["releases"], strict=True):
        expected = {k: v for k, v in old.items() if k not in ("releaseLabel", "link")}
        got = {k: v for k, v in new.items() if k != "link"}
        assert got == expected, old["releaseCycle"]
        # The API renders changelogTemplate into every link, so only an explicit link must survive,
        # and only where the product publishes latest versions at all.
        if latest_on and old.get("link") is not None:
            assert new["link"] == old["link"]

    old_fm, new_fm = bundled["front_matter"], stored["front_matter"]
    for key in ("category", "permalink", "alternate_urls", "versionCommand", "releasePolicyLink", "iconSlug"):
        assert new_fm.get(key) == old_fm.get(key), key
    assert set(new_fm["tags"].split()) == set(old_fm["tags"].split())
    for phase in ("eoas", "eol", "eoes"):
        assert column_label(new_fm, phase) == column_label(old_fm, phase), phase
    assert new_fm.get("latestColumn", True) == old_fm.get("latestColumn", True)


def test_round_trip_keeps_dates_booleans_and_absent_phases_apart() -> None:
    stored = {
        r["releaseCycle"]: r for r in convert((SNAPSHOT / "amazon-eks.json").read_bytes(), "amazon-eks")["releases"]
    }
    bundled = {r["releaseCycle"]: r for r in bundled_product("amazon-eks")["releases"]}
    assert stored["1.31"]["eoes"] == "2026-11-26"
    without_eoes = [name for name, r in bundled.items() if "eoes" not in r]
    assert without_eoes, "the fixture should have cycles without extended support"
    assert all("eoes" not in stored[name] for name in without_eoes)
    kubernetes = {r["releaseCycle"]: r for r in convert((SNAPSHOT / "kubernetes.json").read_bytes())["releases"]}
    assert kubernetes["1.16"]["eoas"] is True  # isEoas true with no date: the raw boolean
    assert kubernetes["1.16"]["eol"] == "2020-08-04"


def test_custom_fields_lts_dates_and_discontinued_are_recovered() -> None:
    document = response("kubernetes")
    release = document["result"]["releases"][0]
    release.update(
        {
            "isLts": False,
            "ltsFrom": "2027-01-01",
            "isDiscontinued": True,
            "discontinuedFrom": None,
            "codename": "Octarine",
            "custom": {"supportedKubernetesVersions": "1.34-1.36"},
        }
    )
    document["result"]["labels"]["discontinued"] = "Discontinued"
    stored = convert(dumps(document))
    first = stored["releases"][0]
    assert first["lts"] == "2027-01-01"
    assert first["discontinued"] is True
    assert first["codename"] == "Octarine"
    assert first["supportedKubernetesVersions"] == "1.34-1.36"
    assert stored["front_matter"]["discontinuedColumn"] == "Discontinued"
    assert "lts" not in stored["releases"][1]  # lts false is left out, as in the raw files


def test_commit_date_is_the_utc_date_of_last_modified() -> None:
    document = response("kubernetes")
    document["last_modified"] = "2026-08-21T23:30:00-02:00"
    assert convert(dumps(document))["commit_date"] == "2026-08-22"


def test_latest_column_off_when_no_release_has_latest() -> None:
    stored = convert((SNAPSHOT / "azure-kubernetes-service.json").read_bytes(), "azure-kubernetes-service")
    assert stored["front_matter"]["latestColumn"] is False
    assert all("latest" not in r and "link" not in r for r in stored["releases"])


# --------------------------------------------------------------------------------------------
# update from a directory


def test_update_from_directory_writes_a_complete_data_directory(tmp_path: Path) -> None:
    bundled_before = tree_digest(BUNDLED_DATA)
    target = tmp_path / "data" / "lifecycle"

    result = update_lifecycle_data(target, products=RECORDED, source=DirectorySource(SNAPSHOT), today=TODAY)

    assert tree_digest(BUNDLED_DATA) == bundled_before
    assert sorted(p.name for p in tmp_path.joinpath("data").iterdir()) == ["lifecycle"]  # no staging, no .previous
    assert sorted(p.name for p in (target / "products").glob("*.json")) == sorted(
        p.name for p in (BUNDLED_DATA / "products").glob("*.json")
    )
    for folder in ("releases", "osv"):
        assert tree_digest(target / folder) == tree_digest(BUNDLED_DATA / folder)
    for path in (target / "products").glob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["product"] == path.stem
        assert document["releases"]
        if path.stem in RECORDED:
            assert document["source"] == str(SNAPSHOT / path.name)
            assert document["commit"] is None
            assert document["retrieved"] == "2026-09-01"
        else:
            assert path.read_bytes() == (BUNDLED_DATA / "products" / path.name).read_bytes()
    assert json.loads((target / "products" / "kubernetes.json").read_text())["commit_date"] == "2026-08-21"

    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    products = manifest["products"]
    assert products["source"] == f"endoflife.date API v1 responses in {SNAPSHOT}"
    assert products["retrieved"] == "2026-09-01"
    assert products["commit"] is None
    assert products["base"]["commit"] == "a70eca337600e7d721dc48112c271f98661d208b"
    assert sorted(products["per_product"]) == sorted(RECORDED)
    assert products["per_product"]["kubernetes"] == {
        "source": str(SNAPSHOT / "kubernetes.json"),
        "retrieved": "2026-09-01",
        "data_date": "2026-08-21",
        "schema_version": "1.2.1",
    }
    assert manifest["releases"] == json.loads((BUNDLED_DATA / "manifest.json").read_text())["releases"]
    assert "MIT" in (target / "SOURCES.md").read_text(encoding="utf-8")

    assert result.target == target
    assert result.retrieved == TODAY
    assert result.data_date == date(2026, 8, 22)
    by_name = {p.product: p for p in result.products}
    assert list(by_name) == list(RECORDED)
    # The snapshot carries the bundled data: nothing that decides support changed.
    assert result.changed == ()
    assert by_name["kubernetes"].releases_before == by_name["kubernetes"].releases_after == 21
    assert by_name["kubernetes"].newest_cycle == "1.36"
    assert by_name["kubernetes"].newest_latest == "1.36.4"
    assert by_name["azure-kubernetes-service"].newest_latest is None


def test_a_newer_response_replaces_the_previous_update(installed: Path, tmp_path: Path) -> None:
    eks_before = (installed / "products" / "amazon-eks.json").read_bytes()

    result = update_lifecycle_data(
        installed, products=["kubernetes"], source=DirectorySource(NEWER), today=date(2026, 9, 12)
    )

    (update,) = result.products
    assert update.changed
    assert (update.releases_before, update.releases_after) == (21, 22)
    assert (update.newest_cycle, update.newest_latest) == ("1.37", "1.37.0")
    assert update.source == str(NEWER / "kubernetes" / "index.json")
    kubernetes = json.loads((installed / "products" / "kubernetes.json").read_text(encoding="utf-8"))
    cycles = {r["releaseCycle"]: r for r in kubernetes["releases"]}
    assert kubernetes["releases"][0]["releaseCycle"] == "1.37"
    assert cycles["1.36"]["latest"] == "1.36.5"
    assert cycles["1.36"]["latestReleaseDate"] == "2026-09-09"
    assert kubernetes["commit_date"] == "2026-09-09"
    assert (installed / "products" / "amazon-eks.json").read_bytes() == eks_before

    per_product = json.loads((installed / "manifest.json").read_text())["products"]["per_product"]
    assert per_product["kubernetes"]["data_date"] == "2026-09-09"
    assert per_product["kubernetes"]["retrieved"] == "2026-09-12"
    assert per_product["amazon-eks"]["retrieved"] == "2026-09-01"  # kept from the first update
    assert not installed.with_name(installed.name + PREVIOUS_SUFFIX).exists()
    assert sorted(p.name for p in installed.parent.iterdir()) == ["lifecycle"]


# --------------------------------------------------------------------------------------------
# invalid input: a LifecycleError naming the product, and not one byte changed


def _truncated() -> bytes:
    return (SNAPSHOT / "kubernetes.json").read_bytes()[:500]


def _edited(change: Callable[[dict[str, Any]], None]) -> Callable[[], bytes]:
    def build() -> bytes:
        document = response("kubernetes")
        change(document)
        return dumps(document)

    return build


def _set_release_field(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["result"]["releases"][0][key] = value

    return change


INVALID: dict[str, tuple[Callable[[], bytes], str]] = {
    "truncated JSON": (_truncated, "not valid JSON"),
    "HTML error page": (lambda: b"<!DOCTYPE html><html><body>Not found</body></html>", "HTML"),
    "wrong product name": (_edited(lambda d: d["result"].__setitem__("name", "k8s")), "'k8s'"),
    "schema_version 2": (_edited(lambda d: d.__setitem__("schema_version", "2.0.0")), "expected 1.x"),
    "no schema_version": (_edited(lambda d: d.pop("schema_version")), "no schema_version"),
    "empty releases": (_edited(lambda d: d["result"].__setitem__("releases", [])), "no releases"),
    "impossible date": (_edited(_set_release_field("eolFrom", "2026-13-40")), "2026-13-40"),
    "date with a time": (_edited(_set_release_field("releaseDate", "2026-04-22T00:00:00")), "releaseDate"),
    "eol neither date nor bool": (_edited(_set_release_field("isEol", "soon")), "isEol"),
    "last_modified past UTC's range": (
        _edited(lambda d: d.__setitem__("last_modified", "9999-12-31T23:00:00-05:00")),
        "last_modified '9999-12-31T23:00:00-05:00' is not an RFC 3339 date-time (or date) that UTC can hold",
    ),
    "last_modified with a 24-hour offset": (
        _edited(lambda d: d.__setitem__("last_modified", "2026-08-21T10:00:00+24:00")),
        "last_modified '2026-08-21T10:00:00+24:00' is not",
    ),
    "last_modified not a time": (
        _edited(lambda d: d.__setitem__("last_modified", 20260821)),
        "Expected `str | null`, got `int` - at `$.last_modified`",
    ),
    "tags not a list": (_edited(lambda d: d["result"].__setitem__("tags", "os")), "at `$.result.tags`"),
    "release not an object": (
        _edited(lambda d: d["result"]["releases"].__setitem__(1, "1.33")),
        "Expected `object`, got `str` - at `$.result.releases[1]`",
    ),
    "custom value a list": (
        _edited(_set_release_field("custom", {"supportedKubernetesVersions": ["1.34"]})),
        "at `$.result.releases[0].custom[...]`",
    ),
    "duplicate release": (
        _edited(lambda d: d["result"]["releases"].append(d["result"]["releases"][0])),
        "more than once",
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_response_raises_and_changes_nothing(case: str, installed: Path, tmp_path: Path) -> None:
    build, expected = INVALID[case]
    source = DirectorySource(responses_dir(tmp_path, kubernetes=build()))
    before = tree_digest(installed)
    siblings = sorted(p.name for p in installed.parent.iterdir())

    with pytest.raises(LifecycleError) as raised:
        update_lifecycle_data(installed, products=RECORDED, source=source, today=TODAY)

    message = str(raised.value)
    assert message.startswith("kubernetes: ")
    assert expected in message
    assert "\n" not in message
    assert tree_digest(installed) == before
    assert sorted(p.name for p in installed.parent.iterdir()) == siblings


def test_invalid_response_on_first_update_creates_nothing(tmp_path: Path) -> None:
    source = DirectorySource(responses_dir(tmp_path, ubuntu=b'{"schema_version": "1.2.1"'))
    target = tmp_path / "fresh" / "lifecycle"
    with pytest.raises(LifecycleError, match=r"^ubuntu: "):
        update_lifecycle_data(target, products=RECORDED, source=source, today=TODAY)
    assert not target.exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda data: (data / "manifest.json").write_text('{"products": [1]}'),
            r"manifest\.json: not a lifecycle data manifest: "
            r"Expected `object \| null`, got `array` - at `\$\.products`",
        ),
        (
            lambda data: (data / "manifest.json").write_text('{"products": {"per_product": "x"}}'),
            r"got `str` - at `\$\.products\.per_product`",
        ),
        (  # a product the update does not touch: the installed data would not load
            lambda data: (data / "releases" / "debian.json").write_text('{"versions": [1, 2]}'),
            r"^the new lifecycle data for .*/lifecycle would not load: releases/debian\.json: not a release-data file: "
            r"Expected `object \| null`, got `array` - at `\$\.versions` \(the lifecycle data directory was left",
        ),
    ],
)
def test_a_malformed_current_data_dir_is_refused_and_left_unchanged(
    installed: Path, edit: Callable[[Path], object], message: str
) -> None:
    edit(installed)
    before = tree_digest(installed)
    with pytest.raises(LifecycleError, match=message):
        update_lifecycle_data(installed, products=RECORDED, source=DirectorySource(SNAPSHOT), today=TODAY)
    assert tree_digest(installed) == before


def test_losing_more_than_half_of_the_releases_needs_force(installed: Path, tmp_path: Path) -> None:
    document = response("kubernetes")
    document["result"]["releases"] = document["result"]["releases"][:10]  # 21 -> 10
    source = DirectorySource(responses_dir(tmp_path, kubernetes=dumps(document)))
    before = tree_digest(installed)

    with pytest.raises(LifecycleError, match=r"^kubernetes: .*10 release cycles.* 21"):
        update_lifecycle_data(installed, products=["kubernetes"], source=source, today=TODAY)
    assert tree_digest(installed) == before

    result = update_lifecycle_data(installed, products=["kubernetes"], source=source, today=TODAY, force=True)
    assert result.products[0].releases_after == 10
    assert len(json.loads((installed / "products" / "kubernetes.json").read_text())["releases"]) == 10


def test_losing_exactly_half_is_allowed(installed: Path, tmp_path: Path) -> None:
    document = response("containerd")  # 12 cycles
    document["result"]["releases"] = document["result"]["releases"][:6]
    source = DirectorySource(responses_dir(tmp_path, containerd=dumps(document)))
    result = update_lifecycle_data(installed, products=["containerd"], source=source, today=TODAY)
    assert result.products[0].releases_after == 6


def test_an_update_interrupted_between_its_renames_is_recovered(installed: Path) -> None:
    previous = installed.with_name(installed.name + PREVIOUS_SUFFIX)
    installed.rename(previous)  # as if the process died after moving the old data aside
    eks = (previous / "products" / "amazon-eks.json").read_bytes()

    update_lifecycle_data(installed, products=["kubernetes"], source=DirectorySource(NEWER), today=TODAY)

    assert not previous.exists()
    assert (installed / "products" / "amazon-eks.json").read_bytes() == eks  # copied from .previous
    per_product = json.loads((installed / "manifest.json").read_text())["products"]["per_product"]
    assert sorted(per_product) == sorted(RECORDED)


def test_losing_latest_versions_is_noted(tmp_path: Path) -> None:
    document = response("containerd")
    for release in document["result"]["releases"]:
        release["latest"] = None
    source = DirectorySource(responses_dir(tmp_path, containerd=dumps(document)))
    result = update_lifecycle_data(tmp_path / "lifecycle", products=["containerd"], source=source, today=TODAY)
    (update,) = result.products
    assert update.changed
    assert update.notes == ("12 cycles no longer have a latest version (the API does not publish it)",)
    assert "note: 12 cycles no longer have a latest version" in format_update_result(result)


def test_missing_response_file_names_the_product(tmp_path: Path) -> None:
    target = tmp_path / "lifecycle"
    with pytest.raises(LifecycleError, match=r"^google-kubernetes-engine: no response file"):
        update_lifecycle_data(target, products=None, source=DirectorySource(SNAPSHOT), today=TODAY)
    assert not target.exists()


def test_the_bundled_data_is_never_a_target() -> None:
    with pytest.raises(UsageError, match="shipped inside the package"):
        update_lifecycle_data(BUNDLED_DATA, products=["kubernetes"], source=DirectorySource(SNAPSHOT), today=TODAY)
    with pytest.raises(UsageError):
        update_lifecycle_data(
            BUNDLED_DATA.parent, products=["kubernetes"], source=DirectorySource(SNAPSHOT), today=TODAY
        )


def test_a_directory_that_is_not_lifecycle_data_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "documents"
    target.mkdir()
    (target / "thesis.txt").write_text("precious")
    with pytest.raises(LifecycleError, match="refusing to replace"):
        update_lifecycle_data(target, products=["kubernetes"], source=DirectorySource(SNAPSHOT), today=TODAY)
    assert (target / "thesis.txt").read_text() == "precious"


def test_an_empty_directory_can_be_the_target(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    update_lifecycle_data(target, products=["kubernetes"], source=DirectorySource(SNAPSHOT), today=TODAY)
    assert (target / "manifest.json").is_file()


def test_product_ids_cannot_escape_the_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"not an endoflife\.date product id"):
        update_lifecycle_data(tmp_path / "t", products=["../kubernetes"], source=DirectorySource(SNAPSHOT), today=TODAY)


@pytest.mark.parametrize(
    "layout",
    ["{id}.json", "{id}/index.json", "products/{id}.json", "endoflife.date/api/v1/products/{id}/index.html"],
)
def test_directory_layouts(layout: str, tmp_path: Path) -> None:
    root = tmp_path / "mirror"
    path = root / layout.format(id="containerd")
    path.parent.mkdir(parents=True)
    shutil.copyfile(SNAPSHOT / "containerd.json", path)
    result = update_lifecycle_data(
        tmp_path / "lifecycle", products=["containerd"], source=DirectorySource(root), today=TODAY
    )
    assert result.products[0].source == str(path)


def test_every_audit_product_is_in_the_bundled_data() -> None:
    assert len(set(AUDIT_PRODUCTS)) == len(AUDIT_PRODUCTS) == 24
    for product in AUDIT_PRODUCTS:
        assert (BUNDLED_DATA / "products" / f"{product}.json").is_file(), product


# --------------------------------------------------------------------------------------------
# HTTP: a real server on loopback


@dataclass
class FakeApi:
    """Serves the snapshot responses at /api/v1/products/<id>/, with scripted failures first."""

    root: Path
    failures: dict[str, list[int]] = field(default_factory=dict)  # product -> statuses to send first
    retry_after: str | None = None
    requests: list[str] = field(default_factory=list)
    base_url: str = ""


@pytest.fixture()
def api() -> Iterator[FakeApi]:
    state = FakeApi(SNAPSHOT)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if self.path.startswith("/moved/"):
                self.send_response(301)
                self.send_header("Location", self.path.removeprefix("/moved"))
                self.end_headers()
                return
            parts = self.path.strip("/").split("/")
            product = parts[3] if len(parts) == 4 and parts[:3] == ["api", "v1", "products"] else ""
            pending = state.failures.get(product)
            if pending:
                status = pending.pop(0)
                self.send_response(status)
                if state.retry_after:
                    self.send_header("Retry-After", state.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = state.root / f"{product}.json"
            if not product or not path.is_file():
                body = b"<!DOCTYPE html><title>404</title>"
                self.send_response(404)
                self.send_header("Content-Type", "text/html")
            else:
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def http_source(api: FakeApi, sleeps: list[float], base_url: str | None = None) -> HttpSource:
    return HttpSource(base_url=base_url or api.base_url, sleep=sleeps.append, timeout=5.0)


def test_http_update_retries_a_server_error_then_succeeds(api: FakeApi, tmp_path: Path) -> None:
    api.failures["kubernetes"] = [500]
    sleeps: list[float] = []
    result = update_lifecycle_data(
        tmp_path / "lifecycle",
        products=["kubernetes", "containerd"],
        source=http_source(api, sleeps),
        today=TODAY,
    )
    assert api.requests.count("/api/v1/products/kubernetes/") == 2
    assert sleeps == [0.5]
    assert result.products[0].source == f"{api.base_url}/products/kubernetes/"
    stored = json.loads((tmp_path / "lifecycle" / "products" / "kubernetes.json").read_text())
    assert stored["source"] == f"{api.base_url}/products/kubernetes/"
    assert stored["releases"] == convert((SNAPSHOT / "kubernetes.json").read_bytes())["releases"]


def test_http_honours_retry_after_within_the_cap(api: FakeApi, tmp_path: Path) -> None:
    api.failures["containerd"] = [429, 503]
    api.retry_after = "120"
    sleeps: list[float] = []
    update_lifecycle_data(tmp_path / "lifecycle", products=["containerd"], source=http_source(api, sleeps), today=TODAY)
    assert sleeps == [8.0, 8.0]  # Retry-After 120 s, capped


def test_http_gives_up_after_the_last_attempt(api: FakeApi, tmp_path: Path) -> None:
    api.failures["containerd"] = [503] * 10
    sleeps: list[float] = []
    with pytest.raises(LifecycleError, match=r"^containerd: HTTP 503 .* after 4 attempts"):
        update_lifecycle_data(
            tmp_path / "lifecycle", products=["containerd"], source=http_source(api, sleeps), today=TODAY
        )
    assert sleeps == [0.5, 1.0, 2.0]
    assert not (tmp_path / "lifecycle").exists()


def test_http_404_is_a_clear_error_and_writes_nothing(api: FakeApi, installed: Path) -> None:
    before = tree_digest(installed)
    with pytest.raises(LifecycleError, match=r"^no-such-product: endoflife.date has no such product \(HTTP 404"):
        update_lifecycle_data(
            installed,
            products=["kubernetes", "no-such-product"],
            source=http_source(api, []),
            today=TODAY,
        )
    assert tree_digest(installed) == before
    assert api.requests.count("/api/v1/products/no-such-product/") == 1  # a 404 is not retried


def test_http_follows_redirects(api: FakeApi, tmp_path: Path) -> None:
    moved = api.base_url.replace("/api/v1", "/moved/api/v1")
    result = update_lifecycle_data(
        tmp_path / "lifecycle", products=["ubuntu"], source=http_source(api, [], moved), today=TODAY
    )
    assert result.products[0].source == f"{api.base_url}/products/ubuntu/"


def test_http_connection_refused_is_retried_then_reported(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens on this port any more
    sleeps: list[float] = []
    source = HttpSource(base_url=f"http://127.0.0.1:{port}/api/v1", sleep=sleeps.append, attempts=2, timeout=2.0)
    with pytest.raises(LifecycleError, match=r"^kubernetes: ConnectError .* after 2 attempts"):
        update_lifecycle_data(tmp_path / "lifecycle", products=["kubernetes"], source=source, today=TODAY)
    assert sleeps == [0.5]


# --------------------------------------------------------------------------------------------
# CLI glue


def test_run_update_from_a_directory_and_its_summary(tmp_path: Path) -> None:
    first = run_update(today=TODAY, products=RECORDED, from_dir=SNAPSHOT, data_dir=tmp_path / "lifecycle", environ={})
    result = run_update(
        today=date(2026, 9, 12),
        products=["kubernetes"],
        from_dir=NEWER,
        data_dir=tmp_path / "lifecycle",
        environ={},
    )
    assert isinstance(first, UpdateResult)
    summary = format_update_result(result)
    assert str(tmp_path / "lifecycle") in summary
    assert "kubernetes" in summary
    assert "21 -> 22" in summary
    assert "newest 1.37 (latest 1.37.0)" in summary
    assert "1 product updated, 1 changed." in summary
    assert "5 products updated, 0 changed." in format_update_result(first)
    assert "no longer have a latest" not in format_update_result(first)


def test_run_update_over_http_with_an_injected_base_url(api: FakeApi, tmp_path: Path) -> None:
    result = run_update(
        today=TODAY,
        products=["amazon-eks"],
        data_dir=tmp_path / "lifecycle",
        base_url=api.base_url,
        environ={},
    )
    assert result.source == f"endoflife.date API v1 ({api.base_url}/products/<id>/)"
    assert (tmp_path / "lifecycle" / "products" / "amazon-eks.json").is_file()


def test_run_update_rejects_a_missing_from_dir(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--from-dir"):
        run_update(today=TODAY, from_dir=tmp_path / "nope", data_dir=tmp_path / "lifecycle", environ={})


def test_update_target_order(tmp_path: Path) -> None:
    explicit = tmp_path / "explicit"
    assert update_target(explicit, {"PATCHLEVEL_DATA_DIR": "/elsewhere"}) == explicit
    assert update_target(None, {"PATCHLEVEL_DATA_DIR": str(tmp_path / "env")}) == tmp_path / "env"
    assert update_target(None, {"XDG_DATA_HOME": "/xdg", "HOME": "/home/u"}) == Path("/xdg/patchlevel/lifecycle")
    assert update_target(None, {"HOME": "/home/u"}) == Path("/home/u/.local/share/patchlevel/lifecycle")


# --------------------------------------------------------------------------------------------
# Vulnerability feeds: Go vulnerability database records, CISA KEV, FIRST EPSS


VULNDB = Path(__file__).parent / "data" / "vulndb" / "served"
KEV_SUBSET = Path(__file__).parent / "data" / "kev" / "known_exploited_vulnerabilities.json"
EPSS_HEAD = "#model_version:v2025.03.14,score_date:{day}T12:55:00Z\ncve,epss,percentile\n"
EPSS_ROWS = "CVE-2021-44228,0.94358,0.99959\nCVE-2025-5187,2e-05,0.00512\n"
LISTED = 33  # records served/index/modules.json lists for patchlevel's modules (the runc-only one is left out)
# The recorded set is 33 of the 338 bundled records: replacing the bundled data with it needs force.


def epss_body(day: str = "2026-12-01", rows: str = EPSS_ROWS) -> bytes:
    return gzip.compress((EPSS_HEAD.format(day=day) + rows).encode())


def feeds_dir(tmp_path: Path, *, kev: bytes | None = None, epss_day: str = "2026-12-01") -> Path:
    """Downloaded files for every feed, in the layout --from-dir reads."""
    root = tmp_path / "downloads"
    shutil.copytree(VULNDB, root / "vulndb")
    (root / "kev").mkdir()
    (root / "kev" / "known_exploited_vulnerabilities.json").write_bytes(kev or KEV_SUBSET.read_bytes())
    (root / "epss").mkdir()
    (root / "epss" / f"epss_scores-{epss_day}.csv.gz").write_bytes(epss_body(epss_day))
    return root


def test_vulndb_update_from_recorded_responses(tmp_path: Path) -> None:
    bundled_before = tree_digest(BUNDLED_DATA)
    target = tmp_path / "lifecycle"
    source = FeedSources(vulndb=VulndbDirectorySource(VULNDB))
    with pytest.raises(LifecycleError, match=r"^vulndb: the new data has 33 records where the current data has 338"):
        update_data(target, source=None, feeds=source, today=TODAY)
    assert not target.exists()
    result = update_data(target, source=None, feeds=source, today=TODAY, force=True)
    (feed,) = result.feeds
    assert (feed.feed, feed.records, feed.records_before, feed.data_date) == ("vulndb", LISTED, 338, date(2026, 8, 21))
    assert result.products == ()
    stored = sorted(p.name for p in (target / "vulndb").glob("GO-*.json"))
    assert len(stored) == LISTED and "GO-2025-4096.json" not in stored  # runc only: not patchlevel's
    for name in stored:  # byte for byte as received
        assert (target / "vulndb" / name).read_bytes() == (VULNDB / "ID" / name).read_bytes()
    meta = json.loads((target / "vulndb" / "meta.json").read_text())
    assert (meta["covered_until"], meta["retrieved"], meta["licence"]) == ("2026-08-21", "2026-09-01", "CC-BY-4.0")
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["vulndb"]["records"] == LISTED
    assert manifest["products"] == json.loads((BUNDLED_DATA / "manifest.json").read_text())["products"]
    feed_read = load_cve_feed(target)
    assert [s.records for s in feed_read.sources] == [32, 31]  # one of the 33 is withdrawn
    assert "vulndb (data to 2026-08-21)" in (target / "SOURCES.md").read_text()
    assert load_catalog(target).data_date == date(2026, 8, 22)  # the lifecycle data came along unchanged
    assert tree_digest(BUNDLED_DATA) == bundled_before


@pytest.fixture()
def static() -> Iterator[FakeStatic]:
    state = FakeStatic()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            pending = state.failures.get(self.path)
            if pending:
                self.send_response(pending.pop(0))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state.files.get(self.path)
            self.send_response(200 if body is not None else 404)
            payload = body if body is not None else b"not found"
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class FakeStatic:
    """Files served by path (vuln.go.dev's layout, the KEV feed, EPSS), with scripted failures first."""

    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    base_url: str = ""

    def serve_vulndb(self, prefix: str = "") -> None:
        for path in VULNDB.rglob("*.json"):
            self.files[f"{prefix}/{path.relative_to(VULNDB).as_posix()}"] = path.read_bytes()


def test_every_feed_over_http_in_one_swap(static: FakeStatic, tmp_path: Path) -> None:
    static.serve_vulndb()
    static.files["/kev.json"] = KEV_SUBSET.read_bytes()
    static.files["/epss_scores-current.csv.gz"] = epss_body()
    static.failures["/ID/GO-2025-3915.json"] = [503]
    target = tmp_path / "lifecycle"
    result = run_update(
        today=date(2026, 12, 7),
        feeds=("vulndb", "kev", "epss"),
        data_dir=target,
        environ={},
        vulndb_url=static.base_url,
        kev_url=f"{static.base_url}/kev.json",
        epss_url=f"{static.base_url}/epss_scores-current.csv.gz",
        force=True,  # the 27-entry KEV subset replaces the bundled 1,404 entries
    )
    assert static.requests[:2] == ["/index/db.json", "/index/modules.json"]
    assert static.requests.count("/ID/GO-2025-3915.json") == 2  # a 503, retried
    assert sum(1 for r in static.requests if r.startswith("/ID/")) == LISTED + 1
    assert [f.feed for f in result.feeds] == ["vulndb", "kev", "epss"]
    kev = load_kev(target / "kev" / "known_exploited_vulnerabilities.json")
    assert (len(kev), kev.source, kev.retrieved) == (27, f"{static.base_url}/kev.json", date(2026, 12, 7))
    scores = load_epss(target / "epss" / "epss_scores-2026-12-01.csv.gz")
    assert scores.lookup("CVE-2025-5187") is not None
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["kev"]["entries"] == 27 and manifest["epss"]["score_date"] == "2026-12-01"
    summary = format_update_result(result)
    assert "vulndb: 338 -> 33 records, data to 2026-08-21" in summary
    assert "kev: 1404 -> 27 records, data to 2025-08-25" in summary
    assert "epss: 0 -> 2 records, data to 2026-12-01" in summary
    assert summary.endswith("0 products updated, 0 changed. 3 vulnerability feeds updated.")


def test_lifecycle_and_feeds_from_one_directory(tmp_path: Path) -> None:
    downloads = feeds_dir(tmp_path)
    shutil.copytree(SNAPSHOT, downloads, dirs_exist_ok=True)
    target = tmp_path / "lifecycle"
    result = run_update(
        today=date(2026, 12, 7),
        products=["kubernetes"],
        feeds=("lifecycle", "vulndb", "epss"),
        from_dir=downloads,
        data_dir=target,
        environ={},
        force=True,
    )
    assert [p.product for p in result.products] == ["kubernetes"]
    assert [f.feed for f in result.feeds] == ["vulndb", "epss"]
    assert result.data_date == result.products[0].data_date
    assert (target / "epss" / "epss_scores-2026-12-01.csv.gz").is_file()
    assert load_kev(target / "kev" / "known_exploited_vulnerabilities.json").version == "2025.08.25"  # kept


def test_a_newer_epss_file_replaces_the_old_one_and_an_older_one_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "lifecycle"
    run_update(today=date(2026, 12, 7), feeds=["epss"], from_dir=feeds_dir(tmp_path), data_dir=target, environ={})
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "epss_scores-2026-12-05.csv").write_text(EPSS_HEAD.format(day="2026-12-05") + EPSS_ROWS)  # plain CSV
    assert newest_epss_file(newer) == newer / "epss_scores-2026-12-05.csv"
    run_update(today=date(2026, 12, 7), feeds=["epss"], from_dir=newer, data_dir=target, environ={})
    assert sorted(p.name for p in (target / "epss").iterdir()) == ["epss_scores-2026-12-05.csv.gz"]
    before = tree_digest(target)
    older = tmp_path / "older"
    older.mkdir()
    (older / "epss_scores-2026-11-01.csv.gz").write_bytes(epss_body("2026-11-01"))
    with pytest.raises(LifecycleError, match=r"^epss: the new scores \(2026-11-01\) are older than the current"):
        run_update(today=date(2026, 12, 7), feeds=["epss"], from_dir=older, data_dir=target, environ={})
    assert tree_digest(target) == before


def broken_record(field_path: str) -> bytes:
    doc = json.loads((VULNDB / "ID" / "GO-2025-3915.json").read_bytes())
    if field_path == "introduced":
        doc["affected"][0]["ranges"][0]["events"][0]["introduced"] = 0
    elif field_path == "id":
        doc["id"] = "GO-2025-9999"
    elif field_path == "module":
        doc["affected"][0]["package"]["name"] = "example.com/other"
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "introduced",
            r"GO-2025-3915.json: not an OSV record: Expected `str \| null`, got `int` - at "
            r"`\$.affected\[0\].ranges\[0\].events\[0\].introduced`",
        ),
        ("id", r"GO-2025-3915.json: holds GO-2025-9999, not GO-2025-3915"),
        ("module", r"the modules index lists GO-2025-3915 for k8s.io/kubernetes but the record names none of them"),
    ],
)
def test_an_invalid_record_changes_nothing(change: str, message: str, installed: Path, tmp_path: Path) -> None:
    served = tmp_path / "served"
    shutil.copytree(VULNDB, served)
    (served / "ID" / "GO-2025-3915.json").write_bytes(broken_record(change))
    before = tree_digest(installed)
    with pytest.raises(LifecycleError, match=message):
        update_data(installed, source=None, feeds=FeedSources(vulndb=VulndbDirectorySource(served)), today=TODAY)
    assert tree_digest(installed) == before


def test_records_without_a_date_are_refused(tmp_path: Path) -> None:
    """Repository copies say 0001-01-01: without index/db.json nothing says what date they cover to."""
    flat = tmp_path / "flat"
    shutil.copytree(VULNDB / "ID", flat)
    with pytest.raises(LifecycleError, match=r"do not say what date they cover to"):
        update_data(
            tmp_path / "lifecycle", source=None, feeds=FeedSources(vulndb=VulndbDirectorySource(flat)), today=TODAY
        )
    (flat / "db.json").write_text('{"modified": "2026-08-21T00:00:00Z"}')
    result = update_data(
        tmp_path / "lifecycle",
        source=None,
        feeds=FeedSources(vulndb=VulndbDirectorySource(flat)),
        today=TODAY,
        force=True,
    )
    assert result.feeds[0].records == 33  # no index: every record naming a module patchlevel reads


def test_a_db_json_time_past_utc_range_is_refused(tmp_path: Path) -> None:
    """``modified`` of 9999-12-31T23:00:00-05:00 overflowed in astimezone (an internal error)."""
    served = tmp_path / "served"
    shutil.copytree(VULNDB, served)
    db = next(served.rglob("db.json"))
    db.write_text('{"modified": "9999-12-31T23:00:00-05:00"}')
    target = tmp_path / "lifecycle"
    with pytest.raises(LifecycleError, match=r"db\.json: .*'9999-12-31T23:00:00-05:00' is not an RFC 3339 date-time"):
        update_data(target, source=None, feeds=FeedSources(vulndb=VulndbDirectorySource(served)), today=TODAY)
    assert not target.exists()


def test_shrinking_or_older_vulndb_data_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "lifecycle"
    update_data(target, source=None, feeds=FeedSources(vulndb=VulndbDirectorySource(VULNDB)), today=TODAY, force=True)
    small = tmp_path / "small"
    shutil.copytree(VULNDB, small)
    for path in sorted((small / "ID").glob("GO-*.json"))[5:]:
        path.unlink()
    modules = json.loads((small / "index" / "modules.json").read_text())
    kept = {p.stem for p in (small / "ID").glob("GO-*.json")}
    for module in modules:
        module["vulns"] = [v for v in module["vulns"] if v["id"] in kept]
    (small / "index" / "modules.json").write_text(json.dumps(modules))
    before = tree_digest(target)
    with pytest.raises(LifecycleError, match=r"^vulndb: the new data has 5 records where the current data has 33"):
        update_data(target, source=None, feeds=FeedSources(vulndb=VulndbDirectorySource(small)), today=TODAY)
    old = tmp_path / "old"
    shutil.copytree(VULNDB, old)
    (old / "index" / "db.json").write_text('{"modified": "2026-01-01T00:00:00Z"}')
    with pytest.raises(LifecycleError, match=r"cover to 2026-01-01, older than the current data \(2026-08-21\)"):
        update_data(target, source=None, feeds=FeedSources(vulndb=VulndbDirectorySource(old)), today=TODAY)
    assert tree_digest(target) == before
    update_data(target, source=None, feeds=FeedSources(vulndb=VulndbDirectorySource(old)), today=TODAY, force=True)
    assert json.loads((target / "vulndb" / "meta.json").read_text())["covered_until"] == "2026-01-01"


def test_kev_update_validates_and_guards_against_a_short_catalog(installed: Path, tmp_path: Path) -> None:
    downloads = feeds_dir(tmp_path)
    before = tree_digest(installed)
    with pytest.raises(LifecycleError, match=r"^kev: the new catalog has 27 entries where the current one has 1404"):
        run_update(today=TODAY, feeds=["kev"], from_dir=downloads, data_dir=installed, environ={})
    truncated = json.loads(KEV_SUBSET.read_bytes())
    truncated["vulnerabilities"] = truncated["vulnerabilities"][:-1]
    (downloads / "kev" / "known_exploited_vulnerabilities.json").write_text(json.dumps(truncated))
    with pytest.raises(LifecycleError, match=r"says it holds 27 entries but lists 26 \(a truncated download\?\)"):
        run_update(today=TODAY, feeds=["kev"], from_dir=downloads, data_dir=installed, environ={}, force=True)
    assert tree_digest(installed) == before


def test_missing_downloads_and_unknown_feeds(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LifecycleError, match=r"^kev: no known_exploited_vulnerabilities.json in"):
        run_update(today=TODAY, feeds=["kev"], from_dir=empty, data_dir=tmp_path / "t", environ={})
    with pytest.raises(LifecycleError, match=r"^epss: no epss_scores-YYYY-MM-DD.csv.gz in"):
        run_update(today=TODAY, feeds=["epss"], from_dir=empty, data_dir=tmp_path / "t", environ={})
    with pytest.raises(LifecycleError, match=r"no GO-\*.json records"):
        run_update(today=TODAY, feeds=["vulndb"], from_dir=empty, data_dir=tmp_path / "t", environ={})
    with pytest.raises(UsageError, match=r"'nvd' is not data 'lifecycle update' refreshes"):
        check_feeds(["vulndb", "nvd"])
    with pytest.raises(UsageError, match=r"no data to update"):
        check_feeds([])
    assert check_feeds(["KEV", "kev", "epss"]) == ("kev", "epss")
    assert feeds_in(empty) == ()
    assert feeds_in(SNAPSHOT) == ("lifecycle",)
    assert feeds_in(feeds_dir(tmp_path)) == ("vulndb", "kev", "epss")
    assert ALL_FEEDS == ("lifecycle", "vulndb", "kev", "epss")


# --------------------------------------------------------------------------------------------
# The command line: which feeds `lifecycle update` refreshes


def test_cli_only_refreshes_the_named_feed_and_from_dir_defaults_to_what_it_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from patchlevel.cli import main

    downloads = feeds_dir(tmp_path)  # vulndb, kev and epss files; no endoflife.date responses
    target = tmp_path / "lifecycle"
    assert main(["lifecycle", "update", "--from-dir", str(downloads), "--only", "epss", "--data-dir", str(target)]) == 0
    out = capsys.readouterr().out
    assert "epss" in out and "kev" not in out and "vulndb" not in out
    assert any((target / "epss").iterdir())
    # without --only, a directory is taken for what it holds: here every feed but the lifecycle data
    code = main(["lifecycle", "update", "--from-dir", str(downloads), "--data-dir", str(target), "--force"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert all(feed in out for feed in ("vulndb", "kev", "epss"))
    from patchlevel.vuln.kev import load_kev, load_kev_data

    stored = load_kev_data(target)
    assert stored is not None and set(stored.entries) == set(load_kev(KEV_SUBSET).entries)  # the downloaded catalog
