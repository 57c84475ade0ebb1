"""deliveries without a foreign key to hooks

The outbox can live in a database of its own (SQLite: a file beside the main one), where the
hooks table is not; hooks/destroy removes a hook's deliveries itself.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _deliveries(with_foreign_key: bool) -> sa.Table:
    hook_id = (
        sa.Column("hook_id", sa.Integer(), sa.ForeignKey("hooks.id", ondelete="CASCADE"))
        if with_foreign_key
        else sa.Column("hook_id", sa.Integer(), nullable=True)
    )
    metadata = sa.MetaData()
    if with_foreign_key:
        sa.Table("hooks", metadata, sa.Column("id", sa.Integer(), primary_key=True))
    return sa.Table(
        "deliveries",
        metadata,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("delivery_id", sa.String(length=36), nullable=False, unique=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        hook_id,
        sa.Column("ordering_key", sa.String(length=160), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("retry_since", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until", sa.BigInteger(), nullable=True),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Index("ix_deliveries_hook", "hook_id", "status"),
        sa.Index("ix_deliveries_pending", "status", "ordering_key", "id"),
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a constraint: the table is rebuilt without it.
        with op.batch_alter_table(
            "deliveries", recreate="always", copy_from=_deliveries(with_foreign_key=False)
        ):
            pass
    else:
        op.drop_constraint("deliveries_hook_id_fkey", "deliveries", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "deliveries", recreate="always", copy_from=_deliveries(with_foreign_key=True)
        ):
            pass
    else:
        op.create_foreign_key(
            "deliveries_hook_id_fkey",
            "deliveries",
            "hooks",
            ["hook_id"],
            ["id"],
            ondelete="CASCADE",
        )
