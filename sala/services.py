"""The composition of sala's services, by role: what a front end runs and what a worker runs.

Both roles share a foundation (settings, clock, database, outbox, bus, hooks, outbound HTTP,
meetings); each builds only what it runs on top of it. `build_services` is the front end's set
(and, in a single process, everything: `sala serve` without roles); `build_worker_services` is
the worker's (fan-out, delivery, recordings, the reaper). The web application around the front
end's services is sala/app.py; the worker's loop is sala/worker.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sala.clock import Clock, SystemClock
from sala.cluster.wiring import Cluster, open_cluster
from sala.config import Settings
from sala.events.bus import InProcessBus, TappedBus
from sala.events.delivery import Deliverer, DeliverySettings
from sala.events.destinations import DestinationPolicy
from sala.events.fanout import Fanout, FanoutSettings
from sala.events.hooks import HookStore
from sala.events.outbound import OutboundHttp
from sala.events.outbox import open_outbox
from sala.events.worker import OUTBOX_CHANGED, EventWorker
from sala.media.runtime import MediaRuntime
from sala.meetings.cache import LiveMeetingCache
from sala.meetings.history import MeetingHistory
from sala.meetings.reaper import Reaper
from sala.meetings.service import MeetingService
from sala.meetings.sessions import RoomSessions
from sala.meetings.specs import LifecycleDefaults
from sala.presentations.convert import Limits
from sala.presentations.service import Mode, PresentationService
from sala.recordings.pipeline import RecordingPipeline
from sala.recordings.store import RecordingStore
from sala.room.hub import RoomHub
from sala.room.ownership import RoomOwnership
from sala.store.db import Database


@dataclass
class Foundation:
    """What every role needs: where state lives and how processes hear of changes."""

    settings: Settings
    clock: Clock
    db: Database
    outbox: Database
    """The webhook outbox: on SQLite a file of its own, else `db` itself (events/outbox.py)."""
    bus: TappedBus
    meetings: MeetingService
    sessions: RoomSessions
    hooks: HookStore
    destinations: DestinationPolicy
    http: OutboundHttp
    """Webhooks, callbacks and document downloads: connects only to what `destinations`
    approved."""
    cluster: Cluster | None
    """Redis-backed bus, registry and directories when `redis_url` is set; else None."""

    async def close(self) -> None:
        if self.cluster is not None:
            await self.cluster.close()
        await self.http.aclose()
        await self.db.dispose()
        if self.outbox is not self.db:
            await self.outbox.dispose()


def build_foundation(settings: Settings, clock: Clock | None = None) -> Foundation:
    clock = clock or SystemClock()
    db = Database(settings.sqlalchemy_url)
    outbox = open_outbox(db, settings.outbox_sqlalchemy_url)
    cluster = open_cluster(settings)
    bus = TappedBus(cluster.bus if cluster is not None else InProcessBus())
    defaults = _lifecycle_defaults(settings)
    cache = LiveMeetingCache(bus) if settings.read_cache else None

    async def outbox_changed() -> None:
        await bus.publish(OUTBOX_CHANGED, {})

    return Foundation(
        settings=settings,
        clock=clock,
        db=db,
        outbox=outbox,
        bus=bus,
        meetings=MeetingService(db, clock, bus, defaults, cache),
        sessions=RoomSessions(db, clock, defaults),
        hooks=HookStore(db, clock, outbox, outbox_changed),
        destinations=DestinationPolicy(
            allow=settings.csv(settings.webhook_allow), deny=settings.csv(settings.webhook_deny)
        ),
        http=OutboundHttp(max_connections=settings.webhook_concurrency * 2),
        cluster=cluster,
    )


def _lifecycle_defaults(settings: Settings) -> LifecycleDefaults:
    return LifecycleDefaults(
        inactivity_minutes=settings.inactivity_timeout_minutes,
        join_token_ttl_ms=settings.join_token_ttl_seconds * 1000,
        server_url=settings.base_url,
    )


@dataclass
class WorkerServices:
    """A worker's set: the log fan-out and webhook delivery, recordings, the reaper."""

    base: Foundation
    events: EventWorker
    pipeline: RecordingPipeline
    reaper: Reaper


def build_worker_services(
    base: Foundation, *, idle_seconds: float = 1.0, wake_topics: tuple[str, ...] = ("*",)
) -> WorkerServices:
    """`wake_topics`: the bus topics that wake the event worker (see EventWorker)."""
    settings = base.settings
    return WorkerServices(
        base=base,
        events=EventWorker(
            _fanout(base), _deliverer(base), base.bus, idle_seconds=idle_seconds, topics=wake_topics
        ),
        pipeline=_pipeline(base),
        reaper=Reaper(base.meetings, settings.lifecycle_check_interval_seconds, base.sessions),
    )


def _deliverer(base: Foundation) -> Deliverer:
    settings = base.settings
    return Deliverer(
        base.outbox,
        base.clock,
        base.hooks,
        base.destinations,
        base.http,
        DeliverySettings(
            secret=settings.shared_secret,
            timeout_s=settings.webhook_timeout_seconds,
            retry_window_ms=int(settings.webhook_retry_window_hours * 3_600_000),
            max_backoff_ms=int(settings.webhook_max_backoff_seconds * 1000),
            concurrency=settings.webhook_concurrency,
        ),
    )


def _fanout(base: Foundation) -> Fanout:
    settings = base.settings
    return Fanout(
        base.db,
        base.outbox,
        base.clock,
        base.hooks,
        FanoutSettings(
            domain=settings.domain,
            secret=settings.shared_secret,
            checksum_algorithm=settings.webhook_checksum_algorithm,
        ),
    )


def _pipeline(base: Foundation) -> RecordingPipeline:
    settings = base.settings
    return RecordingPipeline(
        base.db,
        base.clock,
        settings.recordings_root,
        settings.data_dir / "presentations",
        settings.base_url,
        settings.recording_workers,
        node=settings.cluster_node_id,
    )


def build_presentations(base: Foundation, mode: Mode) -> PresentationService:
    """The documents of meetings: "all" accepts and converts (one process), "accept" only
    accepts (a cluster's front end), "convert" only converts (a cluster's worker)."""
    settings = base.settings
    return PresentationService(
        base.db,
        base.bus,
        base.clock,
        settings.data_dir / "presentations",
        base.http,
        base.destinations,
        Limits(
            max_bytes=settings.presentation_max_mb * 1024 * 1024,
            max_pages=settings.presentation_max_pages,
            max_documents=settings.presentation_max_documents,
        ),
        settings.default_presentation,
        node=settings.cluster_node_id,
        mode=mode,
    )


@dataclass
class Services:
    """The front end's set; with its worker part, everything one `sala serve` runs."""

    settings: Settings
    clock: Clock
    db: Database
    outbox: Database
    bus: TappedBus
    meetings: MeetingService
    sessions: RoomSessions
    history: MeetingHistory
    recordings: RecordingStore
    pipeline: RecordingPipeline
    reaper: Reaper
    hooks: HookStore
    destinations: DestinationPolicy
    deliverer: Deliverer
    events: EventWorker
    http: OutboundHttp
    rooms: RoomHub
    media: MediaRuntime
    presentations: PresentationService
    base: Foundation


def build_services(
    settings: Settings, clock: Clock | None = None, *, role: str | None = None
) -> Services:
    """`role`: `sala serve --role` ("all" or "frontend"). A cluster's front end accepts
    documents and leaves their conversion to the workers; "all" converts them itself. Unset:
    "frontend" when a cluster is configured (SALA_REDIS_URL), else "all"."""
    base = build_foundation(settings, clock)
    if role is None:
        role = "frontend" if base.cluster is not None else "all"
    # Every change in this process wakes its event worker; on a shared bus "*" would be every
    # change in the cluster (each room's traffic too), and a cluster's workers run elsewhere.
    wake = ("*",) if base.cluster is None else (OUTBOX_CHANGED,)
    worker = build_worker_services(base, wake_topics=wake)
    cluster = base.cluster
    # In a cluster media runs on the media nodes of the registry (`sala serve --role media`).
    media = (
        MediaRuntime(settings, base.clock, registry=cluster.registry, directory=cluster.media)
        if cluster is not None and settings.media
        else MediaRuntime(settings, base.clock)
    )
    presentations = build_presentations(base, "accept" if role == "frontend" else "all")
    rooms = RoomHub(
        base.db,
        base.meetings,
        base.bus,
        base.clock,
        settings.logout_url,
        media.engine if media.enabled else None,
        media.ice.for_user,
        presentations,
        settings.recordings_root,
        ownership=(
            RoomOwnership(base.cluster.rooms, base.cluster.node_id, base.cluster.registry)
            if base.cluster is not None
            else None
        ),
        presence_grace_s=settings.reconnect_grace_after_restart_seconds,
    )
    return Services(
        settings=settings,
        clock=base.clock,
        db=base.db,
        outbox=base.outbox,
        bus=base.bus,
        meetings=base.meetings,
        sessions=base.sessions,
        history=MeetingHistory(base.db),
        recordings=RecordingStore(base.db, base.clock, settings.recordings_root),
        pipeline=worker.pipeline,
        reaper=worker.reaper,
        hooks=base.hooks,
        destinations=base.destinations,
        deliverer=worker.events.deliverer,
        events=worker.events,
        http=base.http,
        rooms=rooms,
        media=media,
        presentations=presentations,
        base=base,
    )
