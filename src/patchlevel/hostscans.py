"""Host package evidence, normalised: what a scan or SBOM of a node's root filesystem says.

The host importers (``patchlevel.importers.host``) turn Trivy host reports (``trivy rootfs``,
``trivy fs``, ``trivy vm``), CycloneDX and SPDX SBOMs of a host (syft) and trivy-operator
``NodeVulnerabilityReport`` objects into ``NodeScan`` records; the node checks read only these.
A value the source did not give stays empty or ``None`` so checks can say UNKNOWN instead of
guessing.  Which node a scan describes is decided once, when it is read (``node``, ``matched_by``):
by an explicit ``NODE=PATH``, by the host name the report names, or by a file name equal to the
node's name; a scan no rule places keeps ``node`` empty and is reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from patchlevel.scans import ScanReport

# The installed packages a host record keeps: those that may be kernels (Debian and Ubuntu
# ``linux-image-*`` / ``linux-modules-*``; RPM ``kernel``, ``kernel-core``, ``kernel-default``,
# ``kernel6.1`` …).  No check reads any other package, and a host lists hundreds: 5,000 nodes' full
# lists would cost a gigabyte.  The others are counted (``NodeScan.package_count``).
KERNEL_PACKAGE_PREFIXES = ("linux-image-", "linux-modules-", "kernel")

# How a scan was placed on its node (``NodeScan.matched_by``).
BY_EXPLICIT = "explicit NODE=PATH"
BY_HOST_NAME = "host name in the report"
BY_FILE_NAME = "file name"


@dataclass(frozen=True, slots=True)
class HostPackage:
    """One installed OS package, as the source writes it."""

    name: str
    version: str  # "5.15.0-1041.48" (dpkg), "5.14.0-362.8.1.el9_3" or "1:3.2.2-3.fc40" (rpm, epoch:version-release)
    arch: str = ""
    ecosystem: str = ""  # "deb", "rpm", "apk", … (purl type or scanner family); "" when unstated


def kernel_candidates(packages: Iterable[HostPackage]) -> tuple[tuple[HostPackage, ...], int]:
    """The packages a host record keeps (each once, in order) and how many packages there were in all."""
    listed = tuple(dict.fromkeys(packages))
    return tuple(p for p in listed if p.name.startswith(KERNEL_PACKAGE_PREFIXES)), len(listed)


@dataclass(frozen=True, slots=True)
class NodeScan:
    """One scan (or SBOM) of one host's root filesystem."""

    source: str  # file path, or "cluster:nodevulnerabilityreports/<name>"
    format: str  # "trivy", "cyclonedx", "spdx", "trivy-operator"
    host_name: str  # the host the report names ("" when it names none; a Trivy rootfs report names a path)
    scanned_at: datetime | None  # when the scan ran or the SBOM was made (UTC), None when unstated
    os_family: str  # "ubuntu", "redhat", "amazon", "suse linux enterprise server", … ("" when unknown)
    os_name: str  # the release ("22.04", "2 (Karoo)") ("" when unknown)
    packages: tuple[HostPackage, ...]  # installed OS packages the source lists that may be kernels (see above)
    # Whether the source lists every installed OS package (Trivy with --list-all-pkgs, an SBOM): only
    # then can it show that no newer kernel is installed.  A plain Trivy report lists vulnerable
    # packages only.
    packages_complete: bool
    # The vulnerabilities, read by the same importer as image scans (None: the format holds none,
    # as an SBOM does, so the host's vulnerabilities are unknown).
    report: ScanReport | None
    artifact: str = ""  # what the scanner says it scanned ("/host", "disk.img", the Packer VM name)
    artifact_type: str = ""  # "filesystem", "rootfs", "vm", "node" …
    node: str = ""  # the node it was placed on ("" when no rule placed it)
    matched_by: str = ""  # BY_EXPLICIT, BY_HOST_NAME, BY_FILE_NAME; "" when unmatched
    package_count: int = 0  # every installed OS package the source lists (kept or not)
    # Vulnerabilities the report lists in packages that are not the OS's (binaries such as a kubelet or
    # CNI plugins on the host: Trivy lang-pkgs results); not in ``report``, counted for the evidence.
    other_vulnerabilities: int = 0

    @property
    def day(self) -> datetime | None:
        return self.scanned_at

    @property
    def has_vulnerability_scan(self) -> bool:
        """Whether the record is a vulnerability scan of the host's packages (not only an inventory)."""
        report = self.report
        return (
            report is not None and not report.error and (bool(report.vulnerabilities) or bool(report.package_targets))
        )
