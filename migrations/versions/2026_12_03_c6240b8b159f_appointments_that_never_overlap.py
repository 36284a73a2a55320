"""appointments that never overlap

Revision ID: c6240b8b159f
Revises: 05b4b78e59a4
Create Date: 2026-12-03 13:13:43.969869
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = "c6240b8b159f"
down_revision = "05b4b78e59a4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointment",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("client_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("staff_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("offering_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("starts_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ends_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("occupied_from", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("occupied_until", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum("booked", "cancelled", name="appointment_status", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("cancelled_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("cancelled_by_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column(
            "history", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("reminded_for", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "occupied_from <= starts_at AND starts_at < ends_at AND ends_at <= occupied_until",
            name=op.f("ck_appointment_times"),
        ),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_appointment_price")),
        sa.ForeignKeyConstraint(
            ["cancelled_by_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_cancelled_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["user_account.id"], name=op.f("fk_appointment_client_id_user_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["offering_id"], ["offering.id"], name=op.f("fk_appointment_offering_id_offering")),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["user_account.id"], name=op.f("fk_appointment_staff_id_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_offering_id"), ["offering_id"], unique=False)
        batch_op.create_index("ix_appointment_staff_id_occupied_from", ["staff_id", "occupied_from"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # A staff member's booked appointments, buffers included, never overlap (SQLite:
        # the booking's BEGIN IMMEDIATE transaction). btree_gist lets GiST compare ids.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointment ADD CONSTRAINT appointment_no_overlap EXCLUDE USING gist "
            "(staff_id WITH =, tstzrange(occupied_from, occupied_until, '[)') WITH &&) WHERE (status = 'booked')"
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_staff_id_occupied_from")
        batch_op.drop_index(batch_op.f("ix_appointment_offering_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_client_id"))

    op.drop_table("appointment")
