"""recording jobs, and the recordings pipeline's place in the event log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recording_jobs",
        sa.Column("record_id", sa.String(length=80), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index("ix_recording_jobs_state", "recording_jobs", ["state"])
    # Meetings that ended before this version had no capture: the pipeline starts from here.
    op.execute(
        "INSERT INTO log_cursors (name, last_event_id) "
        "SELECT 'recordings', COALESCE(MAX(id), 0) FROM meeting_events"
    )


def downgrade() -> None:
    op.execute("DELETE FROM log_cursors WHERE name = 'recordings'")
    op.drop_index("ix_recording_jobs_state", table_name="recording_jobs")
    op.drop_table("recording_jobs")
