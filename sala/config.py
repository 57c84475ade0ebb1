"""sala's configuration: one typed, validated object built at start-up.

Sources, strongest first: explicit keyword arguments (the CLI's flags), environment variables
(`SALA_<KEY>`), an optional TOML file (`SALA_CONFIG_FILE` or `sala --config`), then defaults.
Every key is documented in docs/configuration.md; a bad value stops start-up with an error that
names the key and the value.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import socket
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url

from sala.filemodes import PRIVATE_FILE, private_dir

CHECKSUM_ALGORITHMS = ("sha1", "sha256", "sha384", "sha512")
NODE_ID = re.compile(r"[A-Za-z0-9._:@\[\]\-]{1,128}")


class GuestPolicy(StrEnum):
    ALWAYS_ACCEPT = "ALWAYS_ACCEPT"
    ALWAYS_DENY = "ALWAYS_DENY"
    ASK_MODERATOR = "ASK_MODERATOR"
    ALWAYS_ACCEPT_AUTH = "ALWAYS_ACCEPT_AUTH"


class ConfigError(Exception):
    """Configuration that sala refuses to start with; the message names the key."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "sala"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SALA_",
        extra="forbid",
        validate_default=True,
        # Lists in env vars are written as CSV (SALA_CHECKSUM_ALGORITHMS=sha256,sha512).
        env_parse_none_str="",
    )

    # --- server -------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=1, le=65535)
    public_url: str | None = None
    """Base URL users reach sala at (join redirects, playback links). Default http://host:port."""
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    """SQLAlchemy URL. Default: SQLite file in data_dir. postgresql:// URLs use asyncpg."""
    outbox_url: str | None = None
    """Where the webhook outbox (queued deliveries) lives. Default: with SQLite, a file of its
    own beside the main database (`sala.db` gets `sala.outbox.db`), so delivery never waits on
    the API's write lock; with PostgreSQL, the main database."""
    log_level: str = "info"
    shutdown_timeout_seconds: int = Field(default=20, ge=1, le=600)
    """`sala serve` told to stop (SIGTERM, Ctrl+C): how long HTTP requests and room handlers
    still running may take to finish before they are cancelled and the shutdown goes on
    (uvicorn's timeout_graceful_shutdown). Unbounded, one client that sent a request's headers
    and never its body held the process until it was killed, skipping its orderly shutdown."""

    # --- several processes, one service (issue 15) ------------------------------------------
    redis_url: str | None = None
    """Redis or Valkey carrying the bus between sala processes, their registry (heartbeats) and
    the leases of which process owns which meeting: redis://[:password@]host[:port][/db],
    rediss:// for TLS, unix:///path. Unset: one process, the in-process bus, no Redis."""
    node_id: str | None = None
    """This process's name in the cluster (the registry, lease holders, CLIENT LIST). Unique
    per process. Default: `<host name>:<port>`."""

    # --- Recordings -------------------------------------------------------------------------
    recordings_dir: Path | None = None
    """Where recordings live: what Janus captured, and the playback files made from it
    (`<dir>/<record id>/`). Default: data_dir/recordings."""
    recording_workers: int = Field(default=1, ge=1, le=16)
    """How many recordings are processed at the same time (each runs ffmpeg)."""
    protected_recordings_link_minutes: int = Field(default=60, ge=1)
    """How long a protected recording's one-time playback link (getRecordings) stays valid
    before it is used (Scalelite's PROTECTED_RECORDINGS_TOKEN_TIMEOUT)."""
    protected_recordings_access_minutes: int = Field(default=360, ge=1)
    """How long a browser may watch a protected recording after using its link (the cookie;
    Scalelite's PROTECTED_RECORDINGS_TIMEOUT)."""

    # --- API security -------------------------------------------------------------------------
    secret: SecretStr | None = None
    """Shared secret. When unset, one is generated once and kept in data_dir/secret."""
    checksum_algorithms: str = ",".join(CHECKSUM_ALGORITHMS)
    """Comma-separated subset of sha1,sha256,sha384,sha512 accepted on API calls."""
    max_request_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024)
    """Largest request body accepted (create's XML modules with base64 documents live here)."""
    api_concurrency: int = Field(default=8, ge=0)
    """API calls worked on at once; the rest wait their turn. While anybody is in a room, calls
    are also spaced out when the event loop is over 40% busy, so polling integrations cannot
    crowd the rooms out of the loop they share (sala/api/admission.py). 8: 2, 8 and 16 measured
    alike under 50 pollers once calls are paced (docs/performance.md). 0: neither limit."""

    # --- meeting defaults (create parameters override them per meeting) -------------------------
    default_welcome_message: str = "Welcome to <b>%%CONFNAME%%</b>!"
    default_welcome_message_footer: str = ""
    default_dial_number: str = "613-555-1234"
    default_logout_url: str | None = None
    """Where users go after leaving; default: public_url."""
    default_max_participants: int = Field(default=0, ge=0)
    default_guest_policy: GuestPolicy = GuestPolicy.ALWAYS_ACCEPT
    disabled_features: str = ""
    """Comma-separated features disabled on every meeting (union with create's disabledFeatures)."""
    read_cache: bool = True
    """Answer polling calls (getMeetingInfo, isMeetingRunning) from memory, kept exact by the
    internal bus. Turn off when several sala processes share one PostgreSQL without a shared bus."""
    allow_json_responses: bool = True
    """Answer JSON instead of XML when a client sends Accept: application/json."""

    # --- lifecycle (minutes; 0 disables the rule) -----------------------------------------
    meeting_expire_if_no_user_joined_minutes: int = Field(default=5, ge=0)
    meeting_expire_when_last_user_left_minutes: int = Field(default=5, ge=0)
    inactivity_timeout_minutes: int = Field(default=60, ge=0)
    lifecycle_check_interval_seconds: float = Field(default=5.0, gt=0)
    join_token_ttl_seconds: int = Field(default=600, ge=10)
    """How long the one-time token in a join URL stays valid before it is used."""

    # --- the room ---------------------------------------------------------------------------
    frame_ancestors: str = "*"
    """Who may embed the room in an iframe (CSP frame-ancestors), e.g.
    "https://moodle.example.edu https://*.example.edu". "*" lets any site embed it, as BBB does."""
    default_presentation: Path | None = None
    """A PDF every meeting starts with. Default: sala's own one-page welcome slide."""
    presentation_max_mb: int = Field(default=30, ge=1, le=1024)
    presentation_max_pages: int = Field(default=200, ge=1, le=5000)
    presentation_max_documents_per_request: int = Field(default=50, ge=1, le=10_000)
    """Documents one create or insertDocument may name; more are refused before any is read."""
    presentation_max_documents: int = Field(default=100, ge=1, le=100_000)
    """Documents one meeting may hold (the default one included); the next is refused."""
    room_ws_compression: bool = False
    """permessage-deflate on the room's WebSocket. Off: room messages are small, and
    compressing each one cost 25% more CPU per message and 51 KiB more memory per connection
    (docs/performance.md) for bandwidth that audio and video dwarf."""
    reconnect_grace_after_restart_seconds: float = Field(default=60.0, ge=0)
    """After a restart, how long people still counted as present have to reconnect before
    they are marked as left."""
    demo: bool = False
    """The demo page at /demo (create a meeting and join from a browser, the secret staying on
    the server). Off unless turned on: anyone who reaches it can create (small, short) meetings,
    and a loopback listener behind a reverse proxy is public."""
    demo_passphrase: SecretStr | None = None
    """When set, the demo asks for it before creating a meeting."""

    # --- LTI 1.3 (docs/lti.md) ----------------------------------------------------------------
    lti_allow_http: bool = False
    """Accept LTI logins and launches while sala's public URL is plain http on a host other than
    loopback, and platform URLs over http. Test servers only: launches carry who the user is."""
    lti_clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    """How far the platform's clock may be from sala's when an id_token's exp, iat and nbf are
    checked."""
    lti_login_minutes: int = Field(default=10, ge=1, le=120)
    """How long a login initiation's state waits for its launch."""
    lti_session_minutes: int = Field(default=480, ge=5, le=10_080)
    """How long a launch's landing page (join, recordings) stays usable."""
    lti_key_rotation_days: int = Field(default=90, ge=0)
    """Age at which sala's LTI signing key is replaced by a new one (the old one stays in the
    JWKS for 7 days). 0: never on its own."""
    lti_moderator_roles: str = "Instructor,Administrator,TeachingAssistant"
    """LTI roles (the last part of the role URI) whose holders join as moderators."""

    # --- webhooks and callbacks --------------------------------------------------------------
    metrics_token: SecretStr | None = None
    """Bearer token for GET /metrics (Prometheus); unset, the endpoint answers 404."""
    delivery_worker_process: bool = True
    """`sala serve` delivers webhooks and callbacks from a child `sala worker` process, so
    delivery never takes CPU from the API. False: a task in the server process."""
    hooks_enabled_by_default: bool = True
    """hooks/create without `enabled`: BBB clients never send it, so hooks start enabled.
    False gives Mconf's behaviour (silent until hooks/enable)."""
    webhook_allow: str = ""
    """Comma-separated addresses, networks (CIDR) or host names that webhooks, callbacks and
    document downloads may reach even if the deny list covers them."""
    webhook_deny: str = "default"
    """Comma-separated networks or host names they never reach, or the presets `default`
    (link-local, cloud metadata, unspecified, multicast and reserved addresses: what no
    integrator runs a web server on) and `private` (`default` plus loopback, private and shared
    ranges: the strict policy). sala/events/destinations.py lists them."""
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    webhook_retry_window_hours: float = Field(default=24.0, gt=0)
    """How long a failing delivery is retried before its hook is disabled."""
    webhook_max_backoff_seconds: float = Field(default=900.0, gt=0)
    webhook_concurrency: int = Field(default=32, ge=1, le=1000)
    webhook_checksum_algorithm: str = "sha1"
    """Algorithm of the `checksum` query parameter on deliveries (BBB's default mode)."""

    # --- audio, video and screen sharing ---------------------------------------------------
    media: bool = True
    """Audio, webcams and screen sharing through Janus. False: rooms without media."""
    video_codec: Literal["vp8", "h264"] = "vp8"
    """The codec webcams and screens are sent in: VideoRoom gives it to every publisher whose
    browser offers it, and the other one to a browser without it. Relays of a lecture to other
    media nodes carry this codec only; a feed in the other one is subscribed to on the
    meeting's node (docs/decisions.md, "Relayed video follows the meeting's codec"). Set the
    same value on every front end."""
    janus_url: str | None = None
    """WebSocket URL of an external Janus (ws://10.0.0.5:8188). Default: sala starts its own
    Janus, listening on loopback only, and restarts it if it dies."""
    janus_api_secret: SecretStr | None = None
    """The external Janus' api_secret; with media nodes, the secret media nodes start their
    Janus with and front ends present (the same value on all of them). sala's own Janus on a
    single machine gets a random one at each start."""
    janus_binary: str = "janus"
    janus_ws_port: int = Field(default=0, ge=0, le=65535)
    """Port of sala's own Janus (API); 0 picks a free one."""
    janus_admin_port: int = Field(default=0, ge=0, le=65535)
    """Loopback port of its Admin API (a media node's agent reads the load there)."""
    janus_event_loops: int | None = Field(default=None, ge=0, le=1024)
    """Threads that carry the media of sala's own Janus (Janus' event_loops): each handle
    (each participant's each connection) is given to one of them. Default: one per core
    sala may use. 0: Janus' own default, a thread per handle, which a big lecture's hundreds
    of listeners turn into hundreds of threads woken for every packet (docs/performance.md,
    "Big meetings: a thousand listeners across two media nodes")."""
    janus_ws_ip: str = "127.0.0.1"
    """Where the API of sala's own Janus listens. A media node (sala serve --role media) sets
    the private address its front ends reach it on, and announces ws://<janus_ws_ip>:<port>."""
    janus_ws_acl: str | None = None
    """Address prefixes allowed on that API (Janus' ws_acl: "10.0.0.,10.0.1."); default:
    loopback only when it listens on loopback, else whoever holds janus_api_secret."""
    media_ip: str | None = None
    """The address media is offered on: Janus gathers ICE candidates only there."""
    media_public_ip: str | None = None
    """The public address when Janus sits behind 1:1 NAT (Janus' nat_1_1_mapping)."""
    rtp_port_range: str = "20000-40000"
    media_forward_host: str | None = None
    """A media node: the address other media nodes send a meeting's forwarded mix to (SRTP,
    UDP 40001-42000), when this node relays it to listen-only listeners of another node's
    meeting. Default: janus_ws_ip, the private address front ends reach it on, unless that is
    loopback (then the node relays nothing)."""
    media_listeners_per_node: int = Field(default=500, ge=1, le=100_000)
    """With media nodes: how many listen-only listeners of one meeting a node takes before the
    next ones go to other nodes, to which the meeting's mix is relayed. 500 keeps one node's
    relay under 80 % of a core (docs/performance.md, "Big meetings": 353 listeners cost 56 %)."""
    stun_servers: str = ""
    """Comma-separated STUN URLs given to browsers (stun:stun.example.edu:3478); the first
    also tells Janus its public address."""
    turn_servers: str = ""
    """Comma-separated TURN URLs given to browsers (turn:turn.example.edu:3478?transport=udp,
    turns:turn.example.edu:443?transport=tcp), with credentials from turn_secret."""
    turn_secret: SecretStr | None = None
    """coturn's static-auth-secret (use-auth-secret): sala signs short-lived credentials."""
    turn_ttl_seconds: int = Field(default=6 * 3600, ge=60)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("SALA_CONFIG_FILE")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @field_validator("checksum_algorithms")
    @classmethod
    def _known_algorithms(cls, value: str) -> str:
        names = [n.strip().lower() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in CHECKSUM_ALGORITHMS]
        if unknown or not names:
            raise ValueError(f"must be a comma-separated subset of {','.join(CHECKSUM_ALGORITHMS)}")
        return ",".join(names)

    @field_validator("webhook_checksum_algorithm")
    @classmethod
    def _one_algorithm(cls, value: str) -> str:
        if value.lower() not in CHECKSUM_ALGORITHMS:
            raise ValueError(f"must be one of {', '.join(CHECKSUM_ALGORITHMS)}")
        return value.lower()

    @field_validator("public_url", "default_logout_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("media_forward_host")
    @classmethod
    def _forward_address(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError("must be an IP address") from None
        if address.is_unspecified or address.is_loopback:
            raise ValueError("must be an address other media nodes reach, not 0.0.0.0 or loopback")
        return str(address)

    @field_validator("janus_ws_ip")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError("must be an IP address") from None
        if address.is_unspecified:
            # It is also the address announced to front ends: it must be one they can reach.
            raise ValueError("must be an address front ends connect to, not 0.0.0.0 or ::")
        return str(address)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// or unix://")
        if parts.scheme == "unix" and not parts.path:
            raise ValueError("unix:// needs the socket's path (unix:///run/redis/redis.sock)")
        if parts.scheme != "unix" and not parts.hostname:
            raise ValueError("needs a host (redis://10.0.0.7:6379/0)")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number in range
        except ValueError as exc:
            raise ValueError(f"bad port: {exc}") from None
        return value

    @field_validator("node_id")
    @classmethod
    def _node_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not NODE_ID.fullmatch(value):
            raise ValueError(
                "must be 1 to 128 letters, digits and . _ - : @ [ ] (a host name and a port)"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in {"critical", "error", "warning", "info", "debug"}:
            raise ValueError("must be one of critical, error, warning, info, debug")
        return value.lower()

    @model_validator(mode="after")
    def _secret_not_blank(self) -> Settings:
        if self.secret is not None and not self.secret.get_secret_value().strip():
            raise ValueError("secret: an empty shared secret would accept any request")
        return self

    # --- derived values -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def cluster_node_id(self) -> str:
        """node_id, or `<host name>:<port>` when unset."""
        return self.node_id or f"{socket.gethostname()}:{self.port}"

    @property
    def logout_url(self) -> str:
        return self.default_logout_url or self.base_url + "/"

    @property
    def accepted_algorithms(self) -> frozenset[str]:
        return frozenset(self.checksum_algorithms.split(","))

    @property
    def server_disabled_features(self) -> list[str]:
        return [f.strip() for f in self.disabled_features.split(",") if f.strip()]

    @property
    def domain(self) -> str:
        """The host name deliveries name as their `domain`."""
        return urlsplit(self.base_url).hostname or self.host

    @staticmethod
    def csv(value: str) -> list[str]:
        return [item.strip() for item in value.split(",") if item.strip()]

    @property
    def recordings_root(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def sqlalchemy_url(self) -> str:
        return _async_dialect(self.database_url or f"sqlite:///{self.data_dir / 'sala.db'}")

    @property
    def outbox_sqlalchemy_url(self) -> str:
        if self.outbox_url:
            return _async_dialect(self.outbox_url)
        main = make_url(self.sqlalchemy_url)
        if main.get_backend_name() != "sqlite" or main.database in (None, "", ":memory:"):
            return self.sqlalchemy_url
        path = Path(main.database)
        outbox = path.with_name(f"{path.stem}.outbox{path.suffix}")
        return main.set(database=str(outbox)).render_as_string(hide_password=False)

    @property
    def shared_secret(self) -> str:
        if self.secret is None:
            raise ConfigError("secret: not resolved yet (call load_settings)")
        return self.secret.get_secret_value()


def _async_dialect(url: str) -> str:
    """The async driver for each backend: postgresql:// runs on asyncpg, sqlite:// on aiosqlite."""
    for plain, dialect in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return dialect + url[len(plain) :]
    return url


def _format_validation_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "config"
        value = err.get("input")
        # A Redis URL may carry a password: named, not shown.
        hidden = key in ("secret", "redis_url") or isinstance(value, dict)
        shown = "" if hidden else f" (got {value!r})"
        lines.append(f"SALA_{key.upper()}: {err['msg']}{shown}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings, resolving the shared secret.

    A missing secret is generated once and stored in data_dir/secret (mode 0600), so the
    integrations configured with it keep working across restarts.
    """
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc)) from exc
    if settings.secret is None:
        settings.secret = SecretStr(_stored_or_new_secret(settings.data_dir))
    return settings


def _stored_or_new_secret(data_dir: Path) -> str:
    path = data_dir / "secret"
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if not value:
            raise ConfigError(f"SALA_SECRET: the stored secret file {path} is empty")
        return value
    private_dir(data_dir)
    value = secrets.token_hex(32)
    # O_EXCL: two processes starting at once must not each write a different secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return _stored_or_new_secret(data_dir)
    os.fchmod(fd, PRIVATE_FILE)  # exactly 0600, whatever the umask took away
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value
