"""Group commit per key: calls for one key that arrive while that key's previous batch is being
written are written together, in one transaction, in the order they were made.

A meeting filling up makes a presence write per join (MeetingService.user_connected). Each write
is a transaction of its own on the database's one writer (SQLite), and with aiosqlite every
statement is several hand-offs to its thread, so hundreds of joins queued one transaction after
another (issue 17). Batching them needs no timer: the first call of a key is written at once, and
the calls made meanwhile wait for it to finish and go in the next transaction together.

Every caller still returns only once its item is committed (or gets the batch's error), so what
a caller does next sees it stored, as with a transaction of its own. A caller that stops waiting
before its batch starts (cancelled) is left out of it; once the batch started, its item is
written with the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

Writer = Callable[[str, list[T]], Awaitable[None]]
"""Writes one key's batch (the items in the order they were submitted) in one transaction."""


class Batches(Generic[T]):
    def __init__(self, write: Writer[T]) -> None:
        self._write = write
        self._queued: dict[str, list[tuple[T, asyncio.Future[None]]]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}
        """One task per key with a batch being written; it ends once the key's queue is empty."""

    async def submit(self, key: str, item: T) -> None:
        """Write `item` with whatever else is queued for `key`; returns once it is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(key, []).append((item, done))
        if key not in self._writers:
            self._writers[key] = asyncio.create_task(self._run(key))
        await done

    async def _run(self, key: str) -> None:
        try:
            while queued := self._queued.pop(key, None):
                # Callers that stopped waiting before their batch began are left out.
                batch = [(item, done) for item, done in queued if not done.done()]
                if not batch:
                    continue
                try:
                    await self._write(key, [item for item, _ in batch])
                except BaseException as exc:
                    for _, done in batch:
                        if done.done():
                            continue
                        if isinstance(exc, Exception):
                            done.set_exception(exc)
                        else:
                            done.cancel()
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            del self._writers[key]
            # Cancelled (shutdown): whoever still waits is told, rather than left hanging.
            for _, done in self._queued.pop(key, []):
                if not done.done():
                    done.cancel()
