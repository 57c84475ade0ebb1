"""recording jobs claimed with a lease: who holds a running job, and until when

A worker renews the lease while it works on the job; a job whose lease lapsed (its worker
died) is taken by any worker. Jobs left running by an older version have no lease and are
taken at once, as that version's start-up did.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recording_jobs") as batch:
        batch.add_column(sa.Column("leased_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recording_jobs") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("leased_by")
