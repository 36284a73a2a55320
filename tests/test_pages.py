"""Home and the published privacy policy."""

from __future__ import annotations

import html
import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from smartscheduling.policies.text import DATA_DIR, parse_policy, slugify


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page)))


async def test_home_presents_the_service(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "Appointments made simple, privacy kept by design" in text
    assert 'href="/privacy"' in response.text
    assert '<a class="skip-link" href="#main">' in response.text


async def test_privacy_page_publishes_every_line_of_the_shipped_policy(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/privacy")
    assert response.status_code == 200
    text = visible_text(response.text)
    source = (DATA_DIR / "privacy-v1.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    assert len(lines) > 20
    for line in lines:
        assert line in text, line
    assert '<a href="mailto:info@smartscheduling.com">info@smartscheduling.com</a>' in response.text


async def test_privacy_sections_have_stable_anchors_and_a_table_of_contents(
    client: AsyncTestClient[Litestar],
) -> None:
    page = (await client.get("/privacy")).text
    for anchor in ("traffic-encryption", "cookies", "storage-of-personal-information", "updates-to-this-policy"):
        assert f'<section id="{anchor}"' in page
        assert f'<a href="#{anchor}">' in page


def test_policy_parser_separates_headings_from_paragraphs() -> None:
    document = parse_policy("Title\n\nIntro sentence here.\n\nShort Heading\n\nFirst.\n\nSecond, with more.\n")
    assert document.title == "Title"
    assert [s.heading for s in document.sections] == [None, "Short Heading"]
    assert document.sections[1].paragraphs == ("First.", "Second, with more.")
    assert document.sections[1].anchor == "short-heading"
    assert slugify("Third-Party Sharing") == "third-party-sharing"
