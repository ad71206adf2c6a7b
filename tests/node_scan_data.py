"""Host scans and SBOMs for the node tests, built from the real files in tests/data/node-packages.

What is real and what is constructed is listed in tests/data/node-packages/SOURCES.md; every
function here says which part of its document it adds to a real one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "node-packages"
AKS_UBUNTU_REPORT = DATA / "aks-ubuntu2204-202308.16.0-trivy-fs-report.json"
AKS_UBUNTU_NOTES = DATA / "aks-ubuntu2204-202308.16.0-release-notes.txt"
AZURE_LINUX_NOTES = DATA / "aks-azurelinux3-202608.20.0-release-notes.txt"
AMAZON_LINUX_VM = DATA / "trivy-vm-amazonlinux2-golden.json"
UBUNTU_VM = DATA / "trivy-vm-ubuntu2204-golden.json"
KBOM = DATA / "trivy-kbom-minikube-cyclonedx.json"
FCOS_LOCK = DATA / "fcos-manifest-lock.x86_64.json"

# The running kernels of the real images (their build logs' "Linux version" lines).
AKS_UBUNTU_KERNEL = "5.15.0-1041-azure"
AZURE_LINUX_KERNEL = "6.6.150.1-1.azl3"
# A real EKS Amazon Linux 2 node's kernelVersion (NOTES.md, nodes fixtures).
AMAZON_LINUX_KERNEL = "4.14.198-152.320.amzn2.x86_64"
FCOS_KERNEL = "6.11.4-201.fc40.x86_64"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _between(path: Path, begin: str, end: str) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[lines.index(begin) + 1 : lines.index(end)]


_APT = re.compile(r"^(?P<name>[^/\s]+)/\S+ (?P<version>\S+) (?P<arch>\S+) \[installed")


def apt_installed(path: Path = AKS_UBUNTU_NOTES) -> list[dict[str, str]]:
    """The real ``apt list --installed`` of a node image, as Trivy package entries (Name, Version, Arch)."""
    out = []
    for line in _between(path, "=== Installed Packages Begin", "=== Installed Packages End"):
        match = _APT.match(line)
        if match:
            out.append({"Name": match["name"], "Version": match["version"], "Arch": match["arch"]})
    return out


def rpm_installed(path: Path = AZURE_LINUX_NOTES) -> list[dict[str, Any]]:
    """The real RPM list (NVRA lines) of a node image, as Trivy package entries (Name, Version, Release, Arch)."""
    out = []
    for line in _between(path, "=== Installed Packages Begin", "=== Installed Packages End"):
        line = line.strip()
        rest, _, arch = line.rpartition(".")
        if not line or " " in line or rest.count("-") < 2:  # gpg-pubkey-3135ce90-5e6fda74: a key, no package
            continue
        name, version, release = rest.rsplit("-", 2)
        out.append({"Name": name, "Version": version, "Release": release, "Arch": arch})
    return out


def ubuntu_rootfs_report(
    *, created: str | None = "2026-12-01T02:00:00Z", extra: Iterable[dict[str, str]] = (), packages: bool = True
) -> dict[str, Any]:
    """The real AKS Ubuntu 22.04 Trivy filesystem report; constructed: ``CreatedAt``, and (``packages``)
    a ``--list-all-pkgs`` package list from the same image's real apt list, plus ``extra`` packages."""
    report: dict[str, Any] = load(AKS_UBUNTU_REPORT)
    if created is not None:
        report["CreatedAt"] = created
    if packages:
        os_result = next(r for r in report["Results"] if r["Class"] == "os-pkgs")
        os_result["Packages"] = [*apt_installed(), *extra]
    return report


# The kernel the real report's FixedVersion names for the 1041 ABI (5.15.0-1042.49), installed as its own ABI.
UBUNTU_NEWER_KERNEL = [
    {"Name": "linux-image-5.15.0-1042-azure", "Version": "5.15.0-1042.49", "Arch": "amd64"},
    {"Name": "linux-modules-5.15.0-1042-azure", "Version": "5.15.0-1042.49", "Arch": "amd64"},
]


def azure_linux_report(
    *, created: str = "2026-12-01T02:00:00Z", extra: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Constructed: a Trivy rootfs report of the real Azure Linux 3 node image's RPM list (no vulnerabilities)."""
    return {
        "SchemaVersion": 2,
        "CreatedAt": created,
        "ArtifactName": "/host",
        "ArtifactType": "filesystem",
        "Metadata": {"OS": {"Family": "azurelinux", "Name": "3.0"}},
        "Results": [
            {
                "Target": "/host (azurelinux 3.0)",
                "Class": "os-pkgs",
                "Type": "azurelinux",
                "Packages": [*rpm_installed(), *extra],
            }
        ],
    }


def amazon_linux_report(
    *, kernels: Sequence[str] = ("4.14.198-152.320.amzn2",), created: str | None = None
) -> dict[str, Any]:
    """The real Trivy vm golden of Amazon Linux 2; constructed: a package list of its vulnerable package and
    ``kernels`` (version-release of the ``kernel`` package), and an optional CreatedAt."""
    report: dict[str, Any] = load(AMAZON_LINUX_VM)
    if created is not None:
        report["CreatedAt"] = created
    packages: list[dict[str, Any]] = [
        {"Name": "bind-export-libs", "Version": "9.11.4", "Release": "26.P2.amzn2.5.2", "Epoch": 32, "Arch": "x86_64"}
    ]
    for kernel in kernels:
        version, release = kernel.split("-", 1)
        packages.append({"Name": "kernel", "Version": version, "Release": release, "Arch": "x86_64"})
    report["Results"][0]["Packages"] = packages
    return report


def fcos_cyclonedx(
    *, timestamp: str = "2026-12-01T02:00:00Z", host: str = "/", extra_kernels: Sequence[str] = ()
) -> dict[str, Any]:
    """Constructed: a CycloneDX SBOM of a Fedora CoreOS host (as syft writes one for a directory), whose
    components are the real Fedora CoreOS package lock; ``extra_kernels`` adds kernel-core versions."""
    lock = load(FCOS_LOCK)["packages"]
    components = []
    for name, entry in sorted(lock.items()):
        evra = entry["evra"]
        epoch, _, vra = evra.rpartition(":")
        vr, _, arch = vra.rpartition(".")
        qualifiers = f"arch={arch}&distro=fedora-40" + (f"&epoch={epoch}" if epoch else "")
        components.append(
            {"type": "library", "name": name, "version": vr, "purl": f"pkg:rpm/fedora/{name}@{vr}?{qualifiers}"}
        )
    for kernel in extra_kernels:
        components.append(
            {
                "type": "library",
                "name": "kernel-core",
                "version": kernel,
                "purl": f"pkg:rpm/fedora/kernel-core@{kernel}?arch=x86_64&distro=fedora-40",
            }
        )
    components.append({"type": "operating-system", "name": "fedora", "version": "40"})
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"timestamp": timestamp, "component": {"type": "file", "name": host}},
        "components": components,
    }


def suse_spdx(
    *, name: str = "/host", created: str = "2026-12-01T02:00:00Z", kernels: Sequence[str] = ()
) -> dict[str, Any]:
    """Constructed (no real SUSE host SBOM was found): an SPDX 2.3 SBOM of a SLES 15 SP5 host."""
    packages = [("openssl-3", "3.0.8-150500.5.14.1"), ("glibc", "2.31-150300.63.1")]
    packages += [("kernel-default", k) for k in kernels]
    return {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "creationInfo": {"created": created, "creators": ["Tool: syft-1.0.0"]},
        "packages": [
            {
                "name": pkg,
                "SPDXID": f"SPDXRef-Package-{i}",
                "versionInfo": version,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"pkg:rpm/sles/{pkg}@{version}?arch=x86_64&distro=sles-15.5",
                    }
                ],
            }
            for i, (pkg, version) in enumerate(packages)
        ],
    }


def node_vulnerability_report(
    node: str, *, updated: str = "2026-12-01T02:00:00Z", vulnerabilities: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Constructed from the NodeVulnerabilityReport CRD's schema (trivy-operator PR #2898; no real object exists)."""
    return {
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "NodeVulnerabilityReport",
        "metadata": {"name": f"node-{node}", "creationTimestamp": updated},
        "report": {
            "artifact": {"nodeName": node, "kind": "node-rootfs", "rootPath": "/"},
            "os": {"family": "ubuntu", "name": "22.04"},
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.58.1"},
            "summary": {
                "criticalCount": sum(1 for v in vulnerabilities if v.get("severity") == "CRITICAL"),
                "highCount": sum(1 for v in vulnerabilities if v.get("severity") == "HIGH"),
                "mediumCount": 0,
                "lowCount": 0,
                "unknownCount": 0,
            },
            "updateTimestamp": updated,
            "vulnerabilities": list(vulnerabilities),
        },
    }


def operator_vulnerability(
    cve: str, package: str, installed: str, fixed: str, severity: str, published: str
) -> dict[str, Any]:
    return {
        "vulnerabilityID": cve,
        "resource": package,
        "installedVersion": installed,
        "fixedVersion": fixed,
        "severity": severity,
        "title": f"{cve} in {package}",
        "publishedDate": published,
        "lastModifiedDate": published,
    }


def write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
