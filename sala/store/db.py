"""The database handle: engine, sessions and schema migrations, for SQLite and PostgreSQL.

SQLite is the embedded default for a single process. It allows one writer at a time, and two
connections that both upgrade a read transaction to a write one fail at once instead of waiting,
so writes in this process queue on an asyncio lock and start with BEGIN IMMEDIATE. PostgreSQL needs
neither: writers rely on conditional updates and unique indexes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from sala.filemodes import private_dir, private_file, sqlite_file
from sala.store import sqlite_driver

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_POOL = {"pool_size": 20, "max_overflow": 20}
"""Connections kept open to a SQLite file. Each is a thread of aiosqlite's plus an open database;
opening one is a thread start, the file, four PRAGMAs and, later, a close. With SQLAlchemy's
default (5 kept, 10 more opened and closed again as needed) a meeting filling up, where a join's
WebSocket reads while other joins write, opened and closed a connection every few hundred
milliseconds (issue 17). Twenty kept covers the reads of twenty joins at once (the load
generator's and a busy integration's concurrency)."""
MIGRATION_LOCK = 0x5A1A_0000
"""PostgreSQL advisory lock key held while the schema is migrated."""


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # Parameters are meeting passwords, tokens and hooks' authTokens: SQLAlchemy leaves them
        # out of its statement log and out of the text of its errors (which sala logs).
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            file = sqlite_file(url)
            if file is not None:
                # 0700 directory, and the database created empty and 0600 before SQLite opens
                # it, so its -wal/-shm/-journal files get 0600 too (sala/filemodes.py). A few
                # system calls, done once per database.
                private_dir(file.parent)
                private_file(file)
            kwargs["connect_args"] = {"timeout": 30}
            if file is not None:
                kwargs.update(SQLITE_POOL)
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        engine_url: Any = url
        if parsed.drivername == "sqlite+aiosqlite":
            # The same driver, one trip to its thread per statement (store/sqlite_driver.py).
            engine_url = parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
        self.engine: AsyncEngine = create_async_engine(engine_url, **kwargs)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            self._configure_sqlite()

    def _configure_sqlite(self) -> None:
        sync_engine = self.engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide where transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            options = conn.get_execution_options()
            if options.get("sala_statement"):
                # Each statement its own transaction, as SQLite runs one outside BEGIN.
                return
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("sala_write") else "BEGIN")

    @asynccontextmanager
    async def read(self, *, snapshot: bool = True) -> AsyncIterator[AsyncConnection]:
        """A connection for reads. With `snapshot`, every statement of the block sees the same
        snapshot. Without it, each statement sees the database as it is when it runs; on SQLite
        that spares the BEGIN and the ROLLBACK, which for a block of one query is half its trips
        to the database thread (the reads every room connection makes; issue 17)."""
        async with self.engine.connect() as conn:
            if not snapshot and self.is_sqlite:
                conn = await conn.execution_options(sala_statement=True)
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits when the block exits without an exception."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.connect() as raw:
            conn = await raw.execution_options(sala_write=True)
            async with conn.begin():
                yield conn

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        async with self.engine.connect() as conn:
            if not self.is_sqlite:
                # Every process migrates at start, and several may start at once on one
                # PostgreSQL: one migrates, the others wait here (the lock ends with the
                # transaction) and then find the schema at the newest revision.
                await conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            await conn.run_sync(_upgrade_to_head)
            await conn.commit()

    async def dispose(self) -> None:
        await self.engine.dispose()


def _upgrade_to_head(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
