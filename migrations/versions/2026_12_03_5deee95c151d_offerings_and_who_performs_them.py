"""offerings and who performs them

Revision ID: 5deee95c151d
Revises: e36a722963a2
Create Date: 2026-12-03 07:35:20.588607
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "5deee95c151d"
down_revision = "e36a722963a2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offering",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("archived_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "buffer_before_minutes BETWEEN 0 AND 120 AND buffer_after_minutes BETWEEN 0 AND 120",
            name=op.f("ck_offering_buffers"),
        ),
        sa.CheckConstraint("duration_minutes BETWEEN 5 AND 480", name=op.f("ck_offering_duration")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_offering_price")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offering")),
        sa.UniqueConstraint("name", name=op.f("uq_offering_name")),
    )
    op.create_table(
        "offering_staff",
        sa.Column("offering_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["offering_id"], ["offering.id"], name=op.f("fk_offering_staff_offering_id_offering"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_offering_staff_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("offering_id", "user_id", name=op.f("pk_offering_staff")),
    )
    with op.batch_alter_table("offering_staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offering_staff_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("offering_staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offering_staff_user_id"))

    op.drop_table("offering_staff")
    op.drop_table("offering")
