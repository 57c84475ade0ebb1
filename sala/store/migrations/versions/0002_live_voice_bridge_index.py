"""unique voice bridge among live meetings

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(
            "uq_meetings_live_voice_bridge",
            ["voice_bridge"],
            unique=True,
            sqlite_where=sa.text("ended = 0"),
            postgresql_where=sa.text("ended = false"),
        )


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("uq_meetings_live_voice_bridge")
