"""Logins for the web dashboard; complaints carry their source, for the inbox's filter.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("telegram_id", sa.BigInteger()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_users"),
        sa.UniqueConstraint("name", name="uq_web_users_name"),
    )
    with op.batch_alter_table("complaints") as t:
        t.add_column(sa.Column("source", sa.String(64)))
        t.create_index("ix_complaints_source", ["source"])
        t.create_index("ix_complaints_owner_name", ["owner_name"])
    unanswered = sa.text("first_response_at IS NULL")
    op.create_index(
        "ix_complaints_unanswered_id", "complaints", ["id"], sqlite_where=unanswered, postgresql_where=unanswered
    )
    op.execute("UPDATE complaints SET source = (SELECT source FROM mentions WHERE mentions.id = complaints.mention_id)")


def downgrade() -> None:
    op.drop_index("ix_complaints_unanswered_id", "complaints")
    with op.batch_alter_table("complaints") as t:
        t.drop_index("ix_complaints_owner_name")
        t.drop_index("ix_complaints_source")
        t.drop_column("source")
    op.drop_table("web_users")
