"""The diff between two policy versions: line matching, word-level changes, lossless
pieces, and the partial that renders it (escaped, marked beyond colour, no inline styles)."""

from __future__ import annotations

import itertools
import re

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from smartscheduling.config import TEMPLATES_DIR
from smartscheduling.policies.diff import Block, DocumentDiff, Piece, diff_texts
from smartscheduling.policies.text import DATA_DIR

PRIVACY = (DATA_DIR / "privacy-v1.txt").read_text(encoding="utf-8")

SHORT = """Cookie Policy

Introduction

We use cookies to remember your preferences.

Cookies never leave your device unless you sign in.

Your Choices

You can refuse analytics cookies at any time.
"""


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def changes(diff: DocumentDiff) -> list[Block]:
    return [block for block in diff.blocks if block.kind != "same"]


def old_lines(diff: DocumentDiff) -> list[str]:
    return ["".join(p.text for p in b.pieces if p.op != "insert") for b in diff.blocks if b.kind != "added"]


def new_lines(diff: DocumentDiff) -> list[str]:
    return ["".join(p.text for p in b.pieces if p.op != "delete") for b in diff.blocks if b.kind != "removed"]


def assert_lossless(diff: DocumentDiff, old: str, new: str) -> None:
    assert old_lines(diff) == lines(old)
    assert new_lines(diff) == lines(new)
    assert [block.old_text for block in diff.blocks if block.kind != "added"] == lines(old)
    assert [block.new_text for block in diff.blocks if block.kind != "removed"] == lines(new)
    for block in diff.blocks:
        assert all(piece.text for piece in block.pieces), "no empty pieces"
        ops = [piece.op for piece in block.pieces]
        assert all(a != b for a, b in itertools.pairwise(ops)), "adjacent pieces of one op are merged"


# --- diff_texts -------------------------------------------------------------------------


def test_identical_texts_are_identical() -> None:
    diff = diff_texts(SHORT, SHORT)
    assert diff.identical
    assert (diff.added, diff.removed, diff.changed) == (0, 0, 0)
    assert [block.pieces for block in diff.blocks] == [(Piece("equal", line),) for line in lines(SHORT)]
    assert [block.heading for block in diff.blocks] == [True, True, False, False, True, False]


def test_blank_lines_and_indentation_are_not_changes() -> None:
    reflowed = "\n\n\n".join(f"   {line}  " for line in lines(SHORT))
    assert diff_texts(SHORT, reflowed).identical


def test_one_word_changed_is_one_changed_block() -> None:
    new = SHORT.replace("refuse analytics", "decline analytics")
    diff = diff_texts(SHORT, new)
    assert not diff.identical
    assert (diff.added, diff.removed, diff.changed) == (0, 0, 1)
    [block] = changes(diff)
    assert block == Block(
        "changed",
        False,
        (
            Piece("equal", "You can "),
            Piece("delete", "refuse"),
            Piece("insert", "decline"),
            Piece("equal", " analytics cookies at any time."),
        ),
    )
    assert_lossless(diff, SHORT, new)


def test_inserted_words_keep_the_spaces_outside_the_change() -> None:
    new = SHORT.replace("We use cookies", "We only use cookies")
    [block] = changes(diff_texts(SHORT, new))
    assert block.pieces == (
        Piece("equal", "We "),
        Piece("insert", "only "),
        Piece("equal", "use cookies to remember your preferences."),
    )


def test_several_replaced_words_read_as_one_change() -> None:
    new = SHORT.replace("never leave your device", "stay on this computer")
    [block] = changes(diff_texts(SHORT, new))
    assert block.kind == "changed"
    assert [piece.op for piece in block.pieces] == ["equal", "delete", "insert", "equal"]
    assert block.pieces[1:3] == (Piece("delete", "never leave your device"), Piece("insert", "stay on this computer"))


def test_a_paragraph_added() -> None:
    new = SHORT.replace("Your Choices\n", "Your Choices\n\nChoices are saved for a year.\n")
    diff = diff_texts(SHORT, new)
    assert (diff.added, diff.removed, diff.changed) == (1, 0, 0)
    assert changes(diff) == [Block("added", False, (Piece("insert", "Choices are saved for a year."),))]
    assert [block.kind for block in diff.blocks] == ["same"] * 5 + ["added", "same"]
    assert_lossless(diff, SHORT, new)


def test_a_paragraph_removed() -> None:
    new = SHORT.replace("Cookies never leave your device unless you sign in.\n", "")
    diff = diff_texts(SHORT, new)
    assert (diff.added, diff.removed, diff.changed) == (0, 1, 0)
    assert changes(diff) == [
        Block("removed", False, (Piece("delete", "Cookies never leave your device unless you sign in."),))
    ]
    assert diff.blocks[3].kind == "removed"
    assert_lossless(diff, SHORT, new)


def test_a_heading_renamed() -> None:
    new = SHORT.replace("Your Choices", "Your Cookie Choices")
    diff = diff_texts(SHORT, new)
    [block] = changes(diff)
    assert block.kind == "changed"
    assert block.heading
    assert block.pieces == (Piece("equal", "Your "), Piece("insert", "Cookie "), Piece("equal", "Choices"))
    assert_lossless(diff, SHORT, new)


def test_a_heading_replaced_by_other_words_is_removed_and_added() -> None:
    new = SHORT.replace("Introduction", "About This Notice")
    diff = diff_texts(SHORT, new)
    assert changes(diff) == [
        Block("removed", True, (Piece("delete", "Introduction"),)),
        Block("added", True, (Piece("insert", "About This Notice"),)),
    ]


def test_a_rewritten_paragraph_is_removed_and_added() -> None:
    rewritten = "Small text files help this site recall what you picked last time."
    new = SHORT.replace("We use cookies to remember your preferences.", rewritten)
    diff = diff_texts(SHORT, new)
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 0)
    assert changes(diff) == [
        Block("removed", False, (Piece("delete", "We use cookies to remember your preferences."),)),
        Block("added", False, (Piece("insert", rewritten),)),
    ]
    assert_lossless(diff, SHORT, new)


def test_edited_and_new_paragraphs_in_one_stretch_are_told_apart() -> None:
    old = "Title\n\nAlpha beta gamma delta epsilon.\n\nZeta eta theta iota kappa.\n"
    new = "Title\n\nSomething entirely unrelated was written here.\n\nZeta eta theta iota lambda.\n"
    diff = diff_texts(old, new)
    assert [block.kind for block in diff.blocks] == ["same", "removed", "added", "changed"]
    assert diff.blocks[3].pieces == (
        Piece("equal", "Zeta eta theta iota "),
        Piece("delete", "kappa"),
        Piece("insert", "lambda"),
        Piece("equal", "."),
    )
    assert_lossless(diff, old, new)


def test_a_paragraph_never_pairs_with_a_heading() -> None:
    old = "Title\n\nData Retention\n"
    new = "Title\n\nData retention.\n"
    assert [block.kind for block in diff_texts(old, new).blocks] == ["same", "removed", "added"]


def test_shipped_policy_against_an_edited_copy_is_lossless() -> None:
    edited = lines(PRIVACY)
    long = [n for n, line in enumerate(edited) if len(line.split()) > 12]
    assert len(long) >= 4
    words = edited[long[0]].split(" ")
    words[3:5] = ["NEW", "WORDS"]
    edited[long[0]] = " ".join(words).replace(".", "!", 1)
    edited[long[1]] = edited[long[1]].replace(" ", "  ", 1)[::-1]  # reversed: no longer alike
    del edited[long[2]]
    edited.insert(long[3], "A new paragraph, with <b>markup</b> & “quotes”.")
    edited.append("New Heading")
    new = "\n\n".join(edited) + "\n"
    diff = diff_texts(PRIVACY, new)
    assert_lossless(diff, PRIVACY, new)
    assert (diff.changed, diff.added, diff.removed) == (1, 3, 2)
    assert diff_texts(new, PRIVACY).changed == 1


@pytest.mark.parametrize("edit", ["none", "every-paragraph"])
def test_ten_kilobyte_texts_are_compared_line_by_line(edit: str) -> None:
    body = lines(PRIVACY)
    old_text = "\n\n".join(f"{line} ({n})" for n, line in enumerate(body * (10_000 // len(PRIVACY) + 1)))
    assert len(old_text) >= 10_000
    new_text = old_text if edit == "none" else re.sub(r"\((\d+)\)", r"(#\1)", old_text)
    diff = diff_texts(old_text, new_text)
    assert diff.identical == (edit == "none")
    assert_lossless(diff, old_text, new_text)


def test_long_unchanged_runs_collapse_to_first_and_last() -> None:
    old = "\n\n".join(["Title", *(f"Paragraph number {n}." for n in range(6)), "Closing words."])
    new = old.replace("Closing words.", "Closing remarks.")
    segments = diff_texts(old, new).segments
    assert [(len(segment.blocks), segment.collapsed) for segment in segments] == [(1, False), (5, True), (2, False)]
    assert segments[0].blocks[0].pieces[0].text == "Title"
    assert segments[2].blocks[0].pieces[0].text == "Paragraph number 5."
    short = diff_texts("A\n\nB.\n\nC.\n\nD.", "A\n\nB.\n\nC.\n\nE!").segments
    assert [(len(segment.blocks), segment.collapsed) for segment in short] == [(1, False), (1, True), (3, False)]
    shorter = diff_texts("A\n\nB.\n\nD.", "A\n\nB.\n\nE!").segments
    assert [(len(segment.blocks), segment.collapsed) for segment in shorter] == [(4, False)]


# --- the partial --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(env: Environment, old: str, new: str, from_label: str = "Version 1", to_label: str = "Version 2") -> str:
    template = env.get_template("policies/partials/_diff.html")
    return template.render(diff=diff_texts(old, new), from_label=from_label, to_label=to_label)


def test_partial_marks_insertions_and_deletions(env: Environment) -> None:
    html = render(env, SHORT, SHORT.replace("refuse analytics", "decline analytics"))
    assert '<div class="policy-diff">' in html
    assert "1 paragraph changed, 0 added, 0 removed." in html
    assert "underlined" in html
    assert "struck through" in html
    assert '<del><span class="visually-hidden">Removed: </span>refuse</del>' in html
    assert '<ins><span class="visually-hidden">Added: </span>decline</ins>' in html
    assert "You can <del>" in html
    assert "</ins> analytics cookies at any time.</p>" in html
    assert "style=" not in html
    assert "<script" not in html


def test_partial_marks_whole_paragraphs_and_headings(env: Environment) -> None:
    new = SHORT.replace("Your Choices\n", "Your Choices\n\nChoices are saved for a year.\n").replace(
        "Cookies never leave your device unless you sign in.\n", ""
    )
    html = render(env, SHORT, new.replace("Introduction", "About This Notice"))
    assert "0 paragraphs changed, 2 added, 2 removed." in html
    added = re.search(r'<p class="diff-block diff-block--added">(.*?)</p>', html)
    assert added
    assert added.group(1).startswith('<span class="visually-hidden">Added paragraph: </span>')
    assert '<span class="diff-marker" aria-hidden="true">+</span>' in added.group(1)
    assert "<ins" in added.group(1)
    assert "Choices are saved for a year." in added.group(1)
    removed = re.search(r'<p class="diff-block diff-block--removed">(.*?)</p>', html)
    assert removed
    assert removed.group(1).startswith('<span class="visually-hidden">Removed paragraph: </span>')
    assert "<del" in removed.group(1)
    assert "Cookies never leave your device" in removed.group(1)
    assert re.search(r'<h3 class="diff-block diff-block--removed">.*Removed heading: .*Introduction</del></h3>', html)
    assert re.search(r'<h3 class="diff-block diff-block--added">.*About This Notice</ins></h3>', html)
    assert '<h3 class="diff-block diff-block--same">Cookie Policy</h3>' in html
    assert "<h2" not in html
    assert "<h1" not in html
    assert "style=" not in html


def test_partial_escapes_policy_text_and_labels(env: Environment) -> None:
    evil = '<script>alert("x")</script> & <b onclick="y">bold</b>'
    new = SHORT.replace("You can refuse", f"You can {evil} refuse") + f"\n{evil}.\n"
    html = render(env, SHORT, new, from_label="<i>v1</i>", to_label="v2")
    assert "<script" not in html
    assert "<b " not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b onclick=" in html
    assert "&amp;" in html
    assert "&lt;i&gt;v1&lt;/i&gt;" in html
    assert "style=" not in html


def test_partial_for_identical_versions(env: Environment) -> None:
    html = render(env, PRIVACY, PRIVACY)
    assert "the two versions are identical." in html
    assert "<ins" not in html
    assert "<del" not in html
    unchanged = len(lines(PRIVACY)) - 2
    assert f"<summary>{unchanged} unchanged paragraphs</summary>" in html
    assert html.count("<details") == 1
    assert "style=" not in html


def test_partial_collapses_runs_without_javascript(env: Environment) -> None:
    old = "\n\n".join(["Title", *(f"Paragraph number {n}." for n in range(4)), "Closing words."])
    html = render(env, old, old.replace("Closing words.", "Closing remarks."))
    details = re.search(r'<details class="diff-unchanged">\s*<summary>(.*?)</summary>(.*?)</details>', html, re.S)
    assert details
    assert details.group(1) == "3 unchanged paragraphs"
    assert details.group(2).count("<p ") == 3
    assert "Paragraph number 0." in details.group(2)
    assert "Paragraph number 3." not in details.group(2)
    assert html.index('<h3 class="diff-block diff-block--same">Title</h3>') < html.index("<details")
    assert "<script" not in html
    assert "style=" not in html
