"""Social channels: a listing cursor per source, where our public reply went, the follow-up.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_state") as t:
        t.add_column(sa.Column("cursor", sa.JSON()))
    with op.batch_alter_table("complaints") as t:
        t.add_column(sa.Column("reply_id", sa.String(64)))
        t.add_column(sa.Column("reply_url", sa.Text()))
        t.add_column(sa.Column("follow_up", sa.String(16)))
    with op.batch_alter_table("drafts") as t:
        t.add_column(sa.Column("purpose", sa.String(16), nullable=False, server_default="reply"))


def downgrade() -> None:
    with op.batch_alter_table("drafts") as t:
        t.drop_column("purpose")
    with op.batch_alter_table("complaints") as t:
        t.drop_column("follow_up")
        t.drop_column("reply_url")
        t.drop_column("reply_id")
    with op.batch_alter_table("source_state") as t:
        t.drop_column("cursor")
