"""Where the outbox lives: its own SQLite file by default, carried over from the main file once,
and safe against two workers and against hooks destroyed while deliveries are queued."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from sala.config import load_settings
from sala.events.outbox import CURSOR, open_outbox, prepare_outbox
from sala.store import tables
from sala.store.db import Database
from tests.conftest import Api
from tests.events.test_webhooks import deliver, register
from tests.support.receiver import Receiver
from tests.xmlutil import success


def _pending(delivery_id: str, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "delivery_id": delivery_id,
        "kind": "hook",
        "hook_id": 1,
        "ordering_key": "hook:1:m",
        "url": "http://receiver.test/",
        "method": "POST",
        "content_type": None,
        "body": "",
        "event_id": "meeting-created",
        "meeting_id": "m",
        "status": "pending",
        "attempts": 0,
        "created_at": 1,
        "retry_since": 1,
        "next_attempt_at": 1,
    }
    row.update(values)
    return row


async def _count(db: Database, *where: object) -> int:
    d = tables.deliveries
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(d).where(*where))).scalar())  # type: ignore[arg-type]


async def _cursor(db: Database) -> int:
    c = tables.log_cursors
    async with db.read() as conn:
        return int(
            (await conn.execute(select(c.c.last_event_id).where(c.c.name == CURSOR))).scalar_one()
        )


def test_sqlite_outbox_defaults_to_a_file_beside_the_database(tmp_path: Path) -> None:
    settings = load_settings(secret="s", data_dir=tmp_path)
    assert settings.outbox_sqlalchemy_url.endswith(f"{tmp_path}/sala.outbox.db")
    pg = load_settings(secret="s", data_dir=tmp_path, database_url="postgresql://u@h/sala")
    assert pg.outbox_sqlalchemy_url == pg.sqlalchemy_url
    chosen = load_settings(secret="s", data_dir=tmp_path, outbox_url="sqlite:///" + "/x/o.db")
    assert chosen.outbox_sqlalchemy_url == "sqlite+aiosqlite:////x/o.db"


async def test_deliveries_are_queued_in_the_outbox_file_not_the_main_one(
    api: Api, receiver: Receiver
) -> None:
    services = api.services
    if services.db.url.startswith("postgresql"):
        assert services.outbox is services.db
        return
    assert services.outbox is not services.db
    await register(api, receiver.url("/hook"))
    success(await api.get("create", {"meetingID": "m1", "name": "Meeting"}))
    await services.events.fanout.run_once()
    assert await _count(services.outbox) == 1
    assert await _count(services.db) == 0
    await deliver(api)
    assert [r.path for r in receiver.accepted()] == ["/hook"]


async def test_a_new_outbox_takes_over_position_and_pending_deliveries(tmp_path: Path) -> None:
    main = Database(f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}")
    outbox = open_outbox(main, f"sqlite+aiosqlite:///{tmp_path / 'sala.outbox.db'}")
    d, c = tables.deliveries, tables.log_cursors
    try:
        await main.migrate()
        # The state an older sala left in the main file: a position and a queue.
        async with main.write() as conn:
            await conn.execute(update(c).where(c.c.name == CURSOR).values(last_event_id=42))
            await conn.execute(
                insert(d),
                [
                    _pending("a"),
                    _pending("b"),
                    _pending("c", status="delivered", delivered_at=2),
                ],
            )
        # A crash after the copy and before the delete already put "a" in the new file.
        await outbox.migrate()
        async with outbox.write() as conn:
            await conn.execute(insert(d), [_pending("a")])

        await prepare_outbox(main, outbox)
        await prepare_outbox(main, outbox)  # every start runs it: nothing moves twice

        assert await _cursor(outbox) == 42
        async with outbox.read() as conn:
            moved = (await conn.execute(select(d.c.delivery_id).order_by(d.c.id))).scalars()
            assert list(moved) == ["a", "b"]
        assert await _count(main, d.c.status == "pending") == 0
        assert await _count(main, d.c.status == "delivered") == 1
    finally:
        await main.dispose()
        await outbox.dispose()


async def test_two_workers_queue_each_event_once(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = api.services
    await register(api, receiver.url("/hook"))
    success(await api.get("create", {"meetingID": "m1", "name": "Meeting"}))
    first = services.events.fanout
    second = copy.copy(first)  # a second worker, as another `sala worker` would have
    stale = await first._position()

    async def read_before_the_first_committed() -> int:
        return stale

    assert await first.run_once() == 1
    monkeypatch.setattr(second, "_position", read_before_the_first_committed)
    assert await second.run_once() == 0
    assert await _count(services.outbox) == 1


async def test_a_delivery_queued_for_a_destroyed_hook_is_dropped(
    api: Api, receiver: Receiver
) -> None:
    services = api.services
    hook = await register(api, receiver.url("/hook"))
    success(await api.get("create", {"meetingID": "m1", "name": "Meeting"}))
    await services.events.fanout.run_once()
    # hooks/destroy removed the hook while the worker already held the delivery.
    async with services.db.write() as conn:
        await conn.execute(tables.hooks.delete().where(tables.hooks.c.id == int(hook["hookID"])))
    await deliver(api)
    assert receiver.accepted() == []
    d = tables.deliveries
    assert await _count(services.outbox, d.c.status == "dropped") == 1
    assert await _count(services.outbox, d.c.status == "pending") == 0
