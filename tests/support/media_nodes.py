"""Media nodes on one machine, each in a network namespace of its own, for the placement tests.

The test's thread moves into a private "hub" namespace (tests/support/netns.py). Each node is a
thread that moves into a namespace of its own (a network namespace belongs to a thread; the Janus
it starts inherits it), joined to the hub by a veth pair: the node holds 198.18.N.2, the hub
198.18.N.1 (198.18.0.0/15 is reserved for benchmarking networks and never routed; nothing leaves
the namespaces); the hub routes between nodes, so a node reaches the others' addresses and
every hub address. The thread runs the real media agent (sala/media/agent.py) in an event loop of
its own: Janus listens on 198.18.N.2, gathers ICE candidates there, and the agent heartbeats into
the test's registry through `CrossLoopRegistry`.

`kill()` is a node dying: its agent freezes (no more heartbeats, nothing deregistered, no Janus
restart) and its Janus gets SIGKILL. `freeze()` is a node that stops answering the registry
while its Janus still runs (a hung agent, a partition): only the registry's TTL reveals it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sala.cluster.nodes import NodeInfo, NodeRegistry
from sala.config import Settings, load_settings
from sala.media.agent import MediaAgent
from tests.support.netns import CLONE_NEWNET, NamespaceUnavailable

T = TypeVar("T")
_libc = ctypes.CDLL(None, use_errno=True)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def join_hub(index: int) -> None:
    """Move the calling thread into a new network namespace linked to the hub (the namespace
    of the process' main thread): this side holds 198.18.<index>.2, the hub 198.18.<index>.1."""
    if _libc.unshare(CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise NamespaceUnavailable(f"unshare(CLONE_NEWNET) failed: {os.strerror(errno)}")
    hub_side = f"hub{index}"
    _ip("link", "set", "lo", "up")
    # The peer goes to the namespace of the process' main thread: the hub.
    _ip(
        "link",
        "add",
        "eth0",
        "type",
        "veth",
        "peer",
        "name",
        hub_side,
        "netns",
        str(os.getpid()),
    )
    _ip("addr", "add", f"198.18.{index}.2/24", "dev", "eth0")
    _ip("link", "set", "eth0", "up")
    # The hub's side, from the hub (the main thread's namespace).
    hub = f"/proc/{os.getpid()}/ns/net"
    subprocess.run(
        [
            "nsenter",
            f"--net={hub}",
            "ip",
            "addr",
            "add",
            f"198.18.{index}.1/24",
            "dev",
            hub_side,
        ],
        check=True,
        capture_output=True,
        timeout=10,
    )
    subprocess.run(
        ["nsenter", f"--net={hub}", "ip", "link", "set", hub_side, "up"],
        check=True,
        capture_output=True,
        timeout=10,
    )
    # Media nodes reach one another through the hub, as machines of one private network do
    # (a meeting's mix relayed to another node's listeners), and reach every hub address.
    _ip("route", "add", "198.18.0.0/15", "via", f"198.18.{index}.1")
    subprocess.run(
        ["nsenter", f"--net={hub}", "sysctl", "-qw", "net.ipv4.ip_forward=1"],
        check=True,
        capture_output=True,
        timeout=10,
    )


class CrossLoopRegistry:
    """The test's registry, used from another thread's event loop: every call runs in the
    loop that owns the registry, as calls over Redis would run in Redis."""

    def __init__(self, registry: NodeRegistry, loop: asyncio.AbstractEventLoop) -> None:
        self._registry = registry
        self._loop = loop

    async def _there(self, work: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    async def heartbeat(self, info: NodeInfo, ttl_s: float) -> None:
        await self._there(self._registry.heartbeat(info, ttl_s))

    async def nodes(self, role: str | None = None) -> list[NodeInfo]:
        return await self._there(self._registry.nodes(role))

    async def remove(self, node_id: str) -> None:
        await self._there(self._registry.remove(node_id))

    async def set_draining(self, node_id: str, draining: bool) -> None:
        await self._there(self._registry.set_draining(node_id, draining))


@dataclass
class NodeSettings:
    index: int
    data_dir: Path
    api_secret: str
    event_loops: int | None = None
    """Janus' media threads (SALA_JANUS_EVENT_LOOPS); None: sala's default."""

    @property
    def address(self) -> str:
        return f"198.18.{self.index}.2"

    @property
    def hub_address(self) -> str:
        return f"198.18.{self.index}.1"

    def settings(self) -> Settings:
        return load_settings(
            secret="media-node-test",
            data_dir=self.data_dir,
            janus_api_secret=self.api_secret,
            janus_ws_ip=self.address,
            media_ip=self.address,
            rtp_port_range=f"{20000 + self.index * 1000}-{20999 + self.index * 1000}",
            janus_event_loops=self.event_loops,
        )


class MediaNodeThread:
    """One media node: a thread in its own network namespace running the media agent."""

    def __init__(self, node: NodeSettings, registry: NodeRegistry) -> None:
        self.node = node
        self.node_id = f"media-{node.index}"
        self._registry = registry
        self._hub_loop = asyncio.get_running_loop()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.agent: MediaAgent | None = None
        self._thread = threading.Thread(target=self._run, name=self.node_id, daemon=True)

    async def start(self) -> None:
        self._thread.start()
        await asyncio.to_thread(self._ready.wait, 30)
        if self._failure is not None:
            raise self._failure
        assert self.agent is not None, "the media node did not start in 30 s"

    # ----------------------------------------------------------------- in the thread --
    def _run(self) -> None:
        try:
            self._network()
            asyncio.run(self._serve())
        except BaseException as exc:
            self._failure = exc
        finally:
            self._ready.set()

    def _network(self) -> None:
        join_hub(self.node.index)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        registry = CrossLoopRegistry(self._registry, self._hub_loop)
        agent = MediaAgent(self.node.settings(), registry, self.node_id)
        await agent.start()
        self.agent = agent
        self._ready.set()
        await self._stop.wait()
        await agent.stop()

    async def _freeze(self) -> int | None:
        """Stop heartbeating and supervising, as a machine that died: nothing is cleaned up."""
        assert self.agent is not None
        process = self.agent.process
        for task in (self.agent._task, process._watcher):
            if task is not None:
                task.cancel()
        process._stopping = True
        return process.pid

    # ------------------------------------------------------------------ from the test --
    async def _in_node(self, work: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    @property
    def url(self) -> str:
        assert self.agent is not None
        return self.agent.url

    @property
    def janus_pid(self) -> int | None:
        return None if self.agent is None else self.agent.process.pid

    async def freeze(self) -> None:
        """The node stops answering the registry; its Janus keeps running."""
        await self._in_node(self._freeze())

    async def kill(self) -> None:
        """The node dies: no more heartbeats, and its Janus is killed with SIGKILL."""
        pid = await self._in_node(self._freeze())
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    async def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        await asyncio.to_thread(self._thread.join, 20)


class NodeNamespace:
    """A media node's network namespace, held by a thread of its own that runs what it is
    given there: a process started from it (`sala serve --role media`) inherits the namespace,
    and so does the Janus that process starts."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.address = f"198.18.{index}.2"
        self.hub_address = f"198.18.{index}.1"
        self._work: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._up: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name=f"netns-{index}", daemon=True)

    async def start(self) -> None:
        self._thread.start()
        await asyncio.wrap_future(self._up)

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` in the namespace's thread."""
        done: Future[T] = Future()
        self._work.put((work, done))
        return await asyncio.wrap_future(done)

    async def close(self) -> None:
        self._work.put(None)
        await asyncio.to_thread(self._thread.join, 10)

    def _run(self) -> None:
        try:
            join_hub(self.index)
        except BaseException as exc:
            self._up.set_exception(exc)
            return
        self._up.set_result(None)
        while (item := self._work.get()) is not None:
            work, done = item
            try:
                done.set_result(work())
            except BaseException as exc:
                done.set_exception(exc)


async def start_announced(
    nodes: list[MediaNodeThread], registry: NodeRegistry, within_s: float = 10.0
) -> None:
    """Start `nodes` and wait until the registry lists every one of them (their first
    heartbeats: within a second or two)."""
    await asyncio.gather(*(node.start() for node in nodes))
    deadline = time.monotonic() + within_s
    while len(await registry.nodes("media")) < len(nodes):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the media nodes were not all announced within {within_s:.0f} s")
        await asyncio.sleep(0.05)
