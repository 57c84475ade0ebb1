"""Secrets never reach the log (issue 12, finding 11).

A real `sala serve` (and the `sala worker` it starts) runs at debug level, which is where the
libraries under sala (uvicorn, websockets, httpx/httpcore, aiosqlite, SQLAlchemy) say the most.
The test drives everything that carries a credential: create with passwords, join through the
hand-off (one-time session token, then the room cookie), the room's WebSocket (cookie, and the
`?session=` form), a webhook with its authToken and `?checksum=`, the analytics callback's JWT.
Then it greps the log for every one of those values.

The log goes to stderr, the start banner to stdout: the banner keeps the shared secret (as
`bbb-conf --secret` prints it), the log never has it. The two are captured separately here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from websockets.frames import Frame, Opcode
from websockets.sync.client import ClientConnection, connect

from sala.config import load_settings
from sala.logs import RedactingFormatter, Redactor, configured_secrets
from tests.conftest import ROOT, free_port
from tests.support.receiver import Receiver


# ------------------------------------------------------------------- the redactor alone --
@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        (
            'HTTP Request: POST http://127.0.0.1:9/hook?checksum=4f1c2a9b&x=1 "HTTP/1.1 200 OK"',
            ["4f1c2a9b"],
            ["http://127.0.0.1:9/hook?", "x=1", "200 OK"],
        ),
        (
            "/bigbluebutton/api/join?meetingID=m1&password=Pw-d3adbeef&fullName=Ada&checksum=abc123ff",
            ["Pw-d3adbeef", "abc123ff"],
            ["meetingID=m1", "fullName=Ada"],
        ),
        (
            "create attendeePW=att-Secret1 moderatorPW=mod-Secret2 name=Room",
            ["att-Secret1", "mod-Secret2"],
            ["name=Room"],
        ),
        (
            "GET /room/join?sessionToken=q1w2e3r4t5y6u7i8 HTTP/1.1",
            ["q1w2e3r4t5y6u7i8"],
            ["/room/join"],
        ),
        ("< GET /room/ws?session=zz9yy8xx7ww6 HTTP/1.1", ["zz9yy8xx7ww6"], ["/room/ws"]),
        (
            "< Cookie: sala_room=abcdefghij0123456789; other=1",
            ["abcdefghij0123456789", "other=1"],
            ["Cookie"],
        ),
        (
            "> set-cookie: sala_room=abcdefghij0123456789; Path=/",
            ["abcdefghij0123456789"],
            ["set-cookie"],
        ),
        ("Authorization: Bearer tok-0987654321abcdef", ["tok-0987654321abcdef"], ["Authorization"]),
        (
            "headers=[(b'Host', b'x'), (b'Authorization', b'Bearer tok-0987654321abcdef')]",
            ["tok-0987654321abcdef"],
            ["b'Host', b'x'"],
        ),
        (
            "{'authToken': 'hooktoken123456', 'url': 'http://h/a'}",
            ["hooktoken123456"],
            ["http://h/a"],
        ),
        (
            '{"janus":"create","apisecret":"0011223344556677"}',
            ["0011223344556677"],
            ['"janus":"create"'],
        ),
        (
            "signed eyJhbGciOiJIUzUxMiJ9.eyJleHAiOjE3MDB9.c2lnbmF0dXJlLXZhbHVl done",
            ["eyJhbGciOiJIUzUxMiJ9", "c2lnbmF0dXJlLXZhbHVl"],
            ["signed", "done"],
        ),
        ("form signed_parameters=abc.def.ghi&x=1", ["abc.def.ghi"], ["x=1"]),
        (
            "postgresql+asyncpg://sala:db-Passw0rd@127.0.0.1/sala",
            ["db-Passw0rd"],
            ["postgresql+asyncpg://sala:", "@127.0.0.1/sala"],
        ),
        ("the secret is THE-SHARED-SECRET-VALUE, really", ["THE-SHARED-SECRET-VALUE"], ["really"]),
        (
            "GET https://s3.example/deck.pdf?X-Amz-Credential=AKIAEXAMPLE%2F1&X-Amz-Signature=9f8e7d6c",
            ["AKIAEXAMPLE", "9f8e7d6c"],
            ["https://s3.example/deck.pdf?X-Amz-Credential=***"],
        ),
    ],
)
def test_redactor(text: str, gone: list[str], kept: list[str]) -> None:
    out = Redactor(["THE-SHARED-SECRET-VALUE"]).redact(text)
    for value in gone:
        assert value not in out, out
    for value in kept:
        assert value in out, out


def test_tracebacks_and_websocket_frames_are_redacted() -> None:
    formatter = RedactingFormatter(Redactor(["THE-SHARED-SECRET-VALUE"]))
    try:
        raise ValueError("bad join?password=Pw-d3adbeef with THE-SHARED-SECRET-VALUE")
    except ValueError:
        failure = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = formatter.format(failure)
    assert "Traceback" in text and "Pw-d3adbeef" not in text and "THE-SHARED" not in text
    frame = Frame(Opcode.TEXT, b'{"type":"welcome","credential":"turn-secret-xyz"}')
    sent = logging.LogRecord("t", logging.DEBUG, __file__, 1, "> %s", (frame,), None)
    assert formatter.format(sent).endswith("> TEXT [49 bytes]")


def test_the_redis_password_is_a_secret_too(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, secret="s" * 32, redis_url="redis://:Redis-Pw-4c1d@10.0.0.7:6379/0"
    )
    redactor = Redactor(configured_secrets(settings))
    # redis-py's errors name the server, not the URL: the password alone must go too.
    out = redactor.redact("AUTH failed with Redis-Pw-4c1d on 10.0.0.7:6379")
    assert "Redis-Pw-4c1d" not in out and "10.0.0.7:6379" in out


# --------------------------------------------------------------------- a real server --
@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    secret: str
    stdout: Path
    stderr: Path
    sent: list[str] = field(default_factory=list)
    """Every value the test sent or received that must never show in the log."""

    def signed(self, call: str, params: dict[str, str]) -> str:
        query = urlencode(params)
        digest = hashlib.sha1(f"{call}{query}{self.secret}".encode()).hexdigest()
        self.sent.append(digest)
        return f"{self.base}/bigbluebutton/api/{call}?{query}&checksum={digest}"

    def call(self, call: str, **params: str) -> str:
        response = httpx.get(self.signed(call, params), timeout=10)
        assert "<returncode>SUCCESS</returncode>" in response.text, response.text
        return response.text


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def welcomed(ws: ClientConnection) -> None:
    while json.loads(ws.recv(timeout=10))["type"] != "welcome":
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALA_")}
    env.update(
        SALA_DATA_DIR=str(data_dir),  # no SALA_SECRET: sala generates and keeps one
        SALA_LOG_LEVEL="debug",
        SALA_MEDIA="false",
        SALA_WEBHOOK_ALLOW="127.0.0.1",
    )
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "sala", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=err,
            cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, stderr.read_text()
        try:
            return httpx.get(f"{base}/bigbluebutton/api", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert wait_until(up, 30), "sala did not start"
        secret = (data_dir / "secret").read_text().strip()
        yield Server(process, base, secret, stdout, stderr, [secret])
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_no_secret_reaches_the_log_at_debug_level(server: Server) -> None:
    receiver = Receiver().start()
    try:
        attendee_pw, moderator_pw = f"att-{secrets.token_hex(6)}", f"mod-{secrets.token_hex(6)}"
        server.sent += [attendee_pw, moderator_pw]
        hooks = server.call("hooks/create", callbackURL=receiver.url("/hook"))
        auth_token = hooks.split("<authToken>")[1].split("</authToken>")[0]
        server.sent.append(auth_token)
        server.call(
            "create",
            name="Secret room",
            meetingID="redaction",
            attendeePW=attendee_pw,
            moderatorPW=moderator_pw,
            **{"meta_analytics-callback-url": receiver.url("/analytics")},
        )

        with httpx.Client(timeout=10) as browser:
            joined = browser.get(
                server.signed(
                    "join", {"meetingID": "redaction", "fullName": "Ada", "password": moderator_pw}
                )
            )
            assert joined.status_code == 302, joined.text
            location = joined.headers["location"]
            [session_token] = parse_qs(urlsplit(location).query)["sessionToken"]
            server.sent.append(session_token)
            handoff = browser.get(location)
            assert handoff.status_code == 303, handoff.text
            cookie = handoff.cookies["sala_room"]
            server.sent.append(cookie)
            assert browser.get(server.base + handoff.headers["location"]).status_code == 200

        ws_base = server.base.replace("http", "ws") + "/room/ws"
        with connect(ws_base, additional_headers={"Cookie": f"sala_room={cookie}"}) as ws:
            ws.send(json.dumps({"type": "hello", "version": 1}))
            welcomed(ws)
        with connect(f"{ws_base}?session={cookie}") as ws:
            ws.send(json.dumps({"type": "hello", "version": 1}))
            welcomed(ws)

        server.call("end", meetingID="redaction")
        assert wait_until(
            lambda: (
                bool(receiver.accepted("/analytics"))
                and {"meeting-ended", "user-joined"}
                <= {
                    json.loads(r.form["event"][0])[0]["data"]["id"]
                    for r in receiver.accepted("/hook")
                }
            ),
            30,
        ), "the deliveries never arrived"
        for request in receiver.accepted():
            server.sent += request.query.get("checksum", [])
            server.sent.append(request.headers["authorization"].removeprefix("Bearer "))
    finally:
        receiver.stop()
        server.process.terminate()
        server.process.wait(timeout=15)

    log = server.stderr.read_text()
    banner = server.stdout.read_text()
    # The run really logged at debug level, libraries included, and the deliveries went out.
    assert " DEBUG " in log and "HTTP Request: POST" in log, log[-3000:]
    assert f"Secret: {server.secret}" in banner
    leaked = {value for value in server.sent if value and value in log}
    assert not leaked, f"in the log: {sorted(leaked)}"
