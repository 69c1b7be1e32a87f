"""Triage that learns: the team's decisions as labels, and the learned models trained on them.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("complaint", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], name="fk_triage_labels_mention_id_mentions"),
        sa.PrimaryKeyConstraint("id", name="pk_triage_labels"),
        sa.UniqueConstraint("mention_id", name="uq_triage_labels_mention_id"),
    )
    op.create_index("ix_triage_labels_at", "triage_labels", ["at"])
    op.create_table(
        "triage_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trained_at", UTCDateTime(), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.Column("rules_f1", sa.Float(), nullable=False),
        sa.Column("learned_f1", sa.Float(), nullable=False),
        sa.Column("decides", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_triage_models"),
    )


def downgrade() -> None:
    op.drop_table("triage_models")
    op.drop_index("ix_triage_labels_at", table_name="triage_labels")
    op.drop_table("triage_labels")
