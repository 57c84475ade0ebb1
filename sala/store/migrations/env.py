"""Alembic environment: runs migrations on the connection sala hands it (see store/db.py)."""

from __future__ import annotations

from alembic import context

from sala.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("sala runs migrations through Database.migrate(), which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
