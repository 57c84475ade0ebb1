"""Group commit per key: calls for one key that arrive while that key's previous batch is being
written are written together, in one transaction, in the order they were made.

A meeting filling up makes, per join, an API join, a hand-off to the room and a presence write
(MeetingService.join, RoomSessions.spend, MeetingService.user_connected). Each write is a
transaction of its own on the database's one writer (SQLite), each statement a hand-off to
aiosqlite's thread and back, so hundreds of joins queued one transaction after another (issue
17). Batching them needs no timer: the first call of a key is written at once, and the calls made
meanwhile wait for it to finish and go in the next transaction together.

Every caller still returns only once its item is committed, with its own answer: the writer
answers each item, with a result or with the error that item alone gets (a wrong password in a
batch of joins refuses that join only). An error the writer raises (the transaction failed) goes
to every item of the batch. So what a caller does next sees its item stored, as with a
transaction of its own. A caller that stops waiting before its batch starts (cancelled) is left
out of it; once the batch started, its item is written with the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Writer = Callable[[str, list[T]], Awaitable[Sequence[R | Exception]]]
"""Writes one key's batch (the items in the order they were submitted) in one transaction and
answers each item, in the same order: its result, or the exception its caller gets."""


class Batches(Generic[T, R]):
    def __init__(self, write: Writer[T, R]) -> None:
        self._write = write
        self._queued: dict[str, list[tuple[T, asyncio.Future[R]]]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}
        """One task per key with a batch being written; it ends once the key's queue is empty."""

    async def submit(self, key: str, item: T) -> R:
        """Write `item` with whatever else is queued for `key`; its answer, once committed."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(key, []).append((item, done))
        if key not in self._writers:
            self._writers[key] = asyncio.create_task(self._run(key))
        return await done

    async def _run(self, key: str) -> None:
        try:
            while queued := self._queued.pop(key, None):
                # Callers that stopped waiting before their batch began are left out.
                batch = [(item, done) for item, done in queued if not done.done()]
                if not batch:
                    continue
                try:
                    answers = await self._write(key, [item for item, _ in batch])
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
                    if len(answers) != len(batch):
                        answers = [RuntimeError("a batch writer answered the wrong count")] * len(
                            batch
                        )
                    for (_, done), answer in zip(batch, answers, strict=True):
                        if done.done():
                            continue
                        if isinstance(answer, Exception):
                            done.set_exception(answer)
                        else:
                            done.set_result(answer)
        finally:
            del self._writers[key]
            # Cancelled (shutdown): whoever still waits is told, rather than left hanging.
            for _, done in self._queued.pop(key, []):
                if not done.done():
                    done.cancel()
