"""deliveries: an index for the next due attempt

With a large backlog the worker's "when is the next delivery due" query scanned every pending
delivery on each pass.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 15:30:00
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
