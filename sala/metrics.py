"""`GET /metrics`: what an operator graphs and alerts on, in Prometheus's text format.

Per process: its room connections and rooms, and its CPU. For the whole service (from the
database, so every front end answers the same): live meetings, people in them, webhook and
callback deliveries waiting. From the node registry, in a cluster: every node's measured load
by node and role, so workers and media nodes, which serve no HTTP, are graphed too.

Values are gathered when scraped (a few indexed counts), then rendered by prometheus_client.
The endpoint is off unless `metrics_token` is set, and then wants `Authorization: Bearer
<token>`: its figures (meeting counts, node names) are not for the public.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from sala.cluster.membership import CpuMeter
from sala.cluster.nodes import NodeInfo
from sala.services import Services
from sala.store import tables

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Snapshot(Collector):
    """Metrics gathered beforehand (collect() is synchronous; the queries are not)."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self._families


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


class Metrics:
    def __init__(
        self, services: Services, token: str | None, connections: Callable[[], int]
    ) -> None:
        self._services = services
        self._token = token
        self._connections = connections
        self._cpu = CpuMeter()

    async def endpoint(self, request: Request) -> Response:
        if not self._token:
            return PlainTextResponse("Not Found", status_code=404)
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {self._token}".encode()):
            return PlainTextResponse(
                "Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Snapshot(await self.gather()))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE)

    async def gather(self) -> list[GaugeMetricFamily]:
        services = self._services
        m, a, d = tables.meetings, tables.attendees, tables.deliveries
        async with services.db.read() as conn:
            meetings = (
                await conn.execute(select(func.count()).select_from(m).where(m.c.ended.is_(False)))
            ).scalar_one()
            participants = (
                await conn.execute(
                    select(func.count())
                    .select_from(a.join(m, a.c.meeting_id == m.c.internal_id))
                    .where(m.c.ended.is_(False), a.c.present.is_(True))
                )
            ).scalar_one()
        async with services.outbox.read() as conn:
            pending = (
                await conn.execute(
                    select(func.count()).select_from(d).where(d.c.status == "pending")
                )
            ).scalar_one()
        load = services.rooms.load()
        families = [
            _gauge("sala_meetings", "Live meetings (whole service).", meetings),
            _gauge("sala_participants", "People in live meetings (whole service).", participants),
            _gauge(
                "sala_deliveries_pending",
                "Webhook and callback deliveries waiting to be sent (whole service).",
                pending,
            ),
            _gauge(
                "sala_websocket_connections",
                "Room WebSocket connections open in this process.",
                self._connections(),
            ),
            _gauge("sala_rooms", "Rooms this process runs.", load["rooms"]),
            _gauge(
                "sala_process_cpu_ratio",
                "This process's CPU since the previous scrape, in cores.",
                self._cpu.read(),
            ),
        ]
        cluster = services.base.cluster
        if cluster is not None:
            families.append(_node_loads(await cluster.registry.nodes()))
        return families


def _node_loads(nodes: list[NodeInfo]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "sala_node_load",
        "Each live node's measured load, as it heartbeats it (cpu in cores, bit rate, ...).",
        labels=["node", "role", "measure"],
    )
    for node in nodes:
        for measure, value in sorted(node.load.items()):
            if measure != "pid":
                family.add_metric([node.node_id, node.role, measure], value)
    return family
