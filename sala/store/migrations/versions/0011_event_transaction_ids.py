"""the transaction that wrote each event, and log cursors that remember it (PostgreSQL)

A reader of the log on PostgreSQL takes only events whose transaction is below the oldest one
still running (sala/events/cursor.py), so it needs each event's transaction ID, and a cursor
needs the transaction ID of the last event it passed. SQLite commits one writer at a time and
reads by ID alone: the column stays NULL there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# pg_current_xact_id() is an xid8: the 32-bit ID with its epoch, so it never wraps. Its text
# form is the 64-bit number, which fits a BIGINT for as long as PostgreSQL can count.
XID_DEFAULT = "(pg_current_xact_id()::text::bigint)"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # A constant default is stored once in the catalogue (no table rewrite): every event
        # written before this migration reads as transaction 0, which sorts before all others
        # and is final (the ALTER waited for every transaction writing the table). Events
        # written from now on get the ID of the transaction that wrote them.
        op.add_column(
            "meeting_events",
            sa.Column("xid", sa.BigInteger(), nullable=True, server_default=sa.text("0")),
        )
        op.alter_column("meeting_events", "xid", server_default=sa.text(XID_DEFAULT))
    else:
        with op.batch_alter_table("meeting_events") as batch:
            batch.add_column(sa.Column("xid", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("meeting_events") as batch:
        batch.create_index(
            "ix_meeting_events_xid_id",
            ["xid", "id"],
            sqlite_where=sa.text("xid IS NOT NULL"),
            postgresql_where=sa.text("xid IS NOT NULL"),
        )
    with op.batch_alter_table("log_cursors") as batch:
        batch.add_column(
            sa.Column("last_xid", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("log_cursors") as batch:
        batch.drop_column("last_xid")
    with op.batch_alter_table("meeting_events") as batch:
        batch.drop_index("ix_meeting_events_xid_id")
        batch.drop_column("xid")
