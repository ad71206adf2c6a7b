"""Write a real kubeconfig (the file kubectl and client libraries read) for the test server."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml


def write_kubeconfig(
    path: str | os.PathLike[str],
    server: str,
    ca_pem: bytes,
    token: str | None,
    context: str = "test",
    cluster: str = "test-cluster",
    user: str = "test-user",
    *,
    client_cert_pem: bytes | None = None,
    client_key_pem: bytes | None = None,
    namespace: str | None = None,
) -> Path:
    """Write a one-context kubeconfig with ``certificate-authority-data`` and return its path.

    The user authenticates with a bearer ``token``, or with a client certificate and key
    (``client-certificate-data`` / ``client-key-data``) when ``token`` is None.  The file is
    created readable by its owner only, as kubectl expects of files holding credentials.
    """
    if (token is None) == (client_cert_pem is None or client_key_pem is None):
        raise ValueError("give either a token or a client certificate and key, not both or neither")
    credentials: dict[str, Any]
    if token is not None:
        credentials = {"token": token}
    else:
        assert client_cert_pem is not None and client_key_pem is not None
        credentials = {
            "client-certificate-data": _b64(client_cert_pem),
            "client-key-data": _b64(client_key_pem),
        }
    context_body: dict[str, Any] = {"cluster": cluster, "user": user}
    if namespace:
        context_body["namespace"] = namespace
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": context, "context": context_body}],
        "current-context": context,
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        yaml.safe_dump(document, out, sort_keys=False)
    return target


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
