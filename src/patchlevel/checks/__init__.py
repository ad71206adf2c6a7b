"""The explicit registry of checks.  A check's id is its function name and states the compliant condition.

Which requirements a check serves is data (``patchlevel/frameworks/pci.yaml``), not code.
"""

from __future__ import annotations

from patchlevel.checks import addons, hosts, images, orchestration
from patchlevel.checks.common import CheckSpec, Context

ALL_CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        orchestration.control_plane_version_supported,
        "Control plane version is supported",
        "The API server's minor release is inside its distribution's support calendar (upstream Kubernetes, "
        "EKS, GKE, AKS, OpenShift, k3s, RKE2) on the as-of date. Extended or LTS support warns by default; "
        "support ending within the warning window warns.",
    ),
    CheckSpec(
        orchestration.control_plane_patch_current,
        "Control plane runs the newest patch",
        "How many patch releases the control plane is behind the newest patch of its line released on or "
        "before the as-of date, and since when. Fails when a newer patch fixing a known CVE has been out "
        "longer than the patch window (PCI DSS 6.3.3: one month); vendor builds (EKS, OpenShift) warn instead, "
        "naming the CVEs the newer upstream patch fixes. Managed control planes are patched by the provider and "
        "say so.",
    ),
    CheckSpec(
        orchestration.control_plane_free_of_known_cves,
        "No known Kubernetes CVE affects the control plane",
        "Matches the API server's upstream version against the bundled CVE data (Go vulnerability database and "
        "kubernetes-sigs/cve-feed-osv, merged by CVE alias) for CVEs of control-plane components, or whose record "
        "names no component. Fails when a CVE with a fixed release affects it; a record without usable ranges is "
        "unknown; vendor builds and provider-patched control planes warn. The report states the data's date; once "
        "the as-of date is more than lifecycle_stale_days after it, no known CVE is unknown, not a pass.",
    ),
    CheckSpec(
        orchestration.kubelet_version_supported,
        "Kubelet version is supported",
        "Each node's kubelet minor release is inside its distribution's support calendar on the as-of date.",
    ),
    CheckSpec(
        orchestration.kubelet_patch_current,
        "Kubelet runs the newest patch",
        "Each kubelet against the newest patch of its line released on or before the as-of date (GKE builds "
        "against GKE releases, other vendor builds by their upstream version). A version without a patch number, "
        "or a release the lifecycle data does not list by the as-of date, is unknown; vendor builds warn where "
        "the newer upstream patch fixes a known CVE.",
    ),
    CheckSpec(
        orchestration.kubelet_free_of_known_cves,
        "No known Kubernetes CVE affects the kubelet",
        "Matches each kubelet's upstream version against the bundled CVE data for CVEs whose record names the "
        "kubelet or the node side (volumes, Windows nodes and containers); k3s and RKE2 also against their own "
        "advisories. Stale CVE data makes no known CVE unknown, as for the control plane.",
    ),
    CheckSpec(
        orchestration.kubelet_version_skew_allowed,
        "Kubelet is within the version-skew policy",
        "A kubelet is never newer than the API server and at most three minors older (two when the kubelet "
        "is older than 1.25).",
    ),
    CheckSpec(
        orchestration.kube_proxy_version_skew_allowed,
        "kube-proxy is within the version-skew policy",
        "kube-proxy's version, read from its pod's image tag (nodeInfo.kubeProxyVersion is deprecated), is "
        "never newer than the API server, at most three minors older (two before 1.25), and within three "
        "minors of its node's kubelet. Both halves must be judged: an unknown API server or kubelet version is "
        "unknown, unless the other half already fails.",
    ),
    CheckSpec(
        orchestration.container_runtime_supported,
        "Container runtime is supported",
        "Each node's container runtime release is supported: containerd and Docker Engine by their lifecycle, "
        "CRI-O by the Kubernetes minor it tracks; containerd is also checked against the releases it supports "
        "for the node's Kubernetes minor, CRI-O against the kubelet's minor. A part that cannot be judged (an "
        "unknown kubelet, a minor containerd's bundled support table does not cover, cri-dockerd behind Docker "
        "Engine from Kubernetes 1.24) is unknown unless another part fails.",
    ),
    CheckSpec(
        orchestration.container_runtime_patch_current,
        "Container runtime runs the newest patch",
        "Each node's containerd or Docker Engine against the newest patch of its line released by the as-of date. "
        "Fails when a newer patch fixes a known CVE and has been out longer than the patch window; vendor packages "
        "warn instead. CRI-O is unknown: no list of its patch releases is bundled (endoflife.date has none).",
    ),
    CheckSpec(
        orchestration.container_runtime_free_of_known_cves,
        "No known CVE affects the container runtime",
        "Matches each node's containerd (1.x and 2.x), CRI-O or Docker Engine release against the Go vulnerability "
        "database. Fails when a CVE with a fixed release affects it; vendor packages warn; Docker Engine 29 and "
        "later, whose records cannot be matched to releases, pre-releases (-rc.1, -beta.2) and releases the "
        "lifecycle data does not know are unknown; so is no known CVE once the CVE data is stale.",
    ),
    CheckSpec(
        addons.addon_version_supported,
        "Cluster add-on version is supported",
        "Each recognised add-on (CoreDNS, etcd, the CNI, ingress controllers, cert-manager, the service mesh, "
        "GitOps, autoscaling and policy controllers, CSI sidecars …) in each workload: its release line against "
        "its lifecycle (endoflife.date, or patchlevel's dated curated entries), with the same windows and wording "
        "as the Kubernetes components. A retired project is unsupported from its retirement; an unreadable version "
        "is unknown; an add-on the rules do not recognise is not judged.",
    ),
    CheckSpec(
        addons.addon_patch_current,
        "Cluster add-on runs the newest patch",
        "Each recognised add-on against the newest patch of its release line released by the as-of date; fails "
        "when a newer patch fixing a known CVE has been out longer than the patch window. Add-ons a managed "
        "platform patches itself (GKE, AKS, OpenShift) say so.",
    ),
    CheckSpec(
        addons.addon_free_of_known_cves,
        "No known CVE affects the cluster add-on",
        "Each recognised add-on's release against the bundled vulnerability records of its Go modules (the Go "
        "vulnerability database); a module the data does not cover, a record whose ranges cannot place a "
        "release, a release the lifecycle data does not know, or no known CVE once the CVE data is stale, is "
        "unknown.",
    ),
    CheckSpec(
        addons.control_plane_components_skew_allowed,
        "Control-plane components are within the version-skew policy",
        "The static kube-apiserver, kube-controller-manager and kube-scheduler pods of a self-managed control "
        "plane: API servers within one minor of each other; controller managers and schedulers not newer than any "
        "API server and at most one minor older (Kubernetes version-skew policy, "
        "https://kubernetes.io/releases/version-skew-policy/).",
    ),
    CheckSpec(
        hosts.node_os_supported,
        "Node operating system is supported",
        "Each node's OS release (from osImage; Windows by build) is inside its vendor's support calendar. "
        "Extended phases (Ubuntu ESM, RHEL ELS, Windows ESU, Debian LTS) warn by default.",
    ),
    CheckSpec(
        hosts.node_kernel_consistent_in_pool,
        "Node runs the same kernel as its pool",
        "Within a node pool (same OS image and pool label of EKS, GKE, AKS, Karpenter or OpenShift), a node "
        "running an older kernel than its peers is flagged with both versions. When a peer's kernel is "
        "unreadable, the newest kernel of the pool is unknown.",
        interpretation=hosts.KERNEL_INTERPRETATION,
    ),
    CheckSpec(
        hosts.node_image_current,
        "Node image is recent",
        "The node image date where the platform exposes it (AKS node-image-version, Amazon Linux 2023 and RHCOS "
        "build dates), else the node's registration time, against the policy's maximum age. A node registered, "
        "or an image dated, after the as-of date is unknown.",
    ),
    CheckSpec(
        hosts.node_not_pending_reboot,
        "Node is not waiting for a reboot",
        "What the node's update agent says, read from the API: kured (with --annotate-nodes its "
        "weave.works/kured-reboot-in-progress annotation, the reboot lock on its DaemonSet, its pre-reboot labels; "
        "the kured.dev/ names of its unreleased PR #1000 too), the Flatcar Linux Update Operator's node annotations, "
        "the Bottlerocket update operator's BottlerocketShadow, system-upgrade-controller Plans and their node "
        "labels, OpenShift machine-config node annotations and pools, a RebootRequired node condition, and AKS or "
        "Karpenter upgrades in progress. A reboot pending longer than the policy's reboot_pending_max_days fails, "
        "within it warns; an agent that says none passes. Unknown: a reboot pending since an unrecorded time, a state "
        "that began after the as-of date, a node kured checks only inside a reboot window or that no kured pod "
        "runs on, a kured mark older than the node's last Ready transition (possibly stale), an idle Flatcar "
        "update_engine whose last check is older than reboot_pending_max_days, an update downloaded but not "
        "dated, an OpenShift node whose MachineConfigPool is not in the input, a node only system-upgrade-controller "
        "reads (a finished Plan says nothing of reboots), or a node no agent covers (the finding names the agents "
        "looked for).",
        interpretation=hosts.AGENT_INTERPRETATION,
    ),
    CheckSpec(
        hosts.node_drain_possible,
        "Node can be drained without an outage",
        "Each node can be patched one at a time: no pod a drain evicts from it is selected by a PodDisruptionBudget "
        "that allows zero disruptions (status.disruptionsAllowed, or for a manifest without a status its spec "
        "against the pods it selects), and no single-replica workload runs there without a budget that allows its "
        "disruption; a bare pod always blocks (kubectl drain refuses it, nothing recreates it). DaemonSet pods, "
        "static pods and finished pods are not evicted; Job and CronJob pods are restarted. Without the whole list "
        "of PodDisruptionBudgets (live: list poddisruptionbudgets) a node without a known blocker is unknown.",
        interpretation=hosts.DRAIN_INTERPRETATION,
    ),
    CheckSpec(
        hosts.node_update_agent_healthy,
        "Node update agent is healthy",
        "The update agents found (see node_not_pending_reboot) report no failure: a Bottlerocket ErrorReset, a "
        "Flatcar update_engine error, a machine-config node Degraded or Unreconcilable, an AKS node quarantined "
        "during an upgrade, a system-upgrade-controller Plan that is not Validated or cannot resolve its version, "
        "a MachineConfigPool that is Degraded, an update downloaded and not applied (warns; fails past "
        "reboot_pending_max_days when dated), a Flatcar update_engine that has not checked for updates within "
        "reboot_pending_max_days (warns), or updating (kured's reboot lock held) longer than "
        "reboot_pending_max_days. A pool updating since an unrecorded time is unknown; with no agent found (a "
        "RebootRequired condition is a signal, not an agent that reports its health), one cluster-level unknown.",
        interpretation=hosts.AGENT_INTERPRETATION,
    ),
    CheckSpec(
        hosts.node_running_installed_kernel,
        "Node runs the newest installed kernel",
        "From a scan or SBOM of the node's root filesystem (--node-scan, trivy-operator NodeVulnerabilityReports): "
        "the newest installed kernel package (linux-image-*, kernel, kernel-core, kernel-default ...) against the "
        "running kernel (nodeInfo.kernelVersion). A newer kernel installed and not booted is patched on disk, not "
        "running: it warns, and fails once the scan that showed it is older than reboot_pending_max_days. A scan "
        "that lists vulnerable packages only, a running kernel not among the installed ones, an image-based OS or "
        "no host evidence is unknown.",
        interpretation=hosts.KERNEL_INTERPRETATION,
    ),
    CheckSpec(
        hosts.node_os_packages_patched_in_time,
        "Node OS package vulnerabilities are patched in time",
        "The OS package vulnerabilities the node's newest host scan lists, each ranked and judged by the same SLA "
        "clock as image vulnerabilities (fixable_vulnerabilities_patched_in_time: fix release, publication or first "
        "scan; CISA KEV, EPSS, severity_source). Binaries on the host (kubelet, CNI plugins) are left to their own "
        "checks. An SBOM (packages, not vulnerabilities), an undated or stale scan, or no host scan is unknown; a "
        "known overdue vulnerability still fails.",
    ),
    CheckSpec(
        hosts.node_scanned_recently,
        "Node host was scanned recently",
        "A vulnerability scan of the node's root filesystem (Trivy rootfs/fs/vm, trivy-operator "
        "NodeVulnerabilityReport), placed on the node by --node-scan NODE=PATH, the report's host name or a file "
        "named after the node, no older than the policy's scan_max_age_days. With no host evidence in the input at "
        "all, one cluster-level unknown (hosts may be scanned outside patchlevel's view); once host scans are "
        "given, a node without one, with an SBOM only, an undated scan or a stale one fails. Scans that match no "
        "node are reported. The share of nodes covered goes into the report's warnings.",
    ),
    CheckSpec(
        images.running_image_digest_known,
        "Running image is known by its registry digest",
        "Each running image (containers, init containers, sidecars and ephemeral containers of every pod, "
        "deduplicated by digest) is identified by the registry digest the kubelet reports. A runtime-local image "
        "ID (kind's preloaded images) warns; a pending or status-less container's image is unknown.",
    ),
    CheckSpec(
        images.image_scanned_recently,
        "Running image was scanned recently",
        "Scan evidence (Trivy, Grype, trivy-operator) for the running digest, or the image ID, no older than the "
        "policy's scan age before the as-of date. Evidence matched only by tag warns; missing or stale evidence "
        "fails, and so does evidence that is no vulnerability scan: a scan that failed or could not run, an "
        "undated report, or a report that shows no package was scanned (only configuration or secret results, "
        "no result at all, or no match and no sign of what was catalogued). A scan made with a vulnerability "
        "database older than the policy's scanner_db_max_age_days when it ran warns (PCI DSS 11.3.1: an "
        "up-to-date scan tool); only Grype reports date their database, and the evidence says when a report does "
        "not. The share of images covered goes into the report's warnings.",
    ),
    CheckSpec(
        images.fixable_vulnerabilities_patched_in_time,
        "Fixable vulnerabilities are patched in time",
        "Vulnerabilities with a fixed version, open longer than the policy's window for their severity (PCI DSS "
        "6.3.3: critical within one month, FAIL; high WARN by default). The clock starts at the fix's release "
        "date where known, else the vulnerability's publication date, else the earliest scan that already "
        "reported the fix. Critical or high vulnerabilities with no fix yet warn; a missing severity is unknown. "
        "No vulnerability listed is a pass only from a dated, recent report that scanned packages and lists "
        "all it found; otherwise unknown (a known overdue vulnerability still fails), as is a clock that would "
        "start after the as-of date. Risk ranking (PCI DSS 6.3.1), in this order: a vulnerability in CISA KEV on "
        "the as-of date (bundled catalog, or the Grype report's) is critical whatever its CVSS and fails past "
        "known_exploited_sla_days, counted from the later of its usual clock and the day it was added to KEV; "
        "otherwise the severity policy severity_source picks (report: the scanner's vendor severity; nvd: NVD's "
        "CVSS v3, else v4, base score, the report's severity where the report has none; highest: the higher), "
        "raised to high when its EPSS score is at or above the policy's epss_threshold (bundled FIRST scores or "
        "the report's, whichever is newer). Each vulnerability's evidence names the source that set its rank. "
        "A VEX statement (--vex: OpenVEX, CycloneDX, CSAF; or one the scanner applied) that the vulnerability "
        "is not_affected (with a justification or impact statement) or fixed takes it out of the judgement, "
        "shown and counted apart; a statement naming the image's repository but not its digest warns; "
        "statements older than vex_max_age_days, undated, or not_affected without a justification are ignored "
        "and reported.",
    ),
    CheckSpec(
        images.image_os_supported,
        "Image base OS is supported",
        "The base OS a scan reports for the image: the scanner's end-of-service-life flag, or the OS release "
        "checked against the bundled lifecycle data.",
    ),
    CheckSpec(
        images.patched_image_redeployed,
        "Patched image is redeployed",
        "With --registry-check: the tag each workload references still resolves in its registry to the digest "
        "that runs. A tag that now points elsewhere means a newer image was pushed and not rolled out.",
    ),
    CheckSpec(
        images.image_reference_immutable,
        "Image reference is immutable",
        "Workloads reference images by digest. ':latest', no tag, or a tag without a digest warn: the image that "
        "runs can change under them, so patching cannot be proven from the manifest.",
    ),
    CheckSpec(
        images.image_built_recently,
        "Image is recently built",
        "The image's creation date (image config, from a scan report or the registry) against the policy's "
        "maximum image age. A placeholder date (reproducible builds) or a date after the as-of date is unknown.",
    ),
    CheckSpec(
        images.image_registry_allowed,
        "Image comes from an allowed registry",
        "Each running image's registry (the runtime's repository and every pod spec reference to it) against the "
        "policy's allowed_registries: a registry host (docker.io, index.docker.io and registry-1.docker.io are "
        "one), a host pattern (*.example.com) or a registry/path prefix (ghcr.io/acme). An image from any other "
        "registry fails. With no list in the policy the check is unknown: which sources are trusted is the "
        "entity's decision, and no list proves nothing.",
    ),
)

__all__ = ["ALL_CHECKS", "CheckSpec", "Context"]
