"""how staff appear to clients

Revision ID: 96676cd38615
Revises: cd2077eb63ba
Create Date: 2026-12-03 14:11:03.431403
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "96676cd38615"
down_revision = "cd2077eb63ba"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_profile",
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=False),
        sa.Column("bio", sa.String(length=500), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_staff_profile_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_staff_profile")),
    )


def downgrade() -> None:
    op.drop_table("staff_profile")
