"""A meeting's presentations: accepted at once, converted in the background, kept on disk.

`create` and `insertDocument` never wait for a document: the row is written as `processing`, the
API answers, and a background task fetches (for URLs) and converts it, at most
`concurrency` at a time. When it is ready (or has failed, with the reason) the bus topic
PRESENTATION_TOPIC tells the room; meanwhile PROGRESS_TOPIC tells it how many pages are done
(at most every PROGRESS_EVERY_S per document). A meeting without documents gets the default
presentation.

Where a document converts depends on the process's `mode`:

- "all" (one process, `sala serve`): the process that accepts a document holds it from the start,
  with a lease (presentations/leases.py), and converts it; `resume` (at start, then every
  renewal) takes over only conversions whose holder is gone.
- "accept" (a cluster's front end): the row is written `processing` with no lease and the
  workers are woken (CONVERT_TOPIC on the bus); this process never converts.
- "convert" (a cluster's worker): claims unleased and lapsed conversions, compare-and-set on the
  row so several workers share them, at most `concurrency` at a time, when woken and every
  renewal.

Hence an inline document is kept on the shared folder before its row is written, the wish to
become current and the pages done are in the row (any process converts it, any front end's room
snapshot shows it), and a conversion renders into a folder of its own that becomes the
document's pages only under the lease.

Files: `<root>/<meeting internal id>/<presentation id>/` holds `source.*`, `<n>.png` slides and
`<n>-thumb.png` thumbnails (and `.converting-*/` folders while conversions run).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy import bindparam, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sala.clock import Clock
from sala.events import types
from sala.events.bus import Bus
from sala.events.destinations import DestinationPolicy, DestinationRefused
from sala.events.log import append_event
from sala.events.outbound import OutboundHttp
from sala.presentations.convert import (
    ConversionError,
    Limits,
    Progress,
    convert,
    convert_file,
    save_source,
)
from sala.presentations.default_pdf import default_pdf
from sala.presentations.leases import LEASE_MS, ConversionLeases
from sala.store import tables
from sala.store.db import Database

log = logging.getLogger(__name__)

PRESENTATION_TOPIC = "presentation.changed"
PROGRESS_TOPIC = "presentation.progress"
CONVERT_TOPIC = "presentation.convert"
"""A cluster's front end accepted documents: the workers look for conversions to claim."""
PROGRESS_EVERY_S = 0.5
DEFAULT_NAME = "default.pdf"
t = tables.presentations
_OF_MEETING = (
    select(t).where(t.c.meeting_id == bindparam("meeting_id")).order_by(t.c.created_at, t.c.id)
)
"""A meeting's documents, oldest first; built once: every room connection reads them."""

Mode = Literal["all", "accept", "convert"]


@dataclass(frozen=True)
class Presentation:
    id: str
    meeting_id: str
    name: str
    state: str
    error: str | None
    pages: int
    page: int
    current: bool
    downloadable: bool
    removable: bool
    progress: tuple[int, int] | None = None
    """Pages done and in all, as last written by whichever process converts it."""
    wants_current: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Presentation:
        return cls(
            id=row["id"],
            meeting_id=row["meeting_id"],
            name=row["name"],
            state=row["state"],
            error=row["error"],
            pages=row["pages"],
            page=row["page"],
            current=row["current"],
            downloadable=row["downloadable"],
            removable=row["removable"],
            progress=(
                (row["pages_done"], row["pages_total"])
                if row.get("pages_total") is not None and row.get("pages_done") is not None
                else None
            ),
            wants_current=row.get("wants_current"),
        )

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "error": self.error,
            "pages": self.pages,
            "page": self.page,
            "current": self.current,
            "downloadable": self.downloadable,
            "removable": self.removable,
        }


@dataclass(frozen=True)
class Upload:
    """One document to add: inline bytes, or a URL to fetch."""

    name: str
    data: bytes | None = None
    url: str | None = None
    current: bool = False
    downloadable: bool = False
    removable: bool = True


def _link_all(source: Path, target: Path) -> None:
    """Hard links (copies across file systems) of a rendered presentation's files."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name == "pages":
            continue
        try:
            os.link(item, target / item.name)
        except OSError:
            shutil.copy2(item, target / item.name)


def _move_files(source: Path, target: Path) -> None:
    """A conversion's results (pages, and the PDF LibreOffice made) into the document's folder."""
    for item in source.iterdir():
        if item.is_file():
            os.replace(item, target / item.name)


def decode_inline(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConversionError("The inline document is not valid base64") from None


class TooManyDocuments(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"A meeting holds at most {limit} documents")
        self.limit = limit


class PresentationService:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        clock: Clock,
        root: Path,
        http: OutboundHttp,
        policy: DestinationPolicy,
        limits: Limits | None = None,
        default_document: Path | None = None,
        concurrency: int = 2,
        *,
        node: str | None = None,
        lease_ms: int = LEASE_MS,
        renew_every_s: float | None = None,
        mode: Mode = "all",
    ) -> None:
        """`node`: this process's node id, in the name its leases carry. `mode`: who converts
        (see the module's docstring)."""
        self.mode: Mode = mode
        self._db = db
        self._bus = bus
        self._clock = clock
        self.root = root
        self._http = http
        self._policy = policy
        self._limits = limits or Limits()
        self._default_document = default_document
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._tasks: set[asyncio.Task[None]] = set()
        self._leases = ConversionLeases(db, clock, node, lease_ms)
        self._renew_every_s = lease_ms / 1000 / 3 if renew_every_s is None else renew_every_s
        self._held: dict[str, asyncio.Task[None]] = {}
        """The conversions this process holds (converting or waiting for a slot): its tasks."""
        self._watcher: asyncio.Task[None] | None = None
        self._last_created = 0
        self._default_lock = asyncio.Lock()
        self._default_cache: tuple[int, Path] | None = None
        self._progress: dict[str, tuple[int, int]] = {}
        """Pages done and in all, of the documents converting now (this process's)."""
        self._poked = asyncio.Event()
        """Set when there may be conversions to claim now (a worker woken through the bus)."""

    @property
    def max_bytes(self) -> int:
        return self._limits.max_bytes

    @property
    def holder(self) -> str:
        """The name this process's conversion leases carry."""
        return self._leases.holder

    # ------------------------------------------------------------------------ reading --
    async def of_meeting(self, meeting_id: str) -> list[Presentation]:
        # One query (no snapshot to share): every room connection reads it for its welcome.
        async with self._db.read(snapshot=False) as conn:
            rows = await conn.execute(_OF_MEETING, {"meeting_id": meeting_id})
            return [Presentation.from_row(r._mapping) for r in rows]

    async def get(self, presentation_id: str) -> Presentation | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(t).where(t.c.id == presentation_id))).first()
        return None if row is None else Presentation.from_row(row._mapping)

    async def current(self, meeting_id: str) -> Presentation | None:
        found = [p for p in await self.of_meeting(meeting_id) if p.current]
        return found[0] if found else None

    def progress_of(self, presentation: Presentation | str) -> dict[str, int] | None:
        """Pages done of a converting document: this process's own count if it converts it
        (the freshest), else what its converter last wrote in the row."""
        presentation_id = presentation if isinstance(presentation, str) else presentation.id
        done = self._progress.get(presentation_id)
        if (
            done is None
            and not isinstance(presentation, str)
            and presentation.state == "processing"
        ):
            done = presentation.progress
        return None if done is None else {"done": done[0], "total": done[1]}

    def folder(self, presentation: Presentation) -> Path:
        return self.root / presentation.meeting_id / presentation.id

    def page_file(self, presentation: Presentation, page: int, thumbnail: bool) -> Path | None:
        if presentation.state != "ready" or not 1 <= page <= presentation.pages:
            return None
        return self.folder(presentation) / (f"{page}-thumb.png" if thumbnail else f"{page}.png")

    def source_file(self, presentation: Presentation) -> Path | None:
        return next(iter(sorted(self.folder(presentation).glob("source.*"))), None)

    # ------------------------------------------------------------------------ writing --
    async def add(self, meeting_id: str, uploads: list[Upload]) -> list[Presentation]:
        """Accept documents at once; each converts in the background. The one marked current
        (or else the first) becomes current when ready. Raises TooManyDocuments, adding none,
        when the meeting would hold more than the limit."""
        nothing_current = not any(u.current for u in uploads)
        rows = [
            self._new_row(
                meeting_id,
                upload.name[:256] or "document",
                source_url=upload.url,
                downloadable=upload.downloadable,
                removable=upload.removable,
                # In the row, for whichever process converts it.
                wants_current=(
                    "yes" if upload.current or (nothing_current and index == 0) else "no"
                ),
            )
            for index, upload in enumerate(uploads)
        ]
        added = [Presentation.from_row(row) for row in rows]
        try:
            # On disk before the rows exist: whichever front end ends up converting a document
            # finds its source in the shared folder (a URL is fetched again instead).
            for presentation, upload in zip(added, uploads, strict=True):
                if upload.data is not None:
                    await save_source(upload.data, presentation.name, self.folder(presentation))
            async with self._db.write() as conn:
                held = (
                    await conn.execute(
                        select(func.count()).select_from(t).where(t.c.meeting_id == meeting_id)
                    )
                ).scalar_one()
                if held + len(uploads) > self._limits.max_documents:
                    raise TooManyDocuments(self._limits.max_documents)
                for row in rows:
                    # In one process held by it from the start, so nobody takes it over
                    # meanwhile; a cluster's front end leaves it unleased, for a worker.
                    lease = self._leases.claim() if self.mode == "all" else {}
                    await conn.execute(t.insert().values(**row, **lease))
        except BaseException:
            for presentation in added:
                await asyncio.to_thread(shutil.rmtree, self.folder(presentation), True)
            raise
        if self.mode == "all":
            for presentation, row in zip(added, rows, strict=True):
                self._start(presentation, row["wants_current"])
        else:
            await self._bus.publish(CONVERT_TOPIC, {"meeting_id": meeting_id})
        return added

    async def add_default(self, meeting_id: str) -> Presentation | None:
        """The default presentation, ready at once: it is converted once per data directory
        (per content) and each meeting gets hard links to those pages. None if the meeting
        already has one (two people entering at the same moment)."""
        pages, rendered = await self._default_rendering()
        row = self._new_row(meeting_id, DEFAULT_NAME, state="ready", pages=pages, removable=False)
        async with self._default_lock:
            async with self._db.read() as conn:
                existing = (
                    await conn.execute(
                        select(t.c.name, t.c.current).where(t.c.meeting_id == meeting_id)
                    )
                ).all()
            if any(r.name == DEFAULT_NAME for r in existing):
                return None
            row["current"] = not any(r.current for r in existing)
            folder = self.root / meeting_id / row["id"]
            await asyncio.to_thread(_link_all, rendered, folder)
            async with self._db.write() as conn:
                await self._lock_documents(conn, meeting_id)
                await conn.execute(t.insert().values(**row))
                await self._log_converted(conn, meeting_id, row["id"], DEFAULT_NAME)
                if row["current"]:
                    await self._log_current(conn, meeting_id, row["id"], 1)
        await self._bus.publish(PRESENTATION_TOPIC, {"meeting_id": meeting_id})
        return Presentation.from_row(row)

    def _new_row(
        self,
        meeting_id: str,
        name: str,
        *,
        state: str = "processing",
        pages: int = 0,
        source_url: str | None = None,
        downloadable: bool = False,
        removable: bool = True,
        wants_current: str | None = None,
    ) -> dict[str, Any]:
        # created_at strictly increases, so documents keep the order they were given in.
        created_at = max(self._clock.now_ms(), self._last_created + 1)
        self._last_created = created_at
        return {
            "id": str(uuid.uuid4()),
            "meeting_id": meeting_id,
            "name": name,
            "source_url": source_url,
            "state": state,
            "error": None,
            "pages": pages,
            "page": 1,
            "current": False,
            "downloadable": downloadable,
            "removable": removable,
            "created_at": created_at,
            "wants_current": wants_current,
        }

    async def _default_rendering(self) -> tuple[int, Path]:
        async with self._default_lock:
            if self._default_cache is not None:
                return self._default_cache
            data = (
                await asyncio.to_thread(self._default_document.read_bytes)
                if self._default_document is not None
                else default_pdf()
            )
            folder = self.root / "_default" / hashlib.sha256(data).hexdigest()[:16]
            done = folder / "pages"
            if not await asyncio.to_thread(done.exists):
                # Rendered aside and renamed into place: front ends sharing the folder (a
                # cluster's shared mount) never delete or half-see each other's rendering.
                aside = folder.parent / f".{folder.name}.{secrets.token_hex(4)}"
                pages = await convert(data, DEFAULT_NAME, aside, self._limits)
                await asyncio.to_thread((aside / "pages").write_text, str(pages))
                await asyncio.to_thread(_move_into_place, aside, folder)
            pages = int(await asyncio.to_thread(done.read_text))
            self._default_cache = (pages, folder)
            return self._default_cache

    async def set_page(self, presentation_id: str, page: int) -> Presentation | None:
        async with self._db.write() as conn:
            await conn.execute(
                update(t).where(t.c.id == presentation_id, t.c.pages >= page).values(page=page)
            )
        return await self.get(presentation_id)

    async def make_current(self, meeting_id: str, presentation_id: str) -> None:
        async with self._db.write() as conn:
            await self._lock_documents(conn, meeting_id)
            await self._set_current(conn, meeting_id, presentation_id)
        await self._bus.publish(PRESENTATION_TOPIC, {"meeting_id": meeting_id})

    @staticmethod
    async def _lock_documents(conn: AsyncConnection, meeting_id: str) -> None:
        """Lock the meeting's documents, in one order (by id) for every process, first thing
        in a transaction that may change several of them (which one is current). Otherwise two
        conversions of one meeting finishing together (on two workers, or two slots of one)
        each lock their own row, then wait for each other's to unset `current`: PostgreSQL
        aborts one as a deadlock. (SQLite: the write lock already runs them one at a time.)"""
        await conn.execute(
            select(t.c.id).where(t.c.meeting_id == meeting_id).order_by(t.c.id).with_for_update()
        )

    async def _set_current(
        self, conn: AsyncConnection, meeting_id: str, presentation_id: str
    ) -> None:
        await conn.execute(update(t).where(t.c.meeting_id == meeting_id).values(current=False))
        await conn.execute(update(t).where(t.c.id == presentation_id).values(current=True))
        page = (await conn.execute(select(t.c.page).where(t.c.id == presentation_id))).scalar()
        await self._log_current(conn, meeting_id, presentation_id, page or 1)

    async def _log_current(
        self, conn: AsyncConnection, meeting_id: str, presentation_id: str, page: int
    ) -> None:
        """Which document everybody sees, in the meeting's log (recordings replay it)."""
        await append_event(
            conn,
            meeting_id,
            types.PRESENTATION_CHANGED,
            self._clock.now_ms(),
            data={"presentation": presentation_id, "page": page},
        )

    async def _log_converted(
        self, conn: AsyncConnection, meeting_id: str, presentation_id: str, name: str
    ) -> None:
        """A document is ready for the meeting (the analytics callback lists their names)."""
        await append_event(
            conn,
            meeting_id,
            types.PRESENTATION_CONVERTED,
            self._clock.now_ms(),
            data={"presentation": presentation_id, "name": name},
        )

    async def remove(self, presentation: Presentation, keep_files: bool = False) -> None:
        """`keep_files`: the meeting is recorded, and its recording may show this document."""
        async with self._db.write() as conn:
            await conn.execute(t.delete().where(t.c.id == presentation.id))
        if not keep_files:
            await asyncio.to_thread(shutil.rmtree, self.folder(presentation), True)
        await self._bus.publish(PRESENTATION_TOPIC, {"meeting_id": presentation.meeting_id})

    async def resume(self) -> int:
        """At start, and from then on at every renewal: convert the documents whose conversion
        nobody holds any more (its process died, or stopped and gave it back; at start, also
        those of this node's previous process). Conversions another process holds are left to
        it. Returns how many it took now. A cluster's front end ("accept") converts nothing:
        it returns 0."""
        if self.mode == "accept":
            return 0
        taken = await self._take_over(at_start=True)
        self._watch()
        return taken

    def poke(self) -> None:
        """There may be conversions to claim (a front end accepted documents): look now rather
        than at the next renewal."""
        self._poked.set()

    def hear_wakes(self) -> Callable[[], None]:
        """A worker's ears: poked whenever a front end accepts documents, and whenever the bus
        may have lost such a wake-up (Redis was away). Returns the function that stops it."""

        async def woken(_topic: str, _message: dict[str, Any]) -> None:
            self.poke()

        async def resynced() -> None:
            self.poke()

        stops = [self._bus.subscribe(CONVERT_TOPIC, woken), self._bus.on_resync(resynced)]

        def stop() -> None:
            for each in stops:
                each()

        return stop

    async def _take_over(self, at_start: bool = False) -> int:
        taken = 0
        for row in await self._leases.orphans(skip=self._held, at_start=at_start):
            if self.mode == "convert" and len(self._held) >= self._concurrency:
                # A worker claims only what it can start: the rest is for the other workers
                # (or for this one, once a slot is free: it looks again then).
                break
            if not await self._leases.take(row.id, at_start=at_start):
                continue  # another process was first
            if row.leased_by is not None:
                log.warning(
                    "presentation %s: taken over from %s, whose lease lapsed", row.id, row.leased_by
                )
            # A worker follows the wish the front end wrote; one process's take-over (of a
            # document accepted before it restarted) becomes current only if none is.
            wants = (row.wants_current or "if_none") if self.mode == "convert" else "if_none"
            self._start(Presentation.from_row(row._mapping), wants)
            taken += 1
        return taken

    def _watch(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._keep_leases(), name="presentation-leases")

    async def _keep_leases(self) -> None:
        """Renew what this process holds, stop what it lost, take over what lapsed (and, when
        poked, what a front end just accepted)."""
        loop = asyncio.get_running_loop()
        renewed_at = loop.time()
        while True:
            wait_s = renewed_at + self._renew_every_s - loop.time()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(wait_s, 0.0)):
                    await self._poked.wait()
            self._poked.clear()
            try:
                if loop.time() - renewed_at >= self._renew_every_s:
                    renewed_at = loop.time()
                    await self._renew()
                await self._take_over()
            except Exception:
                # The database may be back before the leases run out: try again.
                log.exception("could not renew or take over presentation conversions")

    async def _renew(self) -> None:
        asked = dict(self._held)
        still = await self._leases.renew(asked)
        for presentation_id, task in asked.items():
            if presentation_id not in still and self._held.get(presentation_id) is task:
                # Another process took it (ours lapsed: this one hung, or lost the database
                # for a lease): stop, and leave the outcome to it.
                log.warning("presentation %s: another process took it over", presentation_id)
                task.cancel()

    async def close(self) -> None:
        """Stop converting, and give the conversions back for another front end to take."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self._leases.release_all()
        except Exception:
            log.exception("could not give back the presentation conversions of %s", self.holder)
        if self.mode == "convert":
            # What it gave back is for the other workers now, not after their next look.
            await self._bus.publish(CONVERT_TOPIC, {})

    async def wait_idle(self) -> None:
        """Until every conversion started so far has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --------------------------------------------------------------------- converting --
    def _start(self, presentation: Presentation, wants_current: str) -> None:
        """Convert a document this process holds the lease of. `wants_current`: "yes",
        "if_none" (only if no other is current when ready), "no"."""
        task = asyncio.create_task(
            self._convert(presentation, wants_current), name=f"presentation-{presentation.id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._held[presentation.id] = task
        self._watch()

    async def _convert(self, presentation: Presentation, wants_current: str) -> None:
        # Its own folder: a process that lost the lease without knowing yet never writes over
        # the pages its successor makes.
        work = self.folder(presentation) / f".converting-{secrets.token_hex(4)}"
        try:
            async with self._slots:
                try:
                    source = await self._source(presentation)
                    pages = await convert_file(
                        source, presentation.name, work, self._limits, self._reporter(presentation)
                    )
                    error = None
                except ConversionError as exc:
                    log.info("presentation %s failed: %s", presentation.name, exc)
                    pages, error, wants_current = 0, str(exc), "no"
                except Exception:
                    log.exception("presentation %s crashed the conversion", presentation.name)
                    pages, error, wants_current = 0, "The document could not be converted", "no"
                finally:
                    self._progress.pop(presentation.id, None)
                # Renewals leave it from here on: the outcome's write checks the lease itself,
                # and a renewal seeing the row just finished must not cancel its announcement.
                self._let_go(presentation.id)
                try:
                    await self._finish(presentation, pages, error, wants_current, work)
                except Exception:
                    # Not silently, and not held for a whole lease: it is converted again
                    # by whichever process looks a few seconds from now.
                    log.exception("presentation %s: could not record its outcome", presentation.id)
                    await self._retry_soon(presentation.id)
        finally:
            self._let_go(presentation.id)
            await asyncio.to_thread(shutil.rmtree, work, True)
            if self.mode == "convert":
                self.poke()  # a slot is free: claim the next waiting document now

    async def _retry_soon(self, presentation_id: str) -> None:
        try:
            await self._leases.lapse_soon(presentation_id)
        except Exception:
            log.warning("presentation %s: retried once its lease lapses", presentation_id)

    def _let_go(self, presentation_id: str) -> None:
        if self._held.get(presentation_id) is asyncio.current_task():
            del self._held[presentation_id]

    async def _source(self, presentation: Presentation) -> Path:
        """The document's file: kept when it was accepted, or fetched from its URL (again, if
        the process that fetched it first died before converting it)."""
        source = await asyncio.to_thread(self.source_file, presentation)
        if source is not None:
            return source
        # A bound on the whole download, against servers that drip bytes.
        try:
            async with asyncio.timeout(self._limits.timeout_s):
                data = await self._fetch(presentation)
        except TimeoutError:
            raise ConversionError("The document took too long to download") from None
        return await save_source(data, presentation.name, self.folder(presentation))

    def _reporter(self, presentation: Presentation) -> Progress:
        told_at = -PROGRESS_EVERY_S

        async def tell(done: int, total: int) -> None:
            nonlocal told_at
            self._progress[presentation.id] = (done, total)
            now = asyncio.get_running_loop().time()
            if now - told_at < PROGRESS_EVERY_S or done == total:
                return  # the finished document is announced by _finish
            told_at = now
            await self._save_progress(presentation.id, done, total)
            await self._bus.publish(
                PROGRESS_TOPIC,
                {
                    "meeting_id": presentation.meeting_id,
                    "presentation": presentation.id,
                    "done": done,
                    "total": total,
                },
            )

        return tell

    async def _save_progress(self, presentation_id: str, done: int, total: int) -> None:
        """In the row, for the room snapshots of front ends that do not convert it; under the
        lease, so a holder that lost it writes nothing. A failed write costs only the count."""
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    update(t)
                    .where(self._leases.held(presentation_id))
                    .values(pages_done=done, pages_total=total)
                )
        except Exception:
            log.warning("presentation %s: could not write its progress", presentation_id)

    async def _fetch(self, presentation: Presentation) -> bytes:
        async with self._db.read() as conn:
            url = (
                await conn.execute(select(t.c.source_url).where(t.c.id == presentation.id))
            ).scalar()
        if not url:
            # Its file is gone: an older version kept inline documents in memory until converted.
            raise ConversionError("The document was lost in a restart")
        try:
            destination = await self._policy.check(url)
        except DestinationRefused as exc:
            raise ConversionError(f"The document URL is not allowed: {exc}") from None
        chunks = []
        size = 0
        try:
            # Connects to the addresses just checked; redirects are not followed.
            async with self._http.stream(
                destination, "GET", timeout_s=self._limits.timeout_s
            ) as response:
                if response.status_code != 200:
                    raise ConversionError(f"The document URL answered HTTP {response.status_code}")
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._limits.max_bytes:
                        raise ConversionError("The document is too large")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise ConversionError(
                f"The document could not be downloaded ({type(exc).__name__})"
            ) from None
        return b"".join(chunks)

    async def _finish(
        self,
        presentation: Presentation,
        pages: int,
        error: str | None,
        wants_current: str,
        work: Path,
    ) -> None:
        state = "failed" if error else "ready"
        async with self._db.write() as conn:
            await self._lock_documents(conn, presentation.meeting_id)
            written = await conn.execute(
                update(t)
                .where(self._leases.held(presentation.id))
                .values(
                    state=state,
                    error=error,
                    pages=pages,
                    leased_by=None,
                    lease_until=None,
                    pages_done=None,
                    pages_total=None,
                )
            )
            if written.rowcount != 1:
                # Removed meanwhile, or taken over by another process: the outcome is not ours.
                log.info("presentation %s: no longer ours, its outcome dropped", presentation.id)
                return
            if state == "ready":
                # Under the lease (the row stays locked until commit), so only the holder's
                # pages become the document's.
                await asyncio.to_thread(_move_files, work, self.folder(presentation))
                await self._log_converted(
                    conn, presentation.meeting_id, presentation.id, presentation.name
                )
            if state == "ready" and wants_current == "if_none":
                taken = (
                    await conn.execute(
                        select(t.c.id).where(
                            t.c.meeting_id == presentation.meeting_id, t.c.current == true()
                        )
                    )
                ).first()
                if taken is None:
                    wants_current = "yes"
            if state == "ready" and wants_current == "yes":
                await self._set_current(conn, presentation.meeting_id, presentation.id)
        if error:
            await asyncio.to_thread(shutil.rmtree, self.folder(presentation), True)
        await self._bus.publish(PRESENTATION_TOPIC, {"meeting_id": presentation.meeting_id})


def _move_into_place(aside: Path, folder: Path) -> None:
    """Rename a finished rendering to `folder`, unless another process's got there first (then
    theirs is used and this one dropped). A folder without its `pages` mark is a leftover of
    an interrupted rendering by an older sala, and is replaced."""
    if folder.exists() and not (folder / "pages").exists():
        shutil.rmtree(folder, ignore_errors=True)
    try:
        os.rename(aside, folder)
    except OSError:
        shutil.rmtree(aside, ignore_errors=True)
