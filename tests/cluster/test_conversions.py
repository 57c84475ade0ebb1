"""Documents in a cluster: the front end that receives a document only accepts it, a worker
converts it, and the room on whichever front end owns the meeting shows its progress and the
result. Without a worker nothing converts (no front end does it instead); a worker killed in
the middle of a conversion is replaced and the document ends ready exactly once.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sala.events import types
from sala.events.log import read_all_events
from sala.store import tables
from sala.store.db import Database
from tests.cluster.helpers import SECRET, api, owner_of
from tests.presentations import documents
from tests.support.cluster import LocalCluster, nginx_available
from tests.support.room_socket import RoomSocket, signed_url

pytestmark = pytest.mark.skipif(nginx_available() is not None, reason=str(nginx_available()))

t = tables.presentations


def modules(document: str) -> str:
    return f'<modules><module name="presentation">{document}</module></modules>'


async def insert(http: httpx.AsyncClient, base: str, meeting: str, document: str) -> None:
    """insertDocument on one front end (not the proxy: the test chooses which)."""
    answer = await http.post(
        signed_url(base, SECRET, "insertDocument", {"meetingID": meeting}),
        content=modules(document),
        headers={"Content-Type": "application/xml"},
    )
    assert "<returncode>SUCCESS</returncode>" in answer.text, answer.text


def inline(data: bytes, name: str, current: str = "true") -> str:
    encoded = base64.b64encode(data).decode()
    return f'<document filename="{name}" current="{current}">{encoded}</document>'


async def rows(cluster: LocalCluster, name: str) -> list[dict[str, Any]]:
    """The presentations rows of that name, as every process sees them."""
    db = Database(cluster.database_url)
    try:
        async with db.read() as conn:
            found = await conn.execute(select(t).where(t.c.name == name))
            return [dict(r._mapping) for r in found]
    finally:
        await db.dispose()


async def converted_events(cluster: LocalCluster, meeting_id: str, presentation: str) -> int:
    db = Database(cluster.database_url)
    try:
        async with db.read() as conn:
            events = await read_all_events(conn, meeting_id)
    finally:
        await db.dispose()
    return sum(
        1
        for e in events
        if e.type == types.PRESENTATION_CONVERTED and e.data.get("presentation") == presentation
    )


async def until_ready(room: RoomSocket, name: str, within_s: float) -> dict[str, Any]:
    """The document as the room shows it once it is ready (fails the test after `within_s`)."""
    async with asyncio.timeout(within_s):
        while True:
            update = await room.expect("presentation.updated")
            for document in update["presentations"]:
                if document["name"] == name and document["state"] != "processing":
                    assert document["state"] == "ready", document
                    assert update["current"] == document["id"]
                    return dict(document)


def pages_on_disk(cluster: LocalCluster, row: dict[str, Any]) -> list[str]:
    folder = cluster.data_dir / "presentations" / row["meeting_id"] / row["id"]
    return sorted(p.name for p in folder.glob("*.png")) if folder.exists() else []


def test_a_document_sent_to_one_front_end_converts_on_a_worker_for_the_owner_s_room(
    cluster: LocalCluster,
) -> None:
    pages = 120  # a few seconds of rendering: long enough to look at it half done

    async def scenario() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            api(cluster.base, "create", meetingID="deck", name="Deck")
            ana = await RoomSocket.join(http, cluster.base, SECRET, "deck", "Ana", "MODERATOR")
            owner = await owner_of(http, ana)
            sender = next(n for n in cluster.front_ends() if n.node_id != owner)
            progress = ana.expect("presentation.progress")
            await insert(http, sender.base, "deck", inline(documents.pdf(pages), "big.pdf"))
            told = await asyncio.wait_for(progress, 30)
            assert told["total"] == pages and 0 <= told["done"] < pages
            [row] = await rows(cluster, "big.pdf")
            assert row["leased_by"].startswith("worker1/")  # the worker holds it, no front end

            # Someone entering now gets the owner's snapshot, which shows how far it is
            # although the owner is not the one converting it.
            ready = asyncio.ensure_future(until_ready(ana, "big.pdf", 60))
            bia = await RoomSocket.join(http, cluster.base, SECRET, "deck", "Bia")
            [seen] = [p for p in bia.welcome["presentations"] if p["name"] == "big.pdf"]
            assert seen["state"] == "processing", seen
            assert seen["progress"]["total"] == pages, seen

            document = await ready
            assert document["pages"] == pages
            slide = await http.get(
                f"{cluster.base}/room/slides/{document['id']}/{pages}",
                headers={"Cookie": f"sala_room={ana.cookie}"},
            )
            assert slide.status_code == 200 and slide.content.startswith(b"\x89PNG")
            for room in (ana, bia):
                await room.close()

    asyncio.run(scenario())


def test_without_a_worker_documents_wait_and_convert_once_one_starts(
    cluster: LocalCluster,
) -> None:
    cluster.terminate("worker1")

    async def scenario() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            api(cluster.base, "create", meetingID="waiting", name="Waiting")
            ana = await RoomSocket.join(http, cluster.base, SECRET, "waiting", "Ana", "MODERATOR")
            owner = await owner_of(http, ana)
            # One document to the front end that owns the room, one to another.
            senders = sorted(cluster.front_ends(), key=lambda n: n.node_id != owner)[:2]
            names = [f"from-{node.node_id}.pdf" for node in senders]
            for node, name in zip(senders, names, strict=True):
                await insert(http, node.base, "waiting", inline(documents.pdf(2), name, "false"))
            await asyncio.sleep(3)
            waiting = [row for name in names for row in await rows(cluster, name)]
            assert len(waiting) == 2
            for row in waiting:
                # Accepted and kept, but nobody converts it: no lease, no pages.
                assert (row["state"], row["leased_by"]) == ("processing", None), row
                assert pages_on_disk(cluster, row) == []

            cluster.start_worker("worker2")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                now = [row for name in names for row in await rows(cluster, name)]
                if all(row["state"] != "processing" for row in now):
                    break
                await asyncio.sleep(0.2)
            for row in now:
                assert (row["state"], row["pages"]) == ("ready", 2), row
                assert pages_on_disk(cluster, row) == [
                    "1-thumb.png",
                    "1.png",
                    "2-thumb.png",
                    "2.png",
                ]
            # And the room shows them to whoever comes in.
            bia = await RoomSocket.join(http, cluster.base, SECRET, "waiting", "Bia")
            shown = {p["name"]: p["state"] for p in bia.welcome["presentations"]}
            assert [shown[name] for name in names] == ["ready", "ready"]
            await bia.close()
            await ana.close()

    asyncio.run(scenario())


@dataclass
class GatedServer:
    """Serves a PDF on loopback; the first request hangs until `let_go` (a slow source)."""

    url: str = ""
    requests: int = 0
    gate: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def gated_server() -> Iterator[GatedServer]:
    body = documents.pdf(4)
    served = GatedServer()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                served.requests += 1
                first = served.requests == 1
            if first:
                served.gate.wait(60)
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}/slow.pdf"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.gate.set()
    server.shutdown()
    server.server_close()


def test_a_worker_killed_mid_conversion_is_replaced_and_the_document_is_ready_once(
    cluster: LocalCluster, gated_server: GatedServer
) -> None:
    async def scenario() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            created = api(cluster.base, "create", meetingID="crash", name="Crash")
            internal = created.findtext("internalMeetingID") or ""
            ana = await RoomSocket.join(http, cluster.base, SECRET, "crash", "Ana", "MODERATOR")
            ready = asyncio.ensure_future(until_ready(ana, "slow.pdf", 60))
            await insert(
                http, cluster.base, "crash", f'<document url="{gated_server.url}" current="true"/>'
            )
            deadline = time.monotonic() + 20
            while gated_server.requests == 0 and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            assert gated_server.requests == 1  # the worker is fetching it, and hangs there
            [row] = await rows(cluster, "slow.pdf")
            assert row["leased_by"].startswith("worker1/")

            cluster.kill("worker1")  # kill -9, in the middle: its lease is still held
            cluster.start_worker("worker1")  # systemd restarts it
            document = await ready
            assert document["pages"] == 4
            assert gated_server.requests == 2
            [row] = await rows(cluster, "slow.pdf")
            assert row["state"] == "ready" and row["leased_by"] is None
            assert await converted_events(cluster, internal, row["id"]) == 1
            await ana.close()

    asyncio.run(scenario())
