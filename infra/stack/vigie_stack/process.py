"""Background processes of the stack: started detached, tracked by pid file, stopped politely."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


def is_running(pid_file: Path) -> int | None:
    """The pid recorded in ``pid_file`` if that process is alive."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie left by a parent that did not reap it is not running.
    with contextlib.suppress(FileNotFoundError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
            return None
    return pid


def spawn(
    command: Sequence[str],
    *,
    pid_file: Path,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - commands are built by the stack, not from input
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(process.pid))
    return process.pid


def stop(pid_file: Path, *, timeout: float = 30.0, kill: bool = False) -> bool:
    """Stop the process (SIGTERM, then SIGKILL after ``timeout``); ``kill`` goes straight to
    SIGKILL, as a crash would. Returns whether a process was running."""
    pid = is_running(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_running(pid_file) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if is_running(pid_file):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        while is_running(pid_file):
            _reap(pid)
            time.sleep(0.05)
    pid_file.unlink(missing_ok=True)
    return True


def stop_together(pid_files: Sequence[Path], *, timeout: float = 30.0, kill: bool = False) -> bool:
    """Stop several processes at once: signal them all, then wait for each. Stopped one after
    another, the last nodes of a Kafka quorum wait for a quorum that is already gone."""
    for pid_file in pid_files:
        if (pid := is_running(pid_file)) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    stopped = [stop(pid_file, timeout=max(deadline - time.monotonic(), 0.0), kill=kill) for pid_file in pid_files]
    return any(stopped)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str, log_file: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    tail = ""
    if log_file is not None and log_file.is_file():
        last = log_file.read_text(errors="replace").splitlines()[-30:]
        tail = f"\n--- last lines of {log_file} ---\n" + "\n".join(last)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s{tail}")
