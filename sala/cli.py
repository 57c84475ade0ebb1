"""The `sala` command: serve, secret, check, migrate, recordings, lti."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import sys
from collections.abc import Sequence

from sala import __version__
from sala.config import ConfigError, Settings, load_settings
from sala.filemodes import audit, prepare_data_dir
from sala.logs import setup_logging
from sala.lti.cli import add_lti_commands, run_lti_command


def _settings(args: argparse.Namespace) -> Settings:
    if getattr(args, "config", None):
        os.environ["SALA_CONFIG_FILE"] = args.config
    return load_settings(host=getattr(args, "host", None), port=getattr(args, "port", None))


def _banner(settings: Settings) -> str:
    return (
        f"sala {__version__}\n"
        f"    URL: {settings.base_url}/bigbluebutton/\n"
        f"    Secret: {settings.shared_secret}\n"
    )


ROLES = ("all", "frontend", "worker", "media")
SERVER_GC_THRESHOLDS = (10_000, 10, 10)
"""The collector's thresholds in a front end (Python's default: 700, 10, 10). A meeting filling
up allocates fast (HTTP requests, handshakes, SQL rows), and at 700 the young generation was
collected thousands of times, some passes over 2 ms, and their survivors, promoted sooner, made
the full collection (a pause of the whole server, ~200 ms with 1,000 connections) come due about
once per 150 joins. At 10,000 most of those objects are freed before a pass sees them; measured
with 1,000 clients joining (docs/performance.md, issue 17): no full collection after start-up
instead of six (16-195 ms), young passes over 2 ms 24 instead of 119. The memory held back is at
most the 10,000 newest container objects."""
"""`sala serve --role`: everything in one process (with its worker child), or one part of a
cluster (docs/deployment.md)."""


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sala.app import build_app
    from sala.room.stopping import HandOverFirst

    settings = _settings(args)
    setup_logging(settings)
    prepare_data_dir(settings)
    role = args.role
    if role != "all" and not settings.redis_url:
        raise ConfigError(
            f"--role {role} runs one part of a cluster: set SALA_REDIS_URL (and a PostgreSQL "
            "SALA_DATABASE_URL), or run `sala serve` alone for everything in one process"
        )
    if role in ("frontend", "worker") and settings.sqlalchemy_url.startswith("sqlite"):
        raise ConfigError(
            f"--role {role}: a cluster shares one PostgreSQL database; SALA_DATABASE_URL is SQLite"
        )
    if role == "worker":
        from sala.worker import run_worker

        asyncio.run(run_worker(settings, standalone=True))
        return 0
    if role == "media":
        asyncio.run(_run_media_node(settings))
        return 0
    # stdout, not the log (stderr): the console shows the secret as `bbb-conf --secret` does.
    print(_banner(settings), flush=True)
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
    app = build_app(settings, worker_process=settings.delivery_worker_process, role=role)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        # uvicorn's loggers keep no handlers of their own: they go through the redacting one.
        log_config=None,
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=True,
        server_header=False,
        lifespan="on",
        ws_per_message_deflate=settings.room_ws_compression,
        # uvicorn waits for every request in progress before the app's own shutdown, by default
        # for ever: a client that never sends its body would hold the stop until systemd's kill.
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )
    # A cluster's front end hands its rooms over before uvicorn closes their sockets.
    HandOverFirst(config, app.state.services.rooms.hand_over_all).run()
    return 0


async def _run_media_node(settings: Settings) -> None:
    """`sala serve --role media`: a Janus and its agent, heartbeating into the registry. It
    needs no database: only Redis, to be found."""
    from sala.cluster.wiring import open_registry
    from sala.media.agent import run_media_node

    found = open_registry(settings)
    try:
        await run_media_node(settings, found.registry, settings.cluster_node_id)
    finally:
        await found.close()


def cmd_worker(args: argparse.Namespace) -> int:
    """Webhook and callback delivery, normally started by `sala serve` itself."""
    from sala.worker import run_worker

    settings = _settings(args)
    setup_logging(settings)
    prepare_data_dir(settings)
    asyncio.run(run_worker(settings))
    return 0


def cmd_secret(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print(_banner(settings), end="")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from sala.events.outbox import open_outbox, prepare_outbox
    from sala.store.db import Database

    settings = _settings(args)

    async def run() -> None:
        db = Database(settings.sqlalchemy_url)
        outbox = open_outbox(db, settings.outbox_sqlalchemy_url)
        try:
            await db.migrate()
            await prepare_outbox(db, outbox)
        finally:
            await db.dispose()
            if outbox is not db:
                await outbox.dispose()

    asyncio.run(run())
    print("database schema is up to date")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Verify the configuration, the database and the external programs sala uses."""
    from sqlalchemy import text

    from sala.store.db import Database

    settings = _settings(args)
    problems: list[str] = []
    print(f"configuration: ok (data dir {settings.data_dir}, API at {settings.base_url})")
    modes, loose = audit(settings)
    for line in modes:
        print(line)
    problems += loose

    async def probe_db() -> None:
        db = Database(settings.sqlalchemy_url)
        try:
            async with db.read() as conn:
                await conn.execute(text("select 1"))
        finally:
            await db.dispose()

    try:
        asyncio.run(probe_db())
        print(f"database: ok ({settings.sqlalchemy_url.split('://')[0]})")
    except Exception as exc:
        problems.append(f"database: cannot connect: {exc}")
    if settings.redis_url:
        problems += _probe_redis(settings)
    problems += _check_janus(settings, args.role)
    for program, purpose in (
        ("ffmpeg", "recording processing"),
        ("janus-pp-rec", "recording processing (Debian's janus-tools)"),
        ("soffice", "Office documents as presentations"),
    ):
        found = shutil.which(program)
        print(f"{program}: {'ok ' + found if found else 'missing'} ({purpose})")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _check_janus(settings: Settings, role: str | None) -> list[str]:
    """Janus, its version, plugins and transport, with the fix for this machine's release. Its
    absence is a problem only where this machine runs Janus: media on, no external `janus_url`,
    and not a cluster's front end or worker (media nodes run it)."""
    from sala.media.janus.detect import inspect, read_release

    report = inspect(settings.janus_binary, read_release())
    role = role or ("frontend" if settings.redis_url else "all")
    needed = settings.media and not settings.janus_url and role in ("all", "media")
    for line in report.lines:
        print(line)
    if needed:
        return report.problems
    why = (
        "media is off"
        if not settings.media
        else "an external Janus (janus_url)"
        if settings.janus_url
        else "media runs on the media nodes: `sala check --role media` there"
    )
    print(f"janus: not needed on this machine ({why})")
    return []


def cmd_status(args: argparse.Namespace) -> int:
    """The service at a glance: its nodes (in a cluster) with their load, its live meetings
    with the front end and media node each is on."""
    from sala.status import cluster_status

    settings = _settings(args)
    print(asyncio.run(cluster_status(settings, drain=args.drain, undrain=args.undrain)), end="")
    return 0


def _probe_redis(settings: Settings) -> list[str]:
    """`sala check` with SALA_REDIS_URL: can this machine reach the cluster's Redis?"""
    from sala.cluster.redis import describe, redis_client

    assert settings.redis_url is not None
    where = describe(settings.redis_url)

    async def ping() -> None:
        client = redis_client(settings.redis_url or "", name=f"{settings.cluster_node_id}:check")
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(ping())
    except Exception as exc:
        return [f"redis: cannot reach {where}: {exc}"]
    print(f"redis: ok ({where})")
    return []


def cmd_recordings(args: argparse.Namespace) -> int:
    """Operators' view of recordings: list them with their pipeline state, reprocess, delete."""
    from sala.services import build_services

    settings = _settings(args)

    async def run() -> int:
        services = build_services(settings)
        await services.db.migrate()
        try:
            pipeline, store = services.pipeline, services.recordings
            if args.action == "list":
                jobs = {j["record_id"]: j for j in await pipeline.list_jobs()}
                from sala.recordings.store import RecordingQuery

                for rec in await store.find(RecordingQuery(states=frozenset({"any"}))):
                    job = jobs.get(rec.record_id, {})
                    step = f"{job.get('step', '-')}/{job.get('state', '-')}"
                    reason = f"  {job['error']}" if job.get("error") else ""
                    print(f"{rec.record_id}  {rec.state:<11} {step:<16} {rec.name}{reason}")
                return 0
            if not args.record_ids:
                print("sala: name the recordings (record IDs)", file=sys.stderr)
                return 2
            status = 0
            for record_id in args.record_ids:
                if args.action == "reprocess":
                    done = await pipeline.reprocess(record_id)
                else:
                    done = bool(await store.delete([record_id]))
                print(f"{record_id}: {'ok' if done else 'not found (or being processed now)'}")
                status = status or (0 if done else 1)
            return status
        finally:
            await services.http.aclose()
            await services.db.dispose()
            if services.outbox is not services.db:
                await services.outbox.dispose()

    return asyncio.run(run())


def cmd_lti(args: argparse.Namespace) -> int:
    """Connect learning platforms over LTI 1.3 (docs/lti.md)."""
    return run_lti_command(args, _settings(args))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sala", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sala {__version__}")
    parser.add_argument("--config", help="TOML configuration file (or SALA_CONFIG_FILE)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="address to listen on (SALA_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (SALA_PORT)")
    serve.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="all (default): the whole service in one process; frontend, worker or media: one "
        "part of a cluster sharing PostgreSQL and Redis (docs/deployment.md)",
    )
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("secret", help="print the API URL and shared secret").set_defaults(
        func=cmd_secret
    )
    check = sub.add_parser("check", help="verify configuration and dependencies")
    check.add_argument(
        "--role",
        choices=ROLES,
        help="what this machine runs (as for sala serve): media checks Janus on a media node; "
        "default: all, or frontend when SALA_REDIS_URL is set",
    )
    check.set_defaults(func=cmd_check)
    status = sub.add_parser(
        "status", help="show the cluster: nodes, their load, meetings and where they run"
    )
    status.add_argument("--drain", metavar="NODE", help="stop placing new meetings on NODE")
    status.add_argument("--undrain", metavar="NODE", help="place meetings on NODE again")
    status.set_defaults(func=cmd_status)
    sub.add_parser("migrate", help="upgrade the database schema").set_defaults(func=cmd_migrate)
    sub.add_parser(
        "worker", help="deliver webhooks and callbacks (sala serve starts one itself)"
    ).set_defaults(func=cmd_worker)
    recordings = sub.add_parser(
        "recordings", help="list recordings, reprocess or delete them (sala worker processes)"
    )
    recordings.add_argument("action", choices=("list", "reprocess", "delete"))
    recordings.add_argument("record_ids", nargs="*", metavar="RECORD_ID")
    recordings.set_defaults(func=cmd_recordings)
    add_lti_commands(sub).set_defaults(func=cmd_lti)
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except ConfigError as exc:
        print(f"sala: {exc}", file=sys.stderr)
        return 2
