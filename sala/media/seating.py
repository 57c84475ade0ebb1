"""Which media node a meeting's next listen-only listener is seated on.

A listener on the listen-only stream costs its node only the relaying of packets (no encoder),
but one mountpoint's packets are relayed by one thread, so a meeting's listeners are spread once
they are many: the meeting's own node takes them up to `per_node`; the next ones go to a node
that already relays the meeting's mix and has room (the least loaded of those), then to a new
relay node chosen as meetings are placed (sala/media/placement.py: measured load plus the
ramp-up charge). When every node has its share, the least filled of the nodes the meeting
already uses takes one more: the limit spreads listeners, it never refuses them.

Pure logic: the caller gives the counts and the nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sala.cluster.nodes import NodeInfo
from sala.media.placement import Placement


def relay_candidates(nodes: Iterable[NodeInfo], home: str) -> list[NodeInfo]:
    """The nodes that can relay a meeting of `home`: live media nodes other than it, not
    draining, that announce an address for forwarded media."""
    return [
        n
        for n in nodes
        if n.role == "media" and n.node_id != home and not n.draining and n.media_host
    ]


def seat_node(
    home: str,
    seated: Mapping[str, int],
    per_node: int,
    candidates: Iterable[NodeInfo],
    placement: Placement,
) -> str:
    """The node for the next listener. `seated`: node -> the meeting's listeners there now
    (its own node and each relay, reservations included); `candidates`: the nodes that can
    relay it now (`relay_candidates`)."""
    if seated.get(home, 0) < per_node:
        return home
    usable = {n.node_id: n for n in candidates if n.node_id != home}
    relaying = [n for node_id, n in usable.items() if 0 < seated.get(node_id, 0) < per_node]
    if relaying:
        return min(relaying, key=placement.score).node_id
    fresh = placement.choose(n for node_id, n in usable.items() if seated.get(node_id, 0) == 0)
    if fresh is not None:
        return fresh.node_id
    used = [home, *(node_id for node_id in usable if seated.get(node_id, 0) > 0)]
    return min(used, key=lambda node_id: seated.get(node_id, 0))
