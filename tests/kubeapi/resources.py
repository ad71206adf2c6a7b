"""The API resources the test server knows, and the discovery documents built from them.

Only what patchlevel reads (and kubectl needs to find it) is here.  The shapes follow the
legacy discovery endpoints (``APIVersions``, ``APIGroupList``, ``APIResourceList``): the
server never offers aggregated discovery, so clients fall back to these, as they do against
API servers older than 1.26 or with the feature turned off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

READ_WRITE = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_DELETECOLLECTION = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, slots=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = READ_WRITE
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    custom: bool = False  # served from a CustomResourceDefinition: list items keep kind/apiVersion
    # The Kubernetes minors that serve it (an API server of another minor answers 404, as it would):
    # from ``since_minor``, and before ``removed_in_minor``; None for no bound.
    since_minor: int | None = None
    removed_in_minor: int | None = None

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``pods``, ``replicasets.apps``: the name used in RBAC messages and by kubectl."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def listable(self) -> bool:
        return "list" in self.verbs

    def discovery(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        return entry


TRIVY_OPERATOR_GROUP = "aquasecurity.github.io"
BRUPOP_GROUP = "brupop.bottlerocket.aws"
SUC_GROUP = "upgrade.cattle.io"
MCO_GROUP = "machineconfiguration.openshift.io"

RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "namespaces", "namespace", "Namespace", False, NO_DELETECOLLECTION, ("ns",)),
    ResourceType("", "v1", "nodes", "node", "Node", False, READ_WRITE, ("no",)),
    ResourceType("", "v1", "pods", "pod", "Pod", True, READ_WRITE, ("po",), ("all",)),
    ResourceType("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, READ_WRITE, ("ds",), ("all",)),
    ResourceType("apps", "v1", "deployments", "deployment", "Deployment", True, READ_WRITE, ("deploy",), ("all",)),
    ResourceType("apps", "v1", "replicasets", "replicaset", "ReplicaSet", True, READ_WRITE, ("rs",), ("all",)),
    ResourceType("apps", "v1", "statefulsets", "statefulset", "StatefulSet", True, READ_WRITE, ("sts",), ("all",)),
    ResourceType(
        "authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", False,
        ("create",),
    ),
    ResourceType("batch", "v1", "cronjobs", "cronjob", "CronJob", True, READ_WRITE, ("cj",), ("all",)),
    ResourceType("batch", "v1", "jobs", "job", "Job", True, READ_WRITE, (), ("all",)),
    # policy/v1 from Kubernetes 1.21; policy/v1beta1 until 1.25 removed it (the deprecation guide).
    ResourceType(
        "policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", True, READ_WRITE,
        ("pdb",), since_minor=21,
    ),
    ResourceType(
        "policy", "v1beta1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", True,
        READ_WRITE, ("pdb",), removed_in_minor=25,
    ),
    ResourceType(
        TRIVY_OPERATOR_GROUP, "v1alpha1", "vulnerabilityreports", "vulnerabilityreport", "VulnerabilityReport",
        True, READ_WRITE, ("vuln", "vulns"), custom=True,
    ),
    # Node update agents' CRDs and trivy-operator's node scans (issue 11): each served only when
    # its objects are given, as on a cluster where the agent is installed.  Scopes and names from
    # the agents' CRDs (tests/data/update-agents, tests/data/node-packages).
    ResourceType(
        BRUPOP_GROUP, "v2", "bottlerocketshadows", "bottlerocketshadow", "BottlerocketShadow", True, READ_WRITE,
        ("brs",), custom=True,
    ),
    ResourceType(SUC_GROUP, "v1", "plans", "plan", "Plan", True, READ_WRITE, custom=True),
    ResourceType(
        MCO_GROUP, "v1", "machineconfigpools", "machineconfigpool", "MachineConfigPool", False, READ_WRITE, ("mcp",),
        custom=True,
    ),
    ResourceType(
        TRIVY_OPERATOR_GROUP, "v1alpha1", "nodevulnerabilityreports", "nodevulnerabilityreport",
        "NodeVulnerabilityReport", False, READ_WRITE, ("nodevuln", "nodevulns"), custom=True,
    ),
)  # fmt: skip

BY_PLURAL: Mapping[str, ResourceType] = {r.plural: r for r in RESOURCES}  # the last version of each
# Groups are listed in /apis in this order (kube-apiserver puts built-in groups first).
GROUP_ORDER = (
    "apps", "authentication.k8s.io", "batch", "policy", TRIVY_OPERATOR_GROUP, BRUPOP_GROUP, SUC_GROUP, MCO_GROUP,
)  # fmt: skip


def find(group: str, version: str, plural: str, served: Iterable[ResourceType]) -> ResourceType | None:
    return next(
        (r for r in served if (r.group, r.version, r.plural) == (group, version, plural)),
        None,
    )


def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group(group: str, served: Iterable[ResourceType]) -> dict[str, Any] | None:
    """The ``APIGroup`` entry for ``group`` (also the body of ``GET /apis/{group}``)."""
    versions = sorted({r.version for r in served if r.group == group})
    if not versions:
        return None
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(served: Iterable[ResourceType]) -> dict[str, Any]:
    """``GET /apis``."""
    served = tuple(served)
    groups = [api_group(g, served) for g in GROUP_ORDER]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [g for g in groups if g]}


def api_resource_list(group: str, version: str, served: Iterable[ResourceType]) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``GET /apis/{group}/{version}``; None when nothing is served there."""
    resources = [r.discovery() for r in served if (r.group, r.version) == (group, version)]
    if not resources:
        return None
    document: dict[str, Any] = {"kind": "APIResourceList"}
    if group:  # the core list carries no apiVersion, the named groups do
        document["apiVersion"] = "v1"
    document["groupVersion"] = f"{group}/{version}" if group else version
    document["resources"] = resources
    return document
