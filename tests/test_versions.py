"""Version-string parsers against every shape seen in the wild (shared fixtures' NOTES.md and real files)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from builders import DATA
from patchlevel.versions import (
    WINDOWS_LTSC_BUILDS,
    KubeVersion,
    kube_version_from_image,
    parse_kernel,
    parse_kube_version,
    parse_os_image,
    parse_runtime,
    release_key,
)

OBSERVED = json.loads((DATA / "version" / "observed-version-strings.json").read_text(encoding="utf-8"))["values"]
NODE_FILES = sorted((DATA / "nodes").glob("*.json")) + sorted((DATA / "kube").glob("*-node.json"))


# ------------------------------------------------------------------------------------------
# Kubernetes versions


@pytest.mark.parametrize(
    ("text", "semver", "vendor", "vendor_build", "prerelease"),
    [
        ("v1.20.0", "1.20.0", "", "", ""),
        ("v1.25.3", "1.25.3", "", "", ""),
        ("v1.23.1", "1.23.1", "", "", ""),
        ("v1.17.0", "1.17.0", "", "", ""),
        # GKE: -gke.N with N from 1 to 7 digits
        ("v1.10.7-gke.2", "1.10.7", "gke", "2", ""),
        ("v1.22.11-gke.400", "1.22.11", "gke", "400", ""),
        ("v1.24.9-gke.3200", "1.24.9", "gke", "3200", ""),
        ("v1.30.5-gke.1014001", "1.30.5", "gke", "1014001", ""),
        ("v1.33.5-gke.2100000", "1.33.5", "gke", "2100000", ""),
        # EKS: 7 hex digits now, 6 in 2020-21, and the 2021 kubelet builds without "eks"
        ("v1.31.13-eks-ecaa3a6", "1.31.13", "eks", "ecaa3a6", ""),
        ("v1.16.13-eks-ec92d4", "1.16.13", "eks", "ec92d4", ""),
        ("v1.16.15-eks-ad4801", "1.16.15", "eks", "ad4801", ""),
        ("v1.21.2-13+d2965f0db10712", "1.21.2", "vendor", "13", ""),
        # OpenShift: +7 hex digits of build metadata
        ("v1.20.0+2817867", "1.20.0", "openshift", "", ""),
        # k3s / RKE2
        ("v1.17.3+k3s1", "1.17.3", "k3s", "k3s1", ""),
        ("v1.31.5+k3s1", "1.31.5", "k3s", "k3s1", ""),
        ("v1.30.5+k3s1", "1.30.5", "k3s", "k3s1", ""),
        ("v1.27.10+rke2r1", "1.27.10", "rke2", "rke2r1", ""),
        # early Windows dev build: pre-release, build metadata and -dirty at once
        ("v1.9.0-alpha.0.478+e5facc9bfcc1e1-dirty", "1.9.0", "", "", "alpha.0.478"),
        ("v1.30.0-rc.1", "1.30.0", "", "", "rc.1"),
        # AKS hotfix builds
        ("v1.28.3-hotfix.20231026", "1.28.3", "aks-hotfix", "20231026", ""),
        # no leading v, no patch
        ("1.29", "1.29.0", "", "", ""),
    ],
)
def test_kube_version_shapes(text: str, semver: str, vendor: str, vendor_build: str, prerelease: str) -> None:
    v = parse_kube_version(text)
    assert v is not None
    assert (v.semver, v.vendor, v.vendor_build, v.prerelease) == (semver, vendor, vendor_build, prerelease)
    assert v.raw == text
    assert v.cycle == ".".join(semver.split(".")[:2])


@pytest.mark.parametrize("text", ["", None, "garbage", "vX.Y.Z", "latest", "v1", "1.2.3.4.5-?"])
def test_kube_version_rejects_what_is_not_a_version(text: str | None) -> None:
    assert parse_kube_version(text) is None


def test_gke_builds_order_by_build_number_not_as_text() -> None:
    """-gke.3200 is newer than -gke.400 (a string comparison says the opposite)."""
    older = parse_kube_version("v1.24.9-gke.400")
    newer = parse_kube_version("v1.24.9-gke.3200")
    assert older is not None and newer is not None
    assert newer.key > older.key
    assert newer.key == (1, 24, 9, 3200)
    # ... and a GKE build is not a pre-release of the upstream patch it is built from
    upstream = parse_kube_version("v1.24.9")
    assert upstream is not None
    assert newer.key > upstream.key
    assert newer.semver_key == upstream.semver_key


def test_build_metadata_and_git_hashes_order_by_upstream_version() -> None:
    """+k3s1 vs +k3s2 are ordered by their build number; OpenShift git hashes order nothing."""
    k1, k2 = parse_kube_version("v1.31.5+k3s1"), parse_kube_version("v1.31.5+k3s2")
    assert k1 is not None and k2 is not None and k2.key > k1.key
    a, b = parse_kube_version("v1.20.0+2817867"), parse_kube_version("v1.20.0+ffffff0")
    assert a is not None and b is not None and a.key == b.key == (1, 20, 0)


def test_minor_number_compares_across_minors() -> None:
    v124, v125 = parse_kube_version("v1.24.17"), parse_kube_version("v1.25.0")
    assert v124 is not None and v125 is not None
    assert (v124.minor_number, v125.minor_number) == (1024, 1025)


@pytest.mark.parametrize(
    ("image", "semver", "vendor"),
    [
        ("registry.k8s.io/kube-proxy:v1.25.3", "1.25.3", ""),
        ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.31.10-minimal-eksbuild.8", "1.31.10", "eks"),
        ("localhost:5000/kube-proxy:v1.30.2", "1.30.2", ""),
        ("k8s.gcr.io/kube-proxy:v1.20.0@sha256:" + "a" * 64, "1.20.0", ""),
    ],
)
def test_kube_version_from_image_tag(image: str, semver: str, vendor: str) -> None:
    v = kube_version_from_image(image)
    assert v is not None and (v.semver, v.vendor) == (semver, vendor)


@pytest.mark.parametrize(
    "image",
    ["registry.k8s.io/kube-proxy@sha256:" + "b" * 64, "localhost:5000/kube-proxy", "kube-proxy:latest", "kube-proxy"],
)
def test_kube_version_from_image_without_a_version_tag(image: str) -> None:
    assert kube_version_from_image(image) is None


# ------------------------------------------------------------------------------------------
# Container runtimes


@pytest.mark.parametrize(
    ("text", "name", "numbers", "cycle", "semver", "suffix"),
    [
        ("docker://17.3.2", "docker", (17, 3, 2), "17.03", "17.03.2", ""),  # Docker 17.03 with its zero dropped
        ("docker://18.9.8", "docker", (18, 9, 8), "18.09", "18.09.8", ""),
        ("docker://19.3.5", "docker", (19, 3, 5), "19.03", "19.03.5", ""),
        ("docker://19.3.13", "docker", (19, 3, 13), "19.03", "19.03.13", ""),
        ("docker://20.10.7", "docker", (20, 10, 7), "20.10", "20.10.7", ""),
        ("docker://20.10.12", "docker", (20, 10, 12), "20.10", "20.10.12", ""),
        # endoflife.date names Docker lines 23.0 ... 26.1 by major.minor, then plain majors from 27
        ("docker://23.0.1", "docker", (23, 0, 1), "23.0", "23.0.1", ""),
        ("docker://26.1.4", "docker", (26, 1, 4), "26.1", "26.1.4", ""),
        ("docker://27.3.1", "docker", (27, 3, 1), "27", "27.3.1", ""),
        ("containerd://1.3.3-k3s1", "containerd", (1, 3, 3), "1.3", "1.3.3", "-k3s1"),
        ("containerd://1.4.0", "containerd", (1, 4, 0), "1.4", "1.4.0", ""),
        ("containerd://1.5.1", "containerd", (1, 5, 1), "1.5", "1.5.1", ""),
        ("containerd://1.6.9", "containerd", (1, 6, 9), "1.6", "1.6.9", ""),
        ("containerd://1.7.23-k3s2", "containerd", (1, 7, 23), "1.7", "1.7.23", "-k3s2"),
        ("containerd://2.1.5", "containerd", (2, 1, 5), "2.1", "2.1.5", ""),
        ("containerd://1.6.20+bottlerocket", "containerd", (1, 6, 20), "1.6", "1.6.20", "+bottlerocket"),
        (
            "cri-o://1.20.3-2.rhaos4.7.gitb53fa9d.el8",
            "cri-o",
            (1, 20, 3),
            "1.20",
            "1.20.3",
            "-2.rhaos4.7.gitb53fa9d.el8",
        ),
    ],
)
def test_runtime_shapes(text: str, name: str, numbers: tuple[int, ...], cycle: str, semver: str, suffix: str) -> None:
    r = parse_runtime(text)
    assert r is not None
    assert (r.name, r.numbers, r.cycle, r.semver, r.suffix) == (name, numbers, cycle, semver, suffix)


def test_docker_cycles_exist_in_the_lifecycle_data() -> None:
    """Every cycle the parser names for Docker must be one endoflife.date knows."""
    from builders import knowledge

    product = knowledge().catalog.product("docker-engine")
    assert product is not None
    for text in (
        "docker://17.3.2",
        "docker://18.9.8",
        "docker://20.10.7",
        "docker://23.0.1",
        "docker://25.0.5",
        "docker://26.0.2",
        "docker://26.1.4",
        "docker://27.3.1",
        "docker://29.0.0",
    ):
        r = parse_runtime(text)
        assert r is not None and r.cycle is not None
        assert product.cycle(r.cycle) is not None, text


def test_runtime_that_is_not_a_version() -> None:
    """Early Windows kubelets report docker://Unknown: a runtime name, but no version."""
    r = parse_runtime("docker://Unknown")
    assert r is not None
    assert (r.name, r.text, r.numbers, r.cycle, r.semver) == ("docker", "Unknown", None, None, None)


@pytest.mark.parametrize("text", ["", None, "containerd", "1.7.2"])
def test_runtime_without_a_scheme(text: str | None) -> None:
    assert parse_runtime(text) is None


# ------------------------------------------------------------------------------------------
# osImage


@pytest.mark.parametrize(
    ("os_image", "name", "product", "cycle", "version"),
    [
        ("Amazon Linux 2", "Amazon Linux", "amazon-linux", "2", "2"),
        ("Amazon Linux 2023.9.20251208", "Amazon Linux", "amazon-linux", "2023", "2023.9.20251208"),
        ("Ubuntu 20.04.2 LTS", "Ubuntu", "ubuntu", "20.04", "20.04.2"),
        ("Ubuntu 22.04.1 LTS", "Ubuntu", "ubuntu", "22.04", "22.04.1"),
        ("Ubuntu 20.10", "Ubuntu", "ubuntu", "20.10", "20.10"),
        ("Ubuntu 24.04.2 LTS", "Ubuntu", "ubuntu", "24.04", "24.04.2"),
        ("Debian GNU/Linux 12 (bookworm)", "Debian", "debian", "12", "12"),
        ("Red Hat Enterprise Linux 8.6 (Ootpa)", "Red Hat Enterprise Linux", "rhel", "8", "8.6"),
        ("SUSE Linux Enterprise Server 15 SP5", "SUSE Linux Enterprise Server", "sles", "15.5", "15.5"),
        ("Rocky Linux 9.3 (Blue Onyx)", "Rocky Linux", "rocky-linux", "9", "9.3"),
        ("Windows Server 2019 Datacenter", "Windows Server", "windows-server", "2019", "2019"),
        ("Windows Server 2022 Datacenter", "Windows Server", "windows-server", "2022", "2022"),
    ],
)
def test_os_image_versions(os_image: str, name: str, product: str, cycle: str, version: str) -> None:
    os = parse_os_image(os_image, "windows" if os_image.startswith("Windows") else "linux")
    assert (os.name, os.product, os.cycle, os.version, os.reason) == (name, product, cycle, version, "")


def test_amazon_linux_2023_build_date_is_read() -> None:
    assert parse_os_image("Amazon Linux 2023.9.20251208").build_date == date(2025, 12, 8)


def test_rhcos_build_names_the_openshift_release() -> None:
    os = parse_os_image("Red Hat Enterprise Linux CoreOS 47.83.202106032343-0 (Ootpa)")
    assert (os.product, os.cycle, os.version) == ("red-hat-openshift", "4.7", "47.83.202106032343-0")
    assert os.build_date == date(2021, 6, 3)
    assert os.detail == "RHCOS for OpenShift 4.7 on RHEL 8.3"
    newer = parse_os_image("Red Hat Enterprise Linux CoreOS 416.94.202410211619-0 (Plow)")
    assert (newer.cycle, newer.detail) == ("4.16", "RHCOS for OpenShift 4.16 on RHEL 9.4")


def test_rhcos_named_by_rhel_base_has_no_openshift_cycle() -> None:
    os = parse_os_image("Red Hat Enterprise Linux CoreOS 9.6.20250701-0 (Plow)")
    assert (os.product, os.cycle) == ("red-hat-openshift", None)
    assert "RHEL base" in os.reason


def test_code_name_only_is_kept_for_the_catalog() -> None:
    """kind's 1.20 base image says a code name and no number: the check resolves it through the catalog."""
    os = parse_os_image("Ubuntu Groovy Gorilla (development branch)")
    assert (os.product, os.cycle, os.codename) == ("ubuntu", None, "Groovy Gorilla")
    assert os.reason == "only a code name is given"


def test_cos_has_a_product_but_no_release() -> None:
    os = parse_os_image("Container-Optimized OS from Google", kernel="4.14.56+")
    assert (os.product, os.cycle) == ("cos", None)
    assert "milestone" in os.reason


@pytest.mark.parametrize(
    ("os_image", "name", "version", "reason_has"),
    [
        ("Buildroot 2019.02.7", "Buildroot", "2019.02.7", "minikube"),
        ("Buildroot 2018.05.3", "Buildroot", "2018.05.3", "minikube"),
        ("K3s v1.31.5+k3s1", "unknown", "", "k3s version (v1.31.5+k3s1)"),
        ("Unknown", "unknown", "", "its OS image as 'Unknown'"),
        ("", "unknown", "", "no OS image"),
        ("Plan 9 from Bell Labs", "unknown", "", "osImage not recognised"),
    ],
)
def test_os_without_a_lifecycle_source_says_why(os_image: str, name: str, version: str, reason_has: str) -> None:
    os = parse_os_image(os_image)
    assert (os.name, os.product, os.cycle, os.version) == (name, None, None, version)
    assert reason_has in os.reason


def test_bottlerocket_variant_is_kept() -> None:
    assert parse_os_image("Bottlerocket OS 1.19.4 (aws-k8s-1.27)").detail == "variant aws-k8s-1.27"


def test_windows_from_the_version_string_and_the_kernel_build() -> None:
    """Early Windows nodes say 'Microsoft Windows [Version 10.0.14393]': the build names Server 2016."""
    os = parse_os_image("Microsoft Windows [Version 10.0.14393]", "windows", "10.0.14393")
    assert (os.name, os.product, os.cycle, os.windows_build) == ("Windows Server", "windows-server", "2016", 14393)
    # the build is read from the kernel when the osImage has none; 17763 is both 2019 (LTSC) and 1809 (SAC)
    bare = parse_os_image("", "windows", "10.0.17763.1397")
    assert (bare.product, bare.cycle, bare.windows_build, bare.candidates) == (
        "windows-server",
        None,
        17763,
        ("2019", "1809-sac"),
    )
    named = parse_os_image("Windows Server 2019 Datacenter", "windows", "10.0.17763.1397")
    assert named.windows_build == 17763
    assert WINDOWS_LTSC_BUILDS[17763] == named.cycle


def test_windows_build_not_known_is_unknown_not_guessed() -> None:
    os = parse_os_image("Microsoft Windows [Version 10.0.99999]", "windows", "10.0.99999")
    assert (os.product, os.cycle, os.windows_build) == ("windows-server", None, 99999)
    assert os.reason


# ------------------------------------------------------------------------------------------
# Kernels


@pytest.mark.parametrize(
    ("text", "numbers", "flavour"),
    [
        ("4.14.56+", (4, 14, 56), ""),
        ("4.19.112+", (4, 19, 112), ""),
        ("5.4.129-63.229.amzn2.aarch64", (5, 4, 129, 63, 229), "amzn2.aarch64"),
        ("4.14.198-152.320.amzn2.x86_64", (4, 14, 198, 152, 320), "amzn2.x86_64"),
        ("6.1.158-180.294.amzn2023.x86_64", (6, 1, 158, 180, 294), "amzn2023.x86_64"),
        ("4.18.0-240.22.1.el8_3.x86_64", (4, 18, 0, 240, 22, 1), "el8_3.x86_64"),
        ("4.19.81", (4, 19, 81), ""),
        ("4.15.0", (4, 15, 0), ""),
        ("5.10.76-linuxkit", (5, 10, 76), "linuxkit"),
        ("5.11.0-43-generic", (5, 11, 0, 43), "generic"),
        ("5.13.0-39-generic", (5, 13, 0, 39), "generic"),
        ("6.5.0-21-generic", (6, 5, 0, 21), "generic"),
        ("5.4.0-1059-azure", (5, 4, 0, 1059), "azure"),
        ("5.4.13-050413-generic", (5, 4, 13, 50413), "generic"),
        ("6.5.10-orbstack-00110-gbcfe04c86d2f", (6, 5, 10), "orbstack-00110-gbcfe04c86d2f"),
        ("6.1.82-talos", (6, 1, 82), "talos"),
        ("6.12.48-talos", (6, 12, 48), "talos"),
        ("10.0.14393", (10, 0, 14393), ""),
        ("10.0.17763.1397", (10, 0, 17763, 1397), ""),
    ],
)
def test_kernel_shapes(text: str, numbers: tuple[int, ...], flavour: str) -> None:
    k = parse_kernel(text)
    assert k is not None
    assert (k.numbers, k.flavour, k.raw) == (numbers, flavour, text)


def test_kernel_ordering_within_a_flavour() -> None:
    old, new = parse_kernel("5.15.0-1051-aws"), parse_kernel("5.15.0-1066-aws")
    assert old is not None and new is not None and old.numbers < new.numbers
    al_old, al_new = parse_kernel("6.1.112-124.190.amzn2023.x86_64"), parse_kernel("6.1.119-129.201.amzn2023.x86_64")
    assert al_old is not None and al_new is not None and al_old.numbers < al_new.numbers


@pytest.mark.parametrize("text", ["", None, "unknown", "linux"])
def test_kernel_without_a_version(text: str | None) -> None:
    assert parse_kernel(text) is None


# ------------------------------------------------------------------------------------------
# The real files


def test_release_key_reads_every_number() -> None:
    assert release_key("1.33.13-gke.1499000") == (1, 33, 13, 1499000)
    assert release_key("1.31-eks-64") == (1, 31, 64)
    assert release_key("17.03.2") == (17, 3, 2)


@pytest.mark.parametrize("entry", OBSERVED, ids=[e["value"] for e in OBSERVED])
def test_every_observed_string_parses(entry: dict[str, str]) -> None:
    value, field = entry["value"], entry["field"]
    if field in ("gitVersion", "kubeletVersion"):
        v = parse_kube_version(value)
        assert isinstance(v, KubeVersion) and v.major == 1
        assert value.lstrip("v").startswith(v.semver)
    elif field == "containerRuntimeVersion":
        r = parse_runtime(value)
        assert r is not None and r.numbers is not None and r.cycle is not None
    else:
        assert field == "goVersion"
        assert parse_kube_version(value) is None  # go1.18.9b7 is not a Kubernetes version


def test_observed_strings_left_out_for_licence_reasons_parse_too() -> None:
    """The values of the unlicensed fixtures are facts listed in NOTES.md; they parse like the others."""
    eks = parse_kube_version("v1.31.13-eks-ecaa3a6")
    gke = parse_kube_version("v1.10.7-gke.2")
    assert eks is not None and (eks.vendor, eks.cycle) == ("eks", "1.31")
    assert gke is not None and (gke.vendor, gke.key) == ("gke", (1, 10, 7, 2))
    containerd = parse_runtime("containerd://2.1.5")
    assert containerd is not None and containerd.cycle == "2.1"


@pytest.mark.parametrize(
    "path", [*NODE_FILES, *sorted((DATA / "version").glob("*-version.json"))], ids=lambda p: p.name
)
def test_real_files_parse_completely(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if "gitVersion" in doc:
        assert parse_kube_version(doc["gitVersion"]) is not None
        return
    info = doc["status"]["nodeInfo"]
    assert parse_kube_version(info["kubeletVersion"]) is not None
    assert parse_kube_version(info["kubeProxyVersion"]) is not None
    runtime = parse_runtime(info["containerRuntimeVersion"])
    assert runtime is not None and runtime.numbers is not None
    assert parse_kernel(info["kernelVersion"]) is not None
    os = parse_os_image(info["osImage"], info["operatingSystem"], info["kernelVersion"])
    assert os.product is not None or os.reason  # recognised, or says why not


def test_real_node_files_values() -> None:
    """Concrete values from the real nodes (kind, minikube Buildroot, OpenShift)."""
    by_name = {p.name: json.loads(p.read_text(encoding="utf-8"))["status"]["nodeInfo"] for p in NODE_FILES}
    kind = by_name["kind-ubuntu2204-containerd-v1.25-node.json"]
    assert parse_os_image(kind["osImage"]).cycle == "22.04"
    buildroot = by_name["minikube-buildroot-docker-v1.15-node.json"]
    assert parse_os_image(buildroot["osImage"]).version == "2018.05.3"
    docker = parse_runtime(buildroot["containerRuntimeVersion"])
    assert docker is not None and docker.cycle == "18.09"
    ocp = by_name["openshift-4.7-rhcos-master-node.json"]
    crio = parse_runtime(ocp["containerRuntimeVersion"])
    assert crio is not None and (crio.name, crio.cycle) == ("cri-o", "1.20")
    kernel = parse_kernel(ocp["kernelVersion"])
    assert kernel is not None and kernel.flavour == "el8_3.x86_64"
