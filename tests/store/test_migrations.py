"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from sala.store.db import Database
from sala.store.models import Base


async def test_migrated_schema_matches_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.migrate()

        def diff(connection: Connection) -> list[object]:
            context = MigrationContext.configure(connection)
            return list(compare_metadata(context, Base.metadata))

        async with db.read() as conn:
            assert await conn.run_sync(diff) == []
        await db.migrate()  # running again is a no-op
    finally:
        await db.dispose()
