"""The mentions lane: a mention the team should see (a question, praise, one triage is unsure
about) is shown until someone acts on it, and a case can answer a question or thank for praise
as well as handle a complaint.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("lane", sa.String(16), nullable=True))
        batch.add_column(sa.Column("lane_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lane_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_mentions_lane", ["lane"])
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="complaint"))


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("mentions") as batch:
        batch.drop_index("ix_mentions_lane")
        batch.drop_column("lane_at")
        batch.drop_column("lane_by")
        batch.drop_column("lane")
