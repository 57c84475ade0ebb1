"""SQLite through sala's driver (sala/store/sqlite_driver.py) and pool (sala/store/db.py): the
same transactions as SQLAlchemy's aiosqlite dialect, in fewer trips to the database thread, and
connections kept open while a meeting fills up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text

from sala.store.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}")
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the hand-offs to aiosqlite's threads (every sqlite3 call goes through one)."""
    counted = [0]
    real: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted[0] += 1
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return counted


async def count(db: Database) -> int:
    async with db.read() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM t"))).scalar_one())


async def test_a_one_statement_write_commits_in_two_trips(db: Database, trips: list[int]) -> None:
    await count(db)  # the connection is open and warm
    trips[0] = 0
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO t VALUES (1)"))
    # BEGIN IMMEDIATE goes with the INSERT; the COMMIT is the other trip, and the pool's reset
    # of a connection with no transaction open sends nothing.
    assert trips[0] == 2
    trips[0] = 0
    assert await count(db) == 1
    assert trips[0] == 2  # BEGIN with the SELECT, then the ROLLBACK that ends the snapshot


async def test_a_failed_write_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("the caller gives up")
    assert await count(db) == 0
    # and the connection it used works: the next write on it commits
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO t VALUES (2)"))
    assert await count(db) == 1


async def test_a_statement_that_fails_rolls_its_transaction_back(db: Database) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            await conn.execute(text("INSERT INTO missing VALUES (1)"))
    assert await count(db) == 0


async def test_a_write_that_runs_nothing_costs_no_trip(db: Database, trips: list[int]) -> None:
    await count(db)
    trips[0] = 0
    async with db.write():
        pass
    assert trips[0] == 0


async def test_a_read_sees_one_snapshot_while_a_write_commits(db: Database) -> None:
    async with db.read() as reader:
        before = (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one()
        async with db.write() as writer:
            await writer.execute(text("INSERT INTO t VALUES (1)"))
        again = (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one()
    assert (before, again) == (0, 0)
    assert await count(db) == 1


async def test_connections_stay_open_between_bursts_of_reads(db: Database) -> None:
    opened = [0]

    @event.listens_for(db.engine.sync_engine, "connect")
    def _opened(*_: Any) -> None:
        opened[0] += 1

    async def slow_read() -> None:
        async with db.read() as conn:
            await conn.execute(text("SELECT count(*) FROM t"))
            await asyncio.sleep(0.05)  # held while the others read

    await asyncio.gather(*(slow_read() for _ in range(15)))
    first_burst = opened[0]
    await asyncio.gather(*(slow_read() for _ in range(15)))
    # Fifteen readers at once need fifteen connections; the second burst finds them open.
    assert first_burst >= 14
    assert opened[0] == first_burst


async def test_a_read_without_snapshot_is_one_trip_a_query_and_sees_each_commit(
    db: Database, trips: list[int]
) -> None:
    await count(db)
    trips[0] = 0
    async with db.read(snapshot=False) as reader:
        before = (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one()
        reader_trips = trips[0]
        async with db.write() as writer:
            await writer.execute(text("INSERT INTO t VALUES (1)"))
        trips[0] = reader_trips  # the write's, on a connection of its own, are not counted
        again = (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one()
    assert (before, again) == (0, 1)
    assert trips[0] == 2  # one per query: no BEGIN, no ROLLBACK
