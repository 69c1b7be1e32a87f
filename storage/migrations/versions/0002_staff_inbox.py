"""The staff inbox: owners, cards, the outbox, seen Telegram updates, staff prompts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("origin", sa.JSON()))
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("publisher", sa.String(16), nullable=False, server_default="manual"))
        batch.add_column(sa.Column("owner_id", sa.BigInteger()))
        batch.add_column(sa.Column("owner_name", sa.String(128)))
        batch.add_column(sa.Column("card_chat_id", sa.BigInteger()))
        batch.add_column(sa.Column("card_message_id", sa.Integer()))
        batch.add_column(sa.Column("reject_reason", sa.Text()))
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "complaint_id", sa.Integer(), sa.ForeignKey("complaints.id", name="fk_outbox_complaint_id_complaints")
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("result", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_complaint_id", "outbox", ["complaint_id"])
    op.create_table(
        "card_queue",
        sa.Column(
            "complaint_id",
            sa.Integer(),
            sa.ForeignKey("complaints.id", name="fk_card_queue_complaint_id_complaints"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("drawn", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("complaint_id", name="pk_card_queue"),
    )
    due = sa.text("version > drawn")
    op.create_index("ix_card_queue_due", "card_queue", ["complaint_id"], sqlite_where=due, postgresql_where=due)
    op.create_table(
        "tg_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="pk_tg_updates"),
    )
    op.create_table(
        "staff_prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column(
            "complaint_id",
            sa.Integer(),
            sa.ForeignKey("complaints.id", name="fk_staff_prompts_complaint_id_complaints"),
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_staff_prompts"),
        sa.UniqueConstraint("chat_id", "message_id", name="uq_staff_prompts_chat_message"),
    )


def downgrade() -> None:
    op.drop_table("staff_prompts")
    op.drop_table("tg_updates")
    op.drop_index("ix_card_queue_due", "card_queue")
    op.drop_table("card_queue")
    op.drop_index("ix_outbox_complaint_id", "outbox")
    op.drop_index("ix_outbox_status_next", "outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("complaints") as batch:
        for name in ("reject_reason", "card_message_id", "card_chat_id", "owner_name", "owner_id", "publisher"):
            batch.drop_column(name)
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("origin")
