"""LTI 1.3: registered platforms and their deployments, sala's signing keys, logins in flight,
nonces already used, and the sessions verified launches open (a login remembers the
platform's postMessage storage frame, `lti_storage_target`, for browsers that block the state's
cookie)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("issuer", sa.String(length=1024), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("auth_login_url", sa.Text(), nullable=False),
        sa.Column("auth_token_url", sa.Text(), nullable=True),
        sa.Column("token_audience", sa.Text(), nullable=True),
        sa.Column("jwks_url", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ux_lti_platforms_client", "lti_platforms", ["issuer", "client_id"], unique=True
    )
    op.create_table(
        "lti_deployments",
        sa.Column(
            "platform_id",
            sa.Integer(),
            sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("deployment_id", sa.String(length=255), primary_key=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "lti_keys",
        sa.Column("kid", sa.String(length=64), primary_key=True),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "lti_states",
        sa.Column("state", sa.String(length=64), primary_key=True),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column(
            "platform_id",
            sa.Integer(),
            sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("storage_target", sa.String(length=255), nullable=True),
    )
    op.create_index("ix_lti_states_expires_at", "lti_states", ["expires_at"])
    op.create_table(
        "lti_nonces",
        sa.Column(
            "platform_id",
            sa.Integer(),
            sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("nonce", sa.String(length=255), primary_key=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_lti_nonces_expires_at", "lti_nonces", ["expires_at"])
    op.create_table(
        "lti_sessions",
        sa.Column("token", sa.String(length=64), primary_key=True),
        sa.Column(
            "platform_id",
            sa.Integer(),
            sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("launch", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_lti_sessions_expires_at", "lti_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("lti_sessions")
    op.drop_table("lti_nonces")
    op.drop_table("lti_states")
    op.drop_table("lti_keys")
    op.drop_table("lti_deployments")
    op.drop_index("ux_lti_platforms_client", table_name="lti_platforms")
    op.drop_table("lti_platforms")
