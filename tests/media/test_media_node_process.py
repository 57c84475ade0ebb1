"""A media node as operators run it: `sala serve --role media` as a process of its own, in a
network namespace of its own (tests/support/media_nodes.py `NodeNamespace`), heartbeating into
a real Redis that listens in the hub (the front end's namespace) on the hub's side of every
node's link. The front end's MediaRuntime reads the same Redis (registry and "media" leases)
and places meetings on the nodes.

`kill -9` of a node's sala process (its agent) is a node dying: its Janus goes with it (the
kernel's parent-death signal, sala/children.py), the registry forgets the node within the TTL,
and its meetings move. Started again on the same data directory and port, the node comes back.
Offers are written by hand (tests/media/sdp.py): which node answered shows in the ICE candidate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sala.clock import SystemClock
from sala.cluster.redis import redis_client
from sala.cluster.redis_directory import RedisDirectory
from sala.cluster.redis_nodes import RedisRegistry
from sala.config import load_settings
from sala.media.engine import Feed
from sala.media.runtime import MediaRuntime
from tests.media.sdp import audio_offer
from tests.support.media_nodes import NodeNamespace
from tests.support.netns import media_network
from tests.support.redis import RedisServer, redis_available

API_SECRET = "media-node-process-secret"
DEAD_WITHIN_S = 5.0
JANUS_WS_PORT = 8188
"""Fixed, as an operator would set it: a restarted node must find its port free again."""


class Listener:
    def __init__(self) -> None:
        self.lost: list[tuple[str, str]] = []

    async def talking(self, user_id: str, talking: bool) -> None:
        pass

    async def feed_up(self, feed: Feed) -> None:
        pass

    async def relayed(self, user_id: str, feeds: dict[str, int | None]) -> None:
        pass

    async def media_lost(self, user_id: str, what: str) -> None:
        self.lost.append((user_id, what))


@dataclass
class NodeProcess:
    """One `sala serve --role media` in its namespace."""

    namespace: NodeNamespace
    data_dir: Path
    redis_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def node_id(self) -> str:
        return f"media-{self.namespace.index}"

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SALA_")}
        ns = self.namespace
        env.update(
            SALA_DATA_DIR=str(self.data_dir),
            SALA_SECRET="media-node-process",
            SALA_NODE_ID=self.node_id,
            SALA_REDIS_URL=f"redis://{ns.hub_address}:{self.redis_port}/0",
            SALA_JANUS_API_SECRET=API_SECRET,
            SALA_JANUS_WS_IP=ns.address,
            SALA_JANUS_WS_PORT=str(JANUS_WS_PORT),
            SALA_MEDIA_IP=ns.address,
            SALA_RTP_PORT_RANGE=f"{20000 + ns.index * 1000}-{20999 + ns.index * 1000}",
        )
        return env

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "node.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "sala", "serve", "--role", "media"],
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    async def start(self) -> None:
        """Started from the namespace's thread, so it (and its Janus) live in the namespace."""
        self.process = await self.namespace.run(self._spawn)

    def janus_pid(self) -> int:
        pidfile = self.data_dir / "janus" / "janus.pid"
        return int(json.loads(pidfile.read_text())["janus"]["pid"])

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.data_dir / "node.log").read_text().splitlines()[-30:])
        return ""

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 20)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 10)
        # A Janus that outlived its node (the failure the test looks for) is ended here, so a
        # failing run leaves nothing behind; only the PID this node's pidfile names.
        await asyncio.to_thread(self._end_outliving_janus)

    def _end_outliving_janus(self) -> None:
        with contextlib.suppress(OSError, ValueError, KeyError):
            janus = self.janus_pid()
            if _alive(janus) and str(self.data_dir) in Path(f"/proc/{janus}/cmdline").read_text():
                os.kill(janus, signal.SIGKILL)


@pytest.fixture
def hub() -> Iterator[str]:
    if reason := redis_available():
        pytest.fail(reason)
    with media_network("the media node tests") as address:
        yield address


@pytest.fixture
async def namespaces(hub: str) -> AsyncIterator[list[NodeNamespace]]:
    made = [NodeNamespace(index) for index in (1, 2)]
    try:
        for namespace in made:
            await namespace.start()
        yield made
    finally:
        for namespace in made:
            await namespace.close()


@pytest.fixture
def redis(namespaces: list[NodeNamespace]) -> Iterator[RedisServer]:
    """Redis in the hub, on loopback (the front end) and on the hub's side of each node's link
    (nothing else can reach those addresses)."""
    bind = ("127.0.0.1", *(n.hub_address for n in namespaces))
    with RedisServer(bind=bind) as server:
        yield server


@pytest.fixture
async def node_processes(
    namespaces: list[NodeNamespace], redis: RedisServer, tmp_path: Path
) -> AsyncIterator[dict[str, NodeProcess]]:
    assert redis.port is not None
    nodes = [NodeProcess(n, tmp_path / f"node{n.index}", redis.port) for n in namespaces]
    try:
        for node in nodes:
            await node.start()
        yield {node.node_id: node for node in nodes}
    finally:
        for node in nodes:
            await node.stop()


async def eventually(what: str, check: object, within: float = 10.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if await check():  # type: ignore[operator]
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within} s: {what}")


def _alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped by its parent, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_a_killed_media_node_process_is_noticed_and_its_janus_ends_with_it(
    redis: RedisServer, node_processes: dict[str, NodeProcess], tmp_path: Path
) -> None:
    client = redis_client(redis.url, name="front-end")
    registry = RedisRegistry(client)
    settings = load_settings(
        secret="front-end", data_dir=tmp_path / "front", media=True, janus_api_secret=API_SECRET
    )
    runtime = MediaRuntime(
        settings, SystemClock(), registry=registry, directory=RedisDirectory(client, "media")
    )
    front_end = runtime.nodes
    assert front_end is not None

    async def announced(n: int) -> bool:
        return len(await registry.nodes("media")) == n

    try:
        try:
            await eventually("both nodes announced", lambda: announced(2), within=30)
        except AssertionError:
            for node in node_processes.values():
                print(node.node_id, node.log_tail())
            raise
        await runtime.start()
        listener = Listener()
        meeting = await front_end.open_meeting("m1", 74001, listener)
        first = meeting.node_id
        assert first is not None
        dying = node_processes[first]
        ada = await meeting.participant("ada", "Ada")
        assert dying.namespace.address in await ada.join_audio(audio_offer(), muted=False)
        janus = dying.janus_pid()
        assert _alive(janus)

        # kill -9 of the node's sala process: nothing of its shutdown code runs.
        assert dying.process is not None
        dying.process.kill()
        killed = time.monotonic()

        async def moved() -> bool:
            node = front_end.node_of("m1")
            return node is not None and node != first

        async def gone() -> bool:
            return first not in {n.node_id for n in await registry.nodes("media")}

        # Its Janus does not outlive it (no sessions kept for a node the registry calls dead),
        # and the front end moves the meeting.
        janus_ended, meeting_moved = await asyncio.gather(
            eventually("the node's Janus ended", lambda: _gone_pid(janus), within=5),
            eventually("the meeting moved", moved, within=DEAD_WITHIN_S),
        )
        await eventually("the dead node left the registry", gone, within=DEAD_WITHIN_S)
        left = time.monotonic() - killed
        print(
            f"after kill -9: Janus ended in {janus_ended:.1f} s, the meeting moved in "
            f"{meeting_moved:.1f} s, the node left the registry in {left:.1f} s"
        )
        assert ("ada", "all") in listener.lost
        await asyncio.to_thread(dying.process.wait, 5)  # reaped, as its service manager would

        # The meeting's participant negotiates again, answered by the other node.
        second = front_end.node_of("m1")
        assert second not in (None, first)
        ada = await meeting.participant("ada", "Ada")
        answer = await ada.join_audio(audio_offer(), muted=False)
        assert node_processes[str(second)].namespace.address in answer

        # Started again on the same data directory and port, the node is back.
        await dying.start()
        await eventually("the restarted node announced", lambda: announced(2), within=30)
        assert dying.janus_pid() != janus
        await meeting.close()
    finally:
        await runtime.stop()
        await client.aclose()


async def _gone_pid(pid: int) -> bool:
    return not _alive(pid)
