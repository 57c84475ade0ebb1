"""Connections to Redis (or Valkey): one factory, so every client sala opens has the same
timeouts, health checks and retry policy, and errors become `ClusterUnavailable`.

Redis carries no durable state for sala (PostgreSQL does): a command that cannot be answered
within a couple of seconds is better failed than waited on, so timeouts are short and retries
few. The bus asks for no retries at all (a retried PUBLISH whose reply was lost would be
delivered twice); the registry and the directory get one, their writes being idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from sala.cluster.errors import ClusterUnavailable

DEFAULT_PREFIX = "sala:"
"""Put before every key and channel name sala uses, so one Redis can serve other things too."""

CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 2.0
HEALTH_CHECK_S = 30
"""A pooled connection idle this long is PINGed before it is used again."""

SCHEMES = ("redis", "rediss", "unix")


def redis_client(
    url: str, *, name: str, retries: int = 1, health_check_s: int = HEALTH_CHECK_S
) -> Redis:
    """A client for `url` (redis://[:password@]host[:port][/db], rediss:// for TLS, unix://).

    `name` is what `CLIENT LIST` shows for its connections, for operators. Connections open
    lazily: this never blocks and never fails on an unreachable server."""
    if urlsplit(url).scheme not in SCHEMES:
        raise ValueError(f"a Redis URL starts with {', '.join(s + '://' for s in SCHEMES)}")
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=COMMAND_TIMEOUT_S,
        socket_keepalive=True,
        health_check_interval=health_check_s,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
        client_name=name,
    )


def describe(url: str) -> str:
    """`url` without its credentials, for logs and errors."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path or ''}"


@contextmanager
def unavailable_as_cluster_error(what: str) -> Iterator[None]:
    """Turns Redis' connection errors and timeouts (and refusals) into `ClusterUnavailable`."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise ClusterUnavailable(f"{what}: {exc}") from exc
