"""Installed kernel packages, and which one a node has booted (PCI container guidance 10.2).

A node reports the kernel it runs in ``nodeInfo.kernelVersion`` (``uname -r``); a scan of its root
filesystem lists the kernel packages installed on disk.  A newer kernel installed and not booted is
"patched on disk, not running".  The package names and the ``uname -r`` each becomes, per family:

- Debian and Ubuntu: one package per kernel ABI, the release in the package *name*:
  ``linux-image-5.15.0-1041-azure`` (also ``linux-image-unsigned-…``, and ``linux-modules-…``, which
  every kernel installs) boots as ``5.15.0-1041-azure``.  Meta packages (``linux-image-azure``) name
  no release and are skipped.  (Real example: AKS Ubuntu 22.04 node image 202308.16.0, whose build
  log lists ``linux-image-5.15.0-1041-azure 5.15.0-1041.48`` and runs ``Linux version 5.15.0-1041-azure``.)
- RPM families (RHEL, CentOS, Rocky, Alma, Oracle, Fedora and CoreOS, Amazon Linux, Azure Linux,
  Mariner): ``kernel`` / ``kernel-core`` (and ``kernel-rt``, ``kernel-64k``, ``kernel-uek``,
  Amazon Linux 2023's ``kernel6.1``-style names) version-release boots as ``version-release.arch``
  (``5.14.0-362.8.1.el9_3.x86_64``); Azure Linux 3 omits the architecture (its build log:
  ``kernel-6.6.150.1-1.azl3.x86_64`` runs ``Linux version 6.6.150.1-1.azl3``).
- SUSE: ``kernel-default`` (``-azure``, ``-rt``) ``5.14.21-150500.55.39.1`` boots as
  ``5.14.21-150500.55.39-default``: the release without its last (rebuild) component, then the flavour.

Image-based systems (Bottlerocket, Flatcar, Container-Optimized OS, Talos) install no kernel
package: their kernel comes with the OS image, so this evidence does not apply to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from patchlevel.hostscans import HostPackage
from patchlevel.versions import parse_kernel, release_key

_DEB_KERNEL = re.compile(r"^linux-(?:image(?:-unsigned)?|modules)-(?P<release>\d+\.\d+(?:\.\d+)?-\d+[A-Za-z0-9.+~-]*)$")
_DEB_SKIP = ("-dbg", "-dbgsym")
_RPM_KERNELS = frozenset(
    {
        "kernel",
        "kernel-core",
        "kernel-rt",
        "kernel-rt-core",
        "kernel-64k",
        "kernel-64k-core",
        "kernel-uek",
        "kernel-uek-core",
        "kernel-lpae",
        "kernel-longterm",
        "kernel-hwe",
    }
)
_RPM_VERSIONED = re.compile(r"^kernel\d+\.\d+$")  # Amazon Linux 2023: kernel6.1, kernel6.12
_SUSE_KERNEL = re.compile(r"^kernel-(?P<flavour>default|default-base|azure|rt|64kb|kvmsmall)$")
IMAGE_BASED_FAMILIES = frozenset({"bottlerocket", "flatcar", "cos", "talos", "container-optimized os"})


@dataclass(frozen=True, slots=True)
class InstalledKernel:
    """A kernel installed on disk: its package and the ``uname -r`` it reports when booted."""

    package: str
    version: str  # the package version as the source writes it
    release: str  # what ``uname -r`` says when this kernel runs (for RPM, without the architecture)
    suse_flavour: str = ""  # "default", "azure" … for SUSE's naming
    deb_flavour: str = ""  # Debian/Ubuntu: what follows the ABI number ("azure", "generic", "cloud-amd64")

    @property
    def numbers(self) -> tuple[int, ...]:
        parsed = parse_kernel(self.release)
        return parsed.numbers if parsed is not None else release_key(self.release)

    def sort_key(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return self.numbers, release_key(self.version)

    def runs_as(self, running: str) -> bool:
        """Whether ``running`` (a node's ``uname -r``) is this kernel."""
        running = running.strip()
        if self.suse_flavour:
            return running == f"{self.release}-{self.suse_flavour}"
        if running == self.release:
            return True
        # RPM kernels append the architecture (and maybe a variant: "+debug", "+rt")
        return running.startswith(self.release + ".") or running.startswith(self.release + "+")


def _without_epoch(version: str) -> str:
    head, sep, tail = version.partition(":")
    return tail if sep and head.isdigit() else version


def installed_kernels(packages: Iterable[HostPackage]) -> tuple[InstalledKernel, ...]:
    """Every kernel the package list shows installed, newest first, one per release."""
    found: dict[str, InstalledKernel] = {}
    for package in packages:
        name = package.name.strip()
        kernel: InstalledKernel | None = None
        deb = _DEB_KERNEL.match(name)
        if deb is not None and not name.endswith(_DEB_SKIP):
            parsed = parse_kernel(deb["release"])
            flavour = parsed.flavour if parsed is not None else ""
            kernel = InstalledKernel(name, package.version, deb["release"], deb_flavour=flavour)
        elif name in _RPM_KERNELS or _RPM_VERSIONED.match(name):
            kernel = InstalledKernel(name, package.version, _without_epoch(package.version))
        elif (suse := _SUSE_KERNEL.match(name)) is not None:
            version = _without_epoch(package.version)
            upstream, sep, release = version.partition("-")
            parts = release.split(".")
            trimmed = ".".join(parts[:-1]) if len(parts) > 1 else release
            flavour = suse["flavour"].removesuffix("-base")
            kernel = InstalledKernel(name, package.version, f"{upstream}{sep}{trimmed}", suse_flavour=flavour)
        if kernel is None or not kernel.release or parse_kernel(kernel.release) is None:
            continue
        key = kernel.release + ("-" + kernel.suse_flavour if kernel.suse_flavour else "")
        if key not in found or kernel.sort_key() > found[key].sort_key():
            found[key] = kernel
    return tuple(sorted(found.values(), key=InstalledKernel.sort_key, reverse=True))


@dataclass(frozen=True, slots=True)
class KernelComparison:
    """The running kernel against the kernels installed on disk."""

    running: str
    newest: InstalledKernel | None  # the newest installed kernel
    booted: InstalledKernel | None  # the installed kernel the node runs (None: not among them)
    newer: tuple[InstalledKernel, ...]  # installed kernels newer than the running one

    @property
    def running_newest(self) -> bool:
        return self.newest is not None and self.booted is not None and self.booted.sort_key() >= self.newest.sort_key()


def compare_running(running: str, kernels: tuple[InstalledKernel, ...]) -> KernelComparison | None:
    """How the running kernel stands against ``kernels`` (newest first); None when ``running`` is no version."""
    parsed = parse_kernel(running)
    if parsed is None:
        return None
    booted = next((k for k in kernels if k.runs_as(running)), None)
    # Debian and Ubuntu install flavours side by side (generic, lowlatency): only the running one's counts
    kernels = tuple(k for k in kernels if not k.deb_flavour or k.deb_flavour == parsed.flavour)
    if booted is not None:
        newer = tuple(k for k in kernels if k.sort_key() > booted.sort_key() and k.numbers > booted.numbers)
    else:
        newer = tuple(k for k in kernels if k.numbers > parsed.numbers)
    return KernelComparison(running.strip(), kernels[0] if kernels else None, booted, newer)
