"""Text of archival XML transcripts (ALTO, PAGE, hOCR, TEI) with a file position per character.

Each reader walks the parsed document in reading order and appends values through a
:class:`TextBuilder`: characters read from the file keep the file span they came from
(:class:`ocr_fix.xmlmap.Char`), separators the reader adds (a space between ALTO words,
a line break between lines, a blank line between blocks) are pinned to the end of what
came before. The derived text is what checking compares with the scans; the spans let
a finding point at the XML line and column, and let ``fix`` splice into the file.

Derived text, per format:

* ALTO: one line per ``TextLine`` (``String/@CONTENT`` joined by one space; a ``HYP``
  belongs to the word before it; a line without Strings uses its own ``CONTENT``), a
  blank line between ``TextBlock`` s, document order (ALTO has no reading order
  element). The owner of a character is the String's ``ID`` (else the line's).
* PAGE: regions in ``ReadingOrder`` as dinglehopper reads it — an ``OrderedGroup`` /
  ``OrderedGroupIndexed`` in ``@index`` order (children without one are dropped), an
  unordered group in document order, groups nested to any depth — then any text region
  the reading order does not name, in document order (dinglehopper drops those; here
  they would otherwise be reported as missing). ``line`` level: each ``TextLine``'s best
  ``TextEquiv`` (lowest ``@index``, else highest ``@conf``, else the first) — its
  ``Word`` s when it has none; ``word`` level: the Words' TextEquivs joined by one space —
  the line's own when it has no Words. A region without lines gives its own TextEquiv.
* hOCR: one line per ``ocr_line`` (and the other line classes), the ``ocrx_word`` s
  joined by one space, a blank line between paragraphs / areas, a page break between
  ``ocr_page`` s; HTML white space collapses.
* TEI: the ``<text>`` element; ``<lb/>`` ends a line (``break="no"``: the word goes on),
  ``<pb/>`` is a page break, paragraph-like elements end lines, white space collapses;
  in ``<choice>`` the diplomatic reading (``sic``, ``orig``, ``abbr``) is the text, since
  that is what the page shows; ``<gap/>`` and ``<unclear>`` are editorial marks
  (:class:`Mark`); ``teiHeader``, ``note`` and ``fw`` carry no transcript text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from ocr_fix.xmlmap import Char, XmlMap

__all__ = ["Mark", "Read", "TextBuilder", "read_alto", "read_hocr", "read_page", "read_tei"]

TEXTEQUIV_LEVELS = ("line", "word")


@dataclass(frozen=True, slots=True)
class Mark:
    """An editorial mark over derived text ``[start, end)`` (``gap``: empty span)."""

    kind: str  # "gap", "unclear", "sic"
    start: int
    end: int
    note: str = ""  # the editor's reading (``corr``), the gap's reason


@dataclass
class TextBuilder:
    chars: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    page_breaks: list[int] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    _id_index: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.chars)

    def _owner(self, owner: str | None) -> int:
        if not owner:
            return -1
        if owner not in self._id_index:
            self._id_index[owner] = len(self.ids)
            self.ids.append(owner)
        return self._id_index[owner]

    def add(self, chars: Iterable[Char], owner: str | None) -> None:
        k = self._owner(owner)
        for c in chars:
            self.chars.append(c.ch)
            self.starts.append(c.start)
            self.ends.append(c.end)
            self.slots.append(c.slot)
            self.owners.append(k)

    def sep(self, text: str) -> None:
        """Separator text the reader adds; pinned to the end of the previous character."""
        at = self.ends[-1] if self.ends else 0
        owner = self.owners[-1] if self.owners else -1
        for ch in text:
            self.chars.append(ch)
            self.starts.append(at)
            self.ends.append(at)
            self.slots.append(-1)
            self.owners.append(owner)

    def ends_with(self, text: str) -> bool:
        return "".join(self.chars[-len(text) :]) == text if text else True

    def strip_end(self) -> None:
        """Drop trailing spaces / tabs (collapsed white space before a line end)."""
        while self.chars and self.chars[-1] in " \t":
            for col in (self.chars, self.starts, self.ends, self.slots, self.owners):
                col.pop()

    def break_line(self, blank: bool = False) -> None:
        """End the current line (``blank``: and leave one empty line), never twice."""
        self.strip_end()
        if not self.chars:
            return
        want = "\n\n" if blank else "\n"
        if self.ends_with(want):
            return
        if blank and self.ends_with("\n"):
            self.sep("\n")
        else:
            self.sep(want)

    def text(self) -> str:
        return "".join(self.chars)

    def finish(self) -> None:
        """Drop separators left at the very end."""
        while self.chars and self.chars[-1].isspace() and self.slots[-1] == -1:
            for col in (self.chars, self.starts, self.ends, self.slots, self.owners):
                col.pop()


@dataclass(frozen=True)
class Read:
    kind: str
    out: TextBuilder


def _local(el: object) -> str:
    tag = getattr(el, "tag", None)
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c) == name]


def _attr_chars(m: XmlMap, el: etree._Element, name: str) -> list[Char]:
    chars = m.attr(el, name)
    return chars if chars is not None else m.approximate(el, el.get(name, ""))


def _text_chars(m: XmlMap, el: etree._Element) -> list[Char]:
    chars = m.text(el)
    return chars if chars is not None else m.approximate(el, el.text or "")


def _tail_chars(m: XmlMap, el: etree._Element) -> list[Char]:
    chars = m.tail(el)
    if chars is not None:
        return chars
    parent = el.getparent()
    return m.approximate(parent if parent is not None else el, el.tail or "")


# --- ALTO ----------------------------------------------------------------------------------


def read_alto(root: etree._Element, m: XmlMap) -> TextBuilder:
    out = TextBuilder()
    for block in root.iter():
        if _local(block) != "TextBlock":
            continue
        out.break_line(blank=True)
        for line in block.iter():
            if _local(line) != "TextLine":
                continue
            before = len(out)
            _alto_line(line, m, out)
            if len(out) > before:
                out.sep("\n")
    out.finish()
    return out


def _alto_line(line: etree._Element, m: XmlMap, out: TextBuilder) -> None:
    line_id = line.get("ID")
    words = 0
    for child in line.iter():
        name = _local(child)
        if name == "String":
            chars = _attr_chars(m, child, "CONTENT")
            if not chars:
                continue
            if words:
                out.sep(" ")
            out.add(chars, child.get("ID") or line_id)
            words += 1
        elif name == "HYP" and words:
            out.add(_attr_chars(m, child, "CONTENT") if child.get("CONTENT") else [], line_id)
    if not words and line.get("CONTENT"):
        out.add(_attr_chars(m, line, "CONTENT"), line_id)


# --- PAGE ----------------------------------------------------------------------------------

_GROUPS = ("OrderedGroup", "OrderedGroupIndexed", "UnorderedGroup", "UnorderedGroupIndexed")


def page_region_order(root: etree._Element) -> list[etree._Element]:
    """Text regions in reading order (see the module docstring)."""
    regions = [r for r in root.iter() if _local(r) == "TextRegion"]
    by_id = {r.get("id"): r for r in regions if r.get("id")}
    ordered: list[etree._Element] = []
    reading = next((e for e in root.iter() if _local(e) == "ReadingOrder"), None)
    if reading is not None:
        for group in reading:
            if _local(group) in _GROUPS:
                _walk_group(group, by_id, ordered)
    seen = {id(r) for r in ordered}
    return ordered + [r for r in regions if id(r) not in seen]


def _index(el: etree._Element) -> int:
    try:
        return int(el.get("index", ""))
    except ValueError:
        return 0


def _walk_group(group: etree._Element, by_id: dict[str | None, etree._Element], out: list) -> None:
    kids = [c for c in group if isinstance(c.tag, str)]
    if _local(group).startswith("Ordered"):
        kids = sorted((c for c in kids if c.get("index") is not None), key=_index)
    for kid in kids:
        if _local(kid) in _GROUPS:
            _walk_group(kid, by_id, out)
        elif kid.get("regionRef") in by_id:
            region = by_id[kid.get("regionRef")]
            if all(region is not r for r in out):
                out.append(region)


def best_text_equiv(el: etree._Element) -> etree._Element | None:
    """The ``Unicode`` of ``el``'s own best TextEquiv (dinglehopper's rule), if any."""
    equivs = _children(el, "TextEquiv")
    if not equivs:
        return None
    best = equivs[0]
    if len(equivs) > 1:
        indexed = [e for e in equivs if _number(e.get("index")) is not None]
        conf = [e for e in equivs if _number(e.get("conf")) is not None]
        if indexed:
            best = min(indexed, key=lambda e: _number(e.get("index")) or 0.0)
        elif conf:
            best = max(conf, key=lambda e: _number(e.get("conf")) or 0.0)
    unicode = _children(best, "Unicode")
    return unicode[0] if unicode else None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def read_page(root: etree._Element, m: XmlMap, level: str = "line") -> TextBuilder:
    if level not in TEXTEQUIV_LEVELS:
        raise ValueError(f"textequiv level must be one of {TEXTEQUIV_LEVELS}, not {level!r}")
    out = TextBuilder()
    for region in page_region_order(root):
        out.break_line(blank=True)
        lines = _children(region, "TextLine")
        if not lines:
            own = best_text_equiv(region)
            if own is not None:
                out.add(_text_chars(m, own), region.get("id"))
            continue
        for line in lines:
            before = len(out)
            _page_line(line, m, level, out)
            if len(out) > before:
                out.sep("\n")
    out.finish()
    return out


def _page_line(line: etree._Element, m: XmlMap, level: str, out: TextBuilder) -> None:
    own = best_text_equiv(line)
    words = _children(line, "Word")
    if own is not None and (level == "line" or not words):
        assert own is not None
        out.add(_text_chars(m, own), line.get("id"))
        return
    first = True
    for word in words:
        unicode = best_text_equiv(word)
        chars = _text_chars(m, unicode) if unicode is not None else []
        if not chars:
            continue
        if not first:
            out.sep(" ")
        out.add(chars, word.get("id") or line.get("id"))
        first = False


# --- hOCR ----------------------------------------------------------------------------------

_HOCR_LINES = frozenset({"ocr_line", "ocrx_line", "ocr_caption", "ocr_textfloat", "ocr_header"})
_HOCR_BLOCKS = frozenset({"ocr_par", "ocr_carea", "ocrx_block"})
_WS = re.compile(r"\s")


def hocr_classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def is_hocr(root: etree._Element) -> bool:
    return any(
        hocr_classes(e) & {"ocr_page", "ocrx_word", *_HOCR_LINES}
        for e in root.iter()
        if isinstance(e.tag, str)
    )


def _itertext_chars(el: etree._Element, m: XmlMap) -> list[Char]:
    chars = list(_text_chars(m, el)) if el.text else []
    for child in el:
        if isinstance(child.tag, str):
            chars += _itertext_chars(child, m)
        if child.tail:
            chars += _tail_chars(m, child)
    return chars


def _collapse(chars: Sequence[Char]) -> list[Char]:
    """White-space runs as one space (kept at the run's first character), ends trimmed."""
    out: list[Char] = []
    for c in chars:
        if _WS.match(c.ch):
            if out and out[-1].ch != " ":
                out.append(Char(" ", c.start, c.end, c.slot))
            elif out:
                last = out[-1]  # extend the kept space over the whole run
                out[-1] = Char(" ", last.start, c.end, last.slot if last.slot == c.slot else -1)
        else:
            out.append(c)
    while out and out[-1].ch == " ":
        out.pop()
    return out


def read_hocr(root: etree._Element, m: XmlMap) -> TextBuilder:
    out = TextBuilder()
    pages = 0
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        classes = hocr_classes(el)
        if "ocr_page" in classes:
            if pages:
                out.break_line(blank=True)
                out.page_breaks.append(len(out))
            pages += 1
        elif classes & _HOCR_BLOCKS:
            out.break_line(blank=True)
        elif classes & _HOCR_LINES:
            out.break_line()
            words = [w for w in el.iter() if isinstance(w.tag, str) and "ocrx_word" in hocr_classes(w)]
            if not words:
                out.add(_collapse(_itertext_chars(el, m)), el.get("id"))
                continue
            first = True
            for w in words:
                chars = _collapse(_itertext_chars(w, m))
                if not chars:
                    continue
                if not first:
                    out.sep(" ")
                out.add(chars, w.get("id") or el.get("id"))
                first = False
    out.finish()
    return out


# --- TEI -----------------------------------------------------------------------------------

_TEI_SKIP = frozenset({"teiHeader", "note", "fw", "facsimile", "standOff"})
_TEI_LINES = frozenset({"p", "head", "l", "ab", "item", "row", "cell", "label", "closer", "opener", "salute"})
_TEI_BLOCKS = frozenset({"div", "lg", "list", "table", "front", "back", "body", "div1", "div2", "div3"})
_DIPLOMATIC = ("sic", "orig", "abbr")


@dataclass
class _TeiWalk:
    m: XmlMap
    out: TextBuilder
    join_next: bool = False  # after <lb break="no"/>: the next text continues the word

    def text(self, chars: list[Char], owner: str | None) -> None:
        chars = _collapse_keep_edges(chars)
        if not chars:
            return
        if self.join_next or not self.out.chars or self.out.chars[-1] in "\n":
            while chars and chars[0].ch == " ":
                chars = chars[1:]
        if chars and chars[0].ch == " " and self.out.chars and self.out.chars[-1] == " ":
            chars = chars[1:]
        if chars:
            self.join_next = False
        self.out.add(chars, owner)

    def walk(self, el: etree._Element, owner: str | None) -> None:
        name = _local(el)
        own = el.get("{http://www.w3.org/XML/1998/namespace}id") or owner
        if name in _TEI_SKIP:
            return
        if name == "lb":
            if el.get("break") == "no":
                self.out.strip_end()
                self.join_next = True
            else:
                self.out.break_line()
            return
        if name == "pb":
            self.out.break_line(blank=True)
            self.out.page_breaks.append(len(self.out))
            return
        if name == "gap":
            at = len(self.out)
            self.out.marks.append(Mark("gap", at, at, el.get("reason", "")))
            return
        if name == "choice":
            kids = {_local(c): c for c in el if isinstance(c.tag, str)}
            pick = next((kids[k] for k in _DIPLOMATIC if k in kids), None)
            if pick is None and kids:
                pick = next(iter(kids.values()))
            if pick is not None:
                start = len(self.out)
                self.walk(pick, own)
                if _local(pick) == "sic":
                    corr = kids.get("corr")
                    note = "".join(corr.itertext()) if corr is not None else ""
                    self.out.marks.append(Mark("sic", start, len(self.out), note))
            return
        if name in _TEI_BLOCKS:
            self.out.break_line(blank=True)
        start = len(self.out)
        if el.text:
            self.text(_text_chars(self.m, el), own)
        for child in el:
            if isinstance(child.tag, str):
                self.walk(child, own)
            if child.tail:
                self.text(_tail_chars(self.m, child), own)
        if name == "unclear":
            self.out.marks.append(Mark("unclear", start, len(self.out), el.get("reason", "")))
        if name in _TEI_LINES:
            self.out.break_line()
        elif name in _TEI_BLOCKS:
            self.out.break_line(blank=True)


def _collapse_keep_edges(chars: Sequence[Char]) -> list[Char]:
    """Like :func:`_collapse`, but a leading / trailing run stays as one space (text
    next to an element: ``a <hi>b</hi> c``)."""
    if not chars:
        return []
    lead = bool(_WS.match(chars[0].ch))
    trail = bool(_WS.match(chars[-1].ch))
    core = _collapse(chars)
    if lead and core and core[0].ch != " ":
        first = next(c for c in chars if _WS.match(c.ch))
        core.insert(0, Char(" ", first.start, first.end, first.slot))
    if trail and core:
        last = next(c for c in reversed(chars) if _WS.match(c.ch))
        core.append(Char(" ", last.start, last.end, last.slot))
    if lead and not core:
        core = [Char(" ", chars[0].start, chars[-1].end, -1)]
    return core


def find_tei_text(root: etree._Element) -> etree._Element | None:
    return next((e for e in root.iter() if _local(e) == "text"), None)


def read_tei(root: etree._Element, m: XmlMap) -> TextBuilder:
    out = TextBuilder()
    body = find_tei_text(root)
    if body is not None:
        _TeiWalk(m, out).walk(body, None)
    out.strip_end()
    out.finish()
    return out
