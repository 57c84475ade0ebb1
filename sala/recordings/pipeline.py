"""The recording pipeline: after a recorded meeting ends, archive → sanity → process → publish.

Finding work is durable: the pipeline reads the event log from its own position (log cursor
`recordings`, read through events/cursor.py, so a late-committing `meeting-ended` is not
skipped), and for each `meeting-ended` of a meeting with `record=true` that was recorded at
least once, writes the recording (state `processing`) and its job in the same transaction as the
new position. Several workers may run the pipeline against one database:

- A job is claimed with a conditional update that also writes a lease: who holds it
  (`leased_by`) and until when (`lease_until`). The holder renews the lease while it works and
  gives it back when it stops; a job whose lease lapsed (its worker died or hung) is taken by any
  worker, which resumes it at the step it was in (steps are idempotent: they rewrite their own
  output). Every write about the job is conditional on still holding it, and a holder whose
  renewal finds the job taken stops at once, so one job never has two workers writing it.
- Lease times are each worker's wall clock: hosts need NTP (a skew well under the lease's
  thirty seconds).

A failure stops the job with its reason (state `failed`, visible in getRecordings with
`state=failed` or `any`, and in `sala recordings list`); `sala recordings reprocess` queues it
again. Each step tells integrators through the `rap-*` events of the log, which the webhook
fan-out delivers like any other.

At most `workers` recordings are processed at once; the heavy work is in ffmpeg subprocesses,
run from the `sala worker` process (niced), never from the API's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from sala.clock import Clock
from sala.cluster.holders import holder_name
from sala.events import types
from sala.events.cursor import START, create_cursor, load_cursor, move_cursor, read_page
from sala.events.log import append_event
from sala.recordings import streams
from sala.recordings.archive import archive, recorded_ms
from sala.recordings.capture import raw_dir
from sala.recordings.formats import presentation, video
from sala.recordings.formats.common import Material, gather
from sala.recordings.tools import RecordingError
from sala.store import tables
from sala.store.db import Database

log = logging.getLogger(__name__)

CURSOR = "recordings"
STEPS = ("archive", "sanity", "process", "publish", "done")
FORMATS: dict[str, Callable[[Material, Path], Awaitable[dict[str, Any]]]] = {
    presentation.FORMAT: presentation.build,
    video.FORMAT: video.build,
}
POLL_S = 2.0
EVENTS_PER_PASS = 5000
PREVIEW_SIZE = (176, 136)
LEASE_MS = 30_000
"""How long a claim on a job lasts unless its worker renews it."""
RENEW_EVERY_S = LEASE_MS / 1000 / 3
"""Renewed three times per lease: two renewals may fail (a database hiccup) before it lapses."""

jobs = tables.recording_jobs
recordings = tables.recordings


class LeaseLost(Exception):
    """Another worker holds this job now (ours lapsed): stop working on it, write nothing."""


def playback_url(base_url: str, fmt: str, record_id: str) -> str:
    if fmt == presentation.FORMAT:
        return f"{base_url}/playback/presentation/2.3/{record_id}"
    return f"{base_url}/playback/{fmt}/{record_id}/"


class RecordingPipeline:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        root: Path,
        presentations_root: Path,
        base_url: str,
        workers: int = 1,
        *,
        node: str | None = None,
        lease_ms: int = LEASE_MS,
    ) -> None:
        self._db = db
        self.holder = holder_name(node)
        """The name this pipeline's leases carry."""
        self._lease_ms = lease_ms
        self._renew_every_s = lease_ms / 1000 / 3
        self._clock = clock
        self.root = root
        self._presentations_root = presentations_root
        self._base_url = base_url.rstrip("/")
        self._slots = asyncio.Semaphore(workers)
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------------ the loop --
    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="sala-recordings")

    def poke(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._release_all()

    async def _release_all(self) -> None:
        """Give back the jobs this pipeline held, so a restart (or another worker) resumes
        them at once instead of after the lease."""
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.leased_by == self.holder, jobs.c.state == "running")
                    .values(state="queued", leased_by=None, lease_until=None)
                )
        except Exception:
            log.exception("could not give back the recording jobs of %s", self.holder)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("the recording pipeline failed to look for work")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)
            self._wake.clear()

    async def run_once(self) -> int:
        """Find ended meetings, and start what the free slots allow; returns jobs started."""
        while await self.discover() == EVENTS_PER_PASS:
            pass
        started = 0
        while not self._slots.locked():
            record_id = await self._claim()
            if record_id is None:
                break
            await self._slots.acquire()
            task = asyncio.create_task(self._run(record_id), name=f"recording-{record_id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            started += 1
        return started

    async def idle(self) -> None:
        """Until no job runs (tests and the CLI)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    # --------------------------------------------------------------------- discovering --
    async def discover(self) -> int:
        """Read the log past our position; queue the recordings of meetings that ended.

        The log is read through events/cursor.py, so a `meeting-ended` whose transaction
        commits after later events is still read (on PostgreSQL, when it commits)."""
        async with self._db.write() as conn:
            position = await load_cursor(conn, CURSOR)
            if position is None:
                position = START
                await create_cursor(conn, CURSOR)
            page = await read_page(conn, position, EVENTS_PER_PASS, with_data=False)
            if not page.read:
                return 0
            # First, so another worker on the same events waits here, then finds it moved.
            if not await move_cursor(conn, CURSOR, position, page.end):
                # Another process moved first; its transaction queued these meetings.
                await conn.rollback()
                return 0
            for event in page.events:
                if event.type == types.MEETING_ENDED:
                    await self._queue_if_recorded(conn, event.meeting_id)
        return len(page.read)

    async def _queue_if_recorded(self, conn: AsyncConnection, meeting_id: str) -> None:
        m = tables.meetings
        meeting = (await conn.execute(select(m).where(m.c.internal_id == meeting_id))).first()
        if meeting is None or not meeting.record:
            return
        e = tables.meeting_events
        marked = (
            await conn.execute(
                select(e.c.id)
                .where(e.c.meeting_id == meeting_id, e.c.type == types.RECORDING_STARTED)
                .limit(1)
            )
        ).first()
        if marked is None:
            return  # BBB: no playback unless the recording was started at least once
        exists = (
            await conn.execute(select(jobs.c.record_id).where(jobs.c.record_id == meeting_id))
        ).first()
        if exists is not None:
            return
        now = self._clock.now_ms()
        a = tables.attendees
        participants = len(
            (
                await conn.execute(
                    select(a.c.external_user_id)
                    .where(a.c.meeting_id == meeting_id, a.c.joined_at.is_not(None))
                    .distinct()
                )
            ).all()
        )
        metadata = {
            **(meeting.metadata or {}),
            "isBreakout": str(bool(meeting.is_breakout)).lower(),
            "meetingId": meeting.external_id,
            "meetingName": meeting.name,
        }
        await conn.execute(
            insert(recordings).values(
                record_id=meeting_id,
                meeting_id=meeting.external_id,
                internal_meeting_id=meeting_id,
                name=meeting.name,
                is_breakout=meeting.is_breakout,
                state="processing",
                start_time=meeting.start_time,
                end_time=meeting.end_time or now,
                participants=participants,
                raw_size=0,
                size=0,
                metadata=metadata,
                formats=[],
                text_tracks=[],
            )
        )
        await conn.execute(
            insert(jobs).values(
                record_id=meeting_id,
                step="archive",
                state="queued",
                error=None,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
        )

    def _claimable(self, now: int) -> ColumnElement[bool]:
        """Queued, or running under a lease that lapsed (or under none: an older version's)."""
        return or_(
            jobs.c.state == "queued",
            and_(
                jobs.c.state == "running",
                or_(jobs.c.lease_until.is_(None), jobs.c.lease_until <= now),
            ),
        )

    def _held(self, record_id: str) -> ColumnElement[bool]:
        return and_(
            jobs.c.record_id == record_id,
            jobs.c.state == "running",
            jobs.c.leased_by == self.holder,
        )

    async def _claim(self) -> str | None:
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    select(jobs.c.record_id, jobs.c.state, jobs.c.leased_by)
                    .where(self._claimable(now))
                    .order_by(jobs.c.created_at, jobs.c.record_id)
                    .limit(1)
                )
            ).first()
            if row is None:
                return None
            # Conditional: a worker that claimed it meanwhile wins (on PostgreSQL this waits
            # for it, then finds the job no longer claimable).
            taken = await conn.execute(
                update(jobs)
                .where(jobs.c.record_id == row.record_id, self._claimable(now))
                .values(
                    state="running",
                    leased_by=self.holder,
                    lease_until=now + self._lease_ms,
                    attempts=jobs.c.attempts + 1,
                    updated_at=now,
                )
            )
        if taken.rowcount != 1:
            return None
        if row.state == "running":
            log.warning(
                "recording %s: taken over from %s, whose lease lapsed", row.record_id, row.leased_by
            )
        return str(row.record_id)

    async def _renew(self, record_id: str) -> bool:
        """Extend this pipeline's lease on the job; False if it no longer holds it."""
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            renewed = await conn.execute(
                update(jobs).where(self._held(record_id)).values(lease_until=now + self._lease_ms)
            )
        return renewed.rowcount == 1

    async def _keep_lease(
        self, record_id: str, work: asyncio.Task[None], lost: asyncio.Event
    ) -> None:
        """Renew while the job runs; if another worker took it, stop the work."""
        while True:
            await asyncio.sleep(self._renew_every_s)
            try:
                held = await self._renew(record_id)
            except Exception:
                # The database may be back before the lease runs out: try again.
                log.exception("recording %s: could not renew the lease", record_id)
                continue
            if not held:
                lost.set()
                work.cancel()
                return

    # ------------------------------------------------------------------------- running --
    async def _run(self, record_id: str) -> None:
        lost = asyncio.Event()
        work = asyncio.current_task()
        assert work is not None
        keeper = asyncio.create_task(
            self._keep_lease(record_id, work, lost), name=f"recording-lease-{record_id}"
        )
        try:
            await self._steps(record_id)
        except LeaseLost:
            lost.set()
        except asyncio.CancelledError:
            if not lost.is_set():
                raise
            work.uncancel()  # our own cancellation (the lease keeper's), handled here
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self._slots.release()
        if lost.is_set():
            log.warning("recording %s: another worker took it over; stopped here", record_id)

    async def _steps(self, record_id: str) -> None:
        try:
            step = await self._step_of(record_id)
            while step != "done":
                if await self._deleted(record_id):
                    # deleteRecordings while it waited or ran: stop, and leave no files behind.
                    await asyncio.to_thread(shutil.rmtree, self.root / record_id, True)
                    await self._set_job(record_id, step=step, state="done")
                    return
                await getattr(self, f"_{step}")(record_id)
                step = STEPS[STEPS.index(step) + 1]
                await self._set_job(record_id, step=step, state="done" if step == "done" else None)
        except RecordingError as exc:
            await self._fail(record_id, str(exc))
        except (asyncio.CancelledError, LeaseLost):
            raise
        except Exception as exc:
            log.exception("recording %s failed", record_id)
            await self._fail(record_id, f"unexpected {type(exc).__name__}: {exc}")

    async def _deleted(self, record_id: str) -> bool:
        async with self._db.read() as conn:
            state = (
                await conn.execute(
                    select(recordings.c.state).where(recordings.c.record_id == record_id)
                )
            ).scalar()
        return state is None or state == "deleted"

    async def _step_of(self, record_id: str) -> str:
        async with self._db.read() as conn:
            step = (
                await conn.execute(select(jobs.c.step).where(jobs.c.record_id == record_id))
            ).scalar()
        return str(step or "archive")

    async def _set_job(self, record_id: str, *, step: str, state: str | None) -> None:
        """Store the step reached (and the job's end); LeaseLost if the job is not ours."""
        values: dict[str, Any] = {"step": step, "updated_at": self._clock.now_ms()}
        if state is not None:
            values.update(state=state, leased_by=None, lease_until=None)
        async with self._db.write() as conn:
            stored = await conn.execute(update(jobs).where(self._held(record_id)).values(**values))
        if stored.rowcount != 1:
            raise LeaseLost(record_id)

    async def _fail(self, record_id: str, reason: str) -> None:
        log.warning("recording %s failed: %s", record_id, reason)
        async with self._db.write() as conn:
            stored = await conn.execute(
                update(jobs)
                .where(self._held(record_id))
                .values(
                    state="failed",
                    error=reason,
                    updated_at=self._clock.now_ms(),
                    leased_by=None,
                    lease_until=None,
                )
            )
            if stored.rowcount != 1:
                raise LeaseLost(record_id)  # the worker that holds it now decides
            await conn.execute(
                update(recordings)
                .where(recordings.c.record_id == record_id, recordings.c.state == "processing")
                .values(state="failed")
            )

    async def _event(self, record_id: str, kind: str, **data: Any) -> None:
        async with self._db.write() as conn:
            await append_event(
                conn,
                record_id,
                kind,
                self._clock.now_ms(),
                data={"record_id": record_id, **data},
            )

    # --------------------------------------------------------------------------- steps --
    async def _archive(self, record_id: str) -> None:
        started = time.monotonic()
        await self._event(record_id, types.RAP_ARCHIVE_STARTED)
        folder = await archive(self._db, self.root, self._presentations_root, record_id)
        size = await asyncio.to_thread(_size_of, folder)
        async with self._db.write() as conn:
            await conn.execute(
                update(recordings).where(recordings.c.record_id == record_id).values(raw_size=size)
            )
        await self._event(
            record_id,
            types.RAP_ARCHIVE_ENDED,
            success=True,
            step_time=_ms_since(started),
            recorded=True,
            duration=await asyncio.to_thread(recorded_ms, folder),
        )

    async def _sanity(self, record_id: str) -> None:
        started = time.monotonic()
        await self._event(record_id, types.RAP_SANITY_STARTED)
        try:
            await streams.sanity(raw_dir(self.root, record_id))
        except RecordingError:
            await self._event(
                record_id, types.RAP_SANITY_ENDED, success=False, step_time=_ms_since(started)
            )
            raise
        await self._event(
            record_id, types.RAP_SANITY_ENDED, success=True, step_time=_ms_since(started)
        )

    async def _process(self, record_id: str) -> None:
        material: Material | None = None
        made = []
        for fmt, build in FORMATS.items():
            started = time.monotonic()
            await self._event(record_id, types.RAP_PROCESS_STARTED, workflow=fmt)
            out = self.root / record_id / fmt
            await asyncio.to_thread(shutil.rmtree, out, True)
            try:
                # Extracting the streams and mixing the voices is shared by the formats; it
                # counts in the first one's processing time.
                material = material or await gather(self.root, record_id)
                info = await build(material, out)
            except RecordingError:
                await self._event(
                    record_id,
                    types.RAP_PROCESS_ENDED,
                    workflow=fmt,
                    success=False,
                    step_time=_ms_since(started),
                )
                raise
            elapsed = _ms_since(started)
            made.append({"type": fmt, "processing_time": elapsed, **info})
            await self._event(
                record_id, types.RAP_PROCESS_ENDED, workflow=fmt, success=True, step_time=elapsed
            )
        await asyncio.to_thread(
            (self.root / record_id / "formats.json").write_text, json.dumps(made), "utf-8"
        )

    async def _publish(self, record_id: str) -> None:
        made = json.loads(
            await asyncio.to_thread((self.root / record_id / "formats.json").read_text, "utf-8")
        )
        formats = []
        for info in made:
            fmt = info["type"]
            started = time.monotonic()
            await self._event(record_id, types.RAP_PUBLISH_STARTED, workflow=fmt)
            url = playback_url(self._base_url, fmt, record_id)
            previews = [
                {
                    "url": f"{url}/{p['path']}" if fmt == presentation.FORMAT else url + p["path"],
                    "width": PREVIEW_SIZE[0],
                    "height": PREVIEW_SIZE[1],
                    "alt": p.get("alt", ""),
                }
                for p in info.get("preview", [])
            ]
            entry = {
                "type": fmt,
                "url": url,
                "processing_time": info["processing_time"],
                "length_ms": info["length_ms"],
                "size": info["size"],
                "preview": previews,
            }
            formats.append(entry)
            recording = await self._publish_format(record_id, formats)
            await self._event(
                record_id,
                types.RAP_PUBLISH_ENDED,
                workflow=fmt,
                success=True,
                step_time=_ms_since(started),
                recording=recording,
            )
        # As RaP's `published`: the recording is now listed as published, in every format.
        await self._event(record_id, types.RAP_PUBLISHED)
        # The intermediate files: the formats hold hard links to what they use, and reprocessing
        # makes the rest again from raw/.
        await asyncio.to_thread(shutil.rmtree, self.root / record_id / "work", True)

    async def _publish_format(
        self, record_id: str, formats: list[dict[str, Any]]
    ) -> dict[str, Any]:
        async with self._db.write() as conn:
            await conn.execute(
                update(recordings)
                .where(recordings.c.record_id == record_id, recordings.c.state != "deleted")
                .values(
                    formats=formats,
                    size=sum(int(f["size"]) for f in formats),
                    state="published",
                )
            )
            row = (
                await conn.execute(select(recordings).where(recordings.c.record_id == record_id))
            ).one()
        last = formats[-1]
        return {
            "name": row.name,
            "is-breakout": row.is_breakout,
            "start-time": row.start_time,
            "end-time": row.end_time,
            "size": row.size,
            "raw-size": row.raw_size,
            "metadata": row.metadata,
            "playback": {
                "format": last["type"],
                "link": last["url"],
                "processing_time": last["processing_time"],
                "duration": last["length_ms"],
                "size": last["size"],
            },
            "download": {},
        }

    # ------------------------------------------------------------------------ operators --
    async def reprocess(self, record_id: str) -> bool:
        """Queue a recording again from its processing step (its archive is kept); not while a
        worker holds it."""
        now = self._clock.now_ms()
        not_held = or_(jobs.c.state != "running", self._claimable(now))
        async with self._db.write() as conn:
            job = (
                await conn.execute(select(jobs).where(jobs.c.record_id == record_id, not_held))
            ).first()
            if job is None:
                return False
            step = "process" if STEPS.index(job.step) >= STEPS.index("process") else job.step
            queued = await conn.execute(
                update(jobs)
                .where(jobs.c.record_id == record_id, not_held)
                .values(
                    state="queued",
                    step=step,
                    error=None,
                    updated_at=now,
                    leased_by=None,
                    lease_until=None,
                )
            )
            if queued.rowcount != 1:
                await conn.rollback()
                return False
            await conn.execute(
                update(recordings)
                .where(recordings.c.record_id == record_id, recordings.c.state != "deleted")
                .values(state="processing")
            )
        self.poke()
        return True

    async def list_jobs(self) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            rows = (await conn.execute(select(jobs).order_by(jobs.c.created_at))).all()
        return [dict(r._mapping) for r in rows]


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
