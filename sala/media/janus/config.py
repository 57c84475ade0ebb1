"""The configuration sala writes for the Janus it starts: the API on loopback (or, on a media
node, on the address front ends reach), the Admin API always on loopback with a random secret, and
only the plugins and transports sala uses (AudioBridge, VideoRoom, EchoTest, Streaming,
WebSockets).

Streaming carries listen-only audio: a meeting's mix is forwarded over plain RTP into a mountpoint
that listeners watch (docs/decisions.md). Its RTP ports are taken from a range of their own, apart
from the ICE range, and bound on one address only (`stream_ip`): loopback when the forward comes
from the same Janus, never every interface."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

LIB_DIRS = (
    Path("/usr/lib/x86_64-linux-gnu/janus"),
    Path("/usr/lib/aarch64-linux-gnu/janus"),
    Path("/usr/lib/janus"),
)
KEEP_PLUGINS = (
    "libjanus_audiobridge.so",
    "libjanus_videoroom.so",
    "libjanus_echotest.so",
    "libjanus_streaming.so",
)
KEEP_TRANSPORTS = ("libjanus_websockets.so",)


@dataclass(frozen=True)
class JanusConfig:
    folder: Path
    ws_port: int
    admin_port: int
    admin_secret: str
    api_secret: str
    """Required in every Janus API request: other local users cannot drive sala's Janus."""
    media_ip: str | None = None
    """Address Janus gathers ICE candidates on (SALA_MEDIA_IP); None: every interface."""
    public_ip: str | None = None
    """1:1 NAT mapping when Janus sits behind NAT."""
    stun_server: str | None = None
    rtp_port_range: str = "20000-40000"
    stream_port_range: str = "40001-42000"
    """Where Streaming mountpoints take the plain-RTP ports a forwarded mix arrives on: apart
    from the ICE range above, so the two never race for a port."""
    ws_ip: str = "127.0.0.1"
    """Where the Janus API listens. A media node listens on the address its front ends reach
    (the API secret guards it); the Admin API stays on loopback for the agent beside it."""
    ws_acl: str | None = None
    """Address prefixes allowed on the API (Janus' ws_acl, "10.0.0.,10.0.1."); None: "127."
    on loopback, anybody who holds the secret elsewhere."""
    event_loops: int = 0
    """Janus' event_loops: handles share this many media threads; 0, a thread per handle
    (Janus' default)."""
    debug_level: int = 3
    lib_dir: Path = field(default_factory=lambda: _lib_dir())

    @property
    def ws_url(self) -> str:
        host = f"[{self.ws_ip}]" if ":" in self.ws_ip else self.ws_ip
        return f"ws://{host}:{self.ws_port}"

    @property
    def api_acl(self) -> str | None:
        if self.ws_acl is not None:
            return self.ws_acl
        return "127." if self.ws_ip.startswith("127.") else None

    @property
    def admin_url(self) -> str:
        return f"ws://127.0.0.1:{self.admin_port}"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` now, for a Janus port left to sala's choice."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def event_loops(configured: int | None) -> int:
    """Janus' event_loops for a configured value: None, one per core this process may use."""
    if configured is not None:
        return configured
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _lib_dir() -> Path:
    return next((d for d in LIB_DIRS if d.exists()), LIB_DIRS[0])


def _unused(folder: Path, keep: tuple[str, ...]) -> str:
    if not folder.exists():
        return ""
    names = sorted(
        p.name for p in folder.iterdir() if p.name.endswith(".so") and p.name not in keep
    )
    return ",".join(names)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(config: JanusConfig) -> dict[str, str]:
    """File name -> contents of every configuration file."""
    nat = [f"\tice_ignore_list = {_quote('vmnet')}", "\tignore_mdns = true"]
    if config.media_ip:
        nat.append(f"\tice_enforce_list = {_quote(config.media_ip)}")
    if config.public_ip:
        nat.append(f"\tnat_1_1_mapping = {_quote(config.public_ip)}")
    if config.stun_server:
        host, _, port = config.stun_server.partition(":")
        nat.append(f"\tstun_server = {_quote(host)}")
        nat.append(f"\tstun_port = {int(port or 3478)}")
    loops = f"\tevent_loops = {config.event_loops}\n" if config.event_loops else ""
    janus = f"""general: {{
\tconfigs_folder = {_quote(str(config.folder))}
\tplugins_folder = {_quote(str(config.lib_dir / "plugins"))}
\ttransports_folder = {_quote(str(config.lib_dir / "transports"))}
\tevents_folder = {_quote(str(config.lib_dir / "events"))}
\tloggers_folder = {_quote(str(config.lib_dir / "loggers"))}
\tdebug_level = {config.debug_level}
\tadmin_secret = {_quote(config.admin_secret)}
\tapi_secret = {_quote(config.api_secret)}
\tsession_timeout = 60
{loops}\tserver_name = "sala-janus"
}}
media: {{
\trtp_port_range = {_quote(config.rtp_port_range)}
}}
nat: {{
{chr(10).join(nat)}
}}
plugins: {{
\tdisable = {_quote(_unused(config.lib_dir / "plugins", KEEP_PLUGINS))}
}}
transports: {{
\tdisable = {_quote(_unused(config.lib_dir / "transports", KEEP_TRANSPORTS))}
}}
events: {{
\tbroadcast = false
}}
"""
    acl = "" if config.api_acl is None else f"\tws_acl = {_quote(config.api_acl)}\n"
    websockets = f"""general: {{
\tjson = "compact"
\tws = true
\tws_port = {config.ws_port}
\tws_ip = {_quote(config.ws_ip)}
{acl}\twss = false
}}
admin: {{
\tadmin_ws = true
\tadmin_ws_port = {config.admin_port}
\tadmin_ws_ip = "127.0.0.1"
\tadmin_ws_acl = "127."
\tadmin_wss = false
}}
"""
    # Rooms are created per meeting through the API; none are predefined.
    return {
        "janus.jcfg": janus,
        "janus.transport.websockets.jcfg": websockets,
        "janus.plugin.audiobridge.jcfg": "general: {\n}\n",
        "janus.plugin.videoroom.jcfg": "general: {\n}\n",
        # Mountpoints are created per meeting through the API (guarded by the API secret);
        # none are predefined, so nothing binds a port until a meeting has listeners.
        "janus.plugin.streaming.jcfg": (
            f"general: {{\n\trtp_port_range = {_quote(config.stream_port_range)}\n"
            "\tevents = false\n}\n"
        ),
    }


def write(config: JanusConfig) -> None:
    config.folder.mkdir(parents=True, exist_ok=True)
    for name, text in render(config).items():
        # The files hold the API and admin secrets: 0600 from the moment they exist, not
        # chmod-ed after the secrets were written.
        fd = os.open(config.folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
            file.write(text)
