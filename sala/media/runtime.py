"""The media server sala uses: its own Janus, an external one, or media nodes; and the engine
driving it.

On a single machine (no node registry) sala writes a Janus configuration into its data directory
(loopback-only API with a random secret, only the AudioBridge, VideoRoom and EchoTest plugins and
the WebSocket transport), starts Janus, and restarts it if it dies. With `janus_url` it drives an
external Janus instead and starts nothing. Given a node registry and the "media" lease directory
(several machines), a front end starts no Janus: meetings are placed on the media nodes the
registry announces (sala/media/nodes.py), each running Janus beside its agent (sala/media/agent.py).
"""

from __future__ import annotations

import logging
import secrets

from sala.clock import Clock
from sala.cluster.directory import Directory
from sala.cluster.nodes import NodeRegistry
from sala.config import ConfigError, Settings
from sala.media.engine import MediaEngine
from sala.media.ice import IceServers
from sala.media.janus.config import JanusConfig, event_loops, free_port
from sala.media.janus.engine import JanusEngine, JanusNode
from sala.media.janus.process import JanusProcess, JanusUnavailable, stop_leftover_janus
from sala.media.nodes import MediaNodes

log = logging.getLogger(__name__)


class MediaRuntime:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        registry: NodeRegistry | None = None,
        directory: Directory | None = None,
    ) -> None:
        """`registry` and `directory` (the "media" namespace) put media on media nodes; without
        them sala runs its own Janus (or the external `janus_url`), as on a single machine."""
        self.enabled = settings.media
        self.process: JanusProcess | None = None
        self.nodes: MediaNodes | None = None
        self.engine: MediaEngine
        self._janus_folder = settings.data_dir / "janus"
        self.ice = IceServers(
            clock,
            stun=settings.csv(settings.stun_servers),
            turn=settings.csv(settings.turn_servers),
            turn_secret=(settings.turn_secret.get_secret_value() if settings.turn_secret else None),
            ttl_seconds=settings.turn_ttl_seconds,
        )
        if registry is not None:
            if directory is None:
                raise ValueError("media nodes need the media lease directory too")
            if settings.janus_api_secret is None:
                raise ConfigError(
                    "janus_api_secret: front ends need the secret of the media nodes' Janus "
                    "(SALA_JANUS_API_SECRET, the same value on every front end and media node)"
                )
            self.nodes = MediaNodes(
                registry,
                directory,
                settings.janus_api_secret.get_secret_value(),
                listeners_per_node=settings.media_listeners_per_node,
                video_codec=settings.video_codec,
            )
            self.engine = self.nodes
            return
        if settings.janus_url:
            secret = (
                settings.janus_api_secret.get_secret_value() if settings.janus_api_secret else ""
            )
            node = JanusNode("external", settings.janus_url, secret)
        else:
            stun = settings.csv(settings.stun_servers)
            config = JanusConfig(
                folder=self._janus_folder,
                ws_port=settings.janus_ws_port or free_port(settings.janus_ws_ip),
                admin_port=settings.janus_admin_port or free_port(),
                admin_secret=secrets.token_hex(16),
                api_secret=secrets.token_hex(16),
                media_ip=settings.media_ip,
                public_ip=settings.media_public_ip,
                stun_server=stun[0].split(":", 1)[1] if stun else None,
                rtp_port_range=settings.rtp_port_range,
                ws_ip=settings.janus_ws_ip,
                ws_acl=settings.janus_ws_acl,
                event_loops=event_loops(settings.janus_event_loops),
            )
            self.process = JanusProcess(
                config,
                settings.data_dir / "log" / "janus.log",
                binary=settings.janus_binary,
                on_restart=self._restarted,
            )
            node = JanusNode("local", config.ws_url, config.api_secret)
        self.engine = JanusEngine(node, video_codec=settings.video_codec)

    async def engine_for(self, meeting_id: str) -> MediaEngine:
        """The engine carrying this meeting's media: the node's own with media nodes (placing
        the meeting if it has none yet), else the one engine."""
        if self.nodes is not None:
            return await self.nodes.engine_for(meeting_id)
        return self.engine

    async def start(self) -> None:
        if self.nodes is not None:
            if self.enabled:
                await self.nodes.start()
            return
        if not self.enabled or self.process is None:
            # No Janus of ours this time; one an earlier, killed run left would still hold
            # its ports. (JanusProcess.start does this itself before starting a new one.)
            await stop_leftover_janus(self._janus_folder)
        if not self.enabled:
            return
        if self.process is not None:
            try:
                await self.process.start()
            except JanusUnavailable as exc:
                # The rest of sala works without media; the room says audio/video is unavailable.
                log.error("media unavailable: %s", exc)
                return
        try:
            await self.engine.start()
        except Exception as exc:  # an external Janus that is down: rooms retry on use
            log.error("media server not reachable yet: %s", exc)

    async def _restarted(self) -> None:
        log.warning("Janus restarted; meetings' media is being set up again")

    async def stop(self) -> None:
        await self.engine.stop()
        if self.process is not None:
            await self.process.stop()
