"""outbox messages carry a calendar file

Revision ID: 1563f9a2f6cd
Revises: c6240b8b159f
Create Date: 2026-12-03 13:53:50.988903
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1563f9a2f6cd"
down_revision = "c6240b8b159f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("calendar")
