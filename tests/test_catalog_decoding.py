"""Lifecycle data files from a ``--data-dir`` are untrusted: every field of the real files, mutated type-wise,
gives a loaded catalog that answers, or one LifecycleError line naming the file and the field, never a crash."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mutants import FieldPath, mutated, mutations
from patchlevel.cli import main
from patchlevel.errors import LifecycleError
from patchlevel.lifecycle.catalog import BUNDLED_DATA, load_catalog

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "tests" / "data" / "snapshots" / "mixed-shapes-read"
FILES = ("manifest.json", "products/kubernetes.json", "releases/kubernetes.json")


def _documents() -> dict[str, Any]:
    return {name: json.loads((BUNDLED_DATA / name).read_bytes()) for name in FILES}


def _cases() -> Iterator[Any]:
    for name, doc in _documents().items():
        for path, mutant, label in mutations(doc):
            yield pytest.param(name, path, mutant, id=f"{name}:{label}")


@pytest.fixture(scope="module")
def documents() -> dict[str, Any]:
    return _documents()


def _write(directory: Path, documents: dict[str, Any]) -> Path:
    (directory / "curated").mkdir()  # no curated products or overlays: Kubernetes alone
    for name, doc in documents.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc), encoding="utf-8")
    return directory


@pytest.mark.parametrize(("name", "path", "mutant"), list(_cases()))
def test_a_mutated_field_loads_or_is_one_clear_error(
    tmp_path: Path, documents: dict[str, Any], name: str, path: FieldPath, mutant: Any
) -> None:
    changed = {**documents, name: mutated(documents[name], path, mutant)}
    directory = _write(tmp_path, changed)
    try:
        catalog = load_catalog(directory)
    except LifecycleError as exc:
        message = str(exc)
        assert str(directory / name) in message or (name == "manifest.json" and "manifest.json" in message), message
        assert "\n" not in message
        return
    # A catalog that loaded answers every question about the product without failing.
    kubernetes = catalog.product("kubernetes")
    assert kubernetes is not None
    for cycle in kubernetes.cycles:
        for day in (date(2000, 1, 1), date(2026, 9, 1), date(9999, 12, 31)):
            catalog.support("kubernetes", cycle.name, day)
            catalog.patches("kubernetes", cycle.name, day)
    for release in kubernetes.versions[:5]:
        catalog.release_date("kubernetes", release.version)
    catalog.support("kubernetes", "1.2", date(2026, 9, 1))


@pytest.mark.parametrize(
    ("name", "path", "value", "message"),
    [
        (
            "releases/kubernetes.json",
            ("versions",),
            [1, 2],
            r"releases/kubernetes\.json: not a release-data file: "
            r"Expected `object \| null`, got `array` - at `\$\.versions`",
        ),
        (
            "manifest.json",
            ("products",),
            [],
            r"manifest\.json: not a lifecycle data manifest: "
            r"Expected `object \| null`, got `array` - at `\$\.products`",
        ),
        (
            "products/kubernetes.json",
            ("front_matter",),
            [1],
            r"products/kubernetes\.json: not a lifecycle product file: .*got `array` - at `\$\.front_matter`",
        ),
        (
            "products/kubernetes.json",
            ("releases", 2, "eol"),
            "2026-02-30",
            r"Expected a YYYY-MM-DD date - at `\$\.releases\[2\]\.eol`",
        ),
    ],
)
def test_audit_with_a_malformed_data_dir_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, path: FieldPath, value: Any, message: str
) -> None:
    """The reported reproducers: ``audit SNAP --data-dir dd`` said ``internal error: AttributeError``."""
    data = tmp_path / "dd"
    shutil.copytree(BUNDLED_DATA, data)
    doc = json.loads((data / name).read_bytes())
    (data / name).write_text(json.dumps(mutated(doc, path, value)), encoding="utf-8")
    assert main(["audit", str(SNAPSHOT), "--data-dir", str(data), "--as-of", "2026-09-01"]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "internal error" not in err, err
    assert err.startswith("patchlevel: error: ")
    assert str(data) in err
    assert re.search(message, err), err


def test_deeply_nested_data_file_is_one_error(tmp_path: Path, documents: dict[str, Any]) -> None:
    directory = _write(tmp_path, documents)
    deep = b'{"product": "kubernetes", "releases": [], "identifiers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    (directory / "products" / "kubernetes.json").write_bytes(deep)
    with pytest.raises(LifecycleError, match="nested too deeply"):
        load_catalog(directory)


def test_a_fifo_among_the_data_files_is_refused_not_read(tmp_path: Path, documents: dict[str, Any]) -> None:
    """A FIFO named ``products/x.json`` would block ``read_bytes`` forever: it is refused, never opened for reading."""
    directory = _write(tmp_path, documents)
    os.mkfifo(directory / "products" / "waiting.json")
    with pytest.raises(LifecycleError, match=r"cannot read lifecycle data .*products/waiting\.json: .*FIFO"):
        load_catalog(directory)


def test_hostile_yaml_in_curated_data_is_one_error(tmp_path: Path, documents: dict[str, Any]) -> None:
    directory = _write(tmp_path, documents)
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    (directory / "curated" / "bomb.yaml").write_text(bomb, encoding="utf-8")
    with pytest.raises(LifecycleError, match=r"curated/bomb\.yaml: not valid YAML \(YAML aliases expand"):
        load_catalog(directory)
    (directory / "curated" / "bomb.yaml").unlink()
    overlays = directory / "curated" / "overlays"
    overlays.mkdir()
    (overlays / "deep.yaml").write_text("product: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(LifecycleError, match=r"overlays/deep\.yaml: not valid YAML \(YAML nested too deeply"):
        load_catalog(directory)
