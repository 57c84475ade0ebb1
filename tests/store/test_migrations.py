"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from sala.store.db import Database
from sala.store.models import Base
from tests.conftest import ROOT
from tests.support.postgres import PostgresServer


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


# Imported and connected first, then all told to go at once: a real start-up race.
MIGRATE = """
import asyncio, sys
from sala.store.db import Database
db = Database(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
asyncio.run(db.migrate())
"""


async def test_processes_starting_together_on_one_postgresql_migrate_it_once(
    postgres_server: PostgresServer,
) -> None:
    """Front ends and workers started at the same moment each migrate at start."""
    name = f"sala_migrate_{uuid.uuid4().hex[:8]}"
    url = postgres_server.create_database(name)
    try:
        starting = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                MIGRATE,
                url,
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(3)
        ]
        for process in starting:
            assert process.stdout is not None
            assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n"
        for process in starting:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
        outcomes = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in starting)), 60)
        assert [p.returncode for p in starting] == [0, 0, 0], [err for _, err in outcomes]
        db = Database(url)
        try:
            async with db.read() as conn:
                versions = (
                    await conn.execute(text("select version_num from alembic_version"))
                ).all()
            assert len(versions) == 1
        finally:
            await db.dispose()
    finally:
        postgres_server.drop_database(name)
