"""Webhooks under faults, against real sala processes: a crash in the middle of deliveries, and a
slow receiver next to a fast one."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.conftest import SECRET, start_server, stop_server
from tests.support.receiver import Received, Receiver

ENV = {"SALA_WEBHOOK_ALLOW": "127.0.0.1", "SALA_WEBHOOK_TIMEOUT_SECONDS": "2"}


def call(base: str, name: str, params: dict[str, str]) -> str:
    query = urlencode(params)
    digest = hashlib.sha1(f"{name}{query}{SECRET}".encode()).hexdigest()
    response = httpx.get(f"{base}api/{name}?{query}&checksum={digest}", timeout=10)
    assert "<returncode>SUCCESS</returncode>" in response.text, response.text
    return response.text


def wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def received_events(requests: list[Received]) -> list[tuple[str, str, str]]:
    out = []
    for request in requests:
        [event] = json.loads(request.form["event"][0])
        data = event["data"]
        out.append(
            (
                data["attributes"]["meeting"]["external-meeting-id"],
                data["id"],
                request.headers["x-sala-delivery-id"],
            )
        )
    return out


def test_crash_in_the_middle_of_deliveries_loses_nothing(tmp_path: Path) -> None:
    receiver = Receiver(delay_s=0.05).start()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    process, server = start_server(data_dir, ENV)
    try:
        call(server.base_url, "hooks/create", {"callbackURL": receiver.url()})
        meetings = [f"crash-{i}" for i in range(15)]
        for meeting_id in meetings:
            call(server.base_url, "create", {"name": "Room", "meetingID": meeting_id})
            call(server.base_url, "end", {"meetingID": meeting_id})
        assert wait_until(lambda: len(receiver.accepted()) >= 3, 20)
        os.kill(process.pid, signal.SIGKILL)  # no shutdown, deliveries in flight
        process.wait(timeout=10)
        delivered_before_crash = len(receiver.accepted())
        assert delivered_before_crash < 2 * len(meetings), "the crash came too late to matter"

        process, server = start_server(data_dir, ENV)
        expected = {(m, kind) for m in meetings for kind in ("meeting-created", "meeting-ended")}
        assert wait_until(
            lambda: expected <= {(m, k) for m, k, _ in received_events(receiver.accepted())}, 60
        ), "some events never arrived after the restart"
    finally:
        stop_server(process)
        receiver.stop()

    events = received_events(receiver.accepted())
    by_delivery: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for meeting_id, kind, delivery_id in events:
        by_delivery[delivery_id].add((meeting_id, kind))
    # A repeat is the same delivery again (same id), never a different copy of the event.
    assert all(len(v) == 1 for v in by_delivery.values())
    assert len(by_delivery) == len(expected)
    for meeting_id in meetings:
        kinds = [k for m, k, _ in events if m == meeting_id]
        assert kinds.index("meeting-created") < kinds.index("meeting-ended")


def test_a_slow_receiver_does_not_hold_back_the_others(tmp_path: Path) -> None:
    slow = Receiver(delay_s=2.0).start()
    fast = Receiver().start()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    process, server = start_server(data_dir, ENV)
    try:
        call(server.base_url, "hooks/create", {"callbackURL": slow.url()})
        call(server.base_url, "hooks/create", {"callbackURL": fast.url()})
        started = time.monotonic()
        for i in range(5):
            call(server.base_url, "create", {"name": "Room", "meetingID": f"slow-{i}"})
        api_seconds = time.monotonic() - started
        assert wait_until(lambda: len(fast.accepted()) == 5, 10)
        fast_done = time.monotonic() - started
        assert len(slow.accepted()) < 5  # still working through its 2 s answers
    finally:
        stop_server(process)
        slow.stop()
        fast.stop()
    # The API answered while the slow receiver was busy, and the fast one was not made to wait.
    assert api_seconds < 2.0
    assert fast_done < 2.0


def test_stopping_sala_keeps_pending_deliveries(tmp_path: Path) -> None:
    receiver = Receiver()
    receiver.respond = lambda _r: 503
    receiver.start()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    process, server = start_server(data_dir, ENV)
    try:
        call(server.base_url, "hooks/create", {"callbackURL": receiver.url()})
        call(server.base_url, "create", {"name": "Room", "meetingID": "pending-1"})
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        receiver.respond = lambda _r: 200
        process, server = start_server(data_dir, ENV)
        assert wait_until(lambda: len(receiver.accepted()) == 1, 30)
    finally:
        stop_server(process)
        receiver.stop()
    assert isinstance(process, subprocess.Popen)


def test_the_server_wakes_its_worker_instead_of_waiting_for_its_poll(tmp_path: Path) -> None:
    """`sala serve` tells its `sala worker` child about each change through a pipe: a hook's
    delivery does not wait for the worker's 5-second look at the database."""
    receiver = Receiver().start()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    process, server = start_server(data_dir, ENV)
    try:
        call(server.base_url, "hooks/create", {"callbackURL": receiver.url("/hook")})
        time.sleep(1.0)  # the worker's first look happened; the next one is 5 s away
        for n in range(3):
            meeting = f"wake-{n}"
            call(server.base_url, "create", {"meetingID": meeting, "name": "Wake up"})
            arrived = wait_until(
                lambda meeting=meeting: any(
                    e[0] == meeting for e in received_events(receiver.accepted())
                ),
                2.0,
            )
            assert arrived, f"{meeting}'s webhook waited for the worker's poll"
    finally:
        stop_server(process)
        receiver.stop()
