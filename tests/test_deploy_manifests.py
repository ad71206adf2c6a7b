"""The in-cluster manifests grant read-only access to exactly what patchlevel collects, and the
audit pod and image run unprivileged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeapi import RESOURCES  # the resources the test API server serves
from patchlevel.collect.live import RESOURCES as LISTED  # what the live collector lists

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
MANIFESTS = sorted(DEPLOY.glob("*.yaml"))

READ = {"get", "list"}
# (API group, resource): exactly what the live collector lists.
COLLECTED = {(r.group, r.plural) for r in LISTED}
IDENTITY = ("authentication.k8s.io", "selfsubjectreviews")
NEVER = {"secrets", "configmaps"}


def documents() -> Iterator[dict[str, Any]]:
    for path in MANIFESTS:
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document is not None:
                yield document


def one(kind: str) -> dict[str, Any]:
    found = [d for d in documents() if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def grants() -> dict[tuple[str, str], set[str]]:
    """(group, resource) -> verbs, over every resource rule of the ClusterRole."""
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in one("ClusterRole")["rules"]:
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def container() -> dict[str, Any]:
    containers = one("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = one("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def test_the_manifests_exist_and_every_document_parses() -> None:
    assert [p.name for p in MANIFESTS] == ["cronjob.yaml", "exporter.yaml", "rbac.yaml"]
    for document in documents():
        assert document["apiVersion"] and document["kind"] and document["metadata"]["name"]


@pytest.mark.parametrize("kind", ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"])
def test_rbac_yaml_defines(kind: str) -> None:
    assert one(kind)


def test_the_cluster_role_has_no_wildcard_and_no_secrets() -> None:
    for rule in one("ClusterRole")["rules"]:
        for key in ("apiGroups", "resources", "verbs", "nonResourceURLs", "resourceNames"):
            assert "*" not in rule.get(key, []), rule
        assert not NEVER & set(rule.get("resources", [])), rule


def test_the_only_verb_beyond_get_and_list_is_create_on_selfsubjectreviews() -> None:
    for target, verbs in grants().items():
        if target == IDENTITY:
            assert verbs == {"create"}
        else:
            assert verbs <= READ, f"{target} is granted {sorted(verbs - READ)}"


def test_every_collected_resource_is_granted_get_and_list() -> None:
    granted = grants()
    served = {(r.group, r.plural) for r in RESOURCES if r.listable}

    assert {
        ("", "nodes"),
        ("", "pods"),
        ("", "namespaces"),
        ("apps", "replicasets"),
        ("batch", "jobs"),
        # add-ons' Helm and version labels on their owners (issue 12)
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("policy", "poddisruptionbudgets"),
        ("aquasecurity.github.io", "vulnerabilityreports"),
        # node update agents' objects and trivy-operator's node scans (issue 11)
        ("apps", "daemonsets"),
        ("brupop.bottlerocket.aws", "bottlerocketshadows"),
        ("upgrade.cattle.io", "plans"),
        ("machineconfiguration.openshift.io", "machineconfigpools"),
        ("aquasecurity.github.io", "nodevulnerabilityreports"),
    } == COLLECTED
    assert served >= COLLECTED  # the test server serves everything collected, so the live tests read each
    for target in COLLECTED:
        assert granted.get(target, set()) >= READ, f"{target} is not readable"
    assert set(granted) == COLLECTED | {IDENTITY}  # and nothing else


def test_the_non_resource_urls_are_version_and_metrics_read_only() -> None:
    rules = [r for r in one("ClusterRole")["rules"] if "nonResourceURLs" in r]
    assert rules == [
        {"nonResourceURLs": ["/version"], "verbs": ["get"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},  # the deprecated-API request gauge (issue 13)
    ]
    from patchlevel.collect.live import METRICS_PATH, VERSION_PATH

    assert {VERSION_PATH, METRICS_PATH} == {url for r in rules for url in r["nonResourceURLs"]}


def test_the_binding_gives_the_role_to_the_service_account() -> None:
    binding, account = one("ClusterRoleBinding"), one("ServiceAccount")

    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": one("ClusterRole")["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": account["metadata"]["namespace"]}
    ]
    assert (account["metadata"]["name"], account["metadata"]["namespace"]) == ("patchlevel", "patchlevel")


def test_the_cronjob_runs_as_the_service_account_with_its_token() -> None:
    cronjob, spec = one("CronJob"), pod_spec()

    assert cronjob["metadata"]["namespace"] == "patchlevel"
    assert spec["serviceAccountName"] == "patchlevel"
    assert spec["automountServiceAccountToken"] is True
    assert spec["restartPolicy"] == "Never"


def test_the_pod_and_container_run_unprivileged() -> None:
    pod, main = pod_spec()["securityContext"], container()["securityContext"]

    assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    assert main["runAsNonRoot"] is True
    assert main["readOnlyRootFilesystem"] is True
    assert main["allowPrivilegeEscalation"] is False
    assert main["capabilities"] == {"drop": ["ALL"]}
    assert main["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "add" not in main["capabilities"] and not main.get("privileged", False)


def test_the_container_has_requests_and_limits() -> None:
    resources = container()["resources"]

    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}


def test_the_audit_writes_json_to_the_report_claim_and_tmp_is_writable() -> None:
    main, spec = container(), pod_spec()
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    claim = one("PersistentVolumeClaim")

    assert main["image"] == "ghcr.io/patchlevel/patchlevel:0.1.0"
    args = main["args"]
    assert args[:3] == ["audit", "--format", "json"]
    assert args[args.index("-o") + 1].startswith("/reports/")
    assert volumes[mounts["/reports"]]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["metadata"]["namespace"] == "patchlevel"
    assert "emptyDir" in volumes[mounts["/tmp"]]
    env = {e["name"]: e.get("value") for e in main["env"]}
    assert env["HOME"] == "/tmp"


def test_the_readme_explains_every_granted_resource() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")

    for _, resource in COLLECTED | {IDENTITY}:
        assert f"`{resource}`" in readme
    assert "`/version`" in readme and "`/metrics`" in readme


def test_the_readme_table_lists_exactly_the_granted_resources() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    rows = [line.split("|") for line in readme.splitlines() if line.startswith("| get, list |")]
    listed = {name for row in rows for name in re.findall(r"`([a-z]+)`", row[2])}

    assert listed == {resource for _, resource in COLLECTED}


def test_the_rbac_manifest_is_the_one_collector_errors_name() -> None:
    from patchlevel.collect.live import RBAC_MANIFEST, RBAC_ROLE

    assert (ROOT / RBAC_MANIFEST).is_file()
    assert f"ClusterRole {one('ClusterRole')['metadata']['name']}" == RBAC_ROLE


# -- the exporter (patchlevel serve) and its optional prometheus-operator objects -----------------------

OPERATOR = DEPLOY / "prometheus-operator"


def operator_object(kind: str) -> dict[str, Any]:
    found = [
        document
        for path in sorted(OPERATOR.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if document is not None and document["kind"] == kind
    ]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def exporter_pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = one("Deployment")["spec"]["template"]["spec"]
    return spec


def exporter_container() -> dict[str, Any]:
    [main] = exporter_pod_spec()["containers"]
    result: dict[str, Any] = main
    return result


def test_the_exporter_runs_as_the_service_account_as_unprivileged_as_the_audit() -> None:
    deployment, spec, main = one("Deployment"), exporter_pod_spec(), exporter_container()

    assert deployment["metadata"]["namespace"] == "patchlevel"
    assert deployment["spec"]["replicas"] == 1  # one audit at a time
    assert spec["serviceAccountName"] == "patchlevel" and spec["automountServiceAccountToken"] is True
    assert spec["securityContext"] == pod_spec()["securityContext"]
    assert main["securityContext"] == container()["securityContext"]
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert main["image"] == container()["image"]
    assert set(main["resources"]["requests"]) == set(main["resources"]["limits"]) == {"cpu", "memory"}
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert set(mounts) == {"/tmp"} and "emptyDir" in volumes[mounts["/tmp"]]
    assert {e["name"]: e.get("value") for e in main["env"]}["HOME"] == "/tmp"


def test_the_exporter_serves_its_port_and_probes_the_health_endpoints() -> None:
    from patchlevel.cli import cli
    from patchlevel.serve import parse_duration, parse_listen

    main = exporter_container()
    args = main["args"]
    [port] = main["ports"]
    annotations = one("Deployment")["spec"]["template"]["metadata"]["annotations"]

    assert args[0] == "serve"
    cli.commands["serve"].make_context("serve", list(args[1:]))  # options the command accepts
    assert parse_listen(args[args.index("--listen") + 1]) == ("0.0.0.0", port["containerPort"])
    assert parse_duration(args[args.index("--interval") + 1]) == 6 * 3600
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert annotations["prometheus.io/port"] == str(port["containerPort"])
    assert annotations["prometheus.io/path"] == "/metrics"


def test_the_service_selects_the_exporter_pods() -> None:
    service, deployment = one("Service"), one("Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    [service_port] = service["spec"]["ports"]
    [container_port] = exporter_container()["ports"]

    assert service["metadata"]["namespace"] == deployment["metadata"]["namespace"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service_port["targetPort"] == container_port["name"] and service_port["name"] == "metrics"
    # the CronJob's pods are not selected: they serve nothing
    cronjob_labels = one("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= cronjob_labels.items()


def test_the_service_monitor_scrapes_the_service() -> None:
    monitor, service = operator_object("ServiceMonitor"), one("Service")
    [endpoint] = monitor["spec"]["endpoints"]

    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    assert endpoint["port"] == service["spec"]["ports"][0]["name"] and endpoint["path"] == "/metrics"


def test_the_exporter_down_alert_names_the_job_the_service_monitor_gives() -> None:
    rule = operator_object("PrometheusRule")
    [down] = [r for g in rule["spec"]["groups"] for r in g["rules"] if r.get("alert") == "PatchlevelExporterDown"]

    # the prometheus-operator names the job after the Service unless the ServiceMonitor sets jobLabel
    assert "jobLabel" not in operator_object("ServiceMonitor")["spec"]
    assert f'job="{one("Service")["metadata"]["name"]}"' in down["expr"]
    assert rule["metadata"]["namespace"] == "patchlevel"


def test_objects_that_need_the_prometheus_operator_are_kept_apart() -> None:
    # `kubectl apply -f deploy/` works on a cluster without the operator's CRDs.
    assert sorted(p.name for p in OPERATOR.glob("*.yaml")) == ["prometheusrule.yaml", "servicemonitor.yaml"]
    assert not [d for d in documents() if d["apiVersion"].startswith("monitoring.coreos.com/")]


# -- Dockerfile -----------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_the_dockerfile_is_multi_stage_on_python_3_11_slim() -> None:
    steps = instructions()
    stages = [rest for keyword, rest in steps if keyword == "FROM"]
    args = dict(rest.split("=", 1) for keyword, rest in steps if keyword == "ARG" and "=" in rest)

    assert len(stages) >= 2
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert all(stage.startswith("${PYTHON_IMAGE}") for stage in stages)
    assert any("COPY --from=build" in f"{keyword} {rest}" for keyword, rest in steps)


def test_the_dockerfile_runs_as_a_numeric_non_root_user() -> None:
    users = [rest for keyword, rest in instructions() if keyword == "USER"]

    assert users, "no USER instruction"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0


def test_the_dockerfile_entrypoint_and_writable_paths() -> None:
    steps = instructions()
    environment = " ".join(rest for keyword, rest in steps if keyword == "ENV")

    assert ("ENTRYPOINT", '["patchlevel"]') in steps
    assert "HOME=/tmp" in environment
    assert "XDG_CACHE_HOME=/tmp/" in environment
    assert "PYTHONDONTWRITEBYTECODE=1" in environment


# -- the audit ledger's CronJobs (deploy/ledger/) ------------------------------------------------

LEDGER = DEPLOY / "ledger"


def ledger_documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((LEDGER / name).read_text(encoding="utf-8")) if d is not None]


def ledger_pod(name: str) -> dict[str, Any]:
    (cron,) = [d for d in ledger_documents(name) if d["kind"] == "CronJob"]
    spec: dict[str, Any] = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def ledger_env(container_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container_spec.get("env", [])}


def test_the_ledger_manifests_are_one_for_postgresql_and_one_for_sqlite() -> None:
    assert sorted(p.name for p in LEDGER.glob("*.yaml")) == ["postgres.yaml", "sqlite.yaml"]
    for name in ("postgres.yaml", "sqlite.yaml"):
        for document in ledger_documents(name):
            assert document["metadata"]["namespace"] == one("Namespace")["metadata"]["name"]


@pytest.mark.parametrize("name", ["postgres.yaml", "sqlite.yaml"])
def test_the_ledger_cronjobs_run_the_audit_as_the_read_only_account_unprivileged(name: str) -> None:
    spec = ledger_pod(name)
    (patchlevel,) = spec["containers"]
    assert spec["serviceAccountName"] == one("ServiceAccount")["metadata"]["name"]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    security = patchlevel["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert patchlevel["args"][0] == "audit"
    assert patchlevel["resources"]["limits"]["memory"]
    mounts = {m["mountPath"] for m in patchlevel["volumeMounts"]}
    assert "/tmp" in mounts


def test_the_postgresql_ledger_url_comes_from_a_secret_never_the_manifest() -> None:
    (patchlevel,) = ledger_pod("postgres.yaml")["containers"]
    url = ledger_env(patchlevel)["PATCHLEVEL_LEDGER"]
    assert "value" not in url
    assert url["valueFrom"]["secretKeyRef"] == {"name": "patchlevel-ledger", "key": "url"}
    text = (LEDGER / "postgres.yaml").read_text(encoding="utf-8")
    assert "kind: Secret" not in text  # the Secret is created by the operator, with its own password


def test_the_sqlite_ledger_lives_on_the_claim_the_pod_mounts() -> None:
    spec = ledger_pod("sqlite.yaml")
    (patchlevel,) = spec["containers"]
    url = ledger_env(patchlevel)["PATCHLEVEL_LEDGER"]["value"]
    assert url.startswith("sqlite:////")
    path = url.removeprefix("sqlite:///")
    mounts = {m["name"]: m["mountPath"] for m in patchlevel["volumeMounts"]}
    assert path.startswith(mounts["ledger"] + "/")
    volumes = {v["name"]: v for v in spec["volumes"]}
    (claim,) = [d for d in ledger_documents("sqlite.yaml") if d["kind"] == "PersistentVolumeClaim"]
    assert volumes["ledger"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsGroup"]
    (cron,) = [d for d in ledger_documents("sqlite.yaml") if d["kind"] == "CronJob"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"  # one SQLite writer at a time


def test_the_ledger_urls_in_the_manifests_parse() -> None:
    from patchlevel.ledger.store import ledger_url

    (patchlevel,) = ledger_pod("sqlite.yaml")["containers"]
    url = ledger_url(ledger_env(patchlevel)["PATCHLEVEL_LEDGER"]["value"])
    assert url.get_backend_name() == "sqlite" and url.database == "/var/lib/patchlevel/ledger.db"


# -- scans of the nodes' hosts (deploy/node-scan/, issue 11) ------------------------------------

NODE_SCAN = DEPLOY / "node-scan"


def node_scan_documents() -> list[dict[str, Any]]:
    return [
        d
        for path in sorted(NODE_SCAN.glob("*.yaml"))
        for d in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if d is not None
    ]


def node_scan_object(kind: str) -> dict[str, Any]:
    found = [d for d in node_scan_documents() if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def scanner_pod() -> dict[str, Any]:
    spec: dict[str, Any] = node_scan_object("DaemonSet")["spec"]["template"]["spec"]
    return spec


def test_the_node_scan_manifests_live_apart_in_their_own_namespace() -> None:
    assert sorted(p.name for p in NODE_SCAN.glob("*.yaml")) == ["audit.yaml", "scanner.yaml"]
    namespace = node_scan_object("Namespace")
    name = namespace["metadata"]["name"]
    assert name != one("Namespace")["metadata"]["name"]  # the audit's namespace stays "restricted"
    labels = namespace["metadata"]["labels"]
    # hostPath needs "privileged"; every pod admitted is still reported against "restricted"
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["pod-security.kubernetes.io/warn"] == labels["pod-security.kubernetes.io/audit"] == "restricted"
    for document in node_scan_documents():
        if document["kind"] not in ("Namespace", "ClusterRoleBinding"):
            assert document["metadata"]["namespace"] == name, document["kind"]


def test_the_scanner_reads_the_host_read_only_unprivileged_and_without_api_access() -> None:
    spec = scanner_pod()
    [trivy] = spec["containers"]
    accounts = {d["metadata"]["name"]: d for d in node_scan_documents() if d["kind"] == "ServiceAccount"}
    account = accounts[spec["serviceAccountName"]]
    assert account["automountServiceAccountToken"] is False and spec["automountServiceAccountToken"] is False
    bindings = [d for d in node_scan_documents() if d["kind"] in ("RoleBinding", "ClusterRoleBinding")]
    assert all(s["name"] != spec["serviceAccountName"] for b in bindings for s in b["subjects"])  # no role
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    security = trivy["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"]} and not security.get("privileged")
    assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    volumes = {v["name"]: v for v in spec["volumes"]}
    host = [v for v in spec["volumes"] if "hostPath" in v]
    assert [v["hostPath"]["path"] for v in host] == ["/"]
    mounts = {m["name"]: m for m in trivy["volumeMounts"]}
    assert mounts[host[0]["name"]]["readOnly"] is True and mounts[host[0]["name"]]["mountPath"] == "/host"
    assert mounts[host[0]["name"]]["recursiveReadOnly"] == "IfPossible"  # its submounts too, where supported
    assert "emptyDir" in volumes[next(n for n, m in mounts.items() if m["mountPath"] == "/tmp")]
    assert set(trivy["resources"]["requests"]) == set(trivy["resources"]["limits"]) == {"cpu", "memory"}
    assert {"operator": "Exists"} in spec["tolerations"]  # every node, control-plane nodes too


def test_the_scanner_writes_one_complete_report_per_node_named_after_it() -> None:
    [trivy] = scanner_pod()["containers"]
    env = {e["name"]: e for e in trivy["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    script = trivy["args"][0]
    for word in ("trivy rootfs", "--scanners vuln", "--pkg-types os", "--list-all-pkgs", "--format json", "/host"):
        assert word in script, word
    assert '"/reports/nodes/${NODE_NAME}.json"' in script
    assert 'mv "${out}.tmp" "${out}"' in script  # the audit never reads half a report
    for skipped in ("/host/proc", "/host/var/lib/kubelet", "/host/var/lib/containerd"):
        assert skipped in script


def test_the_node_audit_reads_the_scanners_reports_as_the_read_only_role() -> None:
    from patchlevel.cli import cli

    cron = node_scan_object("CronJob")
    spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [patchlevel] = spec["containers"]
    args = patchlevel["args"]
    cli.commands["audit"].make_context("audit", list(args[1:]))  # options the command accepts
    assert args[0] == "audit" and args[args.index("--node-scan") + 1] == "/reports/nodes"
    claim = node_scan_object("PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in patchlevel["volumeMounts"]}
    scanner = {v["name"]: v for v in scanner_pod()["volumes"]}
    [trivy] = scanner_pod()["containers"]
    scanner_mounts = {m["mountPath"]: m["name"] for m in trivy["volumeMounts"]}
    assert volumes[mounts["/reports"]]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert scanner[scanner_mounts["/reports"]]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    binding = node_scan_object("ClusterRoleBinding")
    assert binding["roleRef"]["name"] == one("ClusterRole")["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": spec["serviceAccountName"], "namespace": cron["metadata"]["namespace"]}
    ]
    assert spec["securityContext"] == pod_spec()["securityContext"]
    assert patchlevel["securityContext"] == container()["securityContext"]
    # the scanner and the audit write and read one share as one user
    assert scanner_pod()["securityContext"]["runAsUser"] == spec["securityContext"]["runAsUser"]


def test_the_node_scan_readme_states_the_trade_offs() -> None:
    readme = (NODE_SCAN / "README.md").read_text(encoding="utf-8")
    for fact in ("read-only", "privileged", "hostPath", "world-readable", "ReadWriteMany", "--db-repository",
                 "NodeVulnerabilityReport", "NODE=PATH"):  # fmt: skip
        assert fact in readme, fact
