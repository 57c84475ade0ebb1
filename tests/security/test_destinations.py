"""The destination policy and the pinned connection (issue 12, finding 3), and its lists (issue 13).

A probe reached loopback through `http://[::ffff:127.0.0.1]:PORT/`: the deny list compared the
IPv6 form only, and the request resolved the name again when it connected. These tests hold the
policy to every spelling of an address (IPv4-mapped, -compatible, 6to4, NAT64, Teredo, odd IPv4
literals, zone ids), hold the connection to the address the policy approved (DNS rebinding), and
check hooks, `insertDocument` URLs and end callbacks end to end against a real receiver on
loopback. They use the strict `private` preset (loopback and private ranges denied), so that
loopback, where the test receivers listen, stands for an address the operator refuses.

The default list (issue 13) blocks only what no integrator runs a web server on, since
bbb-webhooks delivers anywhere: link-local and cloud metadata addresses, unspecified, multicast
and reserved ones; its tests come first.

Every connection these tests make goes to loopback; "public" addresses are only ever checked,
or handed to a network backend that records the attempt and connects nowhere.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from sqlalchemy import select

from sala.config import Settings, load_settings
from sala.events.destinations import Destination, DestinationPolicy, DestinationRefused
from sala.events.outbound import AnswerTooLarge, OutboundHttp
from sala.store import tables
from tests.conftest import SECRET, Api
from tests.support.receiver import Receiver
from tests.xmlutil import success

PUBLIC = "93.184.216.34"  # checked, never contacted


# ------------------------------------------------------------------------------ helpers --
def answers(*addresses: str) -> Callable[[str], Awaitable[Sequence[str]]]:
    """A resolver that answers `addresses` for every name."""

    async def resolve(_host: str) -> Sequence[str]:
        return addresses

    return resolve


async def no_lookups(host: str) -> Sequence[str]:
    raise AssertionError(f"{host} is an address literal: nothing should be resolved")


def policy(allow: Iterable[str] = (), resolver: Any = no_lookups) -> DestinationPolicy:
    """The strict policy (SALA_WEBHOOK_DENY=private), what the mechanism tests judge against."""
    return DestinationPolicy(allow=allow, deny=["private"], resolver=resolver)


async def refused(url: str, p: DestinationPolicy | None = None) -> str:
    with pytest.raises(DestinationRefused) as caught:
        await (p or policy()).check(url)
    return str(caught.value)


# ------------------------------------------------------------------------- the lists --
NEVER_A_RECEIVER = {
    "aws metadata": "http://169.254.169.254/latest/meta-data/",
    "aws ecs": "http://169.254.170.2/v2/credentials",
    "scaleway": "http://169.254.42.42/conf",
    "link-local v6": "http://[fe80::a9fe:a9fe]/openstack",
    "aws v6": "http://[fd00:ec2::254]/latest/meta-data/",
    "aws pod identity v6": "http://[fd00:ec2::23]/",
    "gcp v6": "http://[fd20:ce::254]/computeMetadata/v1/",
    "scaleway v6": "http://[fd00:42::42]/conf",
    "alibaba": "http://100.100.100.200/latest/meta-data/",
    "oracle classic": "http://192.0.0.192/latest/",
    "azure wireserver": "http://168.63.129.16/machine",
    "this network": "http://0.0.0.0:8080/",
    "unspecified v6": "http://[::]:8080/",
    "multicast": "http://224.0.0.1/",
    "multicast v6": "http://[ff02::1]/",
    "reserved": "http://240.0.0.1/",
    "broadcast": "http://255.255.255.255/",
    "metadata mapped": "http://[::ffff:169.254.169.254]/",
    "metadata nat64": "http://[64:ff9b::a9fe:a9fe]/",
    "metadata 6to4": "http://[2002:a9fe:a9fe::]/",
}
WHERE_INTEGRATORS_ARE = {
    "loopback": "http://127.0.0.1:8080/hook",
    "loopback v6": "http://[::1]:8080/hook",
    "private 10": "http://10.0.0.5/hook",
    "private 172": "https://172.16.4.2/hook",
    "private 192": "http://192.168.1.20/moodle",
    "unique local v6": "http://[fd12:3456:789a::1]/hook",
    "shared (tailscale)": "http://100.101.102.103/hook",
    "mapped private": "http://[::ffff:10.0.0.5]/hook",
}


@pytest.mark.parametrize("url", NEVER_A_RECEIVER.values(), ids=NEVER_A_RECEIVER.keys())
async def test_the_default_refuses_metadata_link_local_and_non_unicast(url: str) -> None:
    message = await refused(url, DestinationPolicy(resolver=no_lookups))
    assert "SALA_WEBHOOK_DENY" in message  # the operator's log says which setting decided


@pytest.mark.parametrize("url", WHERE_INTEGRATORS_ARE.values(), ids=WHERE_INTEGRATORS_ARE.keys())
async def test_the_default_delivers_where_integrators_run_receivers(url: str) -> None:
    destination = await DestinationPolicy(resolver=no_lookups).check(url)
    assert len(destination.addresses) == 1
    # SALA_WEBHOOK_DENY=private restores the strict policy.
    assert "SALA_WEBHOOK_DENY" in await refused(url, policy())


async def test_presets_combine_with_networks_and_an_empty_list_denies_nothing() -> None:
    more = DestinationPolicy(deny=["default", "203.0.113.0/24"], resolver=no_lookups)
    await refused("http://203.0.113.7/", more)
    await refused("http://169.254.169.254/", more)
    assert (await more.check("http://10.0.0.5/")).addresses == ("10.0.0.5",)
    nothing = DestinationPolicy(deny=[], resolver=no_lookups)
    assert (await nothing.check("http://169.254.169.254/")).addresses == ("169.254.169.254",)
    # The mechanism stays whatever the lists say: odd spellings and zones are never sent to.
    await refused("http://2130706433/", nothing)
    await refused("http://[fe80::1%25eth0]/", nothing)


async def test_localhost_names_are_loopback_and_invalid_names_never_resolve() -> None:
    default = DestinationPolicy(resolver=no_lookups)
    for url in ("http://localhost:8080/", "http://LOCALHOST./", "http://lms.localhost/"):
        assert (await default.check(url)).addresses == ("127.0.0.1", "::1")
        await refused(url)  # the strict policy judges those addresses
    await refused("http://lms.invalid/", default)


# ------------------------------------------------------------------ spellings of loopback --
INTERNAL_SPELLINGS = {
    # IPv4-mapped (::ffff:0:0/96), both spellings the probe used, and a private one.
    "mapped dotted": "http://[::ffff:127.0.0.1]:8080/",
    "mapped hex": "http://[::ffff:7f00:1]:8080/",
    "mapped upper case": "http://[::FFFF:127.0.0.1]/",
    "mapped private": "http://[::ffff:10.0.0.1]/",
    "mapped metadata": "http://[::ffff:169.254.169.254]/latest",
    "mapped long form": "http://[0:0:0:0:0:ffff:7f00:1]/",
    # IPv4-translated (::ffff:0:0:0/96, RFC 2765).
    "translated": "http://[::ffff:0:127.0.0.1]/",
    # IPv4-compatible (::/96, deprecated but still parsed by stacks).
    "compatible dotted": "http://[::127.0.0.1]/",
    "compatible hex": "http://[::7f00:1]/",
    "compatible private": "http://[::a00:1]/",
    # 6to4 (2002::/16): the IPv4 address is bits 16-47.
    "6to4 loopback": "http://[2002:7f00:1::1]/",
    "6to4 metadata": "http://[2002:a9fe:a9fe::]/",
    # NAT64 well-known prefix (64:ff9b::/96).
    "nat64 dotted": "http://[64:ff9b::127.0.0.1]/",
    "nat64 hex": "http://[64:ff9b::a9fe:a9fe]/",
    # NAT64 local-use prefix (64:ff9b:1::/48, RFC 8215), /96 and /64 layouts of RFC 6052.
    "nat64 local /96": "http://[64:ff9b:1::7f00:1]/",
    "nat64 local /64": "http://[64:ff9b:1:0:7f:0:100:0]/",
    # Teredo (2001::/32): server 65.54.227.120, client 127.0.0.1 (stored inverted).
    "teredo": "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
    # IPv4 literals that resolvers accept (inet_aton) but are not dotted quads.
    "decimal": "http://2130706433/",
    "octal": "http://0177.0.0.1/",
    "octal whole": "http://017700000001/",
    "hex": "http://0x7f.1/",
    "hex whole": "http://0x7f000001/",
    "short": "http://127.1/",
    "short private": "http://10.1/",
    "trailing dot": "http://127.0.0.1./",
    "leading zeros": "http://127.000.000.001/",
    # Zone (scope) identifiers.
    "zone link-local": "http://[fe80::1%25eth0]/",
    "zone raw": "http://[fe80::1%eth0]/",
    "zone on mapped": "http://[::ffff:127.0.0.1%25lo]/",
    "zone on public": "http://[2606:2800:220:1:248:1893:25c8:1946%25eth0]/",
}


@pytest.mark.parametrize("url", INTERNAL_SPELLINGS.values(), ids=INTERNAL_SPELLINGS.keys())
async def test_every_spelling_of_an_internal_address_is_refused(url: str) -> None:
    # Refused from the literal alone: no resolver is asked (no_lookups would fail the test).
    await refused(url)


PUBLIC_SPELLINGS = {
    "ipv4": f"http://{PUBLIC}/",
    "mapped": f"http://[::ffff:{PUBLIC}]/",
    "mapped hex": "http://[::ffff:5db8:d822]/",
    "compatible": "http://[::5db8:d822]/",
    "6to4": "http://[2002:5db8:d822::1]/",
    "nat64": f"http://[64:ff9b::{PUBLIC}]/",
    "nat64 local /96": "http://[64:ff9b:1::5db8:d822]/",
    "teredo": "http://[2001:0:4136:e378:8000:63bf:a247:27dd]/",
    "ipv6": "https://[2606:2800:220:1:248:1893:25c8:1946]:8443/x",
}


@pytest.mark.parametrize("url", PUBLIC_SPELLINGS.values(), ids=PUBLIC_SPELLINGS.keys())
async def test_public_addresses_pass_in_every_spelling(url: str) -> None:
    destination = await policy().check(url)
    assert destination.url == url
    assert len(destination.addresses) == 1  # the literal itself, approved


async def test_names_are_checked_on_every_resolved_address_in_every_form() -> None:
    url = "https://lms.university.example.net/hook"
    for internal in ("::ffff:127.0.0.1", "::ffff:7f00:1", "64:ff9b::7f00:1", "2002:a00:1::"):
        message = await refused(url, policy(resolver=answers(PUBLIC, internal)))
        assert internal in message
    await refused(url, policy(resolver=answers("fe80::1%eth0")))
    approved = await policy(resolver=answers(PUBLIC, "2606:2800:220:1::1")).check(url)
    assert approved.addresses == (PUBLIC, "2606:2800:220:1::1")
    assert approved.host == "lms.university.example.net"


async def test_an_allowed_ipv4_network_covers_its_other_spellings_only_where_it_allows() -> None:
    # The operator allows the receiver on loopback: its mapped spelling is the same address.
    allowing = policy(allow=["127.0.0.1"])
    assert (await allowing.check("http://[::ffff:127.0.0.1]:9/")).addresses == ("::ffff:7f00:1",)
    await refused("http://[::ffff:127.0.0.2]:9/", allowing)
    # Allowing a translator's prefix does not allow what it translates to.
    nat64 = policy(allow=["64:ff9b::/96"])
    await refused("http://[64:ff9b::10.0.0.1]/", nat64)
    assert (await nat64.check(f"http://[64:ff9b::{PUBLIC}]/")).addresses


async def test_deny_names_cannot_be_dodged_with_a_trailing_dot() -> None:
    p = DestinationPolicy(deny=["blocked.example.org"], resolver=answers(PUBLIC))
    await refused("http://blocked.example.org./", p)
    await refused("http://localhost./", policy())


async def test_allowed_names_are_pinned_to_what_they_resolved_to() -> None:
    p = policy(allow=["lms.campus.internal"], resolver=answers("10.1.2.3"))
    destination = await p.check("https://lms.campus.internal/hooks")
    assert destination.addresses == ("10.1.2.3",)


async def test_unresolvable_names_are_refused() -> None:
    async def nxdomain(host: str) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert "cannot resolve" in await refused("http://later.example.net/", policy(resolver=nxdomain))
    assert "cannot resolve" in await refused(
        "http://empty.example.net/", policy(resolver=answers())
    )


# ------------------------------------------------------------------- the pinned connection --
class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records where a connection was attempted; connects nowhere."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.attempts.append((host, port))
        raise httpcore.ConnectError("recorded, not connected")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def test_rebinding_after_the_check_cannot_reach_loopback() -> None:
    lookups: list[str] = []

    async def rebinding(host: str) -> Sequence[str]:
        # Public while the policy looks, loopback for anybody who asks afterwards.
        lookups.append(host)
        return [PUBLIC] if len(lookups) == 1 else ["127.0.0.1"]

    backend = RecordingBackend()
    http = OutboundHttp(max_connections=4, backend=backend)
    try:
        destination = await policy(resolver=rebinding).check("http://rebind.example.net:8080/x")
        with pytest.raises(Exception, match="recorded"):
            await http.request(destination, "GET", timeout_s=2)
    finally:
        await http.aclose()
    assert lookups == ["rebind.example.net"]
    assert backend.attempts == [(PUBLIC, 8080)]


async def test_the_pinned_connection_keeps_the_name_for_host(receiver: Receiver) -> None:
    # A name nothing resolves: the request reaches the receiver only through the pin.
    name = f"hooks-{uuid.uuid4().hex[:8]}.invalid-tld-for-sala-tests"
    p = policy(allow=["127.0.0.1"], resolver=answers("127.0.0.1"))
    destination = await p.check(f"http://{name}:{receiver.port}/pinned")
    http = OutboundHttp(max_connections=4)
    try:
        response = await http.request(destination, "POST", content=b"x=1", timeout_s=5)
    finally:
        await http.aclose()
    assert response.status_code == 200
    [request] = receiver.accepted("/pinned")
    assert request.headers["host"] == f"{name}:{receiver.port}"


async def test_the_client_connects_nowhere_without_an_approved_address() -> None:
    backend = RecordingBackend()
    http = OutboundHttp(max_connections=4, backend=backend)
    try:
        unresolved = Destination("http://nowhere.example.net/", "nowhere.example.net", ())
        with pytest.raises(Exception, match="approved"):
            await http.request(unresolved, "GET", timeout_s=2)
        # Approved for one name, sent to another: nothing to connect to either.
        other = Destination("http://elsewhere.example.net/", "nowhere.example.net", (PUBLIC,))
        with pytest.raises(Exception, match="approved"):
            await http.request(other, "GET", timeout_s=2)
    finally:
        await http.aclose()
    assert backend.attempts == []


TLS_NAME = "lms.sala-pinned.net"


@dataclass
class TlsServer:
    port: int
    cert: Path
    server_names: list[str | None]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    """HTTPS on loopback with a self-signed certificate for TLS_NAME; records the SNI it gets."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={TLS_NAME}",
         "-addext", f"subjectAltName=DNS:{TLS_NAME}", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield TlsServer(int(server.server_address[1]), cert, names)
    finally:
        server.shutdown()
        server.server_close()


async def test_tls_is_verified_for_the_name_while_connecting_to_the_pinned_address(
    tls_server: TlsServer,
) -> None:
    p = policy(allow=["127.0.0.1"], resolver=answers("127.0.0.1"))
    http = OutboundHttp(max_connections=4, tls=ssl.create_default_context(cafile=tls_server.cert))
    other = f"other.{TLS_NAME}"
    try:
        right = await p.check(f"https://{TLS_NAME}:{tls_server.port}/x")
        assert (await http.request(right, "GET", timeout_s=5)).status_code == 200
        # Same pinned address, another name: the certificate is not for it.
        wrong = await p.check(f"https://{other}:{tls_server.port}/x")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.request(wrong, "GET", timeout_s=5)
    finally:
        await http.aclose()
    assert tls_server.server_names == [TLS_NAME, other]


# ---------------------------------------------------------------- end to end, through the API --
@pytest.fixture
def webhook_allow() -> str:
    """SALA_WEBHOOK_ALLOW for the app under test; tests that need loopback parametrize it."""
    return ""


@pytest.fixture
def settings(tmp_path: Path, webhook_allow: str) -> Settings:
    # SQLite only: the database has nothing to do with where requests go. The strict preset, set
    # as an operator would, so that the loopback receiver stands for a refused address.
    return load_settings(
        secret=SECRET,
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}",
        public_url="https://sala.test",
        webhook_allow=webhook_allow,
        webhook_deny="private",
        media=False,
    )


async def deliver(api: Api, passes: int = 4) -> None:
    for _ in range(passes):
        await api.services.events.run_once()
        await api.services.deliverer.drain()


async def delivery_errors(api: Api) -> list[str]:
    d = tables.deliveries
    async with api.services.outbox.read() as conn:
        rows = (await conn.execute(select(d.c.last_error).order_by(d.c.id))).scalars().all()
    return [row or "" for row in rows]


def mapped(receiver: Receiver, path: str, spelling: str = "::ffff:127.0.0.1") -> str:
    return f"http://[{spelling}]:{receiver.port}{path}"


@pytest.mark.parametrize("spelling", ["::ffff:127.0.0.1", "::ffff:7f00:1"])
async def test_a_hook_on_mapped_loopback_is_registered_and_never_called(
    api: Api, receiver: Receiver, spelling: str
) -> None:
    # hooks/create registers it, as bbb-webhooks would; each delivery is judged and refused.
    url = mapped(receiver, "/hook", spelling)
    success(await api.get("hooks/create", {"callbackURL": url}))
    await api.create()
    await deliver(api)
    assert receiver.accepted() == []
    errors = await delivery_errors(api)
    assert errors and all(e.startswith("destination refused") for e in errors)


async def test_a_stored_hook_on_mapped_loopback_is_not_delivered(
    api: Api, receiver: Receiver
) -> None:
    # A hook registered before the fix (or written to the table by hand) is checked at delivery.
    await api.services.hooks.create(mapped(receiver, "/old"), [], None, False, True)
    await api.create()
    await deliver(api)
    assert receiver.accepted() == []
    errors = await delivery_errors(api)
    assert errors and all(e.startswith("destination refused") for e in errors)


@pytest.mark.parametrize("param", ["meta_endCallbackUrl", "meta_analytics-callback-url"])
async def test_end_callbacks_on_mapped_loopback_are_not_called(
    api: Api, receiver: Receiver, param: str
) -> None:
    meeting_id, _ = await api.create(**{param: mapped(receiver, "/ended")})
    success(await api.get("end", {"meetingID": meeting_id}))
    await deliver(api)
    assert receiver.accepted() == []
    assert any(e.startswith("destination refused") for e in await delivery_errors(api))


async def insert_document(api: Api, url: str) -> str:
    meeting_id, created = await api.create()
    internal = success(created).findtext("internalMeetingID") or ""
    query = api.query("insertDocument", {"meetingID": meeting_id})
    body = (
        '<modules><module name="presentation">'
        f'<document url="{url}" filename="deck.pdf"/></module></modules>'
    )
    success(
        await api.client.post(
            f"/bigbluebutton/api/insertDocument?{query}",
            content=body,
            headers={"Content-Type": "application/xml"},
        )
    )
    return internal


async def test_insert_document_from_mapped_loopback_is_not_fetched(
    api: Api, receiver: Receiver
) -> None:
    internal = await insert_document(api, mapped(receiver, "/deck.pdf"))
    await api.services.presentations.wait_idle()
    [presentation] = await api.services.presentations.of_meeting(internal)
    assert presentation.state == "failed"
    assert "not allowed" in (presentation.error or "")
    assert receiver.accepted() == []


@pytest.mark.parametrize("webhook_allow", ["127.0.0.1"])
async def test_an_allowed_loopback_receiver_still_gets_everything(
    api: Api, receiver: Receiver
) -> None:
    success(await api.get("hooks/create", {"callbackURL": receiver.url("/hook")}))
    # The operator allowed 127.0.0.1, so its mapped spelling is allowed too (same address).
    success(await api.get("hooks/create", {"callbackURL": mapped(receiver, "/mapped")}))
    meeting_id, _ = await api.create(**{"meta_endCallbackUrl": receiver.url("/ended")})
    success(await api.get("end", {"meetingID": meeting_id}))
    await deliver(api)
    assert receiver.accepted("/hook") and receiver.accepted("/mapped")
    assert len(receiver.accepted("/ended")) == 1

    await insert_document(api, receiver.url("/deck.pdf"))
    await api.services.presentations.wait_idle()
    assert len(receiver.accepted("/deck.pdf")) == 1


# ------------------------------------------------------------ rebinding, end to end --
class Rebinder:
    """Stands in for the loop's getaddrinfo: `name` answers `first` once, then `then`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, name: str, first: str, then: str):
        self._real = loop.getaddrinfo
        self.name, self.first, self.then = name, first, then
        self.lookups = 0

    async def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        # anyio hands the name over as bytes, asyncio callers as str.
        name = host.decode() if isinstance(host, bytes) else host
        if name != self.name:
            return await self._real(host, port, *args, **kwargs)
        self.lookups += 1
        address = self.first if self.lookups == 1 else self.then
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]


async def rebind_hook(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, first: str, then: str
) -> Rebinder:
    loop = asyncio.get_running_loop()
    rebinder = Rebinder(loop, "lms.rebind-test.net", first, then)
    monkeypatch.setattr(loop, "getaddrinfo", rebinder)
    url = f"http://{rebinder.name}:{receiver.port}/hook"
    await api.services.hooks.create(url, [], ["meeting-created"], False, True)
    await api.create()
    await deliver(api, passes=1)
    return rebinder


@pytest.mark.parametrize("webhook_allow", ["127.0.0.2"])
async def test_a_name_rebound_to_loopback_after_the_check_is_not_reached(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checked: 127.0.0.2, explicitly allowed (and nothing listens there). Then: 127.0.0.1, denied,
    # where the receiver listens. The connection must go to what was checked.
    rebinder = await rebind_hook(api, receiver, monkeypatch, "127.0.0.2", "127.0.0.1")
    assert rebinder.lookups >= 1
    assert receiver.accepted() == []
    [error] = await delivery_errors(api)
    assert "ConnectError" in error


@pytest.mark.parametrize("webhook_allow", ["127.0.0.1"])
async def test_the_delivery_connects_to_the_address_that_was_checked(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The mirror image: checked 127.0.0.1 (allowed, the receiver), then 127.0.0.2 (nothing there).
    rebinder = await rebind_hook(api, receiver, monkeypatch, "127.0.0.1", "127.0.0.2")
    assert rebinder.lookups == 1  # the check's lookup; the connection asks nobody
    assert len(receiver.accepted("/hook")) == 1


class _Endless(BaseHTTPRequestHandler):
    """Answers /endless with a chunked body that never ends, /gzip with 1 MiB of zeros that
    arrive as about a kilobyte of gzip, and /small with a little JSON."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _whole(self, body: bytes, header: str, value: str) -> None:
        self.send_response(200)
        self.send_header(header, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/small":
            self._whole(b'{"ok": true}', "Content-Type", "application/json")
            return
        if self.path == "/gzip":
            self._whole(gzip.compress(b"\0" * 2**20), "Content-Encoding", "gzip")
            return
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for _ in range(100_000):  # bounded: ~400 MiB, far past any limit
                self.wfile.write(b"1000\r\n" + b"x" * 4096 + b"\r\n")
        except OSError:
            pass  # the client stopped reading, as it should


async def test_an_answer_is_read_only_up_to_the_callers_limit() -> None:
    """An endless answer, or a small one that decompresses to a megabyte, stops being read at
    the limit; one within it arrives whole, with its headers."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    p = policy(allow=["127.0.0.1"])
    http = OutboundHttp(max_connections=4)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for path in ("/endless", "/gzip"):
            destination = await p.check(base + path)
            with pytest.raises(AnswerTooLarge):
                await asyncio.wait_for(
                    http.request(destination, "GET", timeout_s=5, max_bytes=64 * 1024), 10
                )
        small = await http.request(
            await p.check(base + "/small"), "GET", timeout_s=5, max_bytes=64 * 1024
        )
        assert small.status_code == 200 and small.json() == {"ok": True}
        assert small.headers["content-type"] == "application/json"
    finally:
        await http.aclose()
        server.shutdown()
        server.server_close()
