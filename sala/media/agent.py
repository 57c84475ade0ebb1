"""A media node: one Janus, and the small sala agent beside it that supervises it and says, every
second, that it is alive and how loaded it is.

The agent starts Janus with the configuration sala writes (sala/media/janus/config.py): the API
listens on `janus_ws_ip` (the address front ends reach) and wants `janus_api_secret`, the secret
every front end and media node is configured with; the Admin API stays on loopback with a random
secret, for the agent alone. Janus is restarted if it dies (sala/media/janus/process.py).

Every `interval_s` the agent samples the load (sala/media/load.py) and heartbeats a
`NodeInfo(role="media", url=<Janus' WebSocket URL>, load=..., media_host=...)` with a TTL of
`ttl_s`. `media_host` is where other media nodes send a meeting's mix that this node relays to
its listeners (`forward_host`). A node that stops (machine gone, agent killed, Janus unable to
start) drops out of the registry within that TTL, which is how front ends notice a dead node
within 5 s. A sample that Janus does not answer sends no heartbeat, so a Janus that cannot be
restarted is not announced for long. The secret is never written to the registry: front ends
have it from their own configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import signal

from sala.cluster.nodes import NodeInfo, NodeRegistry
from sala.config import ConfigError, Settings
from sala.media.janus.config import JanusConfig, event_loops, free_port
from sala.media.janus.process import JanusProcess
from sala.media.load import LoadMeter

log = logging.getLogger(__name__)

HEARTBEAT_S = 1.0
TTL_S = 3.0
"""Three missed heartbeats: a dead node is gone from the registry within 3 s, and front ends,
which look every second, stop using it within 5 s."""


def node_janus_config(settings: Settings) -> JanusConfig:
    """The Janus a media node runs, from its settings."""
    if settings.janus_api_secret is None or not settings.janus_api_secret.get_secret_value():
        raise ConfigError(
            "janus_api_secret: a media node's Janus needs the secret its front ends present "
            "(SALA_JANUS_API_SECRET, the same value on every front end and media node)"
        )
    stun = settings.csv(settings.stun_servers)
    return JanusConfig(
        folder=settings.data_dir / "janus",
        ws_port=settings.janus_ws_port or free_port(settings.janus_ws_ip),
        admin_port=settings.janus_admin_port or free_port(),
        admin_secret=secrets.token_hex(16),
        api_secret=settings.janus_api_secret.get_secret_value(),
        media_ip=settings.media_ip,
        public_ip=settings.media_public_ip,
        stun_server=stun[0].split(":", 1)[1] if stun else None,
        rtp_port_range=settings.rtp_port_range,
        ws_ip=settings.janus_ws_ip,
        ws_acl=settings.janus_ws_acl,
        event_loops=event_loops(settings.janus_event_loops),
    )


def forward_host(settings: Settings) -> str:
    """The address this node announces for forwarded media (`NodeInfo.media_host`): other
    media nodes send a meeting's mix there when this node relays it to its listeners. The
    private API address unless configured apart; none on loopback (nothing else reaches it)."""
    if settings.media_forward_host:
        return settings.media_forward_host
    return "" if ipaddress.ip_address(settings.janus_ws_ip).is_loopback else settings.janus_ws_ip


class MediaAgent:
    def __init__(
        self,
        settings: Settings,
        registry: NodeRegistry,
        node_id: str,
        *,
        interval_s: float = HEARTBEAT_S,
        ttl_s: float = TTL_S,
    ) -> None:
        self.node_id = node_id
        self._registry = registry
        self._interval = interval_s
        self._ttl = ttl_s
        config = node_janus_config(settings)
        self.process = JanusProcess(
            config,
            settings.data_dir / "log" / "janus.log",
            binary=settings.janus_binary,
            on_restart=self._restarted,
        )
        self.meter = LoadMeter(config.admin_url, config.admin_secret)
        self.media_host = forward_host(settings)
        self._task: asyncio.Task[None] | None = None
        self.beats = 0
        """Heartbeats written so far."""

    @property
    def url(self) -> str:
        """What front ends connect to (announced in the registry)."""
        return self.process.config.ws_url

    async def start(self) -> None:
        await self.process.start()
        self._task = asyncio.create_task(self._heartbeats(), name="media-agent")

    async def stop(self) -> None:
        """Leave the registry at once (front ends move this node's meetings now instead of
        after the TTL), then stop Janus."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self._registry.remove(self.node_id)
        except Exception as exc:  # the registry down: the TTL removes us anyway
            log.warning("could not leave the node registry: %s", exc)
        await self.meter.close()
        await self.process.stop()

    async def _restarted(self) -> None:
        log.warning(
            "Janus restarted on media node %s; its meetings set their media up again",
            self.node_id,
        )

    async def _heartbeats(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            await self.beat()
            next_at = max(next_at + self._interval, loop.time())
            await asyncio.sleep(next_at - loop.time())

    async def beat(self) -> None:
        """One sample and, if Janus answered, one heartbeat."""
        pid = self.process.pid
        if pid is None:
            return
        try:
            load = await self.meter.sample(pid)
        except Exception as exc:
            # Janus restarting or stuck: no heartbeat; if it lasts, the node drops out.
            log.info("media node %s: Janus does not answer (%s)", self.node_id, exc)
            return
        info = NodeInfo(self.node_id, "media", self.url, load, media_host=self.media_host)
        try:
            await self._registry.heartbeat(info, self._ttl)
            self.beats += 1
        except Exception as exc:
            log.warning("media node %s: heartbeat failed: %s", self.node_id, exc)


async def run_media_node(
    settings: Settings,
    registry: NodeRegistry,
    node_id: str,
    stop: asyncio.Event | None = None,
) -> None:
    """The body of `sala serve --role media`: Janus and its agent until SIGTERM/SIGINT (or
    `stop`). The caller builds the registry (Redis in a cluster) and names the node."""
    agent = MediaAgent(settings, registry, node_id)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    await agent.start()
    log.info("media node %s: Janus on %s", node_id, agent.url)
    try:
        await stop.wait()
    finally:
        await agent.stop()
