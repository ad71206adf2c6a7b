"""Construct the endoflife.date API v1 responses in this folder from the bundled product files.

Run from the repository root:  .venv/bin/python tests/data/eol-api/build_responses.py

The responses are built the way the published v1 schema describes ``/api/v1/products/<id>/``
(see README.md here): they are not captured from the live API.  ``snapshot/`` holds the
bundled data as the site would have served it on 2026-08-22; ``newer/`` holds a hand-modified
Kubernetes response (a fictitious 1.37 cycle and a newer 1.36 patch) in the ``<id>/index.json``
layout.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BUNDLED = HERE.parents[2] / "src" / "patchlevel" / "lifecycle" / "data" / "products"
SNAPSHOT_PRODUCTS = ("kubernetes", "amazon-eks", "azure-kubernetes-service", "containerd", "ubuntu")
SCHEMA_VERSION = "1.2.1"

# kubernetes: the last commit touching products/kubernetes.md (README Example A); the others are
# illustrative (the snapshot date at midnight UTC).
LAST_MODIFIED = {"kubernetes": "2026-08-21T00:06:53+00:00"}

DEFAULT_COLUMN_LABELS = {
    "eoas": "Active Support",
    "eol": "Security Support",
    "eoes": "Extended Support",
    "discontinued": "Discontinued",
}
COLUMN_DEFAULT_ON = {"eoas": False, "eol": True, "eoes": False, "discontinued": False}
_LIQUID_REPLACE = re.compile(
    r"\{\{\s*['\"]([^'\"]*)['\"]\s*\|\s*replace:\s*['\"]([^'\"]*)['\"]\s*,\s*['\"]([^'\"]*)['\"]\s*\}\}"
)
_TAG = re.compile(r"<.*?>", re.S)


def strip_html(text: str) -> str:
    return _TAG.sub("", text)


def render(template: str, release: dict[str, Any]) -> str:
    text = template.strip()
    text = text.replace("__RELEASE_CYCLE__", release.get("releaseCycle") or "")
    text = text.replace("__CODENAME__", release.get("codename") or "")
    text = text.replace("__LATEST__", release.get("latest") or "")
    text = text.replace("__LATEST_RELEASE_DATE__", release.get("latestReleaseDate") or "")
    # the only Liquid filter the exported templates use: {{'x'|replace:'a','b'}}
    return _LIQUID_REPLACE.sub(lambda m: m.group(1).replace(m.group(2), m.group(3)), text)


def column_label(front_matter: dict[str, Any], phase: str) -> str | None:
    value = front_matter.get(f"{phase}Column", COLUMN_DEFAULT_ON[phase])
    if isinstance(value, str):
        return strip_html(value)
    return DEFAULT_COLUMN_LABELS[phase] if value else None


def ended(value: Any, built: date) -> bool:
    if isinstance(value, bool):
        return value
    return built > date.fromisoformat(value)


def split_phase(release: dict[str, Any], key: str, built: date, default: Any = None) -> tuple[Any, Any]:
    value = release.get(key, default)
    if value is None:
        return None, None
    if isinstance(value, bool):
        return value, None
    return built > date.fromisoformat(value), value


def release_json(product: dict[str, Any], release: dict[str, Any], built: date) -> dict[str, Any]:
    front_matter = product["front_matter"]
    template = release.get("releaseLabel") or front_matter.get("releaseLabel")
    label = strip_html(render(template, release)) if template else release["releaseCycle"]
    is_lts, lts_from = split_phase(release, "lts", built, default=False)
    lts_label = strip_html(front_matter.get("LTSLabel", "LTS"))
    if lts_from:
        label += f" ({lts_label})" if is_lts else f" (Upcoming {lts_label})"
    elif is_lts:
        label += f" ({lts_label})"

    if "link" in release:
        link = release["link"]
        if link and "__" in link:
            link = render(link, release)
    else:
        template = front_matter.get("changelogTemplate")
        link = render(template, release) if template else None

    out: dict[str, Any] = {
        "name": release["releaseCycle"],
        "codename": release.get("codename"),
        "label": label,
        "releaseDate": release["releaseDate"],
        "isLts": is_lts,
        "ltsFrom": lts_from,
    }
    present: list[Any] = []
    for phase in ("eoas", "eol", "discontinued", "eoes"):
        if column_label(front_matter, phase) is None and phase != "eol":
            continue
        flag, since = split_phase(release, phase, built)
        name = phase[0].upper() + phase[1:]
        out[f"is{name}"] = flag
        out[f"{phase}From"] = since
        if flag is not None:
            present.append(release[phase])
    out["isMaintained"] = any(not ended(value, built) for value in present)
    latest_on = front_matter.get("latestColumn", True) is not False
    out["latest"] = (
        {"name": release.get("latest"), "date": release.get("latestReleaseDate"), "link": link} if latest_on else None
    )
    fields = [f["name"] for f in front_matter.get("customFields", [])]
    out["custom"] = {name: release.get(name) for name in fields} if fields else None
    return out


def product_response(product: dict[str, Any], built: date, generated_at: str, last_modified: str) -> dict[str, Any]:
    front_matter = product["front_matter"]
    name = product["product"]
    category = front_matter["category"]
    tags = front_matter.get("tags", "")
    tags = tags.split() if isinstance(tags, str) else list(tags)
    icon = front_matter.get("iconSlug")
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at,
        "last_modified": last_modified,
        "result": {
            "name": name,
            "aliases": [url[1:] for url in front_matter.get("alternate_urls", [])],
            "label": product["label"],
            "category": category,
            "tags": sorted([*tags, category]),
            "versionCommand": front_matter.get("versionCommand"),
            "identifiers": [
                {"type": key, "id": value} for identifier in product["identifiers"] for key, value in identifier.items()
            ],
            "labels": {
                "eoas": column_label(front_matter, "eoas"),
                "discontinued": column_label(front_matter, "discontinued"),
                "eol": column_label(front_matter, "eol"),
                "eoes": column_label(front_matter, "eoes"),
            },
            "links": {
                "icon": f"https://cdn.jsdelivr.net/npm/simple-icons/icons/{icon}.svg" if icon else None,
                "html": f"https://endoflife.date/{name}",
                "releasePolicy": front_matter.get("releasePolicyLink"),
            },
            "releases": [release_json(product, release, built) for release in product["releases"]],
        },
    }


def newer_kubernetes(product: dict[str, Any]) -> dict[str, Any]:
    """Fictitious later state: 1.37 released, 1.36 patched to 1.36.5."""
    changed = copy.deepcopy(product)
    releases = changed["releases"]
    assert releases[0]["releaseCycle"] == "1.36"
    releases[0]["latest"] = "1.36.5"
    releases[0]["latestReleaseDate"] = "2026-09-09"
    releases.insert(
        0,
        {
            "releaseCycle": "1.37",
            "releaseDate": "2026-08-26",
            "eoas": "2027-08-28",
            "eol": "2027-10-28",
            "latest": "1.37.0",
            "latestReleaseDate": "2026-08-26",
        },
    )
    return changed


def write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    built = date(2026, 8, 22)
    for name in SNAPSHOT_PRODUCTS:
        product = json.loads((BUNDLED / f"{name}.json").read_text(encoding="utf-8"))
        last_modified = LAST_MODIFIED.get(name, f"{product['commit_date']}T00:00:00+00:00")
        write(
            HERE / "snapshot" / f"{name}.json",
            product_response(product, built, "2026-08-22T09:00:00+00:00", last_modified),
        )
    kubernetes = json.loads((BUNDLED / "kubernetes.json").read_text(encoding="utf-8"))
    write(
        HERE / "newer" / "kubernetes" / "index.json",
        product_response(
            newer_kubernetes(kubernetes),
            date(2026, 9, 10),
            "2026-09-10T09:00:00+00:00",
            "2026-09-09T12:00:00+00:00",
        ),
    )


if __name__ == "__main__":
    main()
