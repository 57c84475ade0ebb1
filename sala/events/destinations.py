"""Where sala agrees to send HTTP requests on an integrator's behalf (webhooks, callbacks).

A callback URL comes from whoever holds the shared secret, but sala sends from inside the
operator's network, so by default it refuses loopback, private, link-local and other internal
addresses (a hook aimed at a metadata service or an admin port would otherwise be a way in).
Operators list exceptions in `SALA_WEBHOOK_ALLOW` (an LMS on the campus network, say). The address
is checked after name resolution, at every delivery.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_DENY = (
    "0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,172.16.0.0/12,"
    "192.0.0.0/24,192.168.0.0/16,198.18.0.0/15,224.0.0.0/4,240.0.0.0/4,"
    "::1/128,::/128,fc00::/7,fe80::/10,ff00::/8"
)
# RFC 6761 names that never resolve on the internet: refused without asking a resolver.
_NEVER_RESOLVES = (".invalid", ".test", ".example", ".localhost")


class DestinationRefused(Exception):
    pass


def _parse(entries: Iterable[str]) -> tuple[list[IPNetwork], list[str]]:
    networks: list[IPNetwork] = []
    names: list[str] = []
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.append(entry.lower())
    return networks, names


def _name_matches(host: str, patterns: list[str]) -> bool:
    return any(host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in patterns)


class DestinationPolicy:
    def __init__(self, allow: Iterable[str] = (), deny: Iterable[str] = DEFAULT_DENY.split(",")):
        self._allow_nets, self._allow_names = _parse(allow)
        self._deny_nets, self._deny_names = _parse(deny)

    @staticmethod
    def check_syntax(url: str) -> str:
        """The host of an acceptable callback URL; raises DestinationRefused otherwise."""
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
            raise DestinationRefused("credentials in the URL are not accepted")
        return host.lower()

    def _address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%")[0])
        if any(ip in net for net in self._allow_nets):
            return True
        return not any(ip in net for net in self._deny_nets)

    async def check(self, url: str, *, unresolvable_ok: bool = False) -> None:
        """Raise DestinationRefused unless every address `url` resolves to may be contacted."""
        host = self.check_syntax(url)
        if _name_matches(host, self._allow_names):
            return
        if _name_matches(host, self._deny_names):
            raise DestinationRefused(f"{host} is on the deny list")
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            if host.endswith(_NEVER_RESOLVES) or host in ("localhost",):
                raise DestinationRefused(f"{host} is a reserved name") from None
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, None, type=socket.SOCK_STREAM
                )
            except OSError as exc:
                if unresolvable_ok:
                    return
                raise DestinationRefused(f"cannot resolve {host}: {exc}") from None
            addresses = sorted({str(info[4][0]) for info in infos})
        refused = [a for a in addresses if not self._address_allowed(a)]
        if refused:
            raise DestinationRefused(
                f"{host} resolves to {', '.join(refused)}, which this server does not deliver to"
            )
