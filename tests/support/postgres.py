"""Throwaway PostgreSQL server for the test suite.

Owns one temporary directory (data dir + server log) and the single postmaster
process it starts in it, listening on 127.0.0.1 only. Nothing system-wide is
touched: no Debian cluster, no shared socket directory, no system service.
Stopping signals exactly the recorded PID and deletes the directory. `shut_down()` and
`start_again()` exist for the outage tests: the server goes away and comes back on the same port
with the same data, as a restarted PostgreSQL does.

    with PostgresServer() as pg:
        url = pg.create_database("sala_test")  # postgresql+asyncpg://postgres@127.0.0.1:PORT/...
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["PostgresServer", "PostgresServerError", "find_bin_dir", "postgres_available"]

_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_REQUIRED = ("initdb", "postgres", "psql")
# postgres refuses to run as root; the Debian package creates this account.
_SERVICE_USER = "postgres"
_DB_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    # Empty: no unix socket at all, so nothing lands in /var/run/postgresql or /tmp.
    "unix_socket_directories": "",
    # Durability is worthless for a database deleted at the end of the run.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


class PostgresServerError(RuntimeError):
    """The throwaway server could not be set up, started, or queried."""


def _version_key(path: Path) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in path.parent.name.split("."))
    except ValueError:
        return (-1,)


def find_bin_dir() -> Path | None:
    """Newest PostgreSQL bin dir with initdb, postgres and psql, or None.

    $SALA_TEST_PG_BINDIR overrides; otherwise Debian's versioned dirs, then PATH.
    """
    candidates: list[Path] = []
    if override := os.environ.get("SALA_TEST_PG_BINDIR"):
        candidates.append(Path(override))
    candidates += sorted(_DEBIAN_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    if on_path := shutil.which("initdb"):
        # resolve(): on Debian /usr/bin/* are pg_wrapper links, not the real binaries.
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in _REQUIRED):
            return directory
    return None


def postgres_available() -> str | None:
    """None if a server can be started here, otherwise why not (for pytest.skip)."""
    if find_bin_dir() is None:
        return (
            f"PostgreSQL server binaries ({', '.join(_REQUIRED)}) not found under "
            f"{_DEBIAN_ROOT}/*/bin or PATH; run scripts/install-test-deps as root"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(_SERVICE_USER)
        except KeyError:
            return f"running as root but there is no {_SERVICE_USER!r} user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


class PostgresServer:
    """One postmaster on 127.0.0.1:<free port> with a superuser reachable by trust auth."""

    host = "127.0.0.1"
    user = "postgres"

    def __init__(self, *, startup_timeout: float = 30.0, shutdown_timeout: float = 15.0) -> None:
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self.port: int | None = None
        self.base_dir: Path | None = None
        self._bin: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._run_as: dict[str, Any] = {}

    @property
    def pid(self) -> int | None:
        """PID of the running postmaster, None when not running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def data_dir(self) -> Path:
        return self._require_base() / "data"

    @property
    def log_path(self) -> Path:
        return self._require_base() / "server.log"

    # -- lifecycle -------------------------------------------------------

    def start(self) -> PostgresServer:
        if self._proc is not None:
            raise PostgresServerError("server already started")
        if reason := postgres_available():
            raise PostgresServerError(reason)
        self._bin = find_bin_dir()
        self.base_dir = Path(tempfile.mkdtemp(prefix="sala-pg-"))
        atexit.register(self.stop)
        try:
            self._prepare_user()
            self._initdb()
            self._launch()
        except BaseException:
            self.stop()
            raise
        return self

    def shut_down(self) -> None:
        """Stop the postmaster (fast shutdown) but keep its data and port: `start_again()`."""
        if self.base_dir is None:
            raise PostgresServerError("server not started")
        proc, self._proc = self._proc, None
        self._terminate(proc)

    def start_again(self) -> None:
        """Start the postmaster after `shut_down()`, on the same port with the same data."""
        if self._proc is not None:
            raise PostgresServerError("server already running")
        if self.port is None:
            raise PostgresServerError("server not started")
        self._launch(self.port)

    def stop(self) -> None:
        """Fast-shutdown the postmaster (SIGINT, then SIGKILL) and delete the temp dir.

        Idempotent; safe after a failed start.
        """
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is not None:
            self._terminate(proc)
        base, self.base_dir = self.base_dir, None
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
        self.port = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases -------------------------------------------------------

    def url(self, database: str = "postgres", driver: str = "asyncpg") -> str:
        """SQLAlchemy URL for `database` on this server."""
        if self.port is None:
            raise PostgresServerError("server not started")
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database `name` and return its postgresql+asyncpg URL."""
        self.execute(f'CREATE DATABASE "{self._check_name(name)}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop `name` if it exists, terminating any sessions still connected (PG 13+)."""
        self.execute(f'DROP DATABASE IF EXISTS "{self._check_name(name)}" WITH (FORCE)')

    def execute(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through psql, synchronously; returns psql's unaligned output.

        psql rather than asyncpg so this also works while an event loop is running.
        """
        if self.port is None or self._bin is None:
            raise PostgresServerError("server not started")
        cmd = [
            str(self._bin / "psql"),
            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", database,
            "-c", sql,
        ]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, env=_clean_env(), timeout=60)
        if result.returncode != 0:
            raise PostgresServerError(f"psql exit {result.returncode} on {sql!r}:\n{result.stderr}")
        return result.stdout

    # -- internals -------------------------------------------------------

    def _require_base(self) -> Path:
        if self.base_dir is None:
            raise PostgresServerError("server not started")
        return self.base_dir

    @staticmethod
    def _check_name(name: str) -> str:
        # A strict whitelist keeps both the SQL identifier and the URL path unquoted-safe.
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"database name must match {_DB_NAME.pattern}: {name!r}")
        return name

    def _prepare_user(self) -> None:
        base = self._require_base()
        if os.geteuid() != 0:
            return
        account = pwd.getpwnam(_SERVICE_USER)
        os.chown(base, account.pw_uid, account.pw_gid)
        # extra_groups=[] drops root's supplementary groups, which setuid alone keeps.
        self._run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def _initdb(self) -> None:
        assert self._bin is not None
        base = self._require_base()
        cmd = [
            str(self._bin / "initdb"),
            "-D", str(self.data_dir), "-U", self.user, "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        ]  # fmt: skip
        result = subprocess.run(
            cmd, cwd=base, env=_clean_env(), capture_output=True, text=True, timeout=120,
            **self._run_as,
        )  # fmt: skip
        if result.returncode != 0:
            output = result.stdout + result.stderr
            raise PostgresServerError(f"initdb failed ({result.returncode}):\n{output}")
        # The generated hba also trusts ::1 and replication; keep only the one rule we use.
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text("host all all 127.0.0.1/32 trust\n")
        if self._run_as:
            os.chown(hba, self._run_as["user"], self._run_as["group"])

    def _launch(self, port: int | None = None) -> None:
        """Start the postmaster on `port`, or on a free one (retried if taken meanwhile)."""
        assert self._bin is not None
        # The free port can be taken by someone else before postgres binds it; retry a few times.
        attempts = 3 if port is None else 1
        for attempt in range(attempts):
            self.port = port or _free_port()
            settings = {**_SETTINGS, "port": str(self.port)}
            cmd = [str(self._bin / "postgres"), "-D", str(self.data_dir)]
            for key, value in settings.items():
                cmd += ["-c", f"{key}={value}"]
            with self.log_path.open("ab") as log:
                self._proc = subprocess.Popen(
                    cmd, cwd=self._require_base(), env=_clean_env(),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    **self._run_as,
                )  # fmt: skip
            try:
                self._wait_ready()
                return
            except PostgresServerError:
                proc, self._proc = self._proc, None
                self._terminate(proc)
                if attempt == attempts - 1 or "already in use" not in _tail(self.log_path, 10):
                    raise

    def _wait_ready(self) -> None:
        # As pg_ctl does: postmaster.pid line 8 says "ready" once connections are accepted.
        proc = self._proc
        assert proc is not None
        pidfile = self.data_dir / "postmaster.pid"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise PostgresServerError(
                    f"postgres exited with {proc.returncode} during startup; log tail:\n"
                    f"{_tail(self.log_path)}"
                )
            with contextlib.suppress(OSError):
                lines = pidfile.read_text().splitlines()
                if len(lines) >= 8 and lines[0] == str(proc.pid) and lines[7].strip() == "ready":
                    return
            time.sleep(0.02)
        raise PostgresServerError(
            f"postgres not ready after {self.startup_timeout}s; log tail:\n{_tail(self.log_path)}"
        )

    def _terminate(self, proc: subprocess.Popen[bytes] | None) -> None:
        if proc is None or proc.poll() is not None:
            return
        # SIGINT = "fast" shutdown: abort sessions, checkpoint, exit. Only our PID is signalled.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=self.shutdown_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=self.shutdown_timeout)


def _clean_env() -> dict[str, str]:
    # PGDATA/PGPORT/PGHOST/PGOPTIONS... from the caller's shell would redirect our commands.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env
