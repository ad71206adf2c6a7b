"""Writing what patchlevel produces (reports, plans, policy files, bundles' side files) without losing anything.

One rule for every file the tool writes:

- a **regular file** (or a new name) is written to a temporary file beside it and renamed into place,
  so a crash, a full disk or an interrupt never leaves half a file, and an existing file is either
  replaced whole or left as it was (its permission bits are kept);
- a **character device or FIFO** (``/dev/stdout``, ``/dev/null``, a named pipe a log shipper reads) is
  written to as a stream: it is never replaced by a regular file.  A FIFO with no reader is refused
  at once instead of blocking;
- a **socket, block device or directory** is refused with one line;
- ``-``, ``/dev/stdout`` and ``/dev/fd/1`` mean standard output itself (written where the shell
  pointed it, appending as ``>>`` would, never replaced); likewise ``/dev/stderr``;
- never over a file the same run reads (``protected``).

Errors are ``OutputError`` (exit 3) with one line naming the path and the reason.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from patchlevel.errors import OutputError

Data = bytes | Iterable[bytes]


def _pieces(data: Data) -> Iterable[bytes]:
    return (data,) if isinstance(data, bytes) else data


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    return exc.strerror or str(exc)


_STANDARD_STREAMS = {
    "-": 1,
    "/dev/stdout": 1,
    "/dev/fd/1": 1,
    "/proc/self/fd/1": 1,
    "/dev/stderr": 2,
    "/dev/fd/2": 2,
    "/proc/self/fd/2": 2,
}


def write_atomically(path: Path, data: Data, protected: Iterable[Path] = ()) -> None:
    """Write ``data`` to ``path`` by the rule in the module docstring."""
    stream = _STANDARD_STREAMS.get(str(path))
    if stream is not None:
        _write_fd(stream, path, data)
        return
    try:
        target = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise OutputError(f"cannot write {path}: {exc}") from None
    if target in {p.resolve() for p in protected}:
        raise OutputError(f"refusing to write the report over an input file: {path}")
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc)}") from None
    if mode is not None and not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):
            raise OutputError(f"{path} is a directory", hint="name a file, or give several formats to write into it")
        if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
            _write_stream(path, target, data, fifo=stat.S_ISFIFO(mode))
            return
        kind = "a socket" if stat.S_ISSOCK(mode) else "a block device" if stat.S_ISBLK(mode) else "not a regular file"
        raise OutputError(f"refusing to write to {path}: it is {kind}")
    _replace(path, target, data, None if mode is None else stat.S_IMODE(mode))


def _replace(path: Path, target: Path, data: Data, keep_mode: int | None) -> None:
    directory = target.parent
    tmp: str | None = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as out:
            for piece in _pieces(data):
                out.write(piece)
            out.flush()
            os.fsync(out.fileno())
        if keep_mode is None:
            umask = os.umask(0)
            os.umask(umask)
            keep_mode = 0o666 & ~umask  # mkstemp creates 0600; a report is an ordinary file
        os.chmod(tmp, keep_mode)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc)}; nothing was changed there") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _write_stream(path: Path, target: Path, data: Data, *, fifo: bool) -> None:
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    try:
        # A FIFO without a reader would block open() forever; non-blocking open fails with ENXIO instead.
        fd = os.open(target, flags | (os.O_NONBLOCK if fifo else 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OutputError(f"cannot write {path}: it is a named pipe with no reader") from None
        raise OutputError(f"cannot write {path}: {_reason(exc)}") from None
    try:
        if fifo:
            os.set_blocking(fd, True)
        with os.fdopen(fd, "wb", closefd=True) as out:
            for piece in _pieces(data):
                out.write(piece)
    except BrokenPipeError:
        raise OutputError(f"cannot write {path}: the reader closed the pipe") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc)}") from None


def _write_fd(fd: int, path: Path, data: Data) -> None:
    import sys

    if fd == 1:
        write_stdout(data)
        return
    try:
        sys.stderr.flush()
        for piece in _pieces(data):
            view = memoryview(piece)
            while view:
                view = view[os.write(fd, view) :]
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc)}") from None


def write_stdout(data: Data) -> None:
    """Write to standard output; a full disk or a closed pipe is one line (OutputError), not a traceback."""
    import sys

    out = sys.stdout.buffer
    try:
        for piece in _pieces(data):
            out.write(piece)
        out.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise OutputError("standard output was closed before the report was written") from None
    except OSError as exc:
        _silence_stdout()
        raise OutputError(f"cannot write to standard output: {_reason(exc)}") from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail a second time."""
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def report_targets(output: Path, extensions: Sequence[str], stem: str = "patchlevel-report") -> list[Path]:
    """Where reports in these formats go: ``output`` itself for one format (unless it is a directory),
    else ``output/stem.ext`` for each."""
    if len(extensions) == 1 and not output.is_dir():
        return [output]
    return [output / f"{stem}.{ext}" for ext in extensions]
