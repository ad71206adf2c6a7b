"""Operating-system names to lifecycle product and release: one ordered table for nodes and images.

A node's ``nodeInfo.osImage`` is the PRETTY_NAME of its ``/etc/os-release`` ("Ubuntu 22.04.1 LTS",
"Red Hat Enterprise Linux CoreOS 414.92.202402130420-0 (Plow)", "CBL-Mariner/Linux"); a scanner
names an image's base OS by a family and a version ("amazon" + "AMI release 2018.03", "sles" +
"15.5").  Both are read through ``OS_RULES``: each rule is data (a pattern with named groups and
templates over those groups), tried in order, first match wins.  Adding an OS is adding a rule.

Templates use ``{group}`` (the group's text, "" when it did not match), ``{group|default}`` and
``{.group}`` (".text" when the group matched, else nothing).  A rule whose release template comes
out empty names the product but not the release; its ``reason`` says why.  Windows is read by build
number (``WINDOWS_BUILDS``), since its osImage may name no release at all.

Nothing here reads the lifecycle data; resolving a code name or a release the name does not carry
(an RHCOS build named by its RHEL base, a Windows build shared by two channels) is the check's job.
Parsing never raises and runs once per distinct osImage (``lru_cache``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class OsRelease:
    """What an OS name names: a product of the lifecycle data and its release cycle.

    ``product`` is a lifecycle product id, or None when no lifecycle source covers the OS (then
    ``reason`` says why).  ``cycle`` may be None with a product when the release is not in the
    name (COS, an RHCOS build named by its RHEL base); ``codename`` is set when only a code name
    is given; ``candidates`` lists the releases a name may be when it is ambiguous (a Windows build
    shared by an LTSC and a semi-annual release).
    """

    raw: str
    name: str  # human name: "Ubuntu", "Amazon Linux", "Bottlerocket", …
    product: str | None
    cycle: str | None
    version: str = ""  # the full version seen ("22.04.1", "2023.9.20251208", "1.19.4")
    codename: str = ""
    build_date: date | None = None  # a date stamped into the version (Amazon Linux 2023, RHCOS)
    windows_build: int | None = None  # 14393, 17763, … (Windows only)
    reason: str = ""  # why product or cycle is None
    detail: str = ""  # e.g. "RHCOS for OpenShift 4.7 on RHEL 8.3", "variant aws-k8s-1.27"
    candidates: tuple[str, ...] = ()  # releases an ambiguous name may be (cycle is then None)
    release_from: str = ""  # where the release was read when not from the name ("kernel 5.15.153.1-2.cm2")


@dataclass(frozen=True, slots=True)
class OsRule:
    """One row of the table: how a family of OS names reads as product and release."""

    name: str  # human name of the OS
    product: str | None  # lifecycle product id; None: no lifecycle source (``reason`` says why)
    pattern: str = ""  # matched at the start of the name; "" for scanner families with no node OS
    cycle: str = ""  # template of the release cycle, as the lifecycle data names it
    version: str = ""  # template of the full version seen
    codename: str = ""  # template of a code name given instead of a number
    detail: str = ""  # template of a note for the report
    build_date: str = ""  # group holding a YYYYMMDD date stamped into the version
    reason: str = ""  # template: why the product or the release is not known
    families: tuple[str, ...] = ()  # scanner OS families (Trivy, Grype, trivy-operator) of this OS
    kernel_cycle: str = ""  # regex over the kernel release naming the cycle when the name does not
    kernel_cycle_template: str = ""  # template of the cycle over ``kernel_cycle``'s groups


_NUMBERED = r"(?P<major>\d+)(?:\.(?P<minor>\d+))?"

# The table.  Order matters where names share a beginning: the more specific rule comes first
# (RHCOS before RHEL, "Amazon Linux 2023.x.date" before "Amazon Linux 2023", "CentOS Stream"
# before "CentOS").  Sources of the name shapes: ../shared/fixtures/NOTES.md and the files under
# tests/data (see their SOURCES.md).
OS_RULES: tuple[OsRule, ...] = (
    OsRule(
        "Ubuntu",
        "ubuntu",
        r"Ubuntu (?P<cycle>\d+\.\d+)(?:\.(?P<point>\d+))?",
        cycle="{cycle}",
        version="{cycle}{.point}",
        families=("ubuntu",),
    ),
    OsRule(
        "Ubuntu",
        "ubuntu",
        r"Ubuntu (?P<codename>[A-Z][a-z]+ [A-Z][a-z]+)",
        codename="{codename}",
        reason="only a code name is given",
    ),
    # Before 4.0 each Debian point number was its own release (1.1 buzz … 2.2 potato, 3.0 woody,
    # 3.1 sarge), as the lifecycle data lists them; from 4.0 (etch) the major number is the release.
    OsRule(
        "Debian",
        "debian",
        r"Debian GNU/Linux (?P<cycle>[0-3]\.\d+)(?!\d)",
        cycle="{cycle}",
        version="{cycle}",
    ),
    OsRule(
        "Debian",
        "debian",
        r"Debian GNU/Linux " + _NUMBERED,
        cycle="{major}",
        version="{major}{.minor}",
        families=("debian",),
    ),
    OsRule(
        "Debian",
        "debian",
        r"Debian GNU/Linux (?P<codename>[a-z]+)(?:/sid)?",
        codename="{codename}",
        reason="only a code name is given",
    ),
    # RHCOS builds 4YY.RR.STAMP name the OpenShift release 4.YY and the RHEL base R.R; RHCOS
    # follows the OpenShift lifecycle.
    OsRule(
        "Red Hat Enterprise Linux CoreOS",
        "red-hat-openshift",
        r"Red Hat Enterprise Linux CoreOS (?P<build>4(?P<ocp>\d{1,2})\.(?P<rmaj>\d)(?P<rmin>\d+)\.(?P<stamp>\d{8})\S*)",
        cycle="4.{ocp}",
        version="{build}",
        build_date="stamp",
        detail="RHCOS for OpenShift 4.{ocp} on RHEL {rmaj}.{rmin}",
    ),
    OsRule(
        "Red Hat Enterprise Linux CoreOS",
        "red-hat-openshift",
        r"Red Hat Enterprise Linux CoreOS (?P<major>\d+)\.(?P<minor>\d+)\.(?P<stamp>\d{8})",
        version="{major}.{minor}.{stamp}",
        build_date="stamp",
        detail="RHCOS on RHEL {major}.{minor}",
        reason="this RHCOS version names its RHEL base, not the OpenShift release",
    ),
    OsRule(
        "Red Hat Enterprise Linux",
        "rhel",
        r"Red Hat Enterprise Linux(?: Server| Atomic Host)?(?: release)? " + _NUMBERED,
        cycle="{major}",
        version="{major}{.minor}",
        families=("redhat", "rhel"),
    ),
    OsRule(
        "Amazon Linux",
        "amazon-linux",
        r"Amazon Linux (?P<major>2023)\.(?P<minor>\d+)\.(?P<stamp>\d{8})",
        cycle="2023",
        version="2023.{minor}.{stamp}",
        build_date="stamp",
    ),
    OsRule(
        "Amazon Linux",
        "amazon-linux",
        r"Amazon Linux (?P<major>2023|2)\b",
        cycle="{major}",
        version="{major}",
        families=("amazon", "amzn"),
    ),
    # Amazon Linux 1: "Amazon Linux AMI 2018.03" (os-release) and Trivy's "AMI release 2018.03".
    OsRule(
        "Amazon Linux AMI",
        "amazon-linux",
        r"(?:Amazon Linux )?AMI (?:release )?(?P<cycle>\d{4}\.\d{2})",
        cycle="{cycle}",
        version="{cycle}",
    ),
    OsRule(
        "Container-Optimized OS",
        "cos",
        r"Container-Optimized OS",
        reason="the COS milestone is not in the node's osImage, nor in its kernel or GKE labels; "
        "the lifecycle data knows COS milestones (cos-NN) but cannot tell which one the node runs",
    ),
    OsRule(
        "SUSE Linux Enterprise Server",
        "sles",
        r"SUSE Linux Enterprise Server (?P<major>\d+)(?: SP(?P<sp>\d+))?",
        cycle="{major}.{sp|0}",
        version="{major}.{sp|0}",
        families=("suse linux enterprise server", "sles"),
    ),
    OsRule(
        "SUSE Linux Enterprise Micro",
        "suse-linux-micro",
        r"SUSE Linux Enterprise Micro (?P<cycle>\d+\.\d+)",
        cycle="{cycle}",
        version="{cycle}",
        families=("suse linux enterprise micro", "sle-micro"),
    ),
    OsRule(
        "SUSE Linux Micro",
        "suse-linux-micro",
        r"SUSE Linux Micro (?P<cycle>\d+\.\d+)",
        cycle="{cycle}",
        version="{cycle}",
    ),
    OsRule(
        "openSUSE Leap",
        "opensuse",
        r"openSUSE Leap (?P<cycle>\d+\.\d+)",
        cycle="{cycle}",
        version="{cycle}",
        families=("opensuse.leap", "opensuse-leap", "opensuse"),
    ),
    OsRule(
        "openSUSE Tumbleweed",
        None,
        r"openSUSE Tumbleweed",
        reason="openSUSE Tumbleweed is a rolling distribution without end-of-life dates",
        families=("opensuse.tumbleweed", "opensuse-tumbleweed"),
    ),
    OsRule(
        "Rocky Linux",
        "rocky-linux",
        r"Rocky Linux " + _NUMBERED,
        cycle="{major}",
        version="{major}{.minor}",
        families=("rocky",),
    ),
    OsRule(
        "AlmaLinux",
        "almalinux",
        r"AlmaLinux " + _NUMBERED,
        cycle="{major}",
        version="{major}{.minor}",
        families=("alma", "almalinux"),
    ),
    OsRule("CentOS Stream", "centos-stream", r"CentOS Stream (?P<major>\d+)", cycle="{major}", version="{major}"),
    OsRule(
        "CentOS Linux",
        "centos",
        r"CentOS(?: Linux)?(?: release)? (?P<major>\d+)",
        cycle="{major}",
        version="{major}",
        families=("centos",),
    ),
    OsRule(
        "Oracle Linux",
        "oracle-linux",
        r"Oracle Linux(?: Server)? " + _NUMBERED,
        cycle="{major}",
        version="{major}{.minor}",
        families=("oracle", "ol"),
    ),
    OsRule(
        "Fedora",
        "fedora",
        r"Fedora (?:Linux |CoreOS )?(?P<major>\d+)",
        cycle="{major}",
        version="{major}",
        families=("fedora",),
    ),
    OsRule(
        "VMware Photon OS",
        "vmware-photon",
        r"VMware Photon OS(?:/Linux)?\s*(?P<cycle>\d+\.\d+)?",
        cycle="{cycle}",
        version="{cycle}",
        reason="the Photon OS release is not in the osImage",
        families=("photon",),
    ),
    OsRule(
        "Alpine Linux",
        "alpine-linux",
        r"Alpine Linux v?(?P<cycle>\d+\.\d+)(?:\.(?P<point>\d+))?",
        cycle="{cycle}",
        version="{cycle}{.point}",
        families=("alpine",),
    ),
    # Bottlerocket's support follows the variant (patchlevel's curated data, bottlerocket.yaml).
    OsRule(
        "Bottlerocket",
        "bottlerocket",
        r"Bottlerocket OS (?P<version>\d+\.\d+\.\d+)(?: \((?P<variant>[^)]+)\))?",
        cycle="{variant}",
        version="{version}",
        detail="variant {variant}",
        reason="the Bottlerocket variant, whose support the release follows, is not in the osImage",
        families=("bottlerocket",),
    ),
    OsRule(
        "Flatcar Container Linux",
        "flatcar",
        r"Flatcar Container Linux(?: by Kinvolk)? (?P<version>(?P<major>\d+)\.\d+\.\d+)",
        cycle="{major}",
        version="{version}",
        families=("flatcar",),
    ),
    OsRule(
        "Talos Linux",
        "talos",
        r"Talos \(?v?(?P<version>(?P<major>\d+)\.(?P<minor>\d+)\.\d+)\)?",
        cycle="{major}.{minor}",
        version="{version}",
        families=("talos",),
    ),
    # Azure Linux: "Microsoft Azure Linux 3.0"; CBL-Mariner 2.0 says only "CBL-Mariner/Linux", and
    # its kernel carries the distribution tag (".cm2"; ".azl3" for 3.0), as Microsoft's migration
    # guide for AKS node pools tells users to check.
    OsRule(
        "Azure Linux",
        "azure-linux",
        r"(?:Microsoft )?(?:Azure Linux|CBL-Mariner|Common Base Linux Mariner)(?:\D*?(?P<cycle>\d+\.\d+))?",
        cycle="{cycle}",
        version="{cycle}",
        reason="the Azure Linux (CBL-Mariner) release is neither in the osImage nor in the kernel's distribution tag",
        families=("azurelinux", "cbl-mariner", "mariner"),
        kernel_cycle=r"\.(?:cm|azl)(?P<major>\d+)(?:\.|$)",
        kernel_cycle_template="{major}.0",
    ),
    OsRule(
        "Buildroot",
        None,
        r"Buildroot (?P<version>\d{4}\.\d{2}(?:\.\d+)?)",
        version="{version}",
        reason="a Buildroot image (minikube); it has no support lifecycle",
    ),
    OsRule(
        "unknown",
        None,
        r"K3s (?P<k3s>v\S+)",
        reason="the node reports the k3s version ({k3s}) instead of its OS (k3s running in a container)",
    ),
    # Scanner families with no node OS and no release lifecycle.
    OsRule(
        "Wolfi",
        None,
        reason="Wolfi is a rolling distribution without releases or end-of-life dates",
        families=("wolfi",),
    ),
    OsRule(
        "Chainguard OS",
        None,
        reason="Chainguard OS is a rolling distribution without releases or end-of-life dates",
        families=("chainguard",),
    ),
    OsRule(
        "BusyBox",
        None,
        reason="a BusyBox image has no distribution release with a support lifecycle",
        families=("busybox",),
    ),
)

_COMPILED: tuple[tuple[OsRule, re.Pattern[str]], ...] = tuple(
    (rule, re.compile(rule.pattern)) for rule in OS_RULES if rule.pattern
)
_KERNEL_PATTERNS: Mapping[str, re.Pattern[str]] = {
    rule.kernel_cycle: re.compile(rule.kernel_cycle) for rule in OS_RULES if rule.kernel_cycle
}
_FIELD = re.compile(r"\{(\.)?(\w+)(?:\|([^}]*))?\}")


def _fill(template: str, groups: Mapping[str, str | None]) -> str:
    def one(m: re.Match[str]) -> str:
        value = groups.get(m[2]) or ""
        if m[1]:
            return f".{value}" if value else ""
        return value or (m[3] or "")

    return _FIELD.sub(one, template)


def _fill_all(template: str, groups: Mapping[str, str | None]) -> str:
    """``_fill``, or "" when a plain ``{group}`` the template needs did not match."""
    needed = (m[2] for m in _FIELD.finditer(template) if not m[1] and m[3] is None)
    return _fill(template, groups) if all(groups.get(g) for g in needed) else ""


def _yyyymmdd(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError):
        return None


def _from_rule(raw: str, rule: OsRule, groups: Mapping[str, str | None], kernel: str) -> OsRelease:
    cycle = _fill(rule.cycle, groups) if rule.cycle else ""
    release_from = ""
    if not cycle and rule.kernel_cycle and kernel:
        m = _KERNEL_PATTERNS[rule.kernel_cycle].search(kernel)
        if m:
            cycle = _fill(rule.kernel_cycle_template, m.groupdict())
            release_from = f"kernel {kernel}"
    known = rule.product is not None and bool(cycle)
    return OsRelease(
        raw,
        rule.name,
        rule.product,
        cycle or None,
        version=_fill(rule.version, groups) or (cycle if release_from else ""),
        codename=_fill(rule.codename, groups) if rule.codename else "",
        build_date=_yyyymmdd(groups.get(rule.build_date) or "") if rule.build_date else None,
        reason="" if known else _fill(rule.reason, groups) or "the release is not in the OS name",
        detail=_fill_all(rule.detail, groups),
        release_from=release_from,
    )


def match_os_name(text: str, kernel: str = "") -> OsRelease | None:
    """The table's reading of an OS name (osImage or a scanner's full OS name); None when no rule matches."""
    raw = text.strip()
    for rule, pattern in _COMPILED:
        m = pattern.match(raw)
        if m:
            return _from_rule(raw, rule, m.groupdict(), kernel)
    return None


# --------------------------------------------------------------------------------------------
# Windows: the release is read from the build number, which the osImage or the kernel carries.

# Build -> the Windows Server releases with that build, as the windows-server lifecycle data names
# them (cycle ids), LTSC first.  Facts from Microsoft's release information
# (https://learn.microsoft.com/windows/release-health/windows-server-release-info), the same
# builds as the ``latest`` field of each release in the bundled data.  Build 17763 is both
# Windows Server 2019 (LTSC) and Windows Server, version 1809 (semi-annual channel).
WINDOWS_BUILDS: Mapping[int, tuple[str, ...]] = {
    14393: ("2016",),
    16299: ("1709-sac",),
    17134: ("1803-sac",),
    17763: ("2019", "1809-sac"),
    18362: ("1903-sac",),
    18363: ("1909-sac",),
    19041: ("2004-sac",),
    19042: ("20h2-sac",),
    20348: ("2022",),
    25398: ("23h2-ac",),
    26100: ("2025",),
}
# LTSC releases by build (kept for callers that only need the long-term releases).
WINDOWS_LTSC_BUILDS: Mapping[int, str] = {
    build: names[0] for build, names in WINDOWS_BUILDS.items() if not names[0].endswith(("-sac", "-ac"))
}
_WINDOWS_BUILD = re.compile(r"10\.0\.(\d{5})\b")
_WINDOWS_YEAR = re.compile(r"Windows Server (\d{4})\b")
# Semi-annual and annual channel releases name no year: "Windows Server Datacenter".
_WINDOWS_NO_YEAR = re.compile(r"Windows Server (?:Datacenter|Standard)\b")


def windows_release(raw: str, kernel: str) -> OsRelease:
    """A Windows node: the release from the osImage's year, else from the build number."""
    build: int | None = None
    if m := _WINDOWS_BUILD.search(raw) or _WINDOWS_BUILD.search(kernel):
        build = int(m[1])
    if m := _WINDOWS_YEAR.match(raw):
        return OsRelease(raw, "Windows Server", "windows-server", m[1], version=m[1], windows_build=build)
    names = WINDOWS_BUILDS.get(build, ()) if build is not None else ()
    if _WINDOWS_NO_YEAR.match(raw):  # a semi-annual or annual channel release
        names = tuple(n for n in names if n.endswith(("-sac", "-ac")))
    version = f"10.0.{build}" if build is not None else ""
    if len(names) == 1:
        return OsRelease(raw, "Windows Server", "windows-server", names[0], version=version, windows_build=build)
    if len(names) > 1:
        return OsRelease(
            raw,
            "Windows Server",
            "windows-server",
            None,
            version=version,
            windows_build=build,
            candidates=names,
            reason=f"build {build} is shared by Windows Server {' and '.join(names)}; the osImage does not say which",
        )
    return OsRelease(
        raw,
        "Windows",
        "windows-server",
        None,
        version=version,
        windows_build=build,
        reason="Windows release not recognised from osImage or build number",
    )


@lru_cache(maxsize=8192)
def parse_os_image(os_image: str | None, operating_system: str = "linux", kernel: str = "") -> OsRelease:
    """Recognise the OS release a node runs.  Never raises; unknown shapes get ``product=None``."""
    raw = (os_image or "").strip()
    if operating_system == "windows" or raw.startswith(("Windows", "Microsoft Windows")):
        return windows_release(raw, kernel or "")
    if not raw or raw.lower() == "unknown":
        said = f"its OS image as {raw!r}" if raw else "no OS image"
        return OsRelease(raw, "unknown", None, None, reason=f"the node reports {said}")
    found = match_os_name(raw, kernel or "")
    if found is not None:
        return found
    return OsRelease(raw, "unknown", None, None, reason="osImage not recognised")


# --------------------------------------------------------------------------------------------
# Scanner OS families (Trivy's Metadata.OS.Family, Grype's distro.name, trivy-operator's os.family)


def family_products() -> dict[str, str]:
    """Scanner OS family -> lifecycle product, from the table."""
    return {family: rule.product for rule in OS_RULES if rule.product for family in rule.families}


def families_without_lifecycle() -> dict[str, str]:
    """Scanner OS family -> why it has no release lifecycle, from the table."""
    return {family: rule.reason for rule in OS_RULES if rule.product is None for family in rule.families}


_VERSION_TOKEN = re.compile(r"\d+(?:\.\d+)*")


def version_token(name: str) -> str:
    """The first version-looking token of a scanner's OS name: "AMI release 2018.03" -> "2018.03"."""
    m = _VERSION_TOKEN.search(name)
    return m[0] if m else ""
