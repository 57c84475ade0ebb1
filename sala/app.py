"""The front end's web application: build_app(settings) puts the API, the room and the playback
behind one ASGI app over the services of sala/services.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from sala.api.calls import api_calls
from sala.api.context import ApiContext
from sala.api.endpoint import API_PREFIX, ApiEndpoint
from sala.clock import Clock
from sala.cluster.membership import Membership
from sala.config import Settings
from sala.events.bus import Bus
from sala.events.outbox import prepare_outbox
from sala.events.process import WORKER_WAKE_TOPIC, WakeCoalescer, WorkerProcess
from sala.lti.keys import ToolKeys, stand_in_routes
from sala.lti.landing import landing_routes
from sala.lti.sessions import Sessions
from sala.metrics import Metrics
from sala.recordings.playback import STATIC_DIR as PLAYER_DIR
from sala.recordings.playback import Playback
from sala.recordings.protection import playback_access
from sala.recordings.track_links import PREFIX as TRACKS_PREFIX
from sala.recordings.track_links import TrackFiles
from sala.request_limits import BodyTooLarge, limit_body
from sala.room.custom_style import CustomStyles
from sala.room.demo import Demo
from sala.room.handoff import STATIC_DIR, RoomHandoff
from sala.room.slides import Slides
from sala.room.websocket import RoomSocket
from sala.services import build_services

BBB_ROOT_PATHS = frozenset({"/bigbluebutton", "/bigbluebutton/"})
"""Also the API's root (version) call, as in bbb-web's URL mappings."""

BODILESS = frozenset({"GET", "HEAD"})
"""Methods whose bodies nothing in sala reads (the API polls come this way)."""
PAGE_BODY_LIMIT = 64 * 1024
"""Bodies of everything but the API and uploads: the demo's form is the only other POST."""


class SalaApp(Starlette):
    """Starlette for pages and the room; the BBB API goes straight to its own ASGI endpoint.

    Every request body is bounded while it is read (sala/request_limits.py): the API by
    SALA_MAX_REQUEST_BYTES, presentation uploads by the document size limit, the rest by
    PAGE_BODY_LIMIT.
    """

    def __init__(self, api: ApiEndpoint, upload_limit: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api = api
        self._upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path in BBB_ROOT_PATHS:
                # bbb-web answers its version call at /bigbluebutton/ too; probes use it.
                path = API_PREFIX
                scope = {**scope, "path": path}
            if path.startswith(API_PREFIX) and (
                len(path) == len(API_PREFIX) or path[len(API_PREFIX)] == "/"
            ):
                scope["app"] = self
                if scope["method"] not in BODILESS:
                    receive = limit_body(scope, receive, self.api.body_limit)
                await self.api(scope, receive, send)
                return
            limit = self._upload_limit if path == "/room/upload" else PAGE_BODY_LIMIT
            receive = limit_body(scope, receive, limit)
        await super().__call__(scope, receive, send)


def _publisher(bus: Bus) -> Callable[[bytes], None]:
    """Wake-ups for a cluster's workers, sent on the bus (WakeCoalescer's `send`)."""
    pending: set[asyncio.Task[None]] = set()

    def send(wake: bytes) -> None:
        task = asyncio.create_task(bus.publish(WORKER_WAKE_TOPIC, {"wake": wake.decode()}))
        pending.add(task)
        task.add_done_callback(pending.discard)

    return send


async def _too_large(_: Request, exc: Exception) -> Response:
    return PlainTextResponse(str(exc), status_code=413)


def build_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    run_reaper: bool = True,
    run_workers: bool = True,
    worker_process: bool = False,
    role: str = "all",
) -> Starlette:
    """`worker_process`: deliver webhooks and callbacks from a `sala worker` child process (what
    `sala serve` does) instead of a task in this process (tests, embedding). `role`
    "frontend": a cluster's front end, which leaves that work and the reaper to the cluster's
    workers and wakes them through the bus."""
    front_end_only = role == "frontend"
    services = build_services(settings, clock)
    ctx = ApiContext(
        settings=settings,
        clock=services.clock,
        bus=services.bus,
        meetings=services.meetings,
        sessions=services.sessions,
        history=services.history,
        recordings=services.recordings,
        hooks=services.hooks,
        destinations=services.destinations,
        presentations=services.presentations,
    )
    api = ApiEndpoint(ctx, api_calls())
    handoff = RoomHandoff(services.sessions, settings)
    socket = RoomSocket(services.sessions, services.rooms, settings.base_url)
    slides = Slides(services.sessions, services.presentations)
    custom_styles = CustomStyles(services.sessions, services.destinations, services.http)
    playback = Playback(
        services.recordings,
        settings.recordings_root,
        settings.frame_ancestors,
        playback_access(settings, services.clock),
    )

    metrics = Metrics(
        services,
        settings.metrics_token.get_secret_value() if settings.metrics_token else None,
        lambda: socket.limits.connected,
    )

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if services.base.cluster is not None:
            await services.base.cluster.start()
        await services.db.migrate()
        await prepare_outbox(services.db, services.outbox)
        await services.media.start()
        await services.presentations.resume()
        cluster = services.base.cluster
        if run_reaper and not front_end_only:
            services.reaper.start()
        worker: WorkerProcess | None = None
        if front_end_only:
            wake_cluster = WakeCoalescer(_publisher(services.bus), services.hooks)
            services.bus.tap(wake_cluster.on_bus)
        elif run_workers and worker_process:
            worker = WorkerProcess(services.hooks, settings.base_url)
            await worker.start()
            services.bus.tap(worker.wakes.on_bus)
        elif run_workers:
            services.events.start()
            services.pipeline.start()
        membership: Membership | None = None
        if cluster is not None:
            membership = Membership(
                cluster.registry,
                cluster.node_id,
                "frontend",
                f"http://{settings.host}:{settings.port}",
                services.rooms.load,
            )
            membership.start()
            services.rooms.start()
        # A single process owns every meeting: whoever has not reconnected after a restart
        # left. In a cluster the hub settles each meeting it takes over instead.
        recovery = asyncio.create_task(
            services.rooms.release_stale_presence(settings.reconnect_grace_after_restart_seconds)
            if cluster is None
            else asyncio.sleep(0)
        )
        try:
            yield
        finally:
            recovery.cancel()
            # Wait for it, so no database call is left running after the pool is disposed.
            with contextlib.suppress(asyncio.CancelledError):
                await recovery
            await services.reaper.stop()
            if worker is not None:
                await worker.stop()
            await services.rooms.close_all()
            if membership is not None:
                await membership.stop()
            await services.media.stop()
            await services.presentations.close()
            await services.events.stop()
            await services.pipeline.stop()
            await services.base.close()

    routes: list[BaseRoute] = []
    if settings.demo:
        passphrase = settings.demo_passphrase
        demo = Demo(
            services.meetings,
            settings.base_url,
            settings.shared_secret,
            passphrase.get_secret_value() if passphrase else None,
        )
        routes += [
            Route("/demo", demo.form, methods=["GET"]),
            Route("/demo", demo.create, methods=["POST"]),
            Route("/demo/rooms", demo.create_json, methods=["POST"]),
            Route("/demo/join", demo.join, methods=["GET"]),
        ]
    # LTI landing (issue 16); H1's lti_routes takes this over at merge, with its ToolKeys.
    lti_keys = ToolKeys(services.db, services.clock)
    routes += stand_in_routes(lti_keys)
    routes += landing_routes(services, settings, Sessions(services.db, services.clock), lti_keys)
    app = SalaApp(
        api,
        # Room uploads check the document limit themselves; this bounds the multipart around it.
        services.presentations.max_bytes + 64 * 1024,
        exception_handlers={BodyTooLarge: _too_large},
        routes=[
            *routes,
            Route("/room/join", handoff.join, methods=["GET"]),
            WebSocketRoute("/room/ws", socket.handle),
            # The same endpoint under this node's own path, which a cluster's proxy routes here.
            WebSocketRoute("/n/{node}/room/ws", socket.handle),
            Route("/room/route", socket.route, methods=["GET"]),
            Route("/room/slides/{presentation}/{page:int}", slides.page, methods=["GET"]),
            Route("/room/documents/{presentation}", slides.download, methods=["GET"]),
            Route("/room/upload", slides.upload, methods=["POST"]),
            Route("/room/custom.css", custom_styles.stylesheet, methods=["GET"]),
            Route("/room/", handoff.page, methods=["GET"]),
            Mount("/room/static", StaticFiles(directory=STATIC_DIR), name="room-static"),
            Route(
                "/playback/presentation/2.3/{record_id}",
                playback.presentation_page,
                methods=["GET"],
            ),
            Route(
                "/playback/presentation/2.3/{record_id}/{path:path}",
                playback.presentation_file,
                methods=["GET"],
            ),
            Route("/playback/video/{record_id}/", playback.video_page, methods=["GET"]),
            Route("/playback/video/{record_id}/video.mp4", playback.video_file, methods=["GET"]),
            Route(
                TRACKS_PREFIX + "/{token}/{record_id}/{name}",
                TrackFiles(services.recordings, settings.shared_secret).serve,
                methods=["GET"],
            ),
            Mount("/playback/static", StaticFiles(directory=PLAYER_DIR), name="playback-static"),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
        middleware=[Middleware(GZipMiddleware, minimum_size=1024)],
    )
    app.state.services = services
    return app
