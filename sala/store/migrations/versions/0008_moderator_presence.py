"""meetings remember whether a moderator came and since when none is present (endWhenNoModerator)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(
            sa.Column("moderator_joined", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("no_moderator_since", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("no_moderator_since")
        batch.drop_column("moderator_joined")
