"""Request bodies are bounded while they are read: chunked bodies, multipart parts and every
route, before any checksum or parsing, and nothing is spooled to disk past the limit."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.types import Message

from sala.config import Settings
from tests.conftest import Api, LiveServer, start_server, stop_server
from tests.xmlutil import failed, parse


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what is under test happens before any database is involved."""
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


CHUNK = 64 * 1024


class Body:
    """An ASGI request body of `total` bytes sent in chunks, counting what the app read."""

    def __init__(self, total: int, first: bytes = b"") -> None:
        self.remaining = total
        self.first = first
        self.read = 0

    async def receive(self) -> Message:
        if self.first:
            chunk, self.first = self.first, b""
        else:
            chunk = b"x" * min(CHUNK, self.remaining)
        self.remaining -= len(chunk)
        self.read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": self.remaining > 0}


async def call(
    app: Starlette,
    path: str,
    body: Body,
    content_type: str,
    query: bytes = b"",
    length: int | None = None,
) -> tuple[int, bytes]:
    """One POST through the whole app; without `length`, no Content-Length (as chunked)."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"content-type", content_type.encode()), (b"host", b"sala.test")]
        + ([(b"content-length", str(length).encode())] if length is not None else []),
        "client": ("127.0.0.1", 1234),
        "server": ("sala.test", 80),
        "app": app,
    }
    await app(scope, body.receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], content


MULTIPART = "multipart/form-data; boundary=b0undary"
PART_HEAD = (
    b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
    b"Content-Type: application/pdf\r\n\r\n"
)


@pytest.mark.parametrize(
    ("content_type", "first"),
    [
        (MULTIPART, PART_HEAD),
        ("application/x-www-form-urlencoded", b"name="),
        ("application/xml", b"<modules>"),
        ("application/octet-stream", b""),
    ],
)
async def test_unsigned_chunked_api_body_stops_at_the_limit(
    app: Starlette, settings: Settings, content_type: str, first: bytes
) -> None:
    limit = settings.max_request_bytes
    body = Body(64 * limit, first)
    status, content = await call(app, "/bigbluebutton/api/create", body, content_type)
    assert status == 200
    root = parse(content.decode())
    assert root.findtext("messageKey") == "sizeError", content
    assert body.read <= limit + CHUNK
    # Nothing was spooled: no temporary file holds the body.
    assert not list(_large_files(Path(settings.data_dir)))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/room/upload", MULTIPART), ("/demo", "application/x-www-form-urlencoded")],
)
async def test_other_routes_stop_reading_at_their_limit(
    app: Starlette, settings: Settings, path: str, content_type: str
) -> None:
    body = Body(200 * 1024 * 1024, PART_HEAD if "multipart" in content_type else b"a=")
    status, _ = await call(app, path, body, content_type)
    # /room/upload without a session and /demo while it is off refuse at once; either way
    # at most the upload limit was read.
    assert status in (401, 403, 404, 405, 413)
    assert body.read <= settings.presentation_max_mb * 1024 * 1024 + 64 * 1024 + CHUNK


def _large_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and path.stat().st_size > 1024 * 1024:
            yield path


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    process, server = start_server(data_dir, {"SALA_MAX_REQUEST_BYTES": str(256 * 1024)})
    try:
        yield server
    finally:
        stop_server(process)


def test_chunked_multipart_over_the_wire_is_refused_before_the_checksum(
    live: LiveServer,
) -> None:
    """A real HTTP/1.1 client streaming a chunked multipart body with no checksum at all: the
    server answers sizeError once the limit is passed, without waiting for the rest."""
    host, port = live.api_url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /bigbluebutton/api/create HTTP/1.1\r\nHost: sala\r\n"
            b"Content-Type: multipart/form-data; boundary=b0undary\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"y" * CHUNK
        sent = 0
        answer = b""
        sock.settimeout(0.05)
        for _ in range(1024):  # at most 64 MiB, far past the 256 KiB limit
            data = PART_HEAD if sent == 0 else chunk
            try:
                sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(data)
            try:
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            if b"</response>" in answer:
                break
        sock.settimeout(10)
        while b"</response>" not in answer:
            try:
                more = sock.recv(65536)
            except TimeoutError:
                break
            if not more:
                break
            answer += more
    assert b"<messageKey>sizeError</messageKey>" in answer, answer[:500]
    assert sent < 8 * 1024 * 1024, f"the server read {sent} bytes before answering"
    assert not list(_large_files(live.data_dir))


async def test_declared_length_over_the_limit_is_refused_unread(
    app: Starlette, settings: Settings
) -> None:
    body = Body(10)
    _, content = await call(
        app,
        "/bigbluebutton/api/create",
        body,
        "application/xml",
        length=settings.max_request_bytes + 1,
    )
    assert parse(content.decode()).findtext("messageKey") == "sizeError"
    assert body.read == 0


async def test_bodies_under_the_limit_still_work(api: Api) -> None:
    query = api.query("create", {"name": "Room", "meetingID": "small-body"})
    xml_body = "<modules><module name='presentation'></module></modules>"
    response = await api.client.post(
        f"/bigbluebutton/api/create?{query}",
        content=xml_body,
        headers={"content-type": "application/xml"},
    )
    assert response.status_code == 200
    assert "SUCCESS" in response.text
    failed(
        await api.client.post(
            f"/bigbluebutton/api/create?{query}",
            content="x" * (api.services.settings.max_request_bytes + 1),
            headers={"content-type": "application/xml"},
        ),
        "sizeError",
    )
