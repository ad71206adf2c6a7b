"""HTTPS plumbing: TLS per connection, HTTP/1.1 keep-alive, gzip and chunked bodies, and the
faults that act on the connection itself (reset, hang).  What to answer is decided elsewhere,
by an ``Answerer`` (the ``KubeAPIServer``).
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import struct
import threading
import uuid
import zlib
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from .faults import Action
from .statuses import Response

GZIP_THRESHOLD = 128 * 1024  # kube-apiserver compresses responses from this size on (gzip level 1)
_CHUNK = 64 * 1024


class Answerer(Protocol):
    gzip: bool

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, peer_cert: dict[str, Any] | None
    ) -> Response | Action:
        """A response, or RESET/HANG for the transport to carry out on the connection."""
        ...


class _Abort(Exception):
    """The connection is to be dropped without an answer."""


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], *, answerer: Answerer, context: ssl.SSLContext) -> None:
        self.answerer = answerer
        self.context = context
        self.stopping = threading.Event()
        self._connections: set[ssl.SSLSocket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's own thread, not in the accept loop.
        request.settimeout(10)
        try:
            connection = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        connection.settimeout(None)
        with self._connections_lock:
            self._connections.add(connection)
        try:
            _Handler(connection, client_address, self)
        except (_Abort, ssl.SSLError, OSError):
            pass  # dropped on purpose, or the client went away mid-request
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            connection.close()

    def close_connections(self) -> None:
        """Wake every connection thread (idle keep-alive, or hanging on purpose) and end it."""
        self.stopping.set()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: TLSServer
    connection: ssl.SSLSocket

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the answerer records every request

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        peer = self.connection.getpeercert() or None
        outcome = self.server.answerer.answer(method, self.path, headers, body, peer)
        if outcome is Action.RESET:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise _Abort
        if outcome is Action.HANG:
            self._hang()
            raise _Abort
        assert isinstance(outcome, Response)
        self._send(outcome, gzip="gzip" in headers.get("accept-encoding", ""))

    def _hang(self) -> None:
        """Answer nothing; return once the client closes its end or the server stops."""
        connection = self.connection
        while not self.server.stopping.is_set():
            readable, _, _ = select.select([connection], [], [], 0.05)
            if not readable:
                continue
            connection.settimeout(0.05)
            try:
                if not connection.recv(1):
                    return
            except TimeoutError:
                continue
            except (ssl.SSLError, OSError):
                return
            finally:
                connection.settimeout(None)

    def _send(self, response: Response, *, gzip: bool) -> None:
        """Small bodies go with a Content-Length; big ones are streamed chunked (and gzipped)."""
        chunks: Iterator[bytes] = iter((response.body,) if isinstance(response.body, bytes) else response.body)
        buffered = bytearray()
        for chunk in chunks:
            buffered += chunk
            if len(buffered) >= GZIP_THRESHOLD:
                break
        else:
            self._start(response, [("Content-Length", str(len(buffered)))])
            self.wfile.write(bytes(buffered))
            return
        compressor = zlib.compressobj(1, zlib.DEFLATED, 31) if gzip and self.server.answerer.gzip else None
        extra = [("Transfer-Encoding", "chunked")]
        if compressor is not None:
            extra += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self._start(response, extra)
        pending = buffered
        for chunk in chunks:
            pending += chunk
            if len(pending) >= _CHUNK:
                self._write_chunk(compressor.compress(pending) if compressor else bytes(pending))
                pending = bytearray()
        tail = bytes(pending)
        if compressor is not None:
            tail = compressor.compress(tail) + compressor.flush()
        self._write_chunk(tail)
        self.wfile.write(b"0\r\n\r\n")

    def _start(self, response: Response, extra: list[tuple[str, str]]) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        if response.content_type.startswith("text/plain"):
            self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (*response.headers, *extra):
            self.send_header(name, value)
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
