"""arrived, completed and no-show keep the time taken

Revision ID: 2e0a1bcbfa91
Revises: 837fbc471acc
Create Date: 2026-12-04

Appointments gain the statuses staff mark (arrived, completed, no-show: text, no
schema change); on PostgreSQL the exclusion constraint now covers every appointment
that is not cancelled, not only those still "booked". An index on the start time serves
the figures and the day view.
"""

from __future__ import annotations

from alembic import op

revision = "2e0a1bcbfa91"
down_revision = "837fbc471acc"
branch_labels = None
depends_on = None

_CONSTRAINT = (
    "ALTER TABLE appointment ADD CONSTRAINT appointment_no_overlap EXCLUDE USING gist "
    "(staff_id WITH =, tstzrange(occupied_from, occupied_until, '[)') WITH &&) WHERE ({})"
)


def upgrade() -> None:
    op.create_index("ix_appointment_starts_at", "appointment", ["starts_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE appointment DROP CONSTRAINT appointment_no_overlap")
        op.execute(_CONSTRAINT.format("status <> 'cancelled'"))


def downgrade() -> None:
    # The statuses this revision brought are "booked" again for the older code.
    op.execute("UPDATE appointment SET status = 'booked' WHERE status IN ('arrived', 'completed', 'no_show')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE appointment DROP CONSTRAINT appointment_no_overlap")
        op.execute(_CONSTRAINT.format("status = 'booked'"))
    op.drop_index("ix_appointment_starts_at", table_name="appointment")
