"""`sala serve` stops within SALA_SHUTDOWN_TIMEOUT_SECONDS whatever its clients do.

Told to stop, uvicorn waits for the requests in progress before the application's own shutdown.
A client that sends a request's headers and never its body (a slow or hostile one, or a link
that died mid-upload) would keep that wait, and the process, going until systemd's kill.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import start_server

TIMEOUT_S = 2
MARGIN_S = 10.0
"""The application's own shutdown after the wait (rooms, worker child, database): ~0.3 s here."""


def test_a_request_whose_body_never_comes_does_not_hold_the_stop(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {"SALA_SHUTDOWN_TIMEOUT_SECONDS": str(TIMEOUT_S), "SALA_LOG_LEVEL": "info"}
    process, server = start_server(data_dir, env)
    port = int(server.base_url.split(":")[2].split("/")[0])
    stalled = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S + MARGIN_S)
    try:
        # create reads its body before anything else: this one announces 1,000 bytes, sends 9.
        stalled.sendall(
            b"POST /bigbluebutton/api/create?name=x&meetingID=stalled HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nContent-Type: application/xml\r\nContent-Length: 1000\r\n\r\n"
            b"<modules>"
        )
        time.sleep(0.5)  # for sala to be in that request (checked below, from its log)
        asked = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=TIMEOUT_S + MARGIN_S)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - asked
        # The stalled client is let go: its connection closes.
        while code is not None and stalled.recv(4096):
            pass
    finally:
        stalled.close()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    log = (tmp_path / f"server-{port}.log").read_text()
    assert code == -signal.SIGTERM, f"still running {took:.1f} s after SIGTERM\n{log[-3000:]}"
    # It waited for the request as long as it was told to, then cancelled it...
    assert took >= TIMEOUT_S
    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in log
    # ...and went on with its orderly shutdown (not a kill).
    assert "Application shutdown complete." in log
