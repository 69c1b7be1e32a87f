"""Replies published by policy: a question the bot asked a staff member counts as a staff action
on its complaint, looked up by complaint.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_staff_prompts_complaint_id", "staff_prompts", ["complaint_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_prompts_complaint_id", "staff_prompts")
