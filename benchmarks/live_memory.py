"""Collect a large cluster from the test API server (run as its own process) and print the collector's
peak memory and wall time, and where the memory goes.

    .venv/bin/python benchmarks/live_memory.py                      # 150,000 pods, page size 500
    .venv/bin/python benchmarks/live_memory.py --pods 20000 --bundle /tmp/evidence.tar.gz
    python3 /work/shared/bench/make_cluster.py /tmp/big --nodes 5000 --pods 150000 --images 3000
    .venv/bin/python benchmarks/live_memory.py --snapshot /tmp/big        # realistic objects (~3.5 KB a pod)

The server (``python -m tests.kubeapi --generated-pods N``, or ``--snapshot DIR``) runs in a child process, so the
figures are the collector's alone: peak RSS (``ru_maxrss``) of this process, RSS before and after,
and a breakdown of one decoded pod (its Structs, strings and containers, measured with
``sys.getsizeof`` over the objects it owns).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def rss_mib() -> float:
    """Current resident set size (Linux /proc), MiB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def start_server(source: list[str], kubeconfig: Path) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.kubeapi", *source, "--kubeconfig", str(kubeconfig)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    if not url.startswith("https://"):
        server.kill()
        raise SystemExit(f"the test API server did not start (said {url!r})")
    return server, url


def owned(obj: Any, seen: set[int], kinds: Counter[str]) -> int:
    """Bytes of ``obj`` and the Structs, containers and strings it holds that this walk has not counted yet."""
    import msgspec

    if obj is None or isinstance(obj, bool) or id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, msgspec.Struct):
        kinds["Struct"] += size
        return size + sum(owned(getattr(obj, name), seen, kinds) for name in obj.__struct_fields__)
    if isinstance(obj, tuple | list):
        kinds[type(obj).__name__] += size
        return size + sum(owned(item, seen, kinds) for item in obj)
    if isinstance(obj, dict):
        kinds["dict"] += size
        return size + sum(owned(k, seen, kinds) + owned(v, seen, kinds) for k, v in obj.items())
    kinds["str" if isinstance(obj, str) else type(obj).__name__] += size
    if isinstance(obj, str):
        DISTINCT_STRINGS.setdefault(obj, size)
    return size


DISTINCT_STRINGS: dict[str, int] = {}  # equal strings held by several pods: what interning would save


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=150_000, help="serve this many synthetic pods")
    parser.add_argument("--snapshot", type=Path, help="serve this snapshot (make_cluster.py output) instead")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--bundle", type=Path, help="also write an evidence bundle here (directory or .tar.gz)")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "src"))
    from patchlevel.collect.kubeconfig import load_kubeconfig
    from patchlevel.collect.live import LiveOptions, collect_bundle, collect_live, system_host

    scratch = Path(tempfile.mkdtemp(prefix="patchlevel-bench-"))
    source = ["--snapshot", str(args.snapshot)] if args.snapshot else ["--generated-pods", str(args.pods)]
    server, url = start_server(source, scratch / "kubeconfig")
    try:
        access = load_kubeconfig([scratch / "kubeconfig"]).access()
        options = LiveOptions(page_size=args.page_size, deadline=None, request_timeout=120)
        gc.collect()
        before = rss_mib()
        started = time.perf_counter()
        if args.bundle is not None:
            collection, digest = collect_bundle(access, args.bundle, host=system_host(), options=options, force=True)
        else:
            collection, digest = collect_live(access, host=system_host(), options=options), ""
        elapsed = time.perf_counter() - started
        after = rss_mib()
        peak = peak_mib()
    finally:
        server.terminate()
        server.wait(timeout=30)

    inventory = collection.inventory
    pods = len(inventory.pods)
    kinds: Counter[str] = Counter()
    sample = inventory.pods[: min(1000, pods)]
    seen: set[int] = set()
    sampled = sum(owned(pod, seen, kinds) for pod in sample)
    print(f"server {url}: {pods} pods, {len(inventory.inputs)} pages of {args.page_size}")
    print(f"wall time   {elapsed:8.1f} s   ({pods / elapsed:,.0f} pods/s)")
    print(f"RSS before  {before:8.1f} MiB (interpreter, patchlevel imported)")
    print(f"RSS after   {after:8.1f} MiB")
    print(
        f"peak RSS    {peak:8.1f} MiB   ({(after - before) * 2**20 / max(pods, 1):,.0f} bytes per pod above the start)"
    )
    if sample:
        print(f"one decoded pod (mean of {len(sample)}): {sampled / len(sample):,.0f} bytes")
        for kind, size in kinds.most_common():
            print(f"  {kind:<8} {size / len(sample):8,.0f} bytes  {100 * size / sampled:5.1f} %")
        distinct = sum(DISTINCT_STRINGS.values())
        shared, held = distinct / len(sample), kinds["str"] / len(sample)
        print(f"  strings if equal ones were shared: {shared:,.0f} bytes a pod (of {held:,.0f})")
    if digest:
        print(f"bundle {args.bundle}: manifest sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
