"""Learning from complaints: a root cause per complaint, corrective actions covering many.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints") as t:
        t.add_column(sa.Column("root_cause", sa.String(64)))
        t.add_column(sa.Column("justified", sa.Boolean()))
        t.create_index("ix_complaints_root_cause", ["root_cause"])
    op.create_index("ix_complaints_created_at", "complaints", ["created_at"])
    op.create_index("ix_mentions_fetched_at", "mentions", ["fetched_at"])
    op.create_index("ix_events_kind_at", "events", ["kind", "at"])
    op.create_table(
        "corrective_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("cause", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128)),
        sa.Column("due", UTCDateTime()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("done_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_corrective_actions"),
    )
    op.create_index("ix_corrective_actions_cause", "corrective_actions", ["cause"])
    op.create_table(
        "action_complaints",
        sa.Column(
            "action_id",
            sa.Integer(),
            sa.ForeignKey("corrective_actions.id", name="fk_action_complaints_action_id_corrective_actions"),
            nullable=False,
        ),
        sa.Column(
            "complaint_id",
            sa.Integer(),
            sa.ForeignKey("complaints.id", name="fk_action_complaints_complaint_id_complaints"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("action_id", "complaint_id", name="pk_action_complaints"),
    )
    op.create_index("ix_action_complaints_complaint_id", "action_complaints", ["complaint_id"])


def downgrade() -> None:
    op.drop_index("ix_action_complaints_complaint_id", "action_complaints")
    op.drop_table("action_complaints")
    op.drop_index("ix_corrective_actions_cause", "corrective_actions")
    op.drop_table("corrective_actions")
    op.drop_index("ix_events_kind_at", "events")
    op.drop_index("ix_mentions_fetched_at", "mentions")
    op.drop_index("ix_complaints_created_at", "complaints")
    with op.batch_alter_table("complaints") as t:
        t.drop_index("ix_complaints_root_cause")
        t.drop_column("justified")
        t.drop_column("root_cause")
