"""staff working hours

Revision ID: 05b4b78e59a4
Revises: 2dfbcd5b145f
Create Date: 2026-12-03 08:02:13.571058
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "05b4b78e59a4"
down_revision = "2dfbcd5b145f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "working_hours",
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440",
            name=op.f("ck_working_hours_interval"),
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_working_hours_weekday")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_working_hours_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "weekday", "start_minute", name=op.f("pk_working_hours")),
    )


def downgrade() -> None:
    op.drop_table("working_hours")
