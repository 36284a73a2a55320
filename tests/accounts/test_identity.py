"""One request, one read of the signed-in person: identity reads their row in the
request's own database session, and the handler and its services work on that row."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import post_form, sign_in, statements


def user_reads(sent: list[str]) -> list[str]:
    """Reads of a user row by its id (the Profile also looks, by address, for a client
    record staff made: other rows, a query of its own)."""
    return [s for s in sent if s.startswith("SELECT") and "FROM user_account" in s and "user_account.id = " in s]


async def test_a_signed_in_page_reads_the_user_row_once(client: AsyncTestClient[Litestar], make_user) -> None:
    user = await make_user(name="Ada Lovelace")
    await sign_in(client, user.email)
    with statements() as sent:
        page = await client.get("/profile")
    assert page.status_code == 200
    assert "Ada Lovelace" in page.text
    assert len(user_reads(sent)) == 1


async def test_a_save_reads_the_row_once_and_writes_it_only_at_the_version_it_read(
    client: AsyncTestClient[Litestar], make_user
) -> None:
    user = await make_user()
    await sign_in(client, user.email)
    with statements() as sent:
        saved = await post_form(client, "/profile/edit/name", {"version": "1", "name": "Ada King"}, htmx=True)
    assert saved.status_code == 200
    assert "Ada King" in saved.text
    assert len(user_reads(sent)) == 1  # no re-read to check the version, none after saving
    (update,) = [s for s in sent if s.startswith("UPDATE user_account")]
    assert "profile_version" in update.split(" WHERE ", 1)[1]  # the optimistic lock is the UPDATE's own
