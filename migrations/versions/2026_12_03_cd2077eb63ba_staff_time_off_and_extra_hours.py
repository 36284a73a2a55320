"""staff time off and extra hours

Revision ID: cd2077eb63ba
Revises: 1563f9a2f6cd
Create Date: 2026-12-03 14:02:46.518982
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "cd2077eb63ba"
down_revision = "1563f9a2f6cd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_exception",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("time_off", "extra_hours", name="exception_kind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=True),
        sa.Column("end_minute", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=120), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind <> 'extra_hours' OR start_minute IS NOT NULL", name=op.f("ck_staff_exception_extra_hours_have_hours")
        ),
        sa.CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR (first_day = last_day AND start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440)",
            name=op.f("ck_staff_exception_hours"),
        ),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_staff_exception_days")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_staff_exception_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_exception")),
    )
    with op.batch_alter_table("staff_exception", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_exception_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_exception", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_exception_user_id"))

    op.drop_table("staff_exception")
