"""Parsing of the version strings clusters report: gitVersion/kubelet, container runtime, osImage, kernel.

Every parser returns ``None`` (or a record with ``product=None`` and a ``reason``) for a string it
does not understand; it never guesses and never raises.  Callers turn that into an UNKNOWN
finding with the raw value.  Vendor suffixes are kept apart from the numeric version so that
``v1.24.9-gke.3200`` orders *after* ``v1.24.9-gke.400`` and is not taken for a pre-release of
``v1.24.9``.

Numbers: a version, runtime or kernel component must fit in 64 bits, as Kubernetes' own version
parser (Go ``strconv.ParseUint``) requires; a longer digit run (Python's ``int()`` refuses more
than 4,300 digits) makes the string "not a version", never a ValueError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Node operating systems (nodeInfo.osImage) are read through the OS-name table in ``osnames``, which
# image base OSes share; re-exported here so every version parser has one import.
from patchlevel.osnames import WINDOWS_LTSC_BUILDS as WINDOWS_LTSC_BUILDS
from patchlevel.osnames import OsRelease as OsRelease
from patchlevel.osnames import parse_os_image as parse_os_image

# --------------------------------------------------------------------------------------------
# Generic ordering of release strings ("1.33.13", "1.33.13-gke.1499000", "1.31-eks-64", "29.7.2")


MAX_COMPONENT = 2**64 - 1  # the largest number a version component may be (Go's uint64)
_MAX_DIGITS = 20  # len(str(MAX_COMPONENT))


def component(digits: str) -> int | None:
    """A run of ASCII digits as a version component; None when it does not fit in 64 bits."""
    if len(digits) > _MAX_DIGITS:
        digits = digits.lstrip("0") or "0"
        if len(digits) > _MAX_DIGITS:
            return None
    value = int(digits)
    return value if value <= MAX_COMPONENT else None


def _run_key(digits: str) -> int:
    """A digit run's place in numeric order; runs too long for ``component`` rank above all others, by length."""
    value = component(digits)
    return value if value is not None else MAX_COMPONENT + len(digits.lstrip("0"))


@lru_cache(maxsize=8192)
def release_key(text: str) -> tuple[int, ...]:
    """Numeric sort key of a release string: every run of digits, in order.

    ``"1.33.13-gke.1499000"`` -> ``(1, 33, 13, 1499000)``; ``"4.7.16"`` -> ``(4, 7, 16)``.
    Good for ordering releases of one product line, which is all it is used for.  Never raises:
    a run of more than 20 digits ranks above every 64-bit number (longer runs higher), so keys
    still form a total order.
    """
    return tuple(_run_key(d) for d in re.findall(r"[0-9]+", text))


# --------------------------------------------------------------------------------------------
# Kubernetes versions (gitVersion, kubeletVersion, kube-proxy image tags)

_KUBE = re.compile(
    r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.\-]+?))?(?:\+(?P<build>[0-9A-Za-z.\-]+))?$",
    re.ASCII,
)
_NUMBERED_BUILDS = frozenset({"gke", "k3s", "rke2", "aks-hotfix"})
_PRERELEASE = re.compile(r"^(alpha|beta|rc)(\.\d+)*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class KubeVersion:
    """A Kubernetes component version with its vendor build kept apart.

    ``vendor`` is the distribution the version string itself names: "eks", "gke", "k3s",
    "rke2", "aks-hotfix", "openshift" (a ``+<hex>`` build), "vendor" (an unnamed vendor build
    such as ``-13+d2965f0db10712``) or "" for a plain upstream version.
    """

    raw: str
    major: int
    minor: int
    patch: int
    vendor: str = ""
    vendor_build: str = ""
    prerelease: str = ""  # alpha/beta/rc of an upstream pre-release, "" otherwise

    @property
    def cycle(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def semver(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def key(self) -> tuple[int, ...]:
        """Order within one vendor: numeric builds (-gke.3200, +k3s2) count, git hashes do not."""
        if self.vendor in _NUMBERED_BUILDS:
            return (self.major, self.minor, self.patch, *release_key(self.vendor_build))
        return self.semver_key

    @property
    def semver_key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    @property
    def minor_number(self) -> int:
        """Minor as an integer comparable across majors (Kubernetes has only major 1)."""
        return self.major * 1000 + self.minor


@lru_cache(maxsize=8192)
def parse_kube_version(text: str | None) -> KubeVersion | None:
    """Parse a gitVersion / kubeletVersion / kube-proxy tag.  None when it is not a version."""
    if not text:
        return None
    raw = text.strip()
    value = raw
    dirty = value.endswith("-dirty")
    if dirty:
        value = value[: -len("-dirty")]
    m = _KUBE.match(value)
    if not m:
        return None
    major, minor = component(m["major"]), component(m["minor"])
    patch = component(m["patch"]) if m["patch"] is not None else 0
    if major is None or minor is None or patch is None:
        return None
    pre = m["pre"] or ""
    build = m["build"] or ""
    vendor, vendor_build, prerelease = "", "", ""
    if pre.startswith("eks-"):
        vendor, vendor_build = "eks", pre[4:]
    elif pre.startswith("gke."):
        vendor, vendor_build = "gke", pre[4:]
    elif pre.startswith("hotfix."):
        vendor, vendor_build = "aks-hotfix", pre[7:]
    elif build.startswith("k3s"):
        vendor, vendor_build = "k3s", build
    elif build.startswith("rke2"):
        vendor, vendor_build = "rke2", build
    elif pre and _PRERELEASE.match(pre):
        prerelease = pre
    elif pre and re.fullmatch(r"\d+", pre) and build:
        # e.g. v1.21.2-13+d2965f0db10712 (EKS kubelet builds of 2021): a vendor build number
        vendor, vendor_build = "vendor", pre
    elif pre:
        vendor, vendor_build = "vendor", pre
    elif build and re.fullmatch(r"[0-9a-f]{7,}", build):
        vendor, vendor_build = "openshift", ""  # a git hash orders nothing
    elif build:
        vendor, vendor_build = "vendor", ""
    return KubeVersion(raw, major, minor, patch, vendor, vendor_build, prerelease)


@lru_cache(maxsize=8192)
def kube_version_from_image(image: str) -> KubeVersion | None:
    """The version in a kube-proxy (or apiserver) image tag.

    ``registry.k8s.io/kube-proxy:v1.25.3`` -> 1.25.3;
    ``…/eks/kube-proxy:v1.31.10-minimal-eksbuild.8`` -> 1.31.10.  None without a usable tag.
    """
    ref = image.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon <= slash:
        return None
    tag = ref[colon + 1 :]
    m = re.match(r"^v?([0-9]+)\.([0-9]+)\.([0-9]+)", tag)
    if not m:
        return None
    numbers = [component(m[i]) for i in (1, 2, 3)]
    if None in numbers:
        return None
    rest = tag[m.end() :]
    vendor = "eks" if "eksbuild" in rest else ("vendor" if rest else "")
    build = ".".join(re.findall(r"[0-9]+", rest)) if rest else ""
    return KubeVersion(tag, numbers[0] or 0, numbers[1] or 0, numbers[2] or 0, vendor, build)


# --------------------------------------------------------------------------------------------
# Container runtimes (nodeInfo.containerRuntimeVersion)


@dataclass(frozen=True, slots=True)
class RuntimeVersion:
    raw: str
    name: str  # "containerd", "cri-o", "docker", or what the node reported before "://"
    text: str  # the part after "://"
    numbers: tuple[int, ...] | None  # (major, minor, patch); None when not a version
    suffix: str = ""  # vendor suffix: "+bottlerocket", "-k3s2", "-2.rhaos4.7.gitb53fa9d.el8"

    @property
    def cycle(self) -> str | None:
        """The release line as endoflife.date names it ("1.7", "17.03", "24"), None if unknown."""
        if self.numbers is None:
            return None
        major, minor = self.numbers[0], self.numbers[1]
        if self.name == "docker":
            # Docker Engine lines as endoflife.date names them: YY.MM up to 20.10, MAJOR.MINOR
            # for 23.0-26.1, plain majors from 27 on.
            if major >= 27:
                return str(major)
            return f"{major}.{minor}" if major >= 23 else f"{major}.{minor:02d}"
        return f"{major}.{minor}"

    @property
    def semver(self) -> str | None:
        if self.numbers is None:
            return None
        if self.name == "docker" and self.numbers[0] < 23:
            return f"{self.numbers[0]}.{self.numbers[1]:02d}.{self.numbers[2]}"
        return ".".join(str(n) for n in self.numbers)


_RUNTIME_NAMES = {"containerd": "containerd", "cri-o": "cri-o", "crio": "cri-o", "docker": "docker"}


@lru_cache(maxsize=8192)
def parse_runtime(text: str | None) -> RuntimeVersion | None:
    """Parse ``containerd://1.7.23-k3s2`` and friends.  None when there is no ``name://`` at all."""
    if not text or "://" not in text:
        return None
    name, _, rest = text.strip().partition("://")
    name = _RUNTIME_NAMES.get(name.lower(), name.lower())
    m = re.match(r"^v?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?", rest)
    if not m:
        return RuntimeVersion(text, name, rest, None)
    major, minor, patch = component(m[1]), component(m[2]), component(m[3] or "0")
    if major is None or minor is None or patch is None:
        return RuntimeVersion(text, name, rest, None)
    return RuntimeVersion(text, name, rest, (major, minor, patch), rest[m.end() :])


# --------------------------------------------------------------------------------------------
# Kernels (nodeInfo.kernelVersion = uname -r)


@dataclass(frozen=True, slots=True)
class KernelVersion:
    raw: str
    numbers: tuple[int, ...]  # version and numeric release parts: 6.1.158-180.294.amzn2023 -> (6,1,158,180,294)
    flavour: str  # what follows the numbers: "amzn2023.x86_64", "aws", "generic", "el8_3.x86_64"


@lru_cache(maxsize=8192)
def parse_kernel(text: str | None) -> KernelVersion | None:
    """Split ``uname -r`` into comparable numbers and the flavour.  None when it has no version."""
    if not text:
        return None
    raw = text.strip()
    m = re.match(r"^([0-9]+(?:\.[0-9]+)*)", raw)
    if not m:
        return None
    rest = raw[m.end() :]
    # numeric release parts follow as "-180.294" or "-1051" until the first non-numeric token;
    # the flavour is the rest as written ("amzn2023.x86_64", not "amzn2023.x86.64")
    release = re.match(r"(?:[.\-_+~]+[0-9]+(?=[.\-_+~]|$))*", rest)
    runs = m[1].split(".") + re.findall(r"[0-9]+", release[0] if release else "")
    numbers = [component(run) for run in runs]
    if None in numbers:
        return None
    flavour = rest[release.end() if release else 0 :].lstrip(".-_+~")
    return KernelVersion(raw, tuple(n for n in numbers if n is not None), flavour)


def node_skew_allowance(major: int, minor: int) -> int:
    """How many minors a kubelet or kube-proxy ``major.minor`` may lag the API server (Kubernetes version-skew
    policy, research/RULES.md R4.2-R4.3): 3 from 1.25 (n-3, since Kubernetes 1.28's skew expansion), 2 before."""
    return 3 if (major, minor) >= (1, 25) else 2
