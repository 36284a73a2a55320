"""links die with the session epoch; cancel link for e-mail changes

Revision ID: bd242ee4223c
Revises: 2b8fe43e0a71
Create Date: 2026-12-02 07:13:46.541745
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bd242ee4223c"
down_revision = "2b8fe43e0a71"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Links sent before this revision cannot tell under which session epoch they were
    # sent: they get -1, which no account has, so they stop working. (A pending e-mail
    # change requested by an intruder before the owner changed the password is exactly
    # the link that must not survive.) People ask for a new link if they still need one.
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.Integer(), nullable=False, server_default=sa.text("-1")))
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.alter_column("epoch", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.drop_column("epoch")
