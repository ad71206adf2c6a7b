"""Recognising add-ons in real pod lists and in the pods real release manifests create."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
import yaml

from addon_pods import DATA, inventory_of, manifest_pods, pod_doc, static_pod_doc, workload_pods
from builders import make_inventory
from patchlevel.addons import AddonInventory, AddonRules, bundled_rules, parse_rules, read_version, recognise_addons
from patchlevel.addons.rules import AddonRulesError
from patchlevel.facts import derive_facts
from patchlevel.images import pod_workloads
from patchlevel.kube import Pod


def _pod_list(name: str) -> list[Pod]:
    doc = json.loads((DATA / name).read_bytes())
    return [msgspec.convert(item, Pod) for item in doc["items"]]


def _by_subject(addons: AddonInventory) -> dict[str, object]:
    return {i.subject: i for i in addons.instances}


# ------------------------------------------------------------------------------------------
# Real pod lists (kind clusters)


def test_kind_kube_system_pods_give_coredns_etcd_and_the_static_control_plane() -> None:
    inventory = make_inventory("v1.20.0", pods=_pod_list("pods-kind-v1.20-kube-system-sonobuoy.json"))
    addons = derive_facts(inventory).addons
    assert addons.pods_known and addons.pods_read == 14
    instances = {i.subject: i for i in addons.instances}
    assert set(instances) == {
        "addon/coredns/kube-system/Deployment/coredns",
        "addon/etcd/kube-system/Pod/etcd-kind-control-plane",
    }
    coredns = instances["addon/coredns/kube-system/Deployment/coredns"]
    assert (coredns.version.text, coredns.version.cycle, coredns.version.raw) == ("1.7.0", "1.7", "1.7.0")
    assert coredns.pods == 4  # two of them Pending without statuses: the spec still names the image
    assert coredns.workload.inferred  # no ReplicaSet objects in the list: named from pod-template-hash
    assert coredns.images == ("k8s.gcr.io/coredns:1.7.0",)
    etcd = instances["addon/etcd/kube-system/Pod/etcd-kind-control-plane"]
    assert (etcd.version.text, etcd.version.cycle) == ("3.4.13", "3.4")
    assert etcd.version.vendor_build.startswith("-0 ")
    assert etcd.static and etcd.nodes == ("kind-control-plane",)
    components = {(c.component, c.version.raw if c.version else None) for c in addons.control_plane}
    assert components == {
        ("etcd", None),
        ("kube-apiserver", "v1.20.0"),
        ("kube-controller-manager", "v1.20.0"),
        ("kube-scheduler", "v1.20.0"),
    }
    # kindnet and kube-proxy are not add-ons the rules know: nothing about them.
    assert not any("kindnet" in s or "kube-proxy" in s for s in instances)


def test_kind_all_namespaces_with_a_dotless_looking_registry() -> None:
    inventory = make_inventory("v1.20.2", pods=_pod_list("pods-kind-v1.20-all-namespaces-eks-anywhere.json"))
    addons = recognise_addons(inventory, "upstream")
    found = {(i.addon.id, i.version.text, i.images) for i in addons.instances}
    assert found == {
        ("coredns", "1.7.0", ("registry.k8s/coredns:1.7.0",)),
        ("etcd", "3.4.13", ("registry.k8s/etcd:3.4.13-0",)),
    }
    # local-path-provisioner: an add-on no rule names, never judged
    assert not any(i.namespace == "local-path-storage" for i in addons.instances)
    assert {c.component for c in addons.control_plane} == {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
    }


# ------------------------------------------------------------------------------------------
# The pods release manifests create


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (
            "ingress-nginx-v1.15.1-deploy-cloud.yaml",
            {("ingress-nginx", "ingress-nginx/Deployment/ingress-nginx-controller", "1.15.1", "v1.15.1")},
        ),
        # the tag controller-v1.9.0 still runs v1.8.0: the image is what runs
        (
            "ingress-nginx-tag-v1.9.0-deploy-cloud.yaml",
            {("ingress-nginx", "ingress-nginx/Deployment/ingress-nginx-controller", "1.8.0", "v1.8.0")},
        ),
        (
            "ingress-nginx-v1.0.0-deploy-cloud.yaml",
            {("ingress-nginx", "ingress-nginx/Deployment/ingress-nginx-controller", "1.0.0", "v1.0.0")},
        ),
        (
            "calico-v3.31.7-calico-etcd.yaml",
            {
                ("calico", "kube-system/DaemonSet/calico-node", "3.31.7", "v3.31.7"),
                ("calico", "kube-system/Deployment/calico-kube-controllers", "3.31.7", "v3.31.7"),
            },
        ),
        ("calico-v3.31.7-tigera-operator.yaml", set()),  # the operator's version is not Calico's
        (
            "cilium-eks-anywhere-v1.17.8-manifest.yaml",
            {
                ("cilium", "kube-system/DaemonSet/cilium", "1.17.8", "v1.17.8-0"),
                ("cilium", "kube-system/Deployment/cilium-operator", "1.17.8", "v1.17.8-0"),
            },
        ),
        # the chart's cilium-envoy DaemonSet is part-of: cilium but runs Envoy (v1.32.6-…): not Cilium
        (
            "cilium-1.17.5-envoy-operator-relay-helm-rendered.yaml",
            {
                ("cilium", "kube-system/Deployment/cilium-operator", "1.17.5", "v1.17.5"),
                ("cilium", "kube-system/Deployment/hubble-relay", "1.17.5", "v1.17.5"),
            },
        ),
        (
            "istio-1.29.1-install-workloads.yaml",
            {
                ("istio", "istio-system/Deployment/istiod", "1.29.1", "1.29.1"),
                ("istio", "istio-system/Deployment/istio-ingressgateway", "1.29.1", "1.29.1"),
                ("istio", "kube-system/DaemonSet/istio-cni-node", "1.29.1", "1.29.1"),
            },
        ),
        ("istio-1.29.1-ztunnel-helm-rendered.yaml", {("istio", "istio-system/DaemonSet/ztunnel", "1.29.1", "1.29.1")}),
        (
            "cert-manager-v1.19.4-deployments.yaml",
            {
                ("cert-manager", "cert-manager/Deployment/cert-manager", "1.19.4", "v1.19.4"),
                ("cert-manager", "cert-manager/Deployment/cert-manager-cainjector", "1.19.4", "v1.19.4"),
                ("cert-manager", "cert-manager/Deployment/cert-manager-webhook", "1.19.4", "v1.19.4"),
            },
        ),
        (
            "argocd-v3.5.1-workloads.yaml",
            {
                ("argo-cd", f"default/{kind}/{name}", "3.5.1", "v3.5.1")
                for kind, name in (
                    ("Deployment", "argocd-applicationset-controller"),
                    ("Deployment", "argocd-notifications-controller"),
                    ("Deployment", "argocd-repo-server"),
                    ("Deployment", "argocd-server"),
                    ("StatefulSet", "argocd-application-controller"),
                )
            },
        ),
        # Flux's release is its distribution label (v0.29.3), not a controller image's own version
        (
            "flux-v0.29.3-workloads.yaml",
            {
                ("flux", f"flux-system/Deployment/{name}", "0.29.3", "v0.29.3")
                for name in ("helm-controller", "kustomize-controller", "notification-controller", "source-controller")
            },
        ),
    ],
)
def test_release_manifests_are_recognised_with_their_versions(manifest: str, expected: set[tuple[str, ...]]) -> None:
    pods, owners = manifest_pods(manifest)
    addons = recognise_addons(inventory_of(pods, owners))
    found = {
        (i.addon.id, f"{i.namespace}/{i.workload.kind}/{i.workload.name}", i.version.text, i.version.raw)
        for i in addons.instances
    }
    assert found == expected


RULES_TEXT = (Path(__file__).parents[1] / "src/patchlevel/addons/rules.yaml").read_text(encoding="utf-8")


def rules_without_exclusions() -> AddonRules:
    doc = yaml.safe_load(RULES_TEXT)
    for entry in doc["addons"]:
        entry.pop("exclude", None)
    return parse_rules(yaml.safe_dump(doc), "rules-without-exclusions.yaml")


def test_a_component_named_apart_is_not_read_by_its_part_of_label_even_without_an_exclusion() -> None:
    """Without the rule's exclusion, cilium-envoy is Cilium's by part-of, but its Envoy tag is no Cilium release."""
    pods, owners = manifest_pods("cilium-1.17.5-envoy-operator-relay-helm-rendered.yaml")
    addons = recognise_addons(inventory_of(pods, owners), rules=rules_without_exclusions())
    envoy = _by_subject(addons)["addon/cilium/kube-system/DaemonSet/cilium-envoy"]
    assert not envoy.version.known  # never Cilium 1.32.6
    assert envoy.recognised_by == "label app.kubernetes.io/part-of=cilium"
    assert "names the component 'cilium-envoy'" in envoy.version.reason
    assert envoy.version.raw.startswith("v1.32.6-1749271279-")


def test_components_the_rules_exclude_are_not_the_add_on() -> None:
    rules = bundled_rules()
    for repository, addon in [
        ("quay.io/cilium/cilium-envoy", "cilium"),
        ("quay.io/cilium/hubble-ui", "cilium"),
        ("quay.io/tigera/operator", "calico"),
        ("registry.k8s.io/ingress-nginx/kube-webhook-certgen", "ingress-nginx"),
        ("ghcr.io/dexidp/dex", "argo-cd"),
    ]:
        rule = rules.rule(addon)
        assert rule is not None and rules.excluded_image(rule, repository), repository
    # the argo-cd chart labels its Redis part-of argocd and gives it Argo CD's version label
    chart = {
        "app.kubernetes.io/name": "argocd-redis",
        "app.kubernetes.io/part-of": "argocd",
        "app.kubernetes.io/version": "v2.13.1",
        "helm.sh/chart": "argo-cd-7.7.7",
    }
    redis = pod_doc("argocd-redis-1", "public.ecr.aws/docker/library/redis:7.4.1-alpine", labels=chart)
    hubble_ui = pod_doc(
        "hubble-ui-1",
        ["registry.corp.example/mirror/hubble-ui:v0.13.2", "registry.corp.example/mirror/hubble-ui-backend:v0.13.2"],
        labels={"app.kubernetes.io/name": "hubble-ui", "app.kubernetes.io/part-of": "cilium"},
    )
    assert recognise_addons(inventory_of([redis, hubble_ui])).instances == ()


def test_a_component_of_an_add_on_takes_only_its_version_label() -> None:
    labels = {"app.kubernetes.io/name": "argocd-extension", "app.kubernetes.io/part-of": "argocd"}
    pod = pod_doc("ext", "registry.example/argocd-extension:v9.1.0", labels=labels)
    (instance,) = recognise_addons(inventory_of([pod])).instances
    assert instance.addon.id == "argo-cd" and not instance.version.known
    assert instance.version.raw == "v9.1.0" and "'argocd-extension'" in instance.version.reason
    labelled = pod_doc(
        "ext", "registry.example/argocd-extension:v9.1.0", labels={**labels, "app.kubernetes.io/version": "v3.5.1"}
    )
    (instance,) = recognise_addons(inventory_of([labelled])).instances
    assert instance.version.text == "3.5.1" and instance.version.source == "label app.kubernetes.io/version"


def test_running_admission_webhook_jobs_are_not_the_ingress_controller() -> None:
    """The certgen Jobs carry the controller's name, part-of and version labels but run kube-webhook-certgen."""
    docs = yaml.safe_load_all((DATA / "ingress-nginx-v1.15.1-deploy-cloud.yaml").read_text(encoding="utf-8"))
    jobs = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Job"]
    assert len(jobs) == 2
    pods = [pod for job in jobs for pod in workload_pods(job, phase="Running")[0]]
    assert all("kube-webhook-certgen" in p["spec"]["containers"][0]["image"] for p in pods)
    assert all(p["metadata"]["labels"]["app.kubernetes.io/name"] == "ingress-nginx" for p in pods)
    assert recognise_addons(inventory_of(pods)).instances == ()


def test_completed_jobs_run_nothing() -> None:
    pods, owners = manifest_pods("ingress-nginx-v1.15.1-deploy-cloud.yaml")
    addons = recognise_addons(inventory_of(pods, owners))
    assert addons.skipped_completed == 2  # the admission-webhook certgen Jobs
    assert all(i.workload.kind != "Job" for i in addons.instances)


def test_flux_without_its_distribution_label_is_unknown_not_a_controller_version() -> None:
    pods, _ = manifest_pods("flux-v0.29.3-workloads.yaml")  # no Deployment objects: no label
    addons = recognise_addons(inventory_of(pods))
    for instance in addons.instances:
        assert not instance.version.known
        assert "app.kubernetes.io/version" in instance.version.reason
        assert "component's version" in instance.version.reason


def test_a_branch_tag_is_unknown_with_the_raw_value() -> None:
    pods, owners = manifest_pods("metrics-server-v0.8.1-base-deployment.yaml")
    (instance,) = recognise_addons(inventory_of(pods, owners)).instances
    assert instance.addon.id == "metrics-server"
    assert not instance.version.known and instance.version.raw == "master"
    assert "'master' names no release" in instance.version.reason


def test_labels_lagging_the_image_are_noted_and_the_image_wins() -> None:
    labels = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/version": "1.11.2"}
    pod = pod_doc("c-1", "registry.k8s.io/ingress-nginx/controller:v1.12.1", labels=labels)
    (instance,) = recognise_addons(inventory_of([pod])).instances
    assert instance.version.text == "1.12.1"
    assert instance.version.label_disagrees == "1.11.2"


# ------------------------------------------------------------------------------------------
# Versions that cannot be read, and mirrors


DIGEST = "sha256:" + "ab" * 32


def test_a_digest_only_reference_is_unknown_with_the_digest() -> None:
    pod = pod_doc("cilium-x", f"quay.io/cilium/cilium@{DIGEST}", owner=("DaemonSet", "cilium"))
    (instance,) = recognise_addons(inventory_of([pod])).instances
    assert not instance.version.known
    assert DIGEST in instance.version.reason and "digest only" in instance.version.reason


def test_a_digest_only_reference_is_read_from_the_tag_the_kubelet_reports() -> None:
    pod = pod_doc(
        "cilium-x",
        f"quay.io/cilium/cilium@{DIGEST}",
        owner=("DaemonSet", "cilium"),
        status_images={"c0": "quay.io/cilium/cilium:v1.18.4"},
    )
    (instance,) = recognise_addons(inventory_of([pod])).instances
    assert instance.version.text == "1.18.4" and "as the kubelet reports it" in instance.version.source


def test_a_digest_only_reference_falls_back_to_the_addons_own_version_label() -> None:
    labels = {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/version": "v1.19.1"}
    pod = pod_doc("cm", f"quay.io/jetstack/cert-manager-controller@{DIGEST}", labels=labels)
    (instance,) = recognise_addons(inventory_of([pod])).instances
    assert instance.version.text == "1.19.1" and instance.version.source == "label app.kubernetes.io/version"
    assert "digest only" in instance.version.reason  # why the tag was not used


@pytest.mark.parametrize(
    ("tag", "text", "reason"),
    [
        ("latest", None, "names no release"),
        ("v1.15.0-rc.1", None, "pre-release"),
        ("v1.15.0-weird", None, "not a known vendor build"),
        ("v1.10.1-eksbuild.1", "1.10.1", ""),
        ("v1.31.10-minimal-eksbuild.8", "1.31.10", ""),
        ("v1.13.2-5", "1.13.2", ""),
        ("v1.1.0-17655eca55d8e5c4b2ce3de0d7fe4b17f6c1a5a3", "1.1.0", ""),
        ("v0.3.19-eks-a-0.0.1.build.38", "0.3.19", ""),
        ("1.20.0-distroless", "1.20.0", ""),
        ("3.5.9-debian-11-r1", None, "not a known vendor build"),  # a Bitnami suffix, known to etcd only
        ("v1.2", None, "not an X.Y.Z release"),
        ("v1." + "9" * 5000 + ".0", None, "has a number too long for a release"),  # int() refuses > 4,300 digits
    ],
)
def test_version_normalisation(tag: str, text: str | None, reason: str) -> None:
    rules = bundled_rules()
    coredns = rules.rule("coredns")
    assert coredns is not None
    version = read_version(tag, coredns, rules.suffixes["coredns"], "image tag")
    assert version.text == text
    assert reason in version.reason
    etcd = rules.rule("etcd")
    assert etcd is not None
    assert read_version("3.5.9-debian-11-r1", etcd, rules.suffixes["etcd"], "tag").text == "3.5.9"


def test_a_mirror_the_globs_do_not_know_is_recognised_by_its_labels() -> None:
    labels = {
        "app.kubernetes.io/name": "cert-manager",
        "app.kubernetes.io/version": "v1.18.2",
        "helm.sh/chart": "cert-manager-v1.18.2",
    }
    image = "registry.corp.example/mirror/cm-controller:v1.18.2"
    pod = pod_doc("cm", image, labels=labels, owner=("ReplicaSet", "cm-7d9f"))
    (instance,) = recognise_addons(inventory_of([pod])).instances
    assert instance.addon.id == "cert-manager" and instance.version.text == "1.18.2"
    assert instance.recognised_by == "label app.kubernetes.io/name=cert-manager"


def test_an_injected_sidecar_ignores_the_applications_version_label() -> None:
    labels = {"app.kubernetes.io/name": "checkout", "app.kubernetes.io/version": "4.2.0"}
    pod = pod_doc(
        "checkout-1",
        ["registry.example/checkout:4.2.0", "docker.io/istio/proxyv2:1.27.3"],
        labels=labels,
        namespace="shop",
        owner=("ReplicaSet", "checkout-5f6d8"),
    )
    (instance,) = recognise_addons(inventory_of([pod])).instances
    assert instance.subject == "addon/istio/shop/ReplicaSet/checkout-5f6d8"
    assert instance.version.text == "1.27.3" and instance.labels == {}
    assert instance.containers == ("c1",)


def test_a_native_sidecar_runs_an_add_on_and_a_plain_init_container_does_not() -> None:
    proxy = "docker.io/istio/proxyv2:1.27.3"
    sidecar = pod_doc("with-sidecar", "registry.example/checkout:4.2.0", namespace="shop")
    sidecar["spec"]["initContainers"] = [{"name": "istio-proxy", "image": proxy, "restartPolicy": "Always"}]
    init_only = pod_doc("init-only", "registry.example/checkout:4.2.0", namespace="shop")
    init_only["spec"]["initContainers"] = [{"name": "istio-init", "image": proxy}]
    (instance,) = recognise_addons(inventory_of([sidecar, init_only])).instances
    assert (instance.addon.id, instance.workload.name) == ("istio", "with-sidecar")
    assert instance.containers == ("istio-proxy",) and instance.version.text == "1.27.3"


def test_workloads_worked_out_once_give_the_same_add_ons() -> None:
    pods, owners = manifest_pods("ingress-nginx-v1.15.1-deploy-cloud.yaml", replicas=3)
    more, more_owners = manifest_pods("flux-v0.29.3-workloads.yaml")
    inventory = inventory_of([*pods, *more], [*owners, *more_owners])
    shared = pod_workloads(inventory.pods, inventory.owners)
    assert recognise_addons(inventory, workloads=shared) == recognise_addons(inventory)
    with pytest.raises(ValueError, match="not the workloads of these pods"):
        recognise_addons(inventory, workloads=shared[1:])


def test_unknown_workloads_are_never_recognised() -> None:
    pods = [
        pod_doc("web", "docker.io/library/nginx:1.27.3"),
        pod_doc("app", "registry.example/team/payments:2.1.0", labels={"app.kubernetes.io/name": "payments"}),
        pod_doc("kindnet", "docker.io/kindest/kindnetd:v20250214-acbabc1a", namespace="kube-system"),
    ]
    addons = recognise_addons(inventory_of(pods))
    assert addons.pods_known and addons.instances == ()


def test_pods_not_collected_means_add_ons_unknown() -> None:
    addons = recognise_addons(make_inventory("v1.33.4", pods=None))
    assert not addons.pods_known and "pods" in addons.reason


# ------------------------------------------------------------------------------------------
# Managed platforms and static pods


def test_managed_platform_rules_name_who_patches() -> None:
    eks = pod_doc(
        "coredns-1",
        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1.11.4-eksbuild.33",
        labels={"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"},
        namespace="kube-system",
        owner=("ReplicaSet", "coredns-6b9575c64c"),
    )
    aks = pod_doc(
        "coredns-2",
        "mcr.microsoft.com/oss/v2/kubernetes/coredns:v1.12.1-14",
        labels={"kubernetes.azure.com/managedby": "aks", "k8s-app": "kube-dns"},
        namespace="kube-system",
        owner=("ReplicaSet", "coredns-789789675"),
    )
    (on_eks,) = recognise_addons(inventory_of([eks]), "eks").instances
    assert on_eks.version.text == "1.11.4" and on_eks.managed is not None
    assert on_eks.managed.responsibility == "customer"
    (on_aks,) = recognise_addons(inventory_of([aks]), "aks").instances
    assert on_aks.version.text == "1.12.1" and on_aks.managed is not None
    assert on_aks.managed.responsibility == "provider"
    # the same labels on another distribution prove nothing
    (elsewhere,) = recognise_addons(inventory_of([aks]), "upstream").instances
    assert elsewhere.managed is None


def test_static_control_plane_pods_are_listed_for_the_skew_check() -> None:
    pods = [
        static_pod_doc("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.31.4", "cp-1"),
        static_pod_doc("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.30.8", "cp-2"),
        static_pod_doc("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.30.8", "cp-2"),
        static_pod_doc("etcd", "registry.k8s.io/etcd:3.5.16-0", "cp-1"),
    ]
    addons = recognise_addons(inventory_of(pods))
    assert [(c.component, c.node, c.version.cycle if c.version else None) for c in addons.control_plane] == [
        ("etcd", "cp-1", None),
        ("kube-apiserver", "cp-1", "1.31"),
        ("kube-apiserver", "cp-2", "1.30"),
        ("kube-scheduler", "cp-2", "1.30"),
    ]
    (etcd,) = addons.instances
    assert etcd.subject == "addon/etcd/kube-system/Pod/etcd-cp-1" and etcd.version.text == "3.5.16"


# ------------------------------------------------------------------------------------------
# The rules file


def test_the_bundled_rules_cover_the_issue_s_add_ons() -> None:
    rules = bundled_rules()
    assert {
        "coredns",
        "etcd",
        "cilium",
        "calico",
        "flannel",
        "ingress-nginx",
        "cert-manager",
        "istio",
        "argo-cd",
        "flux",
        "karpenter",
        "kyverno",
        "metrics-server",
        "csi-external-provisioner",
    } <= {a.id for a in rules.addons}
    for repository, addon in [
        ("quay.io/cilium/cilium", "cilium"),
        ("docker.io/calico/node", "calico"),
        ("registry.k8s.io/ingress-nginx/controller", "ingress-nginx"),
        ("quay.io/jetstack/cert-manager-controller", "cert-manager"),
        ("docker.io/istio/pilot", "istio"),
        ("registry.k8s.io/etcd", "etcd"),
        ("registry.k8s.io/coredns/coredns", "coredns"),
        ("602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns", "coredns"),
        ("mcr.microsoft.com/oss/kubernetes/coredns", "coredns"),
        ("registry.k8s.io/sig-storage/csi-provisioner", "csi-external-provisioner"),
    ]:
        rule = rules.match_repository(repository)
        assert rule is not None and rule.id == addon, repository
    for repository in (
        "registry.k8s.io/ingress-nginx/kube-webhook-certgen",
        "quay.io/tigera/operator",
        "quay.io/cilium/hubble-ui",
        "docker.io/library/nginx",
    ):
        assert bundled_rules().match_repository(repository) is None, repository


def test_every_rule_names_a_lifecycle_product_the_catalog_has() -> None:
    from builders import knowledge

    catalog = knowledge().catalog
    for rule in bundled_rules().addons:
        assert catalog.product(rule.lifecycle) is not None, (rule.id, rule.lifecycle)


BASE = "format: 1\nvendor_suffixes: []\nmanaged: []\naddons:\n"


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ("  - {id: x, name: X, category: c, lifecycle: x, upgrade: u}\n", "addons[0] (x): no images"),
        ("  - {id: x, name: X, category: c, lifecycle: x, upgrade: u, images: [nginx]}\n", "registry/repository glob"),
        (
            "  - {id: x, name: X, category: c, lifecycle: x, upgrade: u, images: [a/b]}\n"
            "  - {id: x, name: Y, category: c, lifecycle: y, upgrade: u, images: [c/d]}\n",
            "defined twice",
        ),
        ("  - {id: x, name: X, category: c, lifecycle: x, upgrade: u, images: [a/b], colour: red}\n", "addons[0] (x)"),
        ("  - {id: x, name: X, category: c, lifecycle: x, upgrade: u, images: [a/b], osv: [not a path]}\n", "Go"),
        (
            "  - {id: x, name: X, category: c, lifecycle: x, upgrade: u, names: [n]}\n"
            "  - {id: y, name: Y, category: c, lifecycle: y, upgrade: u, names: [n]}\n",
            "claimed by both x and y",
        ),
        (
            "  - {id: x, name: X, category: c, lifecycle: x, upgrade: u, names: [n], exclude: {why: w, names: [n]}}\n",
            "'n' is both a name of the add-on and excluded",
        ),
        (
            "  - {id: x, name: X, category: c, lifecycle: x, upgrade: u, names: [n], exclude: {why: w}}\n",
            "exclude needs",
        ),
        ("  - {id: x, name: X, category: c, lifecycle: x, upgrade: u, names: [n], exclude: {images: [a/b]}}\n", "why"),
        (
            "  - {id: x, name: X, category: c, lifecycle: x, upgrade: u, names: [n], exclude: {why: w, images: [B]}}\n",
            "registry/repository glob",
        ),
    ],
)
def test_invalid_rules_name_the_file_and_the_entry(entries: str, words: str) -> None:
    with pytest.raises(AddonRulesError) as caught:
        parse_rules(BASE + entries, "rules-under-test.yaml")
    assert "rules-under-test.yaml" in str(caught.value) and words in str(caught.value), str(caught.value)


def test_adding_an_add_on_is_one_entry(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "src/patchlevel/addons/rules.yaml").read_text()
    text += (
        "  - id: kube-state-metrics\n    name: kube-state-metrics\n    category: observability\n"
        "    lifecycle: kube-state-metrics\n    images: ['*/kube-state-metrics/kube-state-metrics']\n"
        "    upgrade: the kube-state-metrics Helm chart\n"
    )
    rules = parse_rules(text, "extended.yaml")
    pod = pod_doc("ksm", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.14.0")
    (instance,) = recognise_addons(inventory_of([pod]), rules=rules).instances
    assert instance.addon.id == "kube-state-metrics" and instance.version.text == "2.14.0"
