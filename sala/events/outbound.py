"""The HTTP client for integrators' URLs (webhooks, callbacks, presentation downloads).

It only ever connects to an address DestinationPolicy approved: `check` returns a Destination (the
URL and its approved addresses), `OutboundHttp` sends to that URL, and its network backend opens
the TCP connection to one of those addresses without resolving the name again. A DNS answer that
changes between the check and the connection (rebinding) cannot steer a request anywhere else.
The URL itself is not rewritten, so the Host header, TLS SNI and certificate verification stay on
the URL's name, and keep-alive connections are pooled per name as usual (a reused connection goes
to an address approved for that name earlier, by the same policy).

Redirects are never followed: each hop would be a new destination to check.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from urllib.parse import urlsplit, urlunsplit

import httpcore
import httpx

from sala.events.destinations import Destination

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)

# The destination of the request being sent in this task. httpcore opens a connection in the
# task that needs it, so the backend below finds it here; nothing else can reach connect_tcp.
_approved: ContextVar[Destination | None] = ContextVar("sala_approved_destination", default=None)


class AnswerTooLarge(Exception):
    """The answer's body went past the caller's `max_bytes`: reading stopped there."""

    def __init__(self, url: str, limit: int) -> None:
        super().__init__(f"{without_query(url)} answered more than {limit} bytes")
        self.limit = limit


_DECODED = frozenset({"content-encoding", "content-length", "transfer-encoding"})
"""Headers that describe the body as sent, not as `AnswerTooLarge`'s reader keeps it."""


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the approved addresses of the destination being sent, and nowhere else."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        destination = _approved.get()
        # Fail closed: a connection nobody checked is never opened.
        if destination is None or host.lower() != destination.host:
            raise httpcore.ConnectError(f"no approved address for {host}")
        if not destination.addresses:
            raise httpcore.ConnectError(f"no approved address for {host}: it did not resolve")
        # One deadline for all the addresses, so a name with several cannot multiply the timeout.
        deadline = None if timeout is None else time.monotonic() + timeout
        failure: Exception | None = None
        for address in destination.addresses:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await self._inner.connect_tcp(
                    address, port, remaining, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never a destination")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request and error mapping), over a pool that uses PinnedBackend.

    httpx does not take a network backend, so the pool it builds is replaced; if a future httpx
    keeps its pool elsewhere this fails at startup rather than sending unpinned requests.
    """

    def __init__(
        self, limits: httpx.Limits, backend: httpcore.AsyncNetworkBackend, tls: ssl.SSLContext
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("this httpx keeps its connection pool elsewhere: cannot pin")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class OutboundHttp:
    """Sends requests to approved destinations only (see the module's docstring)."""

    def __init__(
        self,
        max_connections: int,
        backend: httpcore.AsyncNetworkBackend | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`backend`: where connections are really opened (tests record them instead); `tls`:
        the certificate checks (default: httpx's, the certifi authorities)."""
        transport = _PinnedTransport(
            httpx.Limits(max_connections=max_connections),
            PinnedBackend(backend or httpcore.AnyIOBackend()),
            tls or httpx.create_ssl_context(trust_env=False),
        )
        # trust_env=False: a proxy from the environment would connect in our place, unchecked.
        self._client = httpx.AsyncClient(
            transport=transport, trust_env=False, follow_redirects=False
        )

    async def request(
        self,
        destination: Destination,
        method: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeout_s: float,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send to `destination.url` and read the whole answer; `timeout_s` bounds each of
        connecting, writing and every read (httpx's timeouts). With `max_bytes`, reading stops
        (AnswerTooLarge) as soon as the decoded body passes it, so an endless or decompressing
        answer costs no more than that."""
        request = self._client.build_request(
            method, destination.url, headers=headers, content=content, timeout=timeout_s
        )
        if max_bytes is None:
            return await self._send(destination, request, stream=False)
        response = await self._send(destination, request, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise AnswerTooLarge(destination.url, max_bytes)
        finally:
            await response.aclose()
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DECODED]
        return httpx.Response(
            response.status_code, headers=kept, content=bytes(body), request=request
        )

    @asynccontextmanager
    async def stream(
        self, destination: Destination, method: str, *, timeout_s: float
    ) -> AsyncIterator[httpx.Response]:
        """Send to `destination.url`; the answer's body is read by the caller."""
        request = self._client.build_request(method, destination.url, timeout=timeout_s)
        response = await self._send(destination, request, stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    async def _send(
        self, destination: Destination, request: httpx.Request, *, stream: bool
    ) -> httpx.Response:
        # Approved only while this request connects, so nothing else sent from this task later
        # can borrow the approval.
        token = _approved.set(destination)
        try:
            return await self._client.send(request, stream=stream, follow_redirects=False)
        finally:
            _approved.reset(token)

    async def aclose(self) -> None:
        await self._client.aclose()


def without_query(url: str) -> str:
    """An outbound URL as logged: its query may hold a `checksum` or whatever credentials the
    integrator put there, so it stays out."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
