"""Run the test API server as its own process, so a benchmark can measure the client alone.

    python -m tests.kubeapi --snapshot DIR --kubeconfig OUT [--token T] [--faults FILE]

Prints the server URL on the first line of stdout once it is listening and the kubeconfig is
written, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .cluster import Cluster, load_snapshot, namespaces_of
from .faults import load_faults
from .server import KubeAPIServer
from .store import Generated
from .synthetic import synthetic_pod


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.kubeapi", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--snapshot", type=Path, help="directory with version.json, nodes.json, pods.json …")
    source.add_argument("--generated-pods", type=int, metavar="N", help="serve N synthetic pods instead")
    parser.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    parser.add_argument("--token", default="test-token", help="the bearer token to accept")
    parser.add_argument("--faults", type=Path, help="YAML or JSON list of fault rules")
    parser.add_argument(
        "--forbid", action="append", default=[], metavar="RESOURCE", help="deny e.g. pods or replicasets.apps"
    )
    parser.add_argument("--continue-ttl", type=float, default=300.0, help="seconds a continue token lives")
    parser.add_argument("--client-cert", action="store_true", help="write a client certificate, not a token")
    parser.add_argument("--no-gzip", action="store_true", help="never compress responses")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.snapshot is not None:
            cluster = load_snapshot(args.snapshot)
        elif args.generated_pods is not None:
            count = args.generated_pods
            namespaces = namespaces_of(synthetic_pod(i) for i in range(min(count, 20)))
            cluster = Cluster(objects={"pods": Generated(synthetic_pod, count), "namespaces": namespaces})
        else:
            cluster = Cluster()
        faults = load_faults(args.faults) if args.faults else ()
    except (OSError, ValueError) as error:
        print(f"kubeapi: {error}", file=sys.stderr)
        return 2
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = KubeAPIServer(
        cluster,
        token=args.token,
        faults=faults,
        forbidden=args.forbid,
        continue_ttl=args.continue_ttl,
        client_certificates=args.client_cert,
        gzip=not args.no_gzip,
    )
    with server:
        server.write_kubeconfig(args.kubeconfig, client_certificate=args.client_cert)
        print(server.url, flush=True)
        while not stopped.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
