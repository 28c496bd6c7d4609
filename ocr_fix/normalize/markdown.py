"""Markup stripping with an offset map: what a reader of the rendered transcript sees,
every kept character carrying its raw offset (see :mod:`ocr_fix.normalize`)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class Folded:
    """Normalised text with a map back to the raw text.

    ``origin[i]`` is the raw offset of folded character ``i``; ``origin[len(text)]`` is
    the raw end. ``ends[i]`` is the raw offset just after the raw characters that
    produced character ``i`` (an entity ``&amp;`` -> ``&`` has origin at ``&`` and end
    after ``;``). One-to-many folds (``ﬁ`` -> ``fi``) repeat origin and end; deleted
    characters (markup, soft hyphens) simply have no folded character.
    """

    text: str
    origin: tuple[int, ...]
    ends: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.origin) != len(self.text) + 1:
            raise ValueError("origin must have len(text) + 1 entries")
        if not self.ends:
            # Without explicit ends each folded character stands for one raw character.
            stop = self.origin[-1]
            ends = tuple(min(o + 1, stop) if o < stop else o for o in self.origin[:-1])
            object.__setattr__(self, "ends", ends)
        elif len(self.ends) != len(self.text):
            raise ValueError("ends must have len(text) entries")

    @classmethod
    def identity(cls, text: str) -> Folded:
        return cls(text, tuple(range(len(text) + 1)), tuple(range(1, len(text) + 1)))

    def raw_span(self, i: int, j: int) -> tuple[int, int]:
        """Raw ``(start, end)`` covering folded characters ``[i, j)``.

        The end is the raw end of character ``j - 1``, so markup deleted between it and
        the next kept character (``**`` after a bold word) is not included.
        """
        if not 0 <= i <= j <= len(self.text):
            raise ValueError(f"bad folded span {i}..{j} (length {len(self.text)})")
        if i == j:
            return self.origin[i], self.origin[i]
        return self.origin[i], self.ends[j - 1]


class _Cell(NamedTuple):
    """One character on its way through the stripper. ``lit`` = literal, never markup."""

    ch: str
    o: int
    e: int
    lit: bool = False


def _folded(cells: list[_Cell], stop: int) -> Folded:
    return Folded(
        "".join(c.ch for c in cells),
        (*(c.o for c in cells), stop),
        tuple(c.e for c in cells),
    )


# ---------------------------------------------------------------------------------
# Plain text


def strip_plain(text: str) -> Folded:
    """Plain text keeps every character; a form feed (page break) becomes a newline."""
    if "\f" not in text:
        return Folded.identity(text)
    return _folded([_Cell("\n" if ch == "\f" else ch, i, i + 1) for i, ch in enumerate(text)], len(text))


# ---------------------------------------------------------------------------------
# Markdown: block level

_LINE = re.compile(r"([^\r\n]*)(\r\n|\n|\r|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_THEMATIC = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT_EQ = re.compile(r"^ {0,3}=+[ \t]*$")
_LINK_DEF = re.compile(r"^ {0,3}\[(?!\^)[^\]]+\]:[ \t]*\S+.*$")
_QUOTE = re.compile(r" {0,3}>[ \t]?")
_BULLET = re.compile(r"[ \t]*[-*+][ \t]+(?:\[[ xX]\][ \t]+)?(?=\S)")
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]+|$)")
_HEADING_CLOSE = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_FOOTNOTE_DEF = re.compile(r"[ \t]*\[\^([^\]\s]+)\]:[ \t]*")
_TABLE_DELIM = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")


# The patterns above without "^" are used as ``pattern.match(text, pos, end)``, which
# anchors at ``pos`` (a "^" would only match at the real start of ``text``).


class _Line(NamedTuple):
    cells: list[_Cell]  # content after block markup, without the line ending
    newline: list[_Cell]  # the line ending (empty on the last line)
    table_delim: bool


def _cells(text: str, start: int, end: int, lit: bool = False) -> list[_Cell]:
    return [_Cell(text[k], k, k + 1, lit) for k in range(start, end)]


def strip_markdown(text: str) -> Folded:
    """Remove Markdown/HTML markup, keep content, keep every kept char's raw offset.

    Follows CommonMark/GFM where it matters for typed documents (emphasis flanking
    rules, so ``snake_case`` and typed rules ``____`` stay; escapes ``\\*`` stay as
    literal ``*``). Ordered list numbers are kept: they are rendered, and a typed page
    numbers its paragraphs the same way. Line endings are kept as whitespace.
    """
    out: list[_Cell] = []
    para: list[_Line] = []
    fence: str | None = None
    prev_blank = True

    def flush() -> None:
        if para:
            out.extend(_inline_paragraph(para))
            para.clear()

    for m in _LINE.finditer(text):
        cs, ce = m.span(1)
        if cs == ce and not m.group(2) and cs == len(text):
            break
        content = m.group(1)
        newline = _cells(text, *m.span(2))
        if fence is not None:
            if re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", content):
                fence = None
                flush()
                out.extend(newline)
            else:
                para.append(_Line(_cells(text, cs, ce, lit=True), newline, False))
            prev_blank = False
            continue
        fm = _FENCE.match(content)
        if fm:
            flush()
            fence = fm.group(1)
            out.extend(newline)
            prev_blank = False
            continue
        if not content.strip():
            flush()
            out.extend(_cells(text, cs, ce))
            out.extend(newline)
            prev_blank = True
            continue
        if (
            _THEMATIC.match(content)
            or _LINK_DEF.match(content)
            or (not prev_blank and _SETEXT_EQ.match(content))
        ):
            flush()
            out.extend(newline)
            prev_blank = False
            continue
        pos = cs
        while q := _QUOTE.match(text, pos, ce):
            pos = q.end()
        starts_block = False
        if b := _BULLET.match(text, pos, ce):
            pos, starts_block = b.end(), True
        kept_end = ce
        heading = _HEADING.match(text, pos, ce)
        if heading:
            pos, starts_block = heading.end(), True
            close = _HEADING_CLOSE.search(text[pos:ce])
            if close:
                kept_end = pos + close.start()
        line_cells: list[_Cell] = []
        if fd := _FOOTNOTE_DEF.match(text, pos, ce):
            starts_block = True
            line_cells = _cells(text, *fd.span(1))
            pos = fd.end()
        if starts_block:
            flush()
        line_cells += _cells(text, pos, kept_end)
        para.append(_Line(line_cells, newline, bool(_TABLE_DELIM.match(content)) and "|" in content))
        if heading:
            flush()
        prev_blank = False
    flush()
    return _folded(out, len(text))


# ---------------------------------------------------------------------------------
# Markdown: inline level


def _inline_paragraph(lines: list[_Line]) -> list[_Cell]:
    is_table = any(ln.table_delim for ln in lines)
    cells: list[_Cell] = []
    for ln in lines:
        if is_table and ln.table_delim:
            cells.extend(ln.newline)
            continue
        cells.extend(ln.cells)
        cells.extend(ln.newline)
    if all(c.lit for c in cells if not c.ch.isspace()):
        return cells  # fenced code: nothing to interpret
    cells = _escapes(cells)
    if is_table:
        cells = [_Cell(" ", c.o, c.e, True) if c.ch == "|" and not c.lit else c for c in cells]
    cells = _code_spans(cells)
    cells = _comments(cells)
    cells = _rewrite(cells, _HTML, _html_repl)
    cells = _rewrite(cells, _ENTITY, _entity_repl)
    cells = _rewrite(cells, _LINKISH, _link_repl)
    cells = _strikethrough(cells)
    cells = _emphasis(cells)
    return cells


_ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _escapes(cells: list[_Cell]) -> list[_Cell]:
    out: list[_Cell] = []
    k = 0
    while k < len(cells):
        c = cells[k]
        if c.ch == "\\" and not c.lit and k + 1 < len(cells):
            nxt = cells[k + 1]
            if nxt.ch in _ASCII_PUNCT:
                # Origin at the backslash: replacing this character replaces the escape.
                out.append(_Cell(nxt.ch, c.o, nxt.e, True))
                k += 2
                continue
            if nxt.ch in "\r\n":  # backslash hard line break
                k += 1
                continue
        out.append(c)
        k += 1
    return out


def _runs(cells: list[_Cell], char: str) -> list[tuple[int, int]]:
    """Maximal runs of non-literal ``char`` as (start, end) cell indices."""
    runs, k = [], 0
    while k < len(cells):
        if cells[k].ch == char and not cells[k].lit:
            j = k
            while j < len(cells) and cells[j].ch == char and not cells[j].lit:
                j += 1
            runs.append((k, j))
            k = j
        else:
            k += 1
    return runs


def _code_spans(cells: list[_Cell]) -> list[_Cell]:
    runs = _runs(cells, "`")
    drop: set[int] = set()
    literal: set[int] = set()
    k = 0
    while k < len(runs):
        s, e = runs[k]
        match = next((j for j in range(k + 1, len(runs)) if runs[j][1] - runs[j][0] == e - s), None)
        if match is None:
            k += 1
            continue
        s2, e2 = runs[match]
        drop.update(range(s, e))
        drop.update(range(s2, e2))
        literal.update(range(e, s2))
        k = match + 1
    if not drop:
        return cells
    return [c._replace(lit=True) if i in literal else c for i, c in enumerate(cells) if i not in drop]


_Repl = Callable[["re.Match[str]", list[_Cell]], "list[_Cell] | None"]


def _rewrite(cells: list[_Cell], pattern: re.Pattern[str], repl: _Repl) -> list[_Cell]:
    """Apply ``repl`` to every match of ``pattern`` in the non-literal text.

    Literal cells are masked with NUL (never in a transcript: binaries are refused) so
    an escaped ``\\<`` can never open a tag.
    """
    scan = "".join("\x00" if c.lit else c.ch for c in cells)
    out: list[_Cell] = []
    pos = 0
    for m in pattern.finditer(scan):
        new = repl(m, cells)
        if new is None:
            continue
        out.extend(cells[pos : m.start()])
        out.extend(new)
        pos = m.end()
    if pos == 0:
        return cells
    out.extend(cells[pos:])
    return out


def _comments(cells: list[_Cell]) -> list[_Cell]:
    """Delete ``<!-- ... -->``; a linear scan (a lazy regex is quadratic when unclosed)."""
    scan = "".join("\x00" if c.lit else c.ch for c in cells)
    out: list[_Cell] = []
    pos = 0
    while (open_at := scan.find("<!--", pos)) >= 0:
        close_at = scan.find("-->", open_at + 4)
        if close_at < 0:
            break
        out.extend(cells[pos:open_at])
        pos = close_at + 3
    if pos == 0:
        return cells
    out.extend(cells[pos:])
    return out


_HTML = re.compile(
    r"<(?P<auto>(?:https?|ftp|mailto):[^<>\s]*)>"
    r"|<(?P<close>/)?(?P<tag>[A-Za-z][A-Za-z0-9-]*)(?:\s+[A-Za-z_:][^<>]*?)?\s*/?>"
)
_LINE_BREAK_TAGS = {"br", "p", "div", "li", "tr", "hr"}


def _html_repl(m: re.Match[str], cells: list[_Cell]) -> list[_Cell] | None:
    if m.group("auto"):
        return cells[m.start("auto") : m.end("auto")]
    tag = (m.group("tag") or "").lower()
    if tag in _LINE_BREAK_TAGS:
        first, last = cells[m.start()], cells[m.end() - 1]
        return [_Cell("\n", first.o, last.e, True)]
    return []


_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _entity_repl(m: re.Match[str], cells: list[_Cell]) -> list[_Cell] | None:
    value = html.unescape(m.group())
    if value == m.group():
        return None  # not an entity HTML knows: leave the text alone
    first, last = cells[m.start()], cells[m.end() - 1]
    return [_Cell(ch, first.o, last.e, True) for ch in value]


_LINKISH = re.compile(
    r"!\[[^\[\]]*\]\([^()]*\)"  # image: nothing of it is on a typed page
    r"|\[\^(?P<note>[^\]\s]+)\]"  # footnote reference: the number shows
    # Destination: balanced one-level parentheses, written so it cannot backtrack.
    r"|\[(?P<text>[^\[\]]*)\]\((?:<[^<>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+\"[^\"]*\")?\)"
    r"|\[(?P<rtext>[^\[\]]+)\]\[[^\[\]]*\]"
)


def _link_repl(m: re.Match[str], cells: list[_Cell]) -> list[_Cell] | None:
    for group in ("note", "text", "rtext"):
        if m.group(group) is not None:
            return cells[m.start(group) : m.end(group)]
    return []


def _is_ws(ch: str) -> bool:
    return ch.isspace()


def _is_punct(ch: str) -> bool:
    return ch in _ASCII_PUNCT or unicodedata.category(ch)[0] in "PS"


def _flanking(cells: list[_Cell], s: int, e: int) -> tuple[bool, bool, str, str]:
    prev = cells[s - 1].ch if s > 0 else "\n"
    nxt = cells[e].ch if e < len(cells) else "\n"
    left = not _is_ws(nxt) and (not _is_punct(nxt) or _is_ws(prev) or _is_punct(prev))
    right = not _is_ws(prev) and (not _is_punct(prev) or _is_ws(nxt) or _is_punct(nxt))
    return left, right, prev, nxt


def _strikethrough(cells: list[_Cell]) -> list[_Cell]:
    drop: set[int] = set()
    opener: tuple[int, int] | None = None
    for s, e in _runs(cells, "~"):
        if e - s != 2:
            continue
        left, right, _, _ = _flanking(cells, s, e)
        if opener is not None and right:
            drop.update(range(*opener))
            drop.update(range(s, e))
            opener = None
        elif left:
            opener = (s, e)
    return [c for i, c in enumerate(cells) if i not in drop] if drop else cells


class _Delim:
    __slots__ = ("can_close", "can_open", "char", "left_used", "length", "right_used", "start")

    def __init__(self, char: str, start: int, length: int, can_open: bool, can_close: bool) -> None:
        self.char, self.start, self.length = char, start, length
        self.left_used = 0  # consumed as closer, from the run's left
        self.right_used = 0  # consumed as opener, from the run's right
        self.can_open, self.can_close = can_open, can_close

    @property
    def remaining(self) -> int:
        return self.length - self.left_used - self.right_used


def _emphasis(cells: list[_Cell]) -> list[_Cell]:
    """CommonMark's delimiter-run algorithm for ``*`` and ``_``, deleting matched runs."""
    delims: list[_Delim] = []
    for char in "*_":
        for s, e in _runs(cells, char):
            left, right, prev, nxt = _flanking(cells, s, e)
            if char == "*":
                can_open, can_close = left, right
            else:
                can_open = left and (not right or _is_punct(prev))
                can_close = right and (not left or _is_punct(nxt))
            if can_open or can_close:
                delims.append(_Delim(char, s, e - s, can_open, can_close))
    if not delims:
        return cells
    delims.sort(key=lambda d: d.start)
    drop: set[int] = set()
    # CommonMark's "openers bottom": where a failed search for this kind of closer
    # stopped, so a paragraph full of unmatched "word*" marks stays linear.
    bottom: dict[tuple[str, bool, int], int] = {}
    for ci, closer in enumerate(delims):
        while closer.can_close and closer.remaining > 0:
            found = None
            key = (closer.char, closer.can_open, closer.length % 3)
            for oi in range(ci - 1, bottom.get(key, -1), -1):
                op = delims[oi]
                if op.char != closer.char or not op.can_open or op.remaining <= 0:
                    continue
                if (
                    (op.can_close or closer.can_open)
                    and (op.length + closer.length) % 3 == 0
                    and not (op.length % 3 == 0 and closer.length % 3 == 0)
                ):
                    continue
                found = oi
                break
            if found is None:
                bottom[key] = ci - 1
                break
            op = delims[found]
            n = 2 if op.remaining >= 2 and closer.remaining >= 2 else 1
            o_end = op.start + op.length - op.right_used
            drop.update(range(o_end - n, o_end))
            op.right_used += n
            c_start = closer.start + closer.left_used
            drop.update(range(c_start, c_start + n))
            closer.left_used += n
            for between in delims[found + 1 : ci]:
                between.can_open = between.can_close = False
    _pair_dangling_strong(cells, drop)
    return [c for i, c in enumerate(cells) if i not in drop] if drop else cells


def _pair_dangling_strong(cells: list[_Cell], drop: set[int]) -> None:
    """Close ``**bold  **`` too: a strong run left after trailing (hard-break) spaces.

    CommonMark leaves both runs as text because the closer follows whitespace, but the
    intent is unmistakable and a typed page never shows the asterisks. Only double runs
    qualify; a single ``*`` after a word is often a typed footnote mark.
    """
    runs = sorted(
        (s, e)
        for ch in "*_"
        for s, e in _runs(cells, ch)
        if e - s == 2 and s not in drop and s + 1 not in drop
    )
    opener: tuple[int, int] | None = None
    for s, e in runs:
        left, right, prev, _ = _flanking(cells, s, e)
        if opener is not None and not left and _is_ws(prev) and cells[opener[0]].ch == cells[s].ch:
            drop.update(range(*opener))
            drop.update(range(s, e))
            opener = None
        elif left and not right:
            opener = (s, e)
