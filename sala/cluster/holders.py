"""Names for lease holders (recording jobs, document conversions)."""

from __future__ import annotations

import os
import secrets
import socket


def holder_name(node: str | None = None) -> str:
    """The node (host and process by default) and a random part: two holders never share a
    name, even in one process (the tests' two front ends) or under one misconfigured node."""
    node = node or f"{socket.gethostname()}:{os.getpid()}"
    return f"{node[:100]}/{secrets.token_hex(4)}"
