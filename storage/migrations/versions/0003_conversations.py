"""The private conversation: bound customers with the machine's state, and promises.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column(
            "complaint_id",
            sa.Integer(),
            sa.ForeignKey("complaints.id", name="fk_conversations_complaint_id_complaints"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.BigInteger()),
        sa.Column("chat_id", sa.BigInteger()),
        sa.Column("customer_name", sa.String(128)),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("bound_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", name="pk_conversations"),
    )
    op.create_index("ix_conversations_customer", "conversations", ["customer_id", "updated_at"])
    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "complaint_id",
            sa.Integer(),
            sa.ForeignKey("complaints.id", name="fk_promises_complaint_id_complaints"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.Column("reminded_at", UTCDateTime()),
        sa.Column("kept_at", UTCDateTime()),
        sa.Column("missed_at", UTCDateTime()),
        sa.Column("slip_reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_promises"),
    )
    op.create_index("ix_promises_complaint_id", "promises", ["complaint_id"])
    op.create_index("ix_promises_open_due", "promises", ["kept_at", "missed_at", "due"])


def downgrade() -> None:
    op.drop_index("ix_promises_open_due", "promises")
    op.drop_index("ix_promises_complaint_id", "promises")
    op.drop_table("promises")
    op.drop_index("ix_conversations_customer", "conversations")
    op.drop_table("conversations")
