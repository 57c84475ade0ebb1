"""protected recordings: the flag, and the one-time playback links already used

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(
            sa.Column("protected", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "used_playback_links",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_used_playback_links_expires_at", "used_playback_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_used_playback_links_expires_at", table_name="used_playback_links")
    op.drop_table("used_playback_links")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("protected")
