"""SQLAlchemy's aiosqlite dialect with one trip to the database thread per statement.

aiosqlite runs each sqlite3 call in a thread of its own and hands the result back to the event
loop. SQLAlchemy's adapter makes three or four such calls for every statement (make a cursor,
execute, fetch the rows, close the cursor), and each one waits for the event loop to come round
to it. On SQLite every write transaction holds the database's one writer (store/db.py) for all
of its trips, so while the loop is busy (a meeting filling up: HTTP, WebSocket handshakes,
presence deltas) the writer was held ~4.5 ms per transaction, mostly waiting, and joins queued
behind it (issue 17). Here a statement is one trip: the cursor is made, run, read and closed in
the database thread, and the result comes back whole.

Two more trips go the same way. A transaction's BEGIN (store/db.py emits it) is not sent on its
own: it runs in the same trip as the transaction's first statement, so a write of one statement
is two trips (BEGIN with the statement, COMMIT) and a one-query read is two (BEGIN with the
query, ROLLBACK). And a COMMIT or ROLLBACK with no transaction open on the sqlite3 connection (the
pool's reset after a committed write, or a transaction that ran nothing) stays here: whether one
is open is read in the database thread at the end of every trip. Nothing else changes: same
sqlite3 connection, same SQL in the same order, same transactions, same errors (raised from the
same sqlite3 calls; a BEGIN IMMEDIATE that cannot get the writer fails with the first statement).

`Database` uses it for every `sqlite+aiosqlite` URL; server-side cursors (streamed results) keep
the stock ones.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT

DRIVER = "sala_aiosqlite"
"""The URL's driver name for this dialect: `sqlite+sala_aiosqlite:///...`."""

Outcome = tuple[Any, list[Any] | None, int, int | None]
"""What one statement left: its description, its rows (None: no result set), rowcount and
lastrowid."""


BEGINS = frozenset({"BEGIN", "BEGIN IMMEDIATE"})
"""The statements that open a transaction (store/db.py's `begin` hook); they wait for the next
statement's trip."""


def _run(
    conn: sqlite3.Connection,
    begin: str | None,
    operation: str,
    parameters: Any,
    many: bool = False,
) -> Outcome:
    """One statement, whole, in the database thread, after the BEGIN waiting for it if any."""
    cursor = conn.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statements each take one trip to aiosqlite's thread (see the module)."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")
    _awaitable_cursor_close = False
    """Nothing stays open in the thread between statements: closing is local."""

    def __init__(self, adapt_connection: Any) -> None:
        # No driver cursor is made here (the stock adapter's first trip).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def _adapt(self) -> OneTripConnection:
        # Always ours: OneTripConnection is the only maker of these cursors.
        return self._adapt_connection  # type: ignore[return-value]

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _trip(self, operation: str, parameters: Any, many: bool) -> None:
        adapt = self._adapt
        begin, adapt.pending_begin = adapt.pending_begin, None
        conn = self._connection._conn
        # aiosqlite's own way into its thread (every method of its Connection uses it).
        outcome: Outcome = await self._connection._execute(
            adapt.in_thread, lambda: _run(conn, begin, operation, parameters, many)
        )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows or ())

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        adapt = self._adapt
        async with adapt._execute_mutex:
            if operation in BEGINS and not parameters and not adapt.in_transaction:
                adapt.pending_begin = operation
                self._description, self._rowcount, self._lastrowid = None, -1, None
                self._rows.clear()
                return None
            await self._trip(operation, parameters, False)
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            await self._trip(operation, seq_of_parameters, True)
        return None

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def nextset(self) -> None:
        return None

    def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("in_transaction", "pending_begin")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: str | None = None
        """A BEGIN not sent yet: it goes with the next statement."""
        self.in_transaction = False
        """Whether the sqlite3 connection had a transaction open after the last trip."""

    def in_thread(self, call: Callable[[], Outcome]) -> Outcome:
        """Run `call` in the database thread and note there whether a transaction is open, also
        when the call fails (a failed statement may leave its transaction open, or end it)."""
        try:
            return call()
        finally:
            self.in_transaction = self._connection._conn.in_transaction

    def _end(self, end: Callable[[], None]) -> None:
        if self.pending_begin is not None:
            # The transaction ran nothing: there is nothing to end.
            self.pending_begin = None
            return
        if not self.in_transaction:
            return
        end()
        # Only once it worked: after a failed COMMIT or ROLLBACK the next one is still sent.
        self.in_transaction = False

    def rollback(self) -> None:
        self._end(super().rollback)

    def commit(self) -> None:
        self._end(super().commit)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")
