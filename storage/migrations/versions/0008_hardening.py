"""Hardening: a session epoch per dashboard login (logout, a new password or disabling ends
every session), the state of `reclaim run`'s parts, the @username of who opened a private link,
and source links that are not http(s) dropped from the journal.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_status",
        sa.Column("component", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("component", name="pk_service_status"),
    )
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("customer_username", sa.String(64), nullable=True))
    # links that are not http(s) (javascript:, data: …) were stored as they came; a mention keeps
    # only a link a browser can safely open (core.model.safe_url)
    op.execute(
        "UPDATE mentions SET url = NULL WHERE url IS NOT NULL "
        "AND lower(url) NOT LIKE 'http://%' AND lower(url) NOT LIKE 'https://%'"
    )


def downgrade() -> None:
    op.drop_table("service_status")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("customer_username")
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("session_epoch")
