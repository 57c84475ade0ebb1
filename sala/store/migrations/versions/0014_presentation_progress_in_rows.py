"""presentation progress and current-wish in the row: conversions run on any worker

A cluster's front end accepts a document and a worker converts it (issue 15), so what used to
live in the accepting process's memory is in the row: how many pages are done of how many
(`pages_done`, `pages_total`, written at most every PROGRESS_EVERY_S while it converts), so any
front end's room snapshot shows it, and whether it should become current when ready
(`wants_current`: yes, no, if_none), so whichever process converts it knows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("presentations") as batch:
        batch.add_column(sa.Column("pages_done", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pages_total", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("wants_current", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("presentations") as batch:
        batch.drop_column("wants_current")
        batch.drop_column("pages_total")
        batch.drop_column("pages_done")
