"""The media server sala uses: its own Janus, or an external one, and the engine driving it.

By default sala writes a Janus configuration into its data directory (loopback-only API with a
random secret, only the AudioBridge, VideoRoom and EchoTest plugins and the WebSocket
transport), starts Janus, and restarts it if it dies. With `janus_url` it drives an external
Janus instead and starts nothing. The node stays a parameter of the engine, so spreading
meetings over several Janus servers is a change here, not in the room.
"""

from __future__ import annotations

import logging
import secrets
import socket

from sala.clock import Clock
from sala.config import Settings
from sala.media.ice import IceServers
from sala.media.janus.config import JanusConfig
from sala.media.janus.engine import JanusEngine, JanusNode
from sala.media.janus.process import JanusProcess, JanusUnavailable, stop_leftover_janus

log = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class MediaRuntime:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.enabled = settings.media
        self.process: JanusProcess | None = None
        self._janus_folder = settings.data_dir / "janus"
        self.ice = IceServers(
            clock,
            stun=settings.csv(settings.stun_servers),
            turn=settings.csv(settings.turn_servers),
            turn_secret=(settings.turn_secret.get_secret_value() if settings.turn_secret else None),
            ttl_seconds=settings.turn_ttl_seconds,
        )
        if settings.janus_url:
            secret = (
                settings.janus_api_secret.get_secret_value() if settings.janus_api_secret else ""
            )
            node = JanusNode("external", settings.janus_url, secret)
        else:
            stun = settings.csv(settings.stun_servers)
            config = JanusConfig(
                folder=self._janus_folder,
                ws_port=settings.janus_ws_port or _free_port(),
                admin_port=settings.janus_admin_port or _free_port(),
                admin_secret=secrets.token_hex(16),
                api_secret=secrets.token_hex(16),
                media_ip=settings.media_ip,
                public_ip=settings.media_public_ip,
                stun_server=stun[0].split(":", 1)[1] if stun else None,
                rtp_port_range=settings.rtp_port_range,
            )
            self.process = JanusProcess(
                config,
                settings.data_dir / "log" / "janus.log",
                binary=settings.janus_binary,
                on_restart=self._restarted,
            )
            node = JanusNode("local", config.ws_url, config.api_secret)
        self.engine = JanusEngine(node)

    async def start(self) -> None:
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
