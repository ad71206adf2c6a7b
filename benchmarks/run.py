#!/usr/bin/env python3
"""Benchmark patchlevel against jq and json.load on generated clusters; print the figures.

    python3 benchmarks/run.py                      # sizes 500/15k, 2k/60k, 5k/150k
    python3 benchmarks/run.py --sizes small        # only 500 nodes / 15,000 pods
    python3 benchmarks/run.py --work /tmp/pl-bench --repeat 3

Clusters are written by the shared generator (``--generator``, default
``../shared/bench/make_cluster.py`` next to the repository) into ``--work`` and reused when
present.  Every command runs as a child process; wall time is measured around it and peak RSS
is the child's own ``ru_maxrss`` from ``wait4``, so the figures of the three tools come from
the same run on the same files.  Nothing here asserts: it prints a table (and ``--json`` writes
the raw figures) for people to read and compare with the targets in the README.

The live path is measured against the loopback test API server (``python -m tests.kubeapi``,
its own process, serving the same generated cluster): ``patchlevel collect`` writes an evidence
bundle of the API pages, ``patchlevel audit --kubeconfig`` audits live, and ``patchlevel audit
BUNDLE`` audits the bundle offline.  ``--no-live`` skips them.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = {
    "small": (500, 15_000, 800),
    "medium": (2_000, 60_000, 1_500),
    "large": (5_000, 150_000, 3_000),
}


@dataclass
class Measure:
    size: str
    tool: str
    seconds: float
    peak_rss_mb: float
    exit_code: int


def run(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, float, int]:
    """Run a command; return (wall seconds, peak RSS in MiB of the child, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        print(f"  ! {shlex.join(cmd)} exited {proc.returncode}: {stderr.strip()[:300]}", file=sys.stderr)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def best(cmd: list[str], repeat: int) -> tuple[float, float, int]:
    runs = [run(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]


def ensure_cluster(generator: Path, work: Path, name: str, nodes: int, pods: int, images: int) -> Path:
    target = work / f"{name}-{nodes}-{pods}"
    if (target / "pods.json").is_file() and (target / "pods").is_dir():
        return target
    print(f"generating {nodes} nodes / {pods} pods / {images} images into {target} …", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            str(generator),
            str(target),
            "--nodes",
            str(nodes),
            "--pods",
            str(pods),
            "--images",
            str(images),
            "--pages",
        ],
        check=True,
    )
    return target


def start_api_server(cluster: Path, kubeconfig: Path) -> subprocess.Popen[str]:
    """The test API server serving the cluster, in its own process; returns once it listens."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.kubeapi", "--snapshot", str(cluster), "--kubeconfig", str(kubeconfig)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = server.stdout.readline() if server.stdout else ""
    if not line.startswith("https://"):
        server.terminate()
        raise SystemExit(f"the test API server did not start (said {line!r})")
    return server


def snapshot_dir(cluster: Path) -> Path:
    """The kubectl-style files only (version, nodes, pods.json), without the API pages."""
    snap = cluster / "snapshot"
    if not snap.is_dir():
        snap.mkdir()
        for name in ("version.json", "nodes.json", "pods.json"):
            (snap / name).symlink_to(cluster / name)
    return snap


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="small,medium,large", help="comma separated: small, medium, large")
    parser.add_argument("--work", type=Path, default=Path("/tmp/patchlevel-bench"))
    parser.add_argument("--generator", type=Path, default=REPO.parent / "shared" / "bench" / "make_cluster.py")
    parser.add_argument("--repeat", type=int, default=1, help="runs per command; the fastest wall time is kept")
    parser.add_argument("--as-of", default="2026-11-27")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--no-live", action="store_true", help="skip the live and bundle paths")
    args = parser.parse_args()

    patchlevel = shutil.which("patchlevel") or str(Path(sys.executable).parent / "patchlevel")
    jq = shutil.which("jq")
    if not Path(args.generator).is_file():
        print(f"generator not found: {args.generator} (pass --generator)", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    measures: list[Measure] = []
    for name in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        nodes, pods, images = SIZES[name]
        cluster = ensure_cluster(args.generator, args.work, name, nodes, pods, images)
        snap = snapshot_dir(cluster)
        pods_json = cluster / "pods.json"
        out = args.work / f"report-{name}"
        out.mkdir(exist_ok=True)
        label = f"{name} ({nodes}/{pods})"
        commands: list[tuple[str, list[str]]] = [
            (
                "patchlevel audit --format json",
                [
                    patchlevel,
                    "audit",
                    str(snap),
                    "--as-of",
                    args.as_of,
                    "--format",
                    "json",
                    "-o",
                    str(out / "report.json"),
                ],
            ),
            (
                "patchlevel audit --format json,html",
                [patchlevel, "audit", str(snap), "--as-of", args.as_of, "--format", "json,html", "-o", str(out)],
            ),
        ]
        if jq:
            commands.append(("jq '.items|length' pods.json", [jq, ".items|length", str(pods_json)]))
        commands.append(
            (
                "python json.load(pods.json)",
                [sys.executable, "-c", f"import json; json.load(open({str(pods_json)!r}, 'rb'))"],
            )
        )
        for tool, cmd in commands:
            seconds, rss, code = best(cmd, args.repeat)
            measures.append(Measure(label, tool, seconds, rss, code))
            print(f"  {label:<22} {tool:<38} {seconds:8.2f} s {rss:9.0f} MiB exit {code}", file=sys.stderr)
        if not args.no_live:
            kubeconfig = out / "kubeconfig"
            bundle = out / "evidence.tar.gz"
            server = start_api_server(cluster, kubeconfig)
            try:
                live = [
                    (
                        "patchlevel collect (live -> bundle)",
                        [patchlevel, "collect", "--kubeconfig", str(kubeconfig), "-o", str(bundle), "--force"],
                    ),
                    (
                        "patchlevel audit --kubeconfig (live)",
                        [
                            patchlevel,
                            "audit",
                            "--kubeconfig",
                            str(kubeconfig),
                            "--as-of",
                            args.as_of,
                            "--format",
                            "json",
                            "-o",
                            str(out / "live.json"),
                        ],
                    ),
                ]
                for tool, cmd in live:
                    seconds, rss, code = best(cmd, args.repeat)
                    measures.append(Measure(label, tool, seconds, rss, code))
                    print(f"  {label:<22} {tool:<38} {seconds:8.2f} s {rss:9.0f} MiB exit {code}", file=sys.stderr)
            finally:
                server.terminate()
                server.wait(timeout=30)
            tool = "patchlevel audit BUNDLE (offline)"
            cmd = [
                patchlevel,
                "audit",
                str(bundle),
                "--as-of",
                args.as_of,
                "--format",
                "json",
                "-o",
                str(out / "bundle.json"),
            ]
            seconds, rss, code = best(cmd, args.repeat)
            measures.append(Measure(label, tool, seconds, rss, code))
            print(f"  {label:<22} {tool:<38} {seconds:8.2f} s {rss:9.0f} MiB exit {code}", file=sys.stderr)
        html = out / "patchlevel-report.html"
        if html.exists():
            print(f"  {label:<22} HTML report size: {html.stat().st_size / 1e6:.2f} MB", file=sys.stderr)

    print_table(measures)
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in measures], indent=2))
    return 0


def print_table(measures: list[Measure]) -> None:
    print()
    print(f"{'size (nodes/pods)':<22} {'tool':<38} {'wall s':>8} {'peak RSS MiB':>12}")
    for m in measures:
        print(f"{m.size:<22} {m.tool:<38} {m.seconds:8.2f} {m.peak_rss_mb:12.0f}")
    print()
    sizes = list(dict.fromkeys(m.size for m in measures))
    get = {(m.size, m.tool): m for m in measures}
    audit = "patchlevel audit --format json"
    headings = ("time vs jq", "RSS vs jq", "time vs json.load", "RSS vs json.load", "HTML+JSON add s")
    widths = (11, 10, 18, 17, 16)
    print(f"{'size':<22} " + " ".join(f"{h:>{w}}" for h, w in zip(headings, widths, strict=True)))
    for size in sizes:
        pl = get.get((size, audit))
        jqm = get.get((size, "jq '.items|length' pods.json"))
        py = get.get((size, "python json.load(pods.json)"))
        both = get.get((size, "patchlevel audit --format json,html"))
        if pl is None:
            continue
        cells = [
            f"{pl.seconds / jqm.seconds:11.2f}" if jqm else f"{'-':>11}",
            f"{pl.peak_rss_mb / jqm.peak_rss_mb:10.2f}" if jqm else f"{'-':>10}",
            f"{pl.seconds / py.seconds:18.2f}" if py else f"{'-':>18}",
            f"{pl.peak_rss_mb / py.peak_rss_mb:17.2f}" if py else f"{'-':>17}",
            f"{both.seconds - pl.seconds:16.2f}" if both else f"{'-':>16}",
        ]
        print(f"{size:<22} " + " ".join(cells))
    if len(sizes) >= 2:
        first, last = get.get((sizes[0], audit)), get.get((sizes[-1], audit))
        if first and last:
            print(
                f"\ngrowth of patchlevel audit wall time from {sizes[0]} to {sizes[-1]}: "
                f"{last.seconds / first.seconds:.1f}x (pods grew {pods_of(sizes[-1]) / pods_of(sizes[0]):.0f}x)"
            )


def pods_of(label: str) -> int:
    return int(label.split("/")[1].rstrip(")"))


if __name__ == "__main__":
    raise SystemExit(main())
