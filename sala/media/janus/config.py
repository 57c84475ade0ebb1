"""The configuration sala writes for the Janus it starts: loopback only, a random admin secret,
and only the plugins and transports sala uses (AudioBridge, VideoRoom, EchoTest, WebSockets)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

LIB_DIRS = (
    Path("/usr/lib/x86_64-linux-gnu/janus"),
    Path("/usr/lib/aarch64-linux-gnu/janus"),
    Path("/usr/lib/janus"),
)
KEEP_PLUGINS = ("libjanus_audiobridge.so", "libjanus_videoroom.so", "libjanus_echotest.so")
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
    debug_level: int = 3
    lib_dir: Path = field(default_factory=lambda: _lib_dir())

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    @property
    def admin_url(self) -> str:
        return f"ws://127.0.0.1:{self.admin_port}"


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
\tserver_name = "sala-janus"
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
    websockets = f"""general: {{
\tjson = "compact"
\tws = true
\tws_port = {config.ws_port}
\tws_ip = "127.0.0.1"
\tws_acl = "127."
\twss = false
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
