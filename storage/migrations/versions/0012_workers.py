"""Several workers on one PostgreSQL journal: a source is polled by one worker at a time (a
lease that expires when its worker dies) and each worker's heartbeat is kept.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_state") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(128), nullable=True))
        batch.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("due_at", UTCDateTime(), nullable=True))
    op.create_table(
        "workers",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("leading", sa.Boolean(), nullable=False),
        sa.Column("lock_pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_workers"),
    )


def downgrade() -> None:
    op.drop_table("workers")
    with op.batch_alter_table("source_state") as batch:
        batch.drop_column("due_at")
        batch.drop_column("lease_until")
        batch.drop_column("lease_holder")
