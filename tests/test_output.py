"""Writing reports: atomic for regular files, streamed to devices and FIFOs, refused elsewhere, and
nothing lost on a full disk (a real tmpfs that fills up, in a private mount namespace)."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from patchlevel.cli import main
from patchlevel.errors import OutputError
from patchlevel.output import report_targets, write_atomically

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-cluster"


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("patchlevel: error")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_regular_file_is_replaced_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomically(target, [b"new ", b"report"])
    assert target.read_bytes() == b"new report"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_bytes(b"old")

    def pieces() -> object:
        yield b"half"
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="no space left on the device; nothing was changed there"):
        write_atomically(target, pieces())  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_character_device_is_written_as_a_stream_not_replaced() -> None:
    write_atomically(Path("/dev/null"), b"report")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dev_full_is_one_line() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with pytest.raises(OutputError, match="cannot write /dev/full: no space left on the device"):
        write_atomically(Path("/dev/full"), b"x" * 100_000)


def test_fifo_without_a_reader_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="named pipe with no reader"):
        write_atomically(fifo, b"report")
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO: never replaced by a file


def test_fifo_with_a_reader_gets_the_report(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as pipe:  # blocks until a writer opens: a reader waiting, as `cat pipe &` does
            received.append(pipe.read())

    thread = threading.Thread(target=reader)
    thread.start()
    for _ in range(1000):  # until the reader's open() has registered it (no timing is asserted)
        try:
            write_atomically(fifo, [b"line 1\n", b"line 2\n"])
            break
        except OutputError as exc:
            assert "no reader" in str(exc)
            threading.Event().wait(0.01)
    thread.join(10)
    assert received == [b"line 1\nline 2\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(OutputError, match="it is a socket"):
            write_atomically(path, b"report")
        assert stat.S_ISSOCK(path.stat().st_mode)
    finally:
        server.close()


def test_directory_and_protected_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory"):
        write_atomically(tmp_path, b"x")
    source = tmp_path / "nodes.json"
    source.write_text("{}")
    link = tmp_path / "alias.json"
    link.symlink_to(source)
    with pytest.raises(OutputError, match="over an input file"):
        write_atomically(link, b"x", protected=[source])
    assert source.read_text() == "{}"


def test_report_targets() -> None:
    assert report_targets(Path("/nonexistent/r.json"), ["json"]) == [Path("/nonexistent/r.json")]
    assert report_targets(Path("/tmp"), ["json"]) == [Path("/tmp/patchlevel-report.json")]
    assert report_targets(Path("/nonexistent"), ["json", "md"]) == [
        Path("/nonexistent/patchlevel-report.json"),
        Path("/nonexistent/patchlevel-report.md"),
    ]


@pytest.mark.parametrize("target", ["/dev/stdout", "-"])
def test_audit_to_standard_output_appends_where_the_shell_points(tmp_path: Path, target: str) -> None:
    """`-o /dev/stdout >> file` appends to the file; it is never replaced behind the shell's back."""
    out = tmp_path / "out.md"
    out.write_text("earlier line\n")
    with open(out, "ab") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "patchlevel", "audit", str(DEMO), "--as-of", "2026-11-27", "--format", "markdown",
             "-o", target],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the demo has failing findings
    text = out.read_text()
    assert text.startswith("earlier line\n## patchlevel: demo-cluster")


def test_audit_onto_a_fifo_without_reader_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["audit", str(DEMO), "--as-of", "2026-11-27", "--format", "json", "-o", str(fifo)]) == 3
    assert "named pipe with no reader" in one_line(capsys.readouterr().err)


def test_stdout_on_a_full_device_is_one_line() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "patchlevel", "audit", str(DEMO), "--as-of", "2026-11-27", "--format", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
    assert done.returncode == 3
    assert "cannot write to standard output: no space left on the device" in one_line(done.stderr)


def _unshare() -> str | None:
    tool = shutil.which("unshare")
    if tool is None:
        return None
    probe = subprocess.run([tool, "-rm", "true"], capture_output=True, timeout=30)
    return tool if probe.returncode == 0 else None


def test_disk_full_keeps_the_previous_report(tmp_path: Path) -> None:
    """A real full filesystem: a 16 KiB tmpfs in a private mount namespace, the HTML report far larger."""
    tool = _unshare()
    if tool is None:
        pytest.skip("unshare -rm (a private mount namespace) is not available here")
    mount = tmp_path / "tiny"
    mount.mkdir()
    script = f"""
set -e
mount -t tmpfs -o size=16k tmpfs {mount}
printf 'previous report' > {mount}/report.html
set +e
{sys.executable} -m patchlevel audit {DEMO} --as-of 2026-11-27 --format html -o {mount}/report.html
echo "exit=$?"
cat {mount}/report.html; echo
ls -A {mount}
"""
    done = subprocess.run(
        [tool, "-rm", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "exit=3"
    assert lines[1] == "previous report"  # untouched
    assert lines[2:] == ["report.html"]  # no partial temporary file left behind
    assert "no space left on the device" in one_line(done.stderr)
