"""A private network namespace for tests that carry real media.

Janus never gathers ICE candidates on loopback interfaces, and tests may not send traffic to the
machine's other addresses. So the test process moves into a network namespace of its own (only
the calling thread moves; processes it starts from there inherit it), brings up its loopback,
and adds a veth pair holding 127.0.0.2: Janus and Chromium both find it, and nothing leaves the
namespace. On exit the thread goes back to the original namespace, which then disappears with
the last process inside it.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

CLONE_NEWNET = 0x40000000
MEDIA_ADDRESS = "127.0.0.2"

_libc = ctypes.CDLL(None, use_errno=True)


class NamespaceUnavailable(Exception):
    pass


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@contextmanager
def private_network(address: str = MEDIA_ADDRESS) -> Iterator[str]:
    """Run the block in a new network namespace with `address` on a veth; yields it."""
    if os.geteuid() != 0:
        raise NamespaceUnavailable("creating a network namespace needs root")
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if _libc.unshare(CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise NamespaceUnavailable(f"unshare(CLONE_NEWNET) failed: {os.strerror(errno)}")
        try:
            _ip("link", "set", "lo", "up")
            _ip("link", "add", "sala0", "type", "veth", "peer", "name", "sala1")
            _ip("addr", "add", f"{address}/32", "dev", "sala0")
            _ip("link", "set", "sala0", "up")
            _ip("link", "set", "sala1", "up")
            yield address
        finally:
            if _libc.setns(original, CLONE_NEWNET) != 0:
                errno = ctypes.get_errno()
                raise OSError(
                    errno,
                    f"could not return to the original network namespace: {os.strerror(errno)}",
                )
    finally:
        os.close(original)


@contextmanager
def media_network(who: str = "the media tests", *, janus: bool = True) -> Iterator[str]:
    """`private_network()` for a test fixture: the test fails, saying what to install or why,
    when Janus (with `janus`) or network namespaces are not available here."""
    import pytest  # tests only: benchmarks use private_network() itself

    if janus and shutil.which("janus") is None:
        pytest.fail("Janus is needed: run scripts/install-test-deps (Debian package janus)")
    try:
        with private_network() as address:
            yield address
    except NamespaceUnavailable as exc:
        pytest.fail(f"{who} need a private network namespace: {exc}")
