#!/usr/bin/env python3
"""Time the node evidence of issue 11 on a generated cluster; print the figures (nothing asserted).

    python3 benchmarks/node_evidence_bench.py --nodes 5000

A cluster of ``--nodes`` Ubuntu nodes runs kured (a pod per node, its DaemonSet holding the lock of
one node, a reboot pending on every tenth); each node has a Trivy rootfs report written with
``--list-all-pkgs``, built from the real AKS Ubuntu 22.04 report and package list in
tests/data/node-packages (about 690 packages and 40 vulnerabilities each).  Measured in one
process, each step on its own: reading the reports (``load_host_scans`` over the directory),
placing them on nodes, ``read_agents``, and the five node checks.  Peak RSS is the process's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    args = parser.parse_args()

    import msgspec

    import node_scan_data as nsd
    from builders import make_context, make_inventory, make_node, make_pod
    from patchlevel import inventory as inv
    from patchlevel.agents import read_agents
    from patchlevel.checks import ALL_CHECKS
    from patchlevel.importers.detect import load_host_scans
    from patchlevel.importers.host import assign_nodes
    from patchlevel.inventory import UpdateAgentObjects
    from patchlevel.kube import DaemonSet

    count = args.nodes
    names = [f"node-{i:05d}" for i in range(count)]
    pending = {"weave.works/kured-reboot-in-progress": "2026-11-20T03:00:00Z"}
    kured = "ghcr.io/kubereboot/kured:1.23.0"
    pools = [{"kubernetes.azure.com/agentpool": f"pool{i}"} for i in range(8)]
    nodes = [
        make_node(
            n,
            os_image="Ubuntu 22.04.3 LTS",
            kernel=nsd.AKS_UBUNTU_KERNEL,
            annotations=pending if i % 10 == 0 else None,
            labels=pools[i % 8],
        )
        for i, n in enumerate(names)
    ]
    pods = [make_pod(f"kured-{n}", namespace="kube-system", node=n, image=kured) for n in names]
    lock = json.dumps({"nodeID": names[0], "created": "2026-11-26T00:00:00Z", "TTL": 0})
    container = {"name": "kured", "image": kured, "command": ["/usr/bin/kured", "--annotate-nodes"]}
    metadata = {"name": "kured", "namespace": "kube-system", "annotations": {"weave.works/kured-node-lock": lock}}
    template = {"spec": {"containers": [container]}}
    daemonset = msgspec.convert({"metadata": metadata, "spec": {"template": template}}, DaemonSet)
    figures: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        report = nsd.ubuntu_rootfs_report(created="2026-11-25T02:00:00Z", extra=nsd.UBUNTU_NEWER_KERNEL)
        document = json.dumps(report).encode()
        for n in names:
            (folder / f"{n}.json").write_bytes(document)
        size = len(document) * count / 2**20

        start = time.perf_counter()
        loaded = load_host_scans(folder)
        figures.append((f"read {count} host reports ({size:.0f} MiB)", time.perf_counter() - start))

        start = time.perf_counter()
        placed = assign_nodes(loaded.scans, names)
        figures.append(("place them on nodes (file names)", time.perf_counter() - start))

    inventory = dataclasses.replace(
        make_inventory("v1.31.4", nodes=nodes, pods=pods),
        agents=UpdateAgentObjects(daemonsets=(daemonset,)),
        node_scans=placed.scans,
        collected=frozenset({inv.VERSION, inv.NODES, inv.PODS, inv.DAEMONSETS}),
    )
    start = time.perf_counter()
    facts = read_agents(inventory)
    figures.append(("read_agents (kured on every node)", time.perf_counter() - start))
    ctx = make_context(inventory)
    checks = {c.id: c for c in ALL_CHECKS}
    for check in ("node_not_pending_reboot", "node_update_agent_healthy", "node_running_installed_kernel",
                  "node_os_packages_patched_in_time", "node_scanned_recently"):  # fmt: skip
        start = time.perf_counter()
        found = list(checks[check].function(ctx))
        figures.append((f"{check} ({len(found)} findings)", time.perf_counter() - start))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count} nodes, {len(facts.by_node)} with agent readings")
    for label, seconds in figures:
        print(f"  {label:<60} {seconds:8.2f} s")
    print(f"  {'peak RSS of the process':<60} {peak:8.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
