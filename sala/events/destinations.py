"""Where sala agrees to send HTTP requests on an integrator's behalf (webhooks, end, recording-ready
and analytics callbacks, presentation downloads).

A callback URL comes from whoever holds the shared secret, but sala sends from inside the
operator's network. bbb-webhooks registers any callback URL and delivers to it, so integrators
legitimately point hooks at an LMS on loopback or on the campus network; the default deny list
therefore blocks only what no integrator runs a web server on: link-local addresses (where clouds
put their metadata services), the cloud metadata addresses outside that range, and unspecified,
multicast and reserved addresses. `SALA_WEBHOOK_DENY` replaces the list; its entries may name
the presets `default` and `private` (`default` plus loopback, private, shared and
special-purpose ranges: the strict policy). `SALA_WEBHOOK_ALLOW` lists exceptions.

The address is checked after name resolution, at every delivery, in every form it can take: an
IPv6 address that carries an IPv4 one (mapped, compatible, 6to4, NAT64, Teredo) is refused if
either the outer or the embedded address is denied (and not explicitly allowed), and IPv4
literals other than dotted quads (`2130706433`, `0x7f.1`, `127.1`) and zone ids are refused
outright.

`check` returns the `Destination` it approved: the URL and the addresses it may be reached at.
sala/events/outbound.py connects to exactly those addresses, so a DNS answer that changes after
the check (rebinding) cannot steer the request elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Awaitable[Sequence[str]]]
"""A name's addresses as strings (an IPv6 one may carry a %zone); raises OSError if none."""

# The default deny list: addresses no integrator runs a web server on.
DEFAULT_DENY: tuple[str, ...] = (
    # IPv4 link-local: the metadata services of AWS, Google Cloud, Azure, Oracle, DigitalOcean,
    # Hetzner and OpenStack (169.254.169.254), AWS ECS (169.254.170.2), Scaleway
    # (169.254.42.42), Tencent (169.254.0.23).
    "169.254.0.0/16",
    "fe80::/10",  # IPv6 link-local (OpenStack's metadata at fe80::a9fe:a9fe)
    "fd00:ec2::/64",  # AWS over IPv6: metadata ::254, DNS ::253, time ::123, EKS Pod Identity ::23
    "fd20:ce::254/128",  # Google Cloud metadata over IPv6
    "fd00:42::42/128",  # Scaleway metadata over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "192.0.0.192/32",  # Oracle Cloud (Classic) metadata
    "168.63.129.16/32",  # Azure WireServer, the host node's platform endpoint
    "0.0.0.0/8",  # "this network": connecting to 0.0.0.0 reaches the host itself
    "::/128",  # unspecified
    "224.0.0.0/4",  # IPv4 multicast
    "ff00::/8",  # IPv6 multicast
    "240.0.0.0/4",  # reserved, and the broadcast address
)
# What the `private` preset adds: the strict policy, for a server whose own network must stay
# out of reach of whoever holds the shared secret.
_INTERNAL = (
    "127.0.0.0/8",  # loopback
    "::1/128",
    "10.0.0.0/8",  # private
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
    "100.64.0.0/10",  # shared (carrier-grade NAT, Tailscale)
    "192.0.0.0/24",  # IETF protocol assignments
    "198.18.0.0/15",  # benchmarking
)
PRESETS: dict[str, tuple[str, ...]] = {"default": DEFAULT_DENY, "private": DEFAULT_DENY + _INTERNAL}
"""Names that stand for lists in SALA_WEBHOOK_DENY (`private`, or `default,203.0.113.0/24`)."""


def expand_presets(entries: Iterable[str]) -> list[str]:
    """`entries` with each preset name replaced by its networks."""
    out: list[str] = []
    for entry in (e.strip() for e in entries):
        out.extend(PRESETS.get(entry.lower(), (entry,)))
    return out


_LOOPBACK = ("127.0.0.1", "::1")
# RFC 6761: `.invalid` names never resolve, and `localhost` names are the loopback addresses
# (asked of no resolver, which might forward them to DNS).
_NEVER_RESOLVES = ".invalid"
_SETTINGS = "SALA_WEBHOOK_DENY; SALA_WEBHOOK_ALLOW makes exceptions"

# The last label of a host decides whether it is an IPv4 literal (as the WHATWG URL standard
# and inet_aton see it): all digits, or 0x and hex digits.
_NUMERIC_LABEL = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)\Z")

_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 (SIIT)
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215
# RFC 6052 layouts a local-use NAT64 prefix may use: (prefix length, where the IPv4 address
# starts once byte 8, the reserved "u" octet, is taken out).
_NAT64_LAYOUTS = ((48, 6), (56, 7), (64, 8))


class DestinationRefused(Exception):
    pass


@dataclass(frozen=True)
class Destination:
    """A URL the policy approved, and the only addresses a connection to it may use."""

    url: str
    host: str
    """The URL's host as the connection names it (IDNA, lower case): Host header and TLS SNI."""
    addresses: tuple[str, ...]
    """In the resolver's order. A Destination made without any cannot be connected to."""


def _parse(entries: Iterable[str]) -> tuple[list[IPNetwork], list[str]]:
    networks: list[IPNetwork] = []
    names: list[str] = []
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.append(_ascii_name(entry.lower().removesuffix(".")))
    return networks, names


def _ascii_name(pattern: str) -> str:
    """A name pattern as connections spell hosts (IDNA), so `bücher.example` in a list matches."""
    wildcard, bare = ("*.", pattern[2:]) if pattern.startswith("*.") else ("", pattern)
    try:
        return wildcard + _connection_host(f"http://{bare}/")
    except DestinationRefused:
        return pattern


def _name_matches(hosts: Iterable[str], patterns: list[str]) -> bool:
    return any(
        host == p or (p.startswith("*.") and host.endswith(p[1:]))
        for host in hosts
        for p in patterns
    )


def _nat64_local_use(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a local-use NAT64 prefix may carry. The operator chooses the layout,
    so every layout whose suffix is zero (as RFC 6052 requires) counts, and /96 always does."""
    packed = ip.packed
    found = [ipaddress.IPv4Address(packed[12:])]
    without_u = packed[:8] + packed[9:]
    for _length, start in _NAT64_LAYOUTS:
        if not any(without_u[start + 4 :]):
            found.append(ipaddress.IPv4Address(without_u[start : start + 4]))
    return found


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a packet sent to `ip` may end up at, through the host's own dual stack
    (mapped, compatible), a translator (SIIT, NAT64) or a tunnel (6to4, Teredo)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    # `::` and `::1` are the unspecified and loopback addresses, not 0.0.0.0 and 0.0.0.1.
    compatible = ip in _IPV4_COMPATIBLE and int(ip) > 1
    if compatible or ip in _IPV4_TRANSLATED or ip in _NAT64_WELL_KNOWN:
        found.append(ipaddress.IPv4Address(ip.packed[12:]))
    if ip in _NAT64_LOCAL_USE:
        found += _nat64_local_use(ip)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found += ip.teredo  # the server and the (de-obfuscated) client
    return found


def address_forms(ip: IPAddress) -> list[IPAddress]:
    """`ip` and every IPv4 address embedded in it."""
    if isinstance(ip, ipaddress.IPv6Address):
        return [ip, *embedded_ipv4(ip)]
    return [ip]


def _literal(host: str) -> IPAddress | None:
    """The address a literal host names; None for a name. Raises for the spellings resolvers
    accept but people do not write (so they are refused, not interpreted)."""
    if ":" in host:  # only IPv6 literals have colons (the port is not part of the host)
        if "%" in host:
            raise DestinationRefused("zone identifiers are not accepted in URLs")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise DestinationRefused(f"{host} is not a valid IPv6 address") from None
    if _NUMERIC_LABEL.match(host.removesuffix(".").rsplit(".", 1)[-1]):
        try:
            return ipaddress.IPv4Address(host)
        except ValueError:
            raise DestinationRefused(
                f"{host} is not an IPv4 address written as four decimal numbers (a.b.c.d)"
            ) from None
    return None


def _connection_host(url: str) -> str:
    """The host as httpx will name it when it connects: IDNA-encoded, lower case."""
    try:
        return httpx.URL(url).raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise DestinationRefused(f"malformed URL: {exc}") from None


async def system_resolver(host: str) -> list[str]:
    """The system's resolver, off the event loop (asyncio runs getaddrinfo in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class DestinationPolicy:
    def __init__(
        self,
        allow: Iterable[str] = (),
        deny: Iterable[str] = ("default",),
        resolver: Resolver | None = None,
    ) -> None:
        """`deny` may name the PRESETS; `allow` wins over `deny`."""
        self._allow_nets, self._allow_names = _parse(allow)
        self._deny_nets, self._deny_names = _parse(expand_presets(deny))
        self._resolve = resolver or system_resolver

    @staticmethod
    def check_syntax(url: str) -> str:
        """The host of a URL sala could ever send to, whatever the lists say; raises
        DestinationRefused otherwise. Asks no resolver: hooks/create registers any such URL, as
        bbb-webhooks does, and the lists are applied at each delivery."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
            _ = parts.port  # a malformed port raises here
        except ValueError as exc:
            raise DestinationRefused(f"malformed URL: {exc}") from None
        if parts.scheme not in ("http", "https"):
            raise DestinationRefused("only http and https URLs are accepted")
        if not host:
            raise DestinationRefused("the URL has no host")
        if parts.username or parts.password:
            # bbb-webhooks' HTTP client (node-fetch 3) refuses such URLs too.
            raise DestinationRefused("credentials in the URL are not accepted")
        _literal(_connection_host(url))
        return host.lower()

    def _form_allowed(self, ip: IPAddress) -> bool:
        if any(ip in net for net in self._allow_nets):
            return True
        return not any(ip in net for net in self._deny_nets)

    def address_allowed(self, address: str) -> bool:
        """Whether `address` (as a resolver gives it, maybe with a %zone) may be contacted: each
        of its forms must be explicitly allowed or not denied."""
        try:
            # A zone says which interface, not which address: the address alone is judged.
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return all(self._form_allowed(form) for form in address_forms(ip))

    async def check(self, url: str) -> Destination:
        """The addresses `url` may be reached at; raises DestinationRefused unless every address
        it resolves to may be contacted (the message says why, for the operator's log)."""
        name = self.check_syntax(url)
        host = _connection_host(url)
        literal = _literal(host)
        if literal is not None:
            addresses: Sequence[str] = [str(literal)]
        else:
            # Names are compared without the root's trailing dot. An allowed name must be the
            # host the connection names; a denied one is refused in either spelling.
            names = {name.removesuffix("."), host.removesuffix(".")}
            if _name_matches([host.removesuffix(".")], self._allow_names):
                # The operator trusts the name, whatever it resolves to; still pinned to that.
                return Destination(url, host, await self._addresses(host))
            if _name_matches(names, self._deny_names):
                raise DestinationRefused(f"{host} is on the deny list ({_SETTINGS})")
            if any(n.endswith(_NEVER_RESOLVES) for n in names):
                raise DestinationRefused(f"{host} is a reserved name that never resolves")
            addresses = await self._addresses(host)
        refused = [a for a in addresses if not self.address_allowed(a)]
        if refused and literal is not None:
            raise DestinationRefused(
                f"{host} is an address this server does not deliver to ({_SETTINGS})"
            )
        if refused:
            raise DestinationRefused(
                f"{host} resolves to {', '.join(refused)}, which this server does not deliver "
                f"to ({_SETTINGS})"
            )
        return Destination(url, host, tuple(addresses))

    async def _addresses(self, host: str) -> tuple[str, ...]:
        bare = host.removesuffix(".")
        if bare == "localhost" or bare.endswith(".localhost"):
            return _LOOPBACK
        try:
            addresses = tuple(dict.fromkeys(await self._resolve(host)))
        except OSError as exc:
            raise DestinationRefused(f"cannot resolve {host}: {exc}") from None
        if not addresses:
            raise DestinationRefused(f"cannot resolve {host}: no addresses")
        return addresses
