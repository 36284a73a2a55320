"""the business and its booking rules

Revision ID: e36a722963a2
Revises: bd242ee4223c
Create Date: 2026-12-03 07:15:14.134461
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "e36a722963a2"
down_revision = "bd242ee4223c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "business",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("subdivision", sa.String(length=10), nullable=True),
        sa.Column("slot_step_minutes", sa.Integer(), nullable=False),
        sa.Column("notice_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("reminder_hours", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_business_one_row")),
        sa.CheckConstraint("slot_step_minutes BETWEEN 5 AND 60", name=op.f("ck_business_slot_step")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business")),
    )


def downgrade() -> None:
    op.drop_table("business")
