"""presentation conversions claimed with a lease: who converts a document, and until when

The process converting a document (state `processing`) renews its lease while it works; a
conversion whose lease lapsed (its process died) is taken by any front end. Documents left
processing by an older version have no lease and are taken at once, as that version's start-up
did. The index on state finds the few processing documents among a long history.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-14 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("presentations") as batch:
        batch.add_column(sa.Column("leased_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.BigInteger(), nullable=True))
    op.create_index("ix_presentations_state", "presentations", ["state"])


def downgrade() -> None:
    op.drop_index("ix_presentations_state", table_name="presentations")
    with op.batch_alter_table("presentations") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("leased_by")
