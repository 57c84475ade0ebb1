"""Throwaway Redis server for the test suite.

Owns one temporary directory (the server's working dir and log) and the single `redis-server`
process it starts there, listening on 127.0.0.1 only (or the addresses given; no unix socket, no persistence, protected
mode on). Nothing system-wide is touched: no Debian service, no /var/lib/redis. Every signal goes
to exactly the recorded PID. `restart()` and `kill()` exist for the outage tests: the server
comes back on the same port, empty, as a restarted Redis without persistence does.

    with RedisServer() as server:
        server.url  # redis://127.0.0.1:PORT/0
"""

from __future__ import annotations

import atexit
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["RedisServer", "RedisServerError", "redis_available"]

_BINARY = "redis-server"


class RedisServerError(RuntimeError):
    """The throwaway server could not be started or asked something."""


def redis_available() -> str | None:
    """None if a server can be started here, otherwise why not (for pytest.skip)."""
    if shutil.which(_BINARY) is None:
        return f"{_BINARY} not found on PATH; run scripts/install-test-deps as root"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


class RedisServer:
    """One redis-server on 127.0.0.1:<free port>, kept in memory only."""

    def __init__(
        self,
        *,
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 10.0,
        bind: tuple[str, ...] = ("127.0.0.1",),
    ) -> None:
        """`bind`: the addresses it listens on; the first is the one `url` names. Tests whose
        processes sit in private network namespaces add the hub's side of their links."""
        self.bind = bind
        self.host = bind[0]
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self.port: int | None = None
        self.base_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RedisServerError("server not started")
        return f"redis://{self.host}:{self.port}/0"

    @property
    def log_path(self) -> Path:
        if self.base_dir is None:
            raise RedisServerError("server not started")
        return self.base_dir / "redis.log"

    # -- lifecycle -------------------------------------------------------

    def start(self) -> RedisServer:
        if self.base_dir is not None:
            raise RedisServerError("server already started")
        if reason := redis_available():
            raise RedisServerError(reason)
        self.base_dir = Path(tempfile.mkdtemp(prefix="sala-redis-"))
        atexit.register(self.stop)
        try:
            # The free port can be taken by someone else before redis binds it; retry a little.
            for attempt in range(3):
                self.port = _free_port()
                try:
                    self._launch()
                    break
                except RedisServerError:
                    if attempt == 2 or "Address already in use" not in _tail(self.log_path, 5):
                        raise
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self) -> None:
        """Stop the server (if it still runs) and start a fresh, empty one on the same port."""
        self._terminate()
        self._launch()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; `restart()` brings it back."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=self.shutdown_timeout)

    def stop(self) -> None:
        """Stop the server and delete its directory. Idempotent; safe after a failed start."""
        atexit.unregister(self.stop)
        self._terminate()
        base, self.base_dir = self.base_dir, None
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
        self.port = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- asking it things ------------------------------------------------

    def command(self, *args: str) -> bytes:
        """Send one command (RESP) on a fresh connection; returns the first line of the reply
        (`+PONG`, `:1`, `$596`...).

        Plain sockets rather than redis-py so this works while an event loop is running."""
        if self.port is None:
            raise RedisServerError("server not started")
        request = f"*{len(args)}\r\n".encode()
        for arg in args:
            data = arg.encode()
            request += b"$%d\r\n%s\r\n" % (len(data), data)
        with socket.create_connection((self.host, self.port), timeout=5) as sock:
            sock.sendall(request)
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        if reply.startswith(b"-"):
            raise RedisServerError(f"{args[0]} failed: {reply.decode(errors='replace').strip()}")
        return reply.split(b"\r\n", 1)[0]

    def flush(self) -> None:
        """Forget every key (between tests sharing the session's server)."""
        self.command("FLUSHALL")

    # -- internals -------------------------------------------------------

    def _launch(self) -> None:
        assert self.base_dir is not None and self.port is not None
        cmd = [
            _BINARY,
            "--port", str(self.port),
            "--bind", *self.bind,
            # Protected mode refuses every address but loopback: the extra addresses are the
            # hub's side of links inside the test's private network namespaces, where nothing
            # else can connect.
            "--protected-mode", "yes" if self.bind == ("127.0.0.1",) else "no",
            "--unixsocket", "",
            # In memory only: a restart comes back empty, as the outage tests want.
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.base_dir),
            "--logfile", str(self.log_path),
            "--daemonize", "no",
            "--loglevel", "warning",
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            cmd, cwd=self.base_dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            self._wait_ready()
        except BaseException:
            self._terminate()
            raise

    def _wait_ready(self) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RedisServerError(
                    f"redis-server exited with {proc.returncode} during startup; log tail:\n"
                    f"{_tail(self.log_path)}"
                )
            try:
                if self.command("PING") == b"+PONG":
                    return
            except (OSError, RedisServerError):
                pass
            time.sleep(0.02)
        raise RedisServerError(
            f"redis-server not ready after {self.startup_timeout}s; log tail:\n"
            f"{_tail(self.log_path)}"
        )

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        # SIGTERM: Redis shuts down at once (nothing to save). Only our PID is signalled.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=self.shutdown_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=self.shutdown_timeout)
