"""Image references and image IDs as they appear in real Pod specs and statuses."""

from __future__ import annotations

import pytest

from patchlevel.imageref import ImageRef, InvalidReferenceError, parse_digest, parse_image_id, parse_reference

D1 = "sha256:" + "a" * 64
D2 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("raw", "registry", "repository", "tag", "digest"),
    [
        ("busybox", "docker.io", "library/busybox", None, None),
        ("nginx:1.25", "docker.io", "library/nginx", "1.25", None),
        ("bitnami/redis:7.2.4-debian-12-r9", "docker.io", "bitnami/redis", "7.2.4-debian-12-r9", None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("index.docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest", None),
        ("index.docker.io/grafana/grafana:10.4.1", "docker.io", "grafana/grafana", "10.4.1", None),
        (f"k8s.gcr.io/nginx-slim@{D2}", "k8s.gcr.io", "nginx-slim", None, D2),
        (
            "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1.11.3-eksbuild.1",
            "602401143452.dkr.ecr.us-east-1.amazonaws.com",
            "eks/coredns",
            "v1.11.3-eksbuild.1",
            None,
        ),
        (
            f"quay.io/openshift-release-dev/ocp-v4.0-art-dev@{D1}",
            "quay.io",
            "openshift-release-dev/ocp-v4.0-art-dev",
            None,
            D1,
        ),
        ("registry.k8s.io/kube-proxy:v1.30.2", "registry.k8s.io", "kube-proxy", "v1.30.2", None),
        ("localhost:5000/app:1", "localhost:5000", "app", "1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", None, None),
        ("[::1]:5000/app:2", "[::1]:5000", "app", "2", None),
        (f"nginx:1.25.4@{D1}", "docker.io", "library/nginx", "1.25.4", D1),
        ("gcr.io/distroless/static-debian12:nonroot", "gcr.io", "distroless/static-debian12", "nonroot", None),
        ("ghcr.io/a__b/c.d-e:x_y", "ghcr.io", "a__b/c.d-e", "x_y", None),
        # A localhost:port without a slash is an image named "localhost" with a tag, as in docker.
        ("localhost:5000", "docker.io", "library/localhost", "5000", None),
        # docker treats an upper-case first component as a registry host (it never is a Hub user).
        ("UPPER/case", "UPPER", "case", None, None),
    ],
)
def test_reference_is_normalised_like_docker(
    raw: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(raw)
    assert ref == ImageRef(registry=registry, repository=repository, tag=tag, digest=digest, raw=raw)


def test_canonical_form_names_everything() -> None:
    assert parse_reference("nginx").canonical == "docker.io/library/nginx"
    assert parse_reference(f"nginx:1.25@{D1}").canonical == f"docker.io/library/nginx:1.25@{D1}"
    assert str(parse_reference("localhost:5000/app:1")) == "localhost:5000/app:1"
    assert parse_reference("quay.io/a/b:c").name == "quay.io/a/b"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        (" nginx", "white space"),
        ("a::b", "bad repository path component"),
        ("Nginx", "lower-case"),
        ("library/UPPER", "lower-case"),
        ("docker.io/Library/nginx", "lower-case"),
        ("nginx:", "bad tag"),
        ("nginx:-1", "bad tag"),
        ("nginx:" + "x" * 129, "bad tag"),
        ("nginx@sha256:abc", "64 lower-case hex"),
        ("nginx@md5:" + "a" * 32, "unsupported digest algorithm"),
        (f"nginx@{D1.upper()}", "a digest looks like"),
        ("nginx@", "a digest looks like"),
        ("a//b", "bad repository path component ''"),
        ("app/", "bad repository path component ''"),
        ("-bad.example.com/app", "bad registry host"),
        ("my_registry.example.com/app", "bad registry host"),
        ("example.com/" + "a" * 250, "longer than 255"),
        (":1.0", "no repository name"),
    ],
)
def test_invalid_reference_raises_a_value_error_naming_the_problem(raw: str, problem: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_reference(raw)
    assert isinstance(caught.value, ValueError)
    assert problem in str(caught.value)
    assert caught.value.value == raw
    assert "\n" not in str(caught.value)


def test_parse_digest_accepts_the_registry_algorithms() -> None:
    assert parse_digest(D1) == D1
    assert parse_digest("sha512:" + "b" * 128).startswith("sha512:")
    with pytest.raises(InvalidReferenceError):
        parse_digest("sha512:" + "b" * 64)


def test_docker_pullable_image_id_carries_a_registry_digest() -> None:
    image_id = parse_image_id(f"docker-pullable://nginx@{D1}")
    assert image_id.is_registry_digest
    assert image_id.digest == D1
    assert image_id.repository is not None
    assert image_id.repository.name == "docker.io/library/nginx"
    assert image_id.local_id is None


def test_containerd_image_id_carries_a_registry_digest() -> None:
    image_id = parse_image_id(f"registry.k8s.io/kube-proxy@{D2}")
    assert image_id.is_registry_digest
    assert image_id.digest == D2
    assert image_id.repository is not None
    assert image_id.repository.registry == "registry.k8s.io"


def test_bare_sha256_is_a_local_image_id_not_a_registry_digest() -> None:
    image_id = parse_image_id(D1)
    assert not image_id.is_registry_digest
    assert image_id.digest is None
    assert image_id.local_id == D1
    assert image_id.repository is None


def test_docker_scheme_image_id_is_a_local_image_id() -> None:
    image_id = parse_image_id(f"docker://{D2}")
    assert not image_id.is_registry_digest
    assert image_id.local_id == D2


def test_empty_image_id_is_empty_not_an_error() -> None:
    image_id = parse_image_id("")
    assert image_id.is_empty
    assert not image_id.is_registry_digest
    assert image_id.local_id is None


@pytest.mark.parametrize(
    "raw",
    ["containerd://" + D1, "nginx:1.25", "docker://nginx", "nginx@sha256:short", "docker-pullable://Nginx@" + D1],
)
def test_unreadable_image_id_raises(raw: str) -> None:
    with pytest.raises(InvalidReferenceError):
        parse_image_id(raw)
