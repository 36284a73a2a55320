"""A readable diff between two versions of a plain-text policy.

Lines are matched first (a line is the title, a heading or a paragraph, see ``text.py``);
an old and a new line that are mostly the same words are shown as one *changed* block
with word-level insertions and deletions, anything else as whole added or removed
blocks. Pure: no I/O, so a controller can diff any two stored versions.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import groupby
from typing import Literal

from smartscheduling.policies.text import _is_heading

PieceOp = Literal["equal", "insert", "delete"]
BlockKind = Literal["same", "added", "removed", "changed"]

#: How alike (``SequenceMatcher.ratio`` on words) an old and a new line must be to count as one edited line.
SIMILARITY_THRESHOLD = 0.5
#: Runs of more unchanged blocks than this are collapsed to their first and last block.
MAX_VISIBLE_UNCHANGED = 2

#: Replaced stretches larger than this many line pairs only compare lines up to ``_BAND`` apart.
_MAX_FULL_TABLE = 150 * 150
_BAND = 50

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")
_WORDS = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class Piece:
    op: PieceOp
    text: str


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    heading: bool
    pieces: tuple[Piece, ...]

    @property
    def old_text(self) -> str:
        """The line as it was (empty for an added block)."""
        return "".join(piece.text for piece in self.pieces if piece.op != "insert")

    @property
    def new_text(self) -> str:
        """The line as it is now (empty for a removed block)."""
        return "".join(piece.text for piece in self.pieces if piece.op != "delete")


@dataclass(frozen=True, slots=True)
class Segment:
    """Consecutive blocks rendered together; ``collapsed`` ones sit in a ``<details>``."""

    blocks: tuple[Block, ...]
    collapsed: bool = False


@dataclass(frozen=True, slots=True)
class DocumentDiff:
    blocks: tuple[Block, ...]

    def _count(self, kind: BlockKind) -> int:
        return sum(1 for block in self.blocks if block.kind == kind)

    @property
    def added(self) -> int:
        return self._count("added")

    @property
    def removed(self) -> int:
        return self._count("removed")

    @property
    def changed(self) -> int:
        return self._count("changed")

    @property
    def identical(self) -> bool:
        return all(block.kind == "same" for block in self.blocks)

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The blocks in order, with every run of more than two unchanged blocks split into
        its first block, a collapsed segment holding the middle, and its last block."""
        segments: list[Segment] = []
        pending: list[Block] = []  # the current run of visible blocks

        def flush() -> None:
            if pending:
                segments.append(Segment(tuple(pending)))
                pending.clear()

        for unchanged, group in groupby(self.blocks, key=lambda block: block.kind == "same"):
            run = tuple(group)
            if unchanged and len(run) > MAX_VISIBLE_UNCHANGED:
                pending.append(run[0])
                flush()
                segments.append(Segment(run[1:-1], collapsed=True))
                pending.append(run[-1])
            else:
                pending.extend(run)
        flush()
        return tuple(segments)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


_WHOLE_OP: dict[BlockKind, PieceOp] = {"same": "equal", "added": "insert", "removed": "delete"}


def _whole(kind: BlockKind, line: str) -> Block:
    return Block(kind, _is_heading(line), (Piece(_WHOLE_OP[kind], line),))


def _word_pieces(old: str, new: str) -> tuple[Piece, ...]:
    """Word-level pieces turning ``old`` into ``new``; whitespace is kept, so joining the
    equal and deleted pieces gives ``old`` back, and the equal and inserted ones ``new``."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    # Segments: [text] for equal text, [deleted, inserted] for a change.
    segments: list[list[str]] = [
        ["".join(a[i1:i2])] if tag == "equal" else ["".join(a[i1:i2]), "".join(b[j1:j2])]
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    ]
    _normalise(segments)
    _absorb_short_equalities(segments)
    _shift_leading_spaces(segments)
    _normalise(segments)
    pieces: list[Piece] = []
    for segment in segments:
        if len(segment) == 1:
            pieces.append(Piece("equal", segment[0]))
        else:
            pieces.extend(Piece(op, text) for op, text in zip(("delete", "insert"), segment, strict=True) if text)
    return tuple(pieces)


def _normalise(segments: list[list[str]]) -> None:
    """Drop empty equal segments and merge adjacent changes, in place."""
    merged: list[list[str]] = []
    for segment in segments:
        if len(segment) == 1 and not segment[0]:
            continue
        if merged and len(segment) == len(merged[-1]):
            merged[-1] = [old + new for old, new in zip(merged[-1], segment, strict=True)]
        else:
            merged.append(segment)
    segments[:] = merged


def _absorb_short_equalities(segments: list[list[str]]) -> None:
    """Fold an unchanged stretch into the changes around it when it is no longer than
    either of them (as diff-match-patch's semantic clean-up does): "−A B C +X Y Z" reads
    better than "−A +X −B +Y −C +Z"."""
    index = 1
    while index < len(segments) - 1:
        before, equal, after = segments[index - 1 : index + 2]
        if (
            len(equal) == 1
            and len(before) == len(after) == 2
            and len(equal[0]) <= max(map(len, before))
            and len(equal[0]) <= max(map(len, after))
        ):
            segments[index - 1 : index + 2] = [[before[0] + equal[0] + after[0], before[1] + equal[0] + after[1]]]
            index = max(1, index - 2)
        else:
            index += 1


def _shift_leading_spaces(segments: list[list[str]]) -> None:
    """Move a pure insertion or deletion that starts with a space one character to the
    right when the text after it starts with the same space, so "We[ do not] use" reads
    "We [do not ]use"."""
    for index in range(len(segments) - 1):
        change, after = segments[index], segments[index + 1]
        if index == 0 or len(change) != 2 or len(after) != 1 or len(segments[index - 1]) != 1 or all(change):
            continue
        side = 0 if change[0] else 1
        text, following = change[side], after[0]
        if text[0].isspace() and following.startswith(text[0]):
            segments[index - 1][0] += text[0]
            change[side] = text[1:] + following[0]
            after[0] = following[1:]


class _Similarity:
    """Word-level similarity of old line ``i`` and new line ``j``, computed lazily and
    cheaply rejected first by length and by the multiset of words."""

    def __init__(self, old: list[str], new: list[str]) -> None:
        self._old_words = [_WORDS.findall(line) for line in old]
        self._new_words = [_WORDS.findall(line) for line in new]
        self._old_counts = [Counter(words) for words in self._old_words]
        self._new_counts = [Counter(words) for words in self._new_words]
        self._old_heading = [_is_heading(line) for line in old]
        self._new_heading = [_is_heading(line) for line in new]
        self._matchers: dict[int, SequenceMatcher[str]] = {}

    def __call__(self, i: int, j: int) -> float:
        if self._old_heading[i] != self._new_heading[j]:
            return 0.0
        old_words, new_words = self._old_words[i], self._new_words[j]
        length = len(old_words) + len(new_words)
        if not length or 2 * min(len(old_words), len(new_words)) < SIMILARITY_THRESHOLD * length:
            return 0.0
        # An upper bound of ratio() (the same as SequenceMatcher.quick_ratio, but quicker):
        # the words the two lines have in common, however ordered.
        old_counts, new_counts = self._old_counts[i], self._new_counts[j]
        common = sum(min(old_counts[word], new_counts[word]) for word in old_counts.keys() & new_counts.keys())
        if 2 * common < SIMILARITY_THRESHOLD * length:
            return 0.0
        matcher = self._matchers.get(j)
        if matcher is None:  # SequenceMatcher caches what it learns about its second sequence
            matcher = self._matchers[j] = SequenceMatcher(None, b=new_words, autojunk=False)
        matcher.set_seq1(old_words)
        ratio = matcher.ratio()
        return ratio if ratio >= SIMILARITY_THRESHOLD else 0.0


def _replace_blocks(old: list[str], new: list[str]) -> list[Block]:
    """Blocks for a stretch of old lines replaced by new lines: pair them up, in order,
    maximising the total similarity of the pairs (a small alignment table); unpaired old
    lines are removed, unpaired new lines added (removals first within a gap)."""
    similarity = _Similarity(old, new)
    rows, cols = len(old), len(new)
    # A huge rewrite only compares lines near the (scaled) diagonal, to stay fast.
    band = cols if rows * cols <= _MAX_FULL_TABLE else _BAND
    # best[i][j]: the best total for old[i:] against new[j:]
    best = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    pair = [[0.0] * cols for _ in range(rows)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            score = pair[i][j] = similarity(i, j) if abs(j * rows - i * cols) <= band * rows else 0.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], best[i + 1][j + 1] + score if score else 0.0)
    blocks: list[Block] = []
    removed: list[Block] = []
    added: list[Block] = []
    i = j = 0
    while i < rows and j < cols:
        score = pair[i][j]
        if score and best[i][j] == best[i + 1][j + 1] + score:
            blocks += removed + added
            removed.clear()
            added.clear()
            blocks.append(Block("changed", _is_heading(new[j]), _word_pieces(old[i], new[j])))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            removed.append(_whole("removed", old[i]))
            i += 1
        else:
            added.append(_whole("added", new[j]))
            j += 1
    removed += [_whole("removed", line) for line in old[i:]]
    added += [_whole("added", line) for line in new[j:]]
    return blocks + removed + added


def diff_texts(old: str, new: str) -> DocumentDiff:
    """The line-by-line (and, within edited lines, word-by-word) difference from ``old`` to ``new``."""
    old_lines, new_lines = _lines(old), _lines(new)
    blocks: list[Block] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            blocks += [_whole("same", line) for line in old_lines[i1:i2]]
        elif tag == "delete":
            blocks += [_whole("removed", line) for line in old_lines[i1:i2]]
        elif tag == "insert":
            blocks += [_whole("added", line) for line in new_lines[j1:j2]]
        else:
            blocks += _replace_blocks(old_lines[i1:i2], new_lines[j1:j2])
    return DocumentDiff(tuple(blocks))
