"""baseline: the empty starting point (only the version table); later revisions add tables.

Revision ID: e6d4ee17a8ff
Revises:
Create Date: 2026-11-25 06:38:51.041179
"""

from __future__ import annotations

revision = "e6d4ee17a8ff"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
