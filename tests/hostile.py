"""Hostile input for the no-false-PASS and safe-output tests (issue 14).

``HOSTILE`` holds strings of every class the first hostile round used against the outputs: Rich
markup (``[/x]`` crashed the terminal report), terminal escape sequences (screen clear, window
title, OSC 8 hyperlinks), C0/C1 controls and DEL, bidirectional overrides, HTML and Markdown
syntax (links, images, autolinks, e-mail, entities, table pipes), forged lines, and an absurdly
long field.  ``hostile_report`` plants them in every string field of a real Report a renderer
prints; ``hostile_inventory`` builds a cluster whose nodes, pods and scans carry them, each with a
defect that must keep some checks from passing (``ALLOWED`` names the statuses its input can justify).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from builders import make_inventory, make_kube_proxy_pod, make_node
from patchlevel.importers import parse_scan_document
from patchlevel.importers.base import timestamp
from patchlevel.inventory import Inventory
from patchlevel.kube import Pod
from patchlevel.model import Finding, InputFile, Report, Status, Waiver, WaiverOutcome
from patchlevel.scans import ScanReport, failed_scan

MARKUP = "[red]red[/red] [link=https://evil.example]click[/link] [/x] [bold"
ESCAPES = "esc\x1b[2J\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\"
CONTROLS = "nul\x00bs\x08cr\rdel\x7fc1\x85\x9b end"
BIDI = "invoice\u202egnp.exe\u2066x\u2069"
HTML = "<script>alert(1)</script><img src=x onerror=alert(2)><a href='https://evil.example'>a</a>"
MARKDOWN = (
    "[x](https://evil.example) ![i](https://evil.example/i.png) **b** _i_ `c` <https://evil.example> "
    "~~s~~ a|b https://evil.example/x www.evil.example user@evil.example &lt;b&gt; &#60;i&#62; $x$ #h"
)
NEWLINES = "line one\n| forged | row |\n## forged heading\n"
HUGE = "6.1.0-" + "a" * 200_000

HOSTILE = {
    "markup": MARKUP,
    "escapes": ESCAPES,
    "controls": CONTROLS,
    "bidi": BIDI,
    "html": HTML,
    "markdown": MARKDOWN,
    "newlines": NEWLINES,
}
# What must never reach an output as written (each would act, not be shown).
ACTIVE = ("\x1b", "\x07", "\x00", "\x08", "\x9b", "\u202e", "\u2066")


def _mix(*parts: str) -> str:
    return " ".join(parts)


def hostile_report(report: Report, huge: bool = False) -> Report:
    """``report`` with every printed string field from the input replaced by hostile text."""
    strings = list(HOSTILE.values())
    every = _mix(*strings) + (HUGE if huge else "")

    def pick(i: int) -> str:
        return strings[i % len(strings)]

    findings = []
    for i, f in enumerate(report.findings):
        findings.append(
            dataclasses.replace(
                f,
                subject=f"{f.subject.split('/', 1)[0]}/{pick(i)}{i}",
                message=f"{f.message} {pick(i + 1)}" + (HUGE if huge and i == 0 else ""),
                remediation=f.remediation and f"{f.remediation} {pick(i + 2)}",
                note=f.note and f"{f.note} {pick(i + 3)}",
                evidence={**f.evidence, "raw": pick(i + 4)},
                waiver=f.waiver
                and dataclasses.replace(f.waiver, owner=pick(i + 5), reason=pick(i + 6), approved_by=pick(i)),
            )
        )
    waiver = Waiver("node_os_supported", every, every, every, report.as_of, id="W-1", approved_by=every)
    return dataclasses.replace(
        report,
        cluster=dataclasses.replace(report.cluster, name=every, version=f"v1.2{MARKUP}", server=HTML),
        findings=tuple(findings),
        warnings=(*report.warnings, every),
        inputs=(
            *report.inputs,
            InputFile(f"/tmp/{ESCAPES}.json", f"NodeList {MARKUP}", 1, sha256="0" * 64),
            InputFile(f"/tmp/{HTML}", "ignored", reason=_mix(MARKDOWN, BIDI)),
        ),
        waivers=(*report.waivers, WaiverOutcome(waiver, 0, False)),
    )


def hostile_strings_in(report: Report) -> Iterator[str]:
    """The hostile strings planted in ``report`` (for "shown as written" assertions)."""
    yield from HOSTILE.values()


# ------------------------------------------------------------------------------------------
# A hostile cluster for the checks

DIGEST_CONFIG_ONLY = "sha256:" + "1" * 64
DIGEST_FUTURE_IMAGE = "sha256:" + "2" * 64
DIGEST_FUTURE_CLOCK = "sha256:" + "3" * 64
DIGEST_UNDATED = "sha256:" + "4" * 64
DIGEST_GRYPE_SILENT = "sha256:" + "5" * 64
DIGEST_FAILED = "sha256:" + "6" * 64
REGISTRY = "registry.example/" + "evil"


def _image(digest: str) -> str:
    return f"image/{REGISTRY}@{digest}"


U = frozenset({Status.UNKNOWN})
UF = frozenset({Status.UNKNOWN, Status.FAIL})
F = frozenset({Status.FAIL})

# subject -> check -> the statuses its input can justify (never PASS; the reason in the comment)
ALLOWED: Mapping[str, Mapping[str, frozenset[Status]]] = {
    # the kubelet string is Rich markup: unparseable, so whatever reads the kubelet is unknown; its
    # containerd 2.1 is past its end of support (FAIL) and its fit with the kubelet unknown
    f"node/{MARKUP}": {
        "kubelet_version_supported": U,
        "kubelet_patch_current": U,
        "kubelet_version_skew_allowed": U,
        "kube_proxy_version_skew_allowed": UF,
        "container_runtime_supported": UF,
    },
    "node/future-node": {"node_image_current": U},  # registered after the as-of date
    "node/no-patch": {"kubelet_patch_current": U},  # v1.33: no patch number
    "node/unknown-release": {"kubelet_patch_current": U},  # v1.33.999: unknown to the data
    # kube-proxy known, kubelet not: half a skew; containerd 2.1 ended, its kubelet fit unknown
    "node/half-skew": {"kube_proxy_version_skew_allowed": U, "container_runtime_supported": UF},
    "node/docker": {"container_runtime_supported": UF},  # Docker from kubelet 1.24: cri-dockerd unseen
    "node/reboot-future": {"node_not_pending_reboot": U},  # reboot required "since" after the as-of date
    # pool-b's kernel is unreadable, so its pool's newest kernel is half known
    "node/pool-a": {"node_kernel_consistent_in_pool": U},
    "node/pool-peer": {"node_kernel_consistent_in_pool": U},
    "node/pool-b": {"node_kernel_consistent_in_pool": U},
    _image(DIGEST_CONFIG_ONLY): {"fixable_vulnerabilities_patched_in_time": U, "image_scanned_recently": F},
    _image(DIGEST_FUTURE_IMAGE): {"image_built_recently": U},
    _image(DIGEST_FUTURE_CLOCK): {"fixable_vulnerabilities_patched_in_time": U},
    _image(DIGEST_UNDATED): {"fixable_vulnerabilities_patched_in_time": U, "image_scanned_recently": F},
    _image(DIGEST_GRYPE_SILENT): {"fixable_vulnerabilities_patched_in_time": U, "image_scanned_recently": F},
    _image(DIGEST_FAILED): {"fixable_vulnerabilities_patched_in_time": U, "image_scanned_recently": F},
}


def _pod(name: str, digest: str, node: str = "node-ok") -> Pod:
    doc = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": f"{REGISTRY}:{name}"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [{"name": "app", "image": f"{REGISTRY}:{name}", "imageID": f"{REGISTRY}@{digest}"}],
        },
    }
    return msgspec.convert(doc, Pod)


def _trivy(digest: str, results: Any, *, created_at: str | None, image_created: str, vulns: Any = ()) -> ScanReport:
    doc: dict[str, Any] = {
        "SchemaVersion": 2,
        "ArtifactName": f"{REGISTRY}@{digest}",
        "Metadata": {
            "OS": {"Family": "debian", "Name": f"12.8 {MARKUP}"},
            "RepoDigests": [f"{REGISTRY}@{digest}"],
            "ImageConfig": {"created": image_created},
        },
        "Results": results,
    }
    if created_at is not None:
        doc["CreatedAt"] = created_at
    (report,) = parse_scan_document(json.dumps(doc).encode(), f"trivy-{ESCAPES}-{digest[7:15]}.json")
    return report


def _os_result(vulnerabilities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"Target": f"{HTML} (debian 12.8)", "Class": "os-pkgs", "Type": "debian"}
    if vulnerabilities:
        result["Vulnerabilities"] = vulnerabilities
    return result


def hostile_scans() -> list[ScanReport]:
    scanned = "2026-11-20T00:00:00Z"
    vulnerability = {
        "VulnerabilityID": f"CVE-2027-0001{MARKDOWN}",
        "PkgName": f"openssl{ESCAPES}",
        "InstalledVersion": "3.0.1",
        "FixedVersion": f"3.0.2{HTML}",
        "Severity": "CRITICAL",
        "PublishedDate": "2027-02-01T00:00:00Z",
        "Title": HTML,
        "PrimaryURL": "javascript:alert(1)",
    }
    grype = {
        "matches": [],
        "source": {
            "type": "image",
            "target": {"userInput": MARKUP, "repoDigests": [f"{REGISTRY}@{DIGEST_GRYPE_SILENT}"]},
        },
        "distro": {"name": "", "version": ""},
        "descriptor": {"name": "grype", "version": f"0.80{ESCAPES}", "timestamp": scanned},
    }
    (silent,) = parse_scan_document(json.dumps(grype).encode(), f"grype-{MARKDOWN}.json")
    return [
        _trivy(DIGEST_CONFIG_ONLY, [{"Target": HTML, "Class": "config"}], created_at=scanned, image_created=scanned),
        _trivy(DIGEST_FUTURE_IMAGE, [_os_result()], created_at=scanned, image_created="2031-01-01T00:00:00Z"),
        _trivy(DIGEST_FUTURE_CLOCK, [_os_result([vulnerability])], created_at=scanned, image_created=scanned),
        _trivy(DIGEST_UNDATED, [_os_result()], created_at=None, image_created=scanned),
        silent,
        failed_scan(
            f"trivy {MARKUP}",
            "trivy",
            f"{REGISTRY}@{DIGEST_FAILED}",
            f"trivy is not installed — {ESCAPES} {HTML}",
            scanned_at=timestamp(scanned),
            repo_digest=f"{REGISTRY}@{DIGEST_FAILED}",
        ),
    ]


def hostile_inventory() -> Inventory:
    pool = {"eks.amazonaws.com/nodegroup": MARKUP}
    reboot = [{"type": "RebootRequired", "status": "True", "lastTransitionTime": "2030-01-01T00:00:00Z"}]
    nodes = [
        make_node(
            MARKUP,
            kubelet=f"v1.33.4{MARKUP}",
            runtime=f"containerd://2.1.4{ESCAPES}",
            os_image=f"Ubuntu 24.04 {HTML}",
            kernel=f"6.8.0{ESCAPES}",
            annotations={"note": _mix(*HOSTILE.values())},
        ),
        make_node("future-node", created="2030-01-01T00:00:00Z"),
        make_node("no-patch", kubelet="v1.33"),
        make_node("unknown-release", kubelet="v1.33.999"),
        make_node("half-skew", kubelet=""),
        make_node("docker", runtime="docker://28.3.0", kubelet="v1.33.4"),
        make_node("reboot-future", conditions=reboot),
        make_node("pool-a", kernel="6.8.0-1018-aws", labels=pool),
        make_node("pool-peer", kernel="6.8.0-1018-aws", labels=pool),
        make_node("pool-b", kernel=f"kernel{ESCAPES}", labels=pool),
        make_node("huge", kernel=HUGE, os_image=HUGE),
        make_node("node-ok"),
    ]
    pods = [
        make_kube_proxy_pod("half-skew", "registry.k8s.io/kube-proxy:v1.33.4"),
        make_kube_proxy_pod(MARKUP, f"registry.k8s.io/kube-proxy:v1.33.4{MARKUP}"),
        _pod("config-only", DIGEST_CONFIG_ONLY),
        _pod("future-image", DIGEST_FUTURE_IMAGE),
        _pod("future-clock", DIGEST_FUTURE_CLOCK),
        _pod("undated", DIGEST_UNDATED),
        _pod("grype-silent", DIGEST_GRYPE_SILENT),
        _pod("failed", DIGEST_FAILED),
    ]
    inventory = make_inventory("v1.33.4", nodes=nodes, pods=pods)
    return dataclasses.replace(inventory, scans=tuple(hostile_scans()), name=MARKUP)


def findings_by_subject(findings: tuple[Finding, ...]) -> dict[str, dict[str, Finding]]:
    out: dict[str, dict[str, Finding]] = {}
    for f in findings:
        out.setdefault(f.subject, {})[f.check] = f
    return out
