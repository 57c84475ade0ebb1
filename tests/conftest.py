"""Shared fixtures: settings, stores on SQLite and PostgreSQL, an in-process API client driven
by a manual clock, and a real sala server in a subprocess for third-party client libraries."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from sala.app import build_app
from sala.clock import ManualClock, SystemClock
from sala.config import Settings, load_settings
from sala.services import Services
from sala.store.db import Database
from tests.support.postgres import PostgresServer, postgres_available
from tests.support.receiver import Receiver
from tests.support.redis import RedisServer, redis_available

SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- databases --
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    reason = postgres_available()
    if reason is not None:
        pytest.fail(f"PostgreSQL is needed for the test suite: {reason}")
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("sala_test")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that takes this runs once on SQLite and once on a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    _truncate_postgres(url)


def _truncate_postgres(url: str) -> None:
    import asyncio

    async def run() -> None:
        db = Database(url)
        try:
            async with db.write() as conn:
                tables = (
                    (
                        await conn.execute(
                            text(
                                "select tablename from pg_tables where schemaname='public' "
                                "and tablename <> 'alembic_version'"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
                if tables:
                    await conn.execute(
                        text(f"truncate {', '.join(tables)} restart identity cascade")
                    )
        finally:
            await db.dispose()

    asyncio.run(run())


# ---------------------------------------------------------------------------------- redis --
@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    reason = redis_available()
    if reason is not None:
        # CI installs it (scripts/install-test-deps): a skip there would hide a missing step.
        if os.environ.get("CI"):
            pytest.fail(f"Redis is needed for the test suite: {reason}")
        pytest.skip(reason)
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.flush()
    return redis_server.url


# ------------------------------------------------------------------------------ settings --
@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        secret=SECRET,
        data_dir=tmp_path / "data",
        database_url=database_url,
        public_url="https://sala.test",
        webhook_allow="127.0.0.1",
        media=False,  # tests/media and tests/e2e/media start Janus themselves
    )


@pytest.fixture
def clock() -> ManualClock:
    # Starts at the real time, so tokens it stamps (JWT exp) verify with real-time libraries.
    return ManualClock(SystemClock().now_ms())


# ------------------------------------------------------------------------- in-process app --
@dataclass
class Api:
    """Builds signed API requests against the in-process app."""

    client: httpx.AsyncClient
    secret: str
    services: Services

    def query(
        self, call: str, params: dict[str, str] | list[tuple[str, str]], algorithm: str = "sha1"
    ) -> str:
        query = urlencode(params)
        digest = hashlib.new(algorithm, f"{call}{query}{self.secret}".encode()).hexdigest()
        return f"{query}&checksum={digest}" if query else f"checksum={digest}"

    async def get(
        self,
        call: str,
        params: dict[str, str] | list[tuple[str, str]] | None = None,
        algorithm: str = "sha1",
        **kwargs: object,
    ) -> httpx.Response:
        url = f"/bigbluebutton/api/{call}?{self.query(call, params or {}, algorithm)}"
        return await self.client.get(url, **kwargs)  # type: ignore[arg-type]

    async def create(
        self, meeting_id: str | None = None, **params: str
    ) -> tuple[str, httpx.Response]:
        meeting_id = meeting_id or f"m-{uuid.uuid4()}"
        response = await self.get(
            "create",
            {
                "name": "Room",
                "meetingID": meeting_id,
                "attendeePW": "ap",
                "moderatorPW": "mp",
                **params,
            },
        )
        return meeting_id, response

    async def room_session(self, meeting_id: str, name: str, role: str = "VIEWER") -> str:
        """Join through the API and open the room session a browser would; its token."""
        joined = await self.get(
            "join", {"meetingID": meeting_id, "fullName": name, "role": role, "redirect": "false"}
        )
        token = ET.fromstring(joined.content).findtext("session_token")
        assert token, joined.text
        session = await self.services.sessions.open_room_session(token)
        return session.token


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[Starlette]:
    application = build_app(settings, clock, run_reaper=False, run_workers=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: Starlette, settings: Settings) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://sala.test") as client:
        yield Api(client, settings.shared_secret, app.state.services)


# ----------------------------------------------------------------------- a real server --
@dataclass
class LiveServer:
    base_url: str
    api_url: str
    secret: str
    data_dir: Path
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    data_dir: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], LiveServer]:
    port = free_port()
    env = {
        **os.environ,
        "SALA_DATA_DIR": str(data_dir),
        "SALA_SECRET": SECRET,
        "SALA_LOG_LEVEL": "warning",
        "SALA_MEDIA": "false",
        **(extra_env or {}),
    }
    log = open(data_dir.parent / f"server-{port}.log", "wb")  # noqa: SIM115 - outlives this call
    process = subprocess.Popen(
        [sys.executable, "-m", "sala", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"sala exited early: {(data_dir.parent / f'server-{port}.log').read_text()}"
            )
        try:
            if httpx.get(f"{base}/bigbluebutton/api", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        process.kill()
        raise RuntimeError("sala did not start within 30 s")
    server = LiveServer(
        base_url=f"{base}/bigbluebutton/",
        api_url=f"{base}/bigbluebutton/api/",
        secret=SECRET,
        data_dir=data_dir,
        pid=process.pid,
    )
    return process, server


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("live") / "data"
    data_dir.mkdir()
    # Client-library tests register hooks on loopback receivers.
    process, server = start_server(data_dir, {"SALA_WEBHOOK_ALLOW": "127.0.0.1"})
    try:
        yield server
    finally:
        stop_server(process)


# ------------------------------------------------------------------- webhook receivers --
@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver on loopback that records every request."""
    r = Receiver().start()
    yield r
    r.stop()
