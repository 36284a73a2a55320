"""clients known only to staff, their notes and the directory search

Revision ID: 837fbc471acc
Revises: 96676cd38615
Create Date: 2026-12-04 19:02:12.363674
"""

from __future__ import annotations

import unicodedata

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "837fbc471acc"
down_revision = "96676cd38615"
branch_labels = None
depends_on = None

_users = sa.table(
    "user_account",
    sa.column("id"),  # untyped: each row's key goes back as it was read
    sa.column("name", sa.String),
    sa.column("email", sa.String),
    sa.column("phone", sa.String),
    sa.column("search_text", sa.String),
)


def _searchable(name: str, email: str, phone: str | None) -> str:
    """The accounts' search text as this revision defines it (the model keeps it since)."""
    digits = "".join(char for char in phone or "" if char.isdigit())
    text = " ".join(part for part in (name, digits, email) if part)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))[:600]


def upgrade() -> None:
    op.create_table(
        "client_note",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("client_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("author_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_client_note_author_id_user_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["user_account.id"], name=op.f("fk_client_note_client_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_note")),
    )
    with op.batch_alter_table("client_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_note_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_client_note_client_created", ["client_id", "created_at"], unique=False)

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.String(length=600), nullable=False, server_default=""))
        batch_op.alter_column("email", existing_type=sa.VARCHAR(length=254), nullable=True)

    bind = op.get_bind()
    for row in bind.execute(sa.select(_users.c.id, _users.c.name, _users.c.email, _users.c.phone)).all():
        text = _searchable(row.name, row.email, row.phone)
        bind.execute(sa.update(_users).where(_users.c.id == row.id).values(search_text=text))

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("search_text", existing_type=sa.String(length=600), server_default=None)
        batch_op.create_index("ix_user_account_search_text", ["search_text", "id"], unique=False)
        # Finding a record by its phone or address: staff's duplicate check, a new account's match.
        batch_op.create_index(batch_op.f("ix_user_account_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_account_contact_email"), ["contact_email"], unique=False)
    if bind.dialect.name == "postgresql":
        # Trigram indexes let ``LIKE '%fragment%'`` use an index (SQLite: the plain one).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_user_account_search_text_trgm",
            "user_account",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_user_account_search_text_trgm", table_name="user_account")
    # Clients known only to staff have no sign-in address: they cannot stay.
    op.execute("DELETE FROM user_account WHERE email IS NULL")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index("ix_user_account_search_text")
        batch_op.drop_index(batch_op.f("ix_user_account_phone"))
        batch_op.drop_index(batch_op.f("ix_user_account_contact_email"))
        batch_op.alter_column("email", existing_type=sa.VARCHAR(length=254), nullable=False)
        batch_op.drop_column("search_text")
        batch_op.drop_column("contact_email")

    with op.batch_alter_table("client_note", schema=None) as batch_op:
        batch_op.drop_index("ix_client_note_client_created")
        batch_op.drop_index(batch_op.f("ix_client_note_author_id"))

    op.drop_table("client_note")
