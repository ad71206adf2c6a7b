"""Deterministic EKS-like cluster snapshots for the tests, from nothing but the standard library.

``write_cluster(out, nodes=20, pods=300, images=60, seed=7)`` writes into ``out``:

    version.json     the ``/version`` body of an EKS control plane (v1.31.3-eks-59bf375)
    nodes.json       ``kubectl get nodes -o json``: a NodeList as kubectl prints it (4-space indents, keys
                     sorted, no managedFields)
    pods.json        ``kubectl get pods -A -o json``: a PodList likewise, its items carrying apiVersion/kind
    pods/NNNN.json   with ``pages=True``: the same pods as compact API pages of ``page_size`` items, as
                     kube-apiserver sends them (items without apiVersion/kind but with managedFields;
                     metadata.resourceVersion, and on every page but the last metadata.continue and
                     remainingItemCount).  The snapshot reader reads subdirectories too: give it a
                     directory without ``pods/`` (links to the three files) or it reads every pod twice.

The cluster: nodes in EKS managed node groups (label ``eks.amazonaws.com/nodegroup``) of different
OS images (Amazon Linux 2023 builds with a date, Amazon Linux 2, Bottlerocket, Ubuntu 20.04 and
22.04), kernels (some pools run two: drift), ``-eks-`` kubelets (some a few minors behind the control
plane) and containerd versions (1.6 and 1.7 out of support on the tests' date, 2026-11-27; 2.0 still in
support), registered at ages from hours to a year.
Pods belong to Deployments (a ReplicaSet owner reference with its uid, the ``pod-template-hash``
label) in many namespaces; every replica of a Deployment runs the same images, drawn from a pool
whose popularity falls off as 1/rank across docker.io/library, registry.k8s.io, quay.io, ghcr.io
and a private ECR repository, tagged ``latest``, ``X.Y.Z`` or ``vX.Y.Z``, or (about 10%) pinned by
digest.  About 15% of the Deployments have an init container; about 1% of the pods are still
creating their containers (``imageID`` empty, state ``waiting``).  Both lists are sorted by
namespace and name, as the API server and kubectl return them.

The same arguments always give the same bytes: all choices come from ``random.Random(seed)`` and
every identifier (uid, digest, container ID) from hashlib.  300 pods take under a tenth of a
second, 20,000 (about 240 MB) a few seconds.  ``python tests/cluster_gen.py OUT --nodes N --pods N
--images N [--seed N] [--pages]`` runs it by hand.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = datetime(2026, 11, 27, tzinfo=UTC)  # when the snapshot was taken
CONTROL_PLANE = "v1.31.3-eks-59bf375"
REGION = "us-east-1"
ZONES = (("us-east-1a", "use1-az4", 16), ("us-east-1b", "use1-az6", 32), ("us-east-1c", "use1-az1", 48))
ACCOUNT_ECR = f"444455556666.dkr.ecr.{REGION}.amazonaws.com"
SYSTEM_ECR = f"602401143452.dkr.ecr.{REGION}.amazonaws.com"
# The characters Kubernetes uses for generated name suffixes and pod-template-hash values.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
LIST_RESOURCE_VERSION = 48_213_907


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    weight: int
    os_image: str
    kernels: tuple[str, ...]  # the newest last; more than one means kernel drift inside the pool
    kubelets: tuple[str, ...]
    runtimes: tuple[str, ...]
    arch: str
    instance_types: tuple[str, ...]


POOLS = (
    Pool("general-al2023", 5, "Amazon Linux 2023.7.20250623",
         ("6.1.140-154.222.amzn2023.x86_64", "6.1.141-155.222.amzn2023.x86_64"),
         ("v1.31.9-eks-5d632ec",), ("containerd://2.0.5",), "amd64", ("m6i.2xlarge", "m6i.xlarge")),
    Pool("graviton-al2023", 2, "Amazon Linux 2023.5.20240916", ("6.1.109-118.189.amzn2023.aarch64",),
         ("v1.30.4-eks-a737599",), ("containerd://1.7.22",), "arm64", ("m7g.xlarge", "m7g.2xlarge")),
    Pool("legacy-al2", 3, "Amazon Linux 2",
         ("5.10.225-213.878.amzn2.x86_64", "5.10.230-223.885.amzn2.x86_64"),
         ("v1.29.8-eks-a737599", "v1.29.10-eks-94953ac"), ("containerd://1.6.33",), "amd64", ("m5.2xlarge",)),
    Pool("bottlerocket", 2, "Bottlerocket OS 1.40.0 (aws-k8s-1.31)", ("6.1.141",),
         ("v1.31.9-eks-0f56d01",), ("containerd://2.0.5+bottlerocket",), "amd64", ("c6i.4xlarge",)),
    Pool("ubuntu-focal", 2, "Ubuntu 20.04.6 LTS", ("5.15.0-1068-aws", "5.15.0-1072-aws"),
         ("v1.28.15-eks-e71965b",), ("containerd://1.6.12",), "amd64", ("r6i.2xlarge",)),
    Pool("ubuntu-jammy", 2, "Ubuntu 22.04.5 LTS", ("6.8.0-1019-aws", "6.8.0-1021-aws"),
         ("v1.31.2-eks-7f9249a",), ("containerd://1.7.12",), "amd64", ("m6i.2xlarge",)),
)  # fmt: skip

# instance type: (vCPUs, GiB of memory, max pods with the VPC CNI)
INSTANCE_TYPES = {
    "m6i.xlarge": (4, 16, 58),
    "m6i.2xlarge": (8, 32, 58),
    "m5.2xlarge": (8, 32, 58),
    "m7g.xlarge": (4, 16, 58),
    "m7g.2xlarge": (8, 32, 58),
    "c6i.4xlarge": (16, 32, 234),
    "r6i.2xlarge": (8, 64, 58),
}
NODE_AGES_DAYS = (0, 1, 2, 5, 9, 16, 30, 47, 75, 120, 200, 365)

# registry (as written in a pod spec), its share of the image pool, its repositories, whether tags carry a "v"
REGISTRIES: tuple[tuple[str, int, tuple[str, ...], float], ...] = (
    ("docker.io/library", 3,
     ("nginx", "redis", "postgres", "busybox", "alpine", "python", "node", "memcached", "rabbitmq", "haproxy"), 0.0),
    ("registry.k8s.io", 2,
     ("coredns/coredns", "metrics-server/metrics-server", "ingress-nginx/controller", "external-dns/external-dns",
      "kube-state-metrics/kube-state-metrics", "autoscaling/cluster-autoscaler", "sig-storage/csi-provisioner"), 1.0),
    ("quay.io", 2,
     ("prometheus/node-exporter", "prometheus/prometheus", "prometheus/alertmanager",
      "jetstack/cert-manager-controller", "argoproj/argocd", "oauth2-proxy/oauth2-proxy", "strimzi/kafka"), 0.6),
    ("ghcr.io", 2,
     ("fluxcd/source-controller", "external-secrets/external-secrets", "dexidp/dex", "acme-retail/storefront",
      "acme-retail/recommendations", "acme-retail/inventory-sync"), 0.7),
    (ACCOUNT_ECR, 3,
     ("payments/ledger-api", "payments/card-tokenizer", "payments/fraud-scorer", "payments/settlement-batch",
      "payments/refunds", "payments/gateway", "payments/reconciler", "payments/statements"), 0.3),
)  # fmt: skip
NODE_SYSTEM_IMAGES = (
    (f"{SYSTEM_ECR}/eks/kube-proxy", "v1.31.3-minimal-eksbuild.3", 31_200_441),
    (f"{SYSTEM_ECR}/amazon-k8s-cni", "v1.19.0-eksbuild.1", 45_874_503),
    (f"{SYSTEM_ECR}/eks/pause", "3.5", 298_689),
)
NAMESPACES = (
    "payments", "checkout", "catalog", "search", "identity", "notifications", "billing", "monitoring",
    "ingress-nginx", "cert-manager", "data-platform", "ml-serving", "storefront", "logistics", "argocd",
)  # fmt: skip
ROLES = ("", "", "", "-api", "-worker", "-web", "-consumer", "-gateway")


@dataclass(frozen=True, slots=True)
class Image:
    spec: str  # as written in the pod spec
    status: str  # as containerd reports it in containerStatuses[].image (fully qualified)
    image_id: str  # "<repository>@sha256:<hex>"


@dataclass(frozen=True, slots=True)
class Deployment:
    namespace: str
    name: str
    template_hash: str
    images: tuple[Image, ...]
    init_image: Image | None
    created: datetime
    scraped: bool


@dataclass(frozen=True, slots=True)
class Placement:
    node: str
    ip: str


def _hex(seed: int, *parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, (seed, *parts))).encode()).hexdigest()


def _uid(seed: int, *parts: object) -> str:
    return str(uuid.UUID(bytes=bytes.fromhex(_hex(seed, "uid", *parts)[:32]), version=4))


def _suffix(seed: int, length: int, *parts: object) -> str:
    number = int(_hex(seed, "name", *parts), 16)
    return "".join(NAME_ALPHABET[(number >> (5 * i)) % len(NAME_ALPHABET)] for i in range(length))


def _time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


_KEYED_BY = ("name", "type", "ip", "mountPath", "containerPort", "key")


def _fields_v1(value: Any) -> dict[str, Any]:
    """The fieldsV1 set a manager owning ``value`` records in managedFields."""
    if isinstance(value, dict):
        return {f"f:{k}": _fields_v1(v) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        key = next((k for k in _KEYED_BY if k in value[0]), None)
        if key is not None:
            return {
                "k:" + json.dumps({key: item.get(key)}, separators=(",", ":")): {".": {}, **_fields_v1(item)}
                for item in value
            }
    return {}


def _managed(manager: str, when: datetime, fields: dict[str, Any], subresource: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": "Update",
        "apiVersion": "v1",
        "time": _time(when),
        "fieldsType": "FieldsV1",
        "fieldsV1": _fields_v1(fields),
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


# ------------------------------------------------------------------------------------------
# The control plane and the nodes


def version_body(seed: int = 1) -> dict[str, str]:
    return {
        "major": "1",
        "minor": "31",
        "gitVersion": CONTROL_PLANE,
        "gitCommit": _hex(seed, "commit")[:40],
        "gitTreeState": "clean",
        "buildDate": "2024-11-15T22:04:41Z",
        "goVersion": "go1.22.9",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _pool_for(rng: random.Random, index: int) -> Pool:
    if index < len(POOLS):  # every pool has a node once there are enough nodes
        return POOLS[index]
    return rng.choices(POOLS, weights=[p.weight for p in POOLS])[0]


def make_node(rng: random.Random, seed: int, index: int, host: int, resource_version: int) -> dict[str, Any]:
    pool = _pool_for(rng, index)
    zone, zone_id, octet = rng.choice(ZONES)
    ip = f"10.{octet}.{host >> 8}.{host & 255}"
    name = f"ip-{ip.replace('.', '-')}.ec2.internal"
    created = NOW - timedelta(days=rng.choice(NODE_AGES_DAYS), seconds=rng.randrange(86_400))
    instance_type = rng.choice(pool.instance_types)
    cpus, gib, max_pods = INSTANCE_TYPES[instance_type]
    kernel = pool.kernels[-1] if rng.random() < 0.6 else rng.choice(pool.kernels)
    kubelet = rng.choice(pool.kubelets)
    instance_id = "i-0" + _hex(seed, "instance", index)[:16]
    ami = "ami-0" + _hex(seed, "ami", pool.name)[:16]
    labels = {
        "beta.kubernetes.io/arch": pool.arch,
        "beta.kubernetes.io/instance-type": instance_type,
        "beta.kubernetes.io/os": "linux",
        "eks.amazonaws.com/capacityType": "SPOT" if rng.random() < 0.2 else "ON_DEMAND",
        "eks.amazonaws.com/nodegroup": pool.name,
        "eks.amazonaws.com/nodegroup-image": ami,
        "eks.amazonaws.com/sourceLaunchTemplateId": "lt-0" + _hex(seed, "lt", pool.name)[:16],
        "eks.amazonaws.com/sourceLaunchTemplateVersion": "1",
        "failure-domain.beta.kubernetes.io/region": REGION,
        "failure-domain.beta.kubernetes.io/zone": zone,
        "k8s.io/cloud-provider-aws": _hex(seed, "cluster")[:32],
        "kubernetes.io/arch": pool.arch,
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": instance_type,
        "topology.k8s.aws/zone-id": zone_id,
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": zone,
    }
    annotations = {
        "alpha.kubernetes.io/provided-node-ip": ip,
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    memory_ki = gib * 1024 * 1024 * 97 // 100
    status: dict[str, Any] = {
        "capacity": {
            "cpu": str(cpus),
            "ephemeral-storage": "83873772Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": f"{memory_ki}Ki",
            "pods": str(max_pods),
        },
        "allocatable": {
            "cpu": f"{cpus * 1000 - 70 - 10 * cpus}m",
            "ephemeral-storage": "76224326324",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": f"{memory_ki - 1_800_000}Ki",
            "pods": str(max_pods),
        },
        "conditions": [
            {
                "type": kind,
                "status": "True" if kind == "Ready" else "False",
                "lastHeartbeatTime": _time(NOW - timedelta(seconds=rng.randrange(40))),
                "lastTransitionTime": _time(created + timedelta(seconds=20 if kind == "Ready" else 0)),
                "reason": reason,
                "message": message,
            }
            for kind, reason, message in (
                ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ("Ready", "KubeletReady", "kubelet is posting ready status"),
            )
        ],
        "addresses": [
            {"type": "InternalIP", "address": ip},
            {"type": "InternalDNS", "address": name},
            {"type": "Hostname", "address": name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": _hex(seed, "machine", index)[:32],
            "systemUUID": "ec2" + _hex(seed, "system", index)[:5] + "-" + _uid(seed, "system", index)[9:],
            "bootID": _uid(seed, "boot", index),
            "kernelVersion": kernel,
            "osImage": pool.os_image,
            "containerRuntimeVersion": rng.choice(pool.runtimes),
            "kubeletVersion": kubelet,
            "kubeProxyVersion": kubelet,
            "operatingSystem": "linux",
            "architecture": pool.arch,
        },
        "images": [
            {"names": [f"{repo}@sha256:{_hex(seed, 'node-image', repo, tag)}", f"{repo}:{tag}"], "sizeBytes": size}
            for repo, tag, size in NODE_SYSTEM_IMAGES
        ],
    }
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": _uid(seed, "node", name),
            "resourceVersion": str(resource_version),
            "creationTimestamp": _time(created),
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {"providerID": f"aws:///{zone}/{instance_id}"},
        "status": status,
    }


# ------------------------------------------------------------------------------------------
# The images and the workloads


def image_pool(rng: random.Random, seed: int, count: int) -> list[Image]:
    """``count`` distinct references, the most popular first."""
    registries = [r for r in REGISTRIES for _ in range(r[1])]
    pinned = set(rng.sample(range(count), round(count * 0.1)))
    taken: set[str] = set()
    by_repository: dict[str, list[Image]] = {}
    styles: dict[str, tuple[str, int, int]] = {}  # repository: (tag prefix, major, newest minor)
    pool: list[Image] = []
    for index in range(count):
        registry, _, repositories, v_share = rng.choice(registries)
        base = repository = f"{registry}/{rng.choice(repositories)}"
        for attempt in itertools.count():
            if repository not in styles:
                styles[repository] = ("v" if rng.random() < v_share else "", rng.randint(0, 3), rng.randint(4, 30))
            prefix, major, minor = styles[repository]
            tag = f"{prefix}{major}.{minor - rng.randint(0, 4)}.{rng.randint(0, 19)}"
            if index not in pinned and rng.random() < 0.12:
                tag = "latest"
            status = f"{repository}:{tag}"
            if status not in taken:
                break
            if attempt >= 3:  # this repository's likely tags are used up: a sibling repository
                repository = f"{base}-{attempt - 2}"
        taken.add(status)
        earlier = by_repository.setdefault(repository, [])
        if tag == "latest" and earlier and rng.random() < 0.5:
            digest = earlier[-1].image_id.rpartition("@")[2]  # "latest" is the same build as a version tag
        else:
            digest = "sha256:" + _hex(seed, "digest", status)
        if index in pinned:
            status = f"{repository}@{digest}"
        short = registry == "docker.io/library" and rng.random() < 0.6
        spec = status.removeprefix("docker.io/library/") if short else status
        image = Image(spec, status, f"{repository}@{digest}")
        earlier.append(image)
        pool.append(image)
    return pool


def _app_name(image: Image) -> str:
    return image.status.rpartition("/")[2].partition("@")[0].partition(":")[0]


def plan_deployments(rng: random.Random, seed: int, pods: int, pool: list[Image]) -> list[tuple[Deployment, int]]:
    """Deployments and their replica counts, adding up to ``pods``."""
    namespace_count = max(3, min(250, pods // 12 + 2))
    namespaces = list(NAMESPACES[:namespace_count]) + [
        f"team-{n:03d}" for n in range(max(0, namespace_count - len(NAMESPACES)))
    ]
    namespace_weights = list(itertools.accumulate(1 / (rank + 1) ** 0.6 for rank in range(len(namespaces))))
    image_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(pool))))
    names: set[tuple[str, str]] = set()
    planned: list[tuple[Deployment, int]] = []
    remaining = pods
    while remaining > 0:
        replicas = min(remaining, rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 6, 10)))
        remaining -= replicas
        namespace = rng.choices(namespaces, cum_weights=namespace_weights)[0]
        containers = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        images = tuple(rng.choices(pool, cum_weights=image_weights, k=containers))
        name = _app_name(images[0]) + rng.choice(ROLES)
        for n in itertools.count(2):
            if (namespace, name) not in names:
                break
            name = f"{_app_name(images[0])}-{n}"
        names.add((namespace, name))
        created = NOW - timedelta(days=rng.randint(0, 240), seconds=rng.randrange(86_400))
        init = rng.choices(pool, cum_weights=image_weights)[0] if rng.random() < 0.15 else None
        template_hash = _suffix(seed, 10, "template", namespace, name)
        deployment = Deployment(namespace, name, template_hash, images, init, created, rng.random() < 0.3)
        planned.append((deployment, replicas))
    return planned


def _container_names(deployment: Deployment) -> list[str]:
    names: list[str] = []
    for image in deployment.images:
        name = _app_name(image)
        names.append(name if name not in names else f"{name}-{len(names)}")
    return names


def make_pod(
    rng: random.Random,
    seed: int,
    deployment: Deployment,
    name: str,
    placement: Placement | None,
    pending: bool,
    resource_version: int,
    managed_fields: bool = False,
) -> dict[str, Any]:
    namespace = deployment.namespace
    replica_set = f"{deployment.name}-{deployment.template_hash}"
    created = deployment.created + timedelta(seconds=rng.randrange(600))
    started = created + timedelta(seconds=2 + rng.randrange(8))
    pod_ip = f"10.{(placement.ip.split('.')[1] if placement else '0')}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    volume = f"kube-api-access-{_suffix(seed, 5, 'volume', namespace, name)}"
    mount = {"name": volume, "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
    labels = {
        "app.kubernetes.io/name": deployment.name,
        "app.kubernetes.io/part-of": namespace,
        "pod-template-hash": deployment.template_hash,
    }
    metadata: dict[str, Any] = {
        "name": name,
        "generateName": f"{replica_set}-",
        "namespace": namespace,
        "uid": _uid(seed, "pod", namespace, name),
        "resourceVersion": str(resource_version),
        "creationTimestamp": _time(created),
        "labels": labels,
    }
    if deployment.scraped:
        metadata["annotations"] = {"prometheus.io/port": "9090", "prometheus.io/scrape": "true"}
    metadata["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": replica_set,
            "uid": _uid(seed, "replicaset", namespace, replica_set),
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    containers = []
    for index, (image, cname) in enumerate(zip(deployment.images, _container_names(deployment), strict=True)):
        port = 8080 + index
        container: dict[str, Any] = {
            "name": cname,
            "image": image.spec,
            "ports": [{"name": "http" if index == 0 else f"http-{index}", "containerPort": port, "protocol": "TCP"}],
            "env": [
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "AWS_REGION", "value": REGION},
            ],
            "resources": {
                "limits": {"memory": f"{rng.choice((256, 512, 1024))}Mi"},
                "requests": {"cpu": f"{rng.choice((50, 100, 250))}m", "memory": "128Mi"},
            },
            "volumeMounts": [mount],
        }
        if index == 0:
            probe = {
                "httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"},
                "timeoutSeconds": 1,
                "periodSeconds": 10,
                "successThreshold": 1,
                "failureThreshold": 3,
            }
            container["livenessProbe"] = {**probe, "initialDelaySeconds": 15}
            container["readinessProbe"] = probe
        container.update(
            terminationMessagePath="/dev/termination-log",
            terminationMessagePolicy="File",
            imagePullPolicy="Always" if image.spec.endswith(":latest") else "IfNotPresent",
            securityContext={"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True},
        )
        containers.append(container)
    namespace_file = {"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}
    spec: dict[str, Any] = {
        "volumes": [
            {
                "name": volume,
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [namespace_file]}},
                    ],
                    "defaultMode": 420,
                },
            }
        ],
    }
    if deployment.init_image is not None:
        spec["initContainers"] = [
            {
                "name": "init",
                "image": deployment.init_image.spec,
                "command": ["/bin/sh", "-c", "until nslookup kubernetes.default; do sleep 2; done"],
                "resources": {},
                "volumeMounts": [mount],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
            }
        ]
    spec.update(
        containers=containers,
        restartPolicy="Always",
        terminationGracePeriodSeconds=30,
        dnsPolicy="ClusterFirst",
        serviceAccountName="default",
        serviceAccount="default",
    )
    if placement is not None:
        spec["nodeName"] = placement.node
    spec.update(
        securityContext={},
        schedulerName="default-scheduler",
        tolerations=[
            {
                "key": f"node.kubernetes.io/{taint}",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            }
            for taint in ("not-ready", "unreachable")
        ],
        priority=0,
        enableServiceLinks=True,
        preemptionPolicy="PreemptLowerPriority",
    )
    ready = "False" if pending else "True"
    status: dict[str, Any] = {
        "phase": "Pending" if pending else "Running",
        "conditions": [
            {"type": kind, "status": value, "lastProbeTime": None, "lastTransitionTime": _time(started)}
            for kind, value in (
                ("PodReadyToStartContainers", ready),
                ("Initialized", "True"),
                ("Ready", ready),
                ("ContainersReady", ready),
                ("PodScheduled", "True" if placement else "False"),
            )
        ],
    }
    if placement is not None:
        status.update(hostIP=placement.ip, hostIPs=[{"ip": placement.ip}])
        if not pending:
            status.update(podIP=pod_ip, podIPs=[{"ip": pod_ip}])
    status["startTime"] = _time(started)
    if deployment.init_image is not None:
        init = deployment.init_image
        container_id = "containerd://" + _hex(seed, "container", namespace, name, "init")
        status["initContainerStatuses"] = [
            {
                "name": "init",
                "state": {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": _time(started),
                        "finishedAt": _time(started + timedelta(seconds=3)),
                        "containerID": container_id,
                    }
                },
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "image": init.status,
                "imageID": init.image_id,
                "containerID": container_id,
                "started": False,
            }
        ]
    statuses = []
    for image, cname in zip(deployment.images, _container_names(deployment), strict=True):
        if pending:
            statuses.append(
                {
                    "name": cname,
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                    "lastState": {},
                    "ready": False,
                    "restartCount": 0,
                    "image": image.status,
                    "imageID": "",
                    "started": False,
                }
            )
            continue
        restarts = rng.choices((0, 1, 3), weights=(85, 10, 5))[0]
        container_id = "containerd://" + _hex(seed, "container", namespace, name, cname)
        running_since = started + timedelta(seconds=5, hours=rng.randrange(48) if restarts else 0)
        last: dict[str, Any] = {}
        if restarts:
            previous = "containerd://" + _hex(seed, "previous", namespace, name, cname)
            last = {
                "terminated": {
                    "exitCode": 137,
                    "reason": "OOMKilled",
                    "startedAt": _time(started),
                    "finishedAt": _time(running_since),
                    "containerID": previous,
                }
            }
        statuses.append(
            {
                "name": cname,
                "state": {"running": {"startedAt": _time(running_since)}},
                "lastState": last,
                "ready": True,
                "restartCount": restarts,
                "image": image.status,
                "imageID": image.image_id,
                "containerID": container_id,
                "started": True,
            }
        )
    status.update(containerStatuses=statuses, qosClass="Burstable")
    if managed_fields:  # the API sends them; kubectl leaves them out of -o json
        owned = {"metadata": {k: metadata[k] for k in ("generateName", "labels", "ownerReferences")}, "spec": spec}
        metadata["managedFields"] = [
            _managed("kube-controller-manager", created, owned),
            _managed("kubelet", started + timedelta(seconds=6), {"status": status}, "status"),
        ]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": spec, "status": status}


def generate_pods(
    rng: random.Random,
    seed: int,
    pods: int,
    pool: list[Image],
    placements: list[Placement],
    managed_fields: bool = False,
) -> Iterator[dict[str, Any]]:
    """The pods, sorted by namespace and name."""
    named: list[tuple[str, str, Deployment]] = []
    for deployment, replicas in plan_deployments(rng, seed, pods, pool):
        prefix = f"{deployment.name}-{deployment.template_hash}-"
        named.extend(
            (deployment.namespace, prefix + _suffix(seed, 5, "pod", deployment.namespace, prefix, n), deployment)
            for n in range(replicas)
        )
    named.sort(key=lambda entry: (entry[0], entry[1]))
    pending = set(rng.sample(range(pods), round(pods / 100) if pods >= 50 else 0))
    for index, (_, name, deployment) in enumerate(named):
        placement = rng.choice(placements) if placements else None
        waiting = index in pending or placement is None
        yield make_pod(rng, seed, deployment, name, placement, waiting, 30_000 + index, managed_fields)


# ------------------------------------------------------------------------------------------
# Writing


def _write_kubectl_list(path: Path, kind: str, items: Iterable[dict[str, Any]]) -> None:
    """A List as ``kubectl get -o json`` prints it: 4-space indents, keys sorted, no managedFields."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{\n    "apiVersion": "v1",\n    "items": [')
        separator = "\n        "
        for item in items:
            if "managedFields" in item["metadata"]:
                metadata = {k: v for k, v in item["metadata"].items() if k != "managedFields"}
                item = {**item, "metadata": metadata}
            out.write(separator)
            out.write(json.dumps(item, indent=4, sort_keys=True).replace("\n", "\n        "))
            separator = ",\n        "
        out.write("]," if separator == "\n        " else "\n    ],")
        out.write(f'\n    "kind": "{kind}",\n    "metadata": {{\n        "resourceVersion": ""\n    }}\n}}\n')


class _Pages:
    """Compact PodList pages, as ``GET /api/v1/pods?limit=N`` answers them page after page."""

    def __init__(self, directory: Path, total: int, page_size: int) -> None:
        self.directory, self.total, self.page_size = directory, total, page_size
        self.items: list[str] = []
        self.written = 0
        self.pages = 0
        directory.mkdir(exist_ok=True)

    def add(self, pod: dict[str, Any]) -> None:
        item = {k: v for k, v in pod.items() if k not in ("kind", "apiVersion")}
        self.items.append(json.dumps(item, separators=(",", ":")))
        self.written += 1
        if len(self.items) == self.page_size and self.written < self.total:
            last = pod["metadata"]
            self._flush(f"{last['namespace']}/{last['name']}\x00")

    def close(self) -> None:
        if self.items or self.pages == 0:
            self._flush(None)

    def _flush(self, start: str | None) -> None:
        metadata: dict[str, Any] = {"resourceVersion": str(LIST_RESOURCE_VERSION)}
        if start is not None:
            # kube-apiserver's token: unpadded URL-safe base64 of the list's revision and the next key
            token = json.dumps(
                {"v": "meta.k8s.io/v1", "rv": LIST_RESOURCE_VERSION, "start": start}, separators=(",", ":")
            )
            metadata["continue"] = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
            metadata["remainingItemCount"] = self.total - self.written
        head = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": metadata}, separators=(",", ":"))
        self.pages += 1
        text = head[:-1] + ',"items":[' + ",".join(self.items) + "]}\n"
        (self.directory / f"{self.pages:04d}.json").write_text(text, encoding="utf-8")
        self.items = []


def _tee(items: Iterable[dict[str, Any]], also: Callable[[dict[str, Any]], None]) -> Iterator[dict[str, Any]]:
    for item in items:
        also(item)
        yield item


def write_cluster(
    out: Path, *, nodes: int, pods: int, images: int, seed: int = 1, pages: bool = False, page_size: int = 500
) -> Path:
    """Write the snapshot described in the module docstring into ``out`` (created if needed); return ``out``."""
    if nodes < 0 or pods < 0 or images < 0 or page_size < 1:
        raise ValueError("nodes, pods and images must not be negative, page_size must be positive")
    if pods and not images:
        raise ValueError("pods need at least one image")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    (out / "version.json").write_text(json.dumps(version_body(seed), indent=2) + "\n", encoding="utf-8")
    hosts = rng.sample(range(256, 65_280), nodes)
    node_docs = sorted(
        (make_node(rng, seed, index, host, 20_000 + index) for index, host in enumerate(hosts)),
        key=lambda node: node["metadata"]["name"],
    )
    _write_kubectl_list(out / "nodes.json", "NodeList", node_docs)
    placements = [Placement(n["metadata"]["name"], n["status"]["addresses"][0]["address"]) for n in node_docs]
    del node_docs
    pool = image_pool(rng, seed, images)
    pod_docs = generate_pods(rng, seed, pods, pool, placements, managed_fields=pages)
    if not pages:
        _write_kubectl_list(out / "pods.json", "PodList", pod_docs)
        return out
    paged = _Pages(out / "pods", pods, page_size)
    _write_kubectl_list(out / "pods.json", "PodList", _tee(pod_docs, paged.add))
    paged.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--pods", type=int, default=300)
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pages", action="store_true", help="also write pods/NNNN.json API pages")
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args(argv)
    write_cluster(
        args.out,
        nodes=args.nodes,
        pods=args.pods,
        images=args.images,
        seed=args.seed,
        pages=args.pages,
        page_size=args.page_size,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
