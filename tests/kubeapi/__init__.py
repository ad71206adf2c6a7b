"""A faithful, fault-injecting Kubernetes API server for tests (HTTPS on loopback).

In-process (pytest puts ``tests/`` on ``sys.path``, so tests import it as ``kubeapi``)::

    from kubeapi import Action, Cluster, Fault, Generated, KubeAPIServer, synthetic_pod

    cluster = Cluster(objects={"nodes": nodes, "pods": Generated(synthetic_pod, 150_000)})
    faults = [Fault("/api/v1/pods", Action.STATUS, status=429, retry_after=1, nth=2)]
    with KubeAPIServer(cluster, token="t0k3n", faults=faults) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        ...
        api.requests_to("/api/v1/pods")      # what the client asked, and what it got

As a process (for memory benchmarks), from the repository root::

    python -m tests.kubeapi --snapshot DIR --kubeconfig OUT [--token T] [--faults FILE]
"""

from .certs import KeyPair, LoopbackPKI, make_pki
from .cluster import DEFAULT_VERSION, Cluster, load_snapshot, namespace_object, namespaces_of
from .faults import Action, Fault, load_faults
from .kubeconfig import write_kubeconfig
from .metrics import apiserver_exposition
from .resources import RESOURCES, ResourceType
from .server import ANONYMOUS, SERVICE_ACCOUNT, KubeAPIServer, RecordedRequest, User
from .statuses import CONTINUE_EXPIRED, TOO_MANY_REQUESTS, fault_body
from .store import Generated, Store, spool_list_file
from .synthetic import synthetic_pod

__all__ = [
    "ANONYMOUS",
    "CONTINUE_EXPIRED",
    "DEFAULT_VERSION",
    "RESOURCES",
    "SERVICE_ACCOUNT",
    "TOO_MANY_REQUESTS",
    "Action",
    "Cluster",
    "Fault",
    "Generated",
    "KeyPair",
    "KubeAPIServer",
    "LoopbackPKI",
    "RecordedRequest",
    "ResourceType",
    "Store",
    "User",
    "apiserver_exposition",
    "fault_body",
    "load_faults",
    "load_snapshot",
    "make_pki",
    "namespace_object",
    "namespaces_of",
    "spool_list_file",
    "synthetic_pod",
    "write_kubeconfig",
]
