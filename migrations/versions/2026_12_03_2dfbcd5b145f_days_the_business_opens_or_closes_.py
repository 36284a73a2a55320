"""days the business opens or closes against its calendar

Revision ID: 2dfbcd5b145f
Revises: 5deee95c151d
Create Date: 2026-12-03 07:50:32.250661
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2dfbcd5b145f"
down_revision = "5deee95c151d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "business_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_business_day")),
    )


def downgrade() -> None:
    op.drop_table("business_day")
