"""What the cluster tests do as integrators, participants and operators: signed API calls on any
front end, the room page's route question and reconnection, and the webhooks a receiver got.

The `cluster` fixture (tests/cluster/conftest.py) starts the cluster these talk to.
"""

from __future__ import annotations

import asyncio
import json
import time
import xml.etree.ElementTree as ET
from collections import Counter

import httpx

from tests.support.receiver import Receiver
from tests.support.room_socket import RoomSocket, signed_url

SECRET = "cluster-secret-0123456789abcdef0123456789"


def api(base: str, call: str, /, **params: str) -> ET.Element:
    """A successful API call on `base` (the proxy or one front end); fails the test otherwise."""
    answer = httpx.get(signed_url(base, SECRET, call, params), timeout=10)
    root = ET.fromstring(answer.content)
    assert root.findtext("returncode") == "SUCCESS", answer.text
    return root


async def call(http: httpx.AsyncClient, base: str, name: str, /, **params: str) -> ET.Element:
    """An API call from inside a test's event loop, whatever it answers (parsed)."""
    answer = await http.get(signed_url(base, SECRET, name, params))
    return ET.fromstring(answer.content)


async def route_of(http: httpx.AsyncClient, room: RoomSocket, base: str | None = None) -> str:
    """The room WebSocket path that `base` (the proxy by default) gives this participant."""
    answer = await http.get(
        f"{base or room.base}/room/route", headers={"Cookie": f"sala_room={room.cookie}"}
    )
    path: str = answer.json()["ws"]
    return path


async def owner_of(http: httpx.AsyncClient, room: RoomSocket) -> str:
    """The node that owns (or was just given) this participant's meeting."""
    return (await route_of(http, room)).split("/")[2]


async def rejoin(http: httpx.AsyncClient, room: RoomSocket, within_s: float) -> float:
    """Reconnect as the page does (ask the route, connect, back off up to 8 s); seconds taken."""
    started = time.monotonic()
    pause = 0.5
    while True:
        try:
            await room.reconnect(http)
            return time.monotonic() - started
        except Exception:
            if time.monotonic() - started > within_s:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 8.0)


def hook_events(receiver: Receiver) -> Counter[str]:
    """Every webhook event the receiver accepted, as "<event id>:<user name>" (chat messages as
    "chat-group-message-sent:<text>"), counted."""
    seen: Counter[str] = Counter()
    for request in receiver.accepted():
        for event in json.loads(request.form["event"][0]):
            attributes = event["data"]["attributes"]
            detail = attributes.get("user", {}).get("name", "")
            if event["data"]["id"] == "chat-group-message-sent":
                detail = attributes["chat-message"]["message"]
            seen[f"{event['data']['id']}:{detail}"] += 1
    return seen


def assert_once(seen: Counter[str], *keys: str) -> None:
    """Each of `keys` arrived exactly once: nothing lost, nothing repeated."""
    assert {key: seen[key] for key in keys} == dict.fromkeys(keys, 1), seen


def wait_for_hook(receiver: Receiver, key: str, within_s: float = 20.0) -> Counter[str]:
    """The events seen once `key` (see hook_events) has arrived, or after `within_s`."""
    deadline = time.monotonic() + within_s
    while key not in hook_events(receiver) and time.monotonic() < deadline:
        time.sleep(0.2)
    return hook_events(receiver)
