"""LTI logins remember the platform's postMessage storage frame (`lti_storage_target`), so a
launch whose state cookie the browser blocked can be checked against the platform's storage

Revision ID: 0015_launch
Revises: 0014
Create Date: 2026-12-07 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_launch"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lti_states") as batch:
        batch.add_column(sa.Column("storage_target", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lti_states") as batch:
        batch.drop_column("storage_target")
