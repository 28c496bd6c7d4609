"""Where each character lxml reports sits in the XML file itself.

lxml gives element values (attribute values, ``.text``, ``.tail``) but no columns, and
a value is not a slice of the file: ``&amp;`` is one character, a line break inside an
attribute value is a space, ``\\r\\n`` is one ``\\n``. :class:`XmlMap` scans the decoded
file once, pairs every start tag with its lxml element (both in document order), and
decodes each attribute value and text run itself, keeping for every character of the
value the file span ``[start, end)`` it came from.

A value whose own decoding does not equal lxml's (an entity from a DTD, text split by a
comment) gets no per-character map: :meth:`XmlMap.attr` / :meth:`XmlMap.text` return
``None`` and the caller falls back to the element's start tag.

Definitions: a *slot* is one stretch of the file that yields (part of) a value: an
attribute value between its quotes, or a run of character data / CDATA. ``quote`` is the
attribute's delimiter (``"``/``'``), ``""`` for an unquoted HTML attribute, ``None`` for
character data; :func:`escape` re-escapes replacement text for a slot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.entities import name2codepoint

from lxml import etree

__all__ = ["Char", "Slot", "XmlMap", "escape"]

_TOKEN = re.compile(
    r"""(?P<comment><!--.*?-->)
    |(?P<cdata><!\[CDATA\[.*?\]\]>)
    |(?P<pi><\?.*?\?>)
    |(?P<decl><![A-Za-z](?:[^\[>]|\[.*?\])*>)
    |(?P<end></[^>]*>)
    |(?P<start><(?P<name>[^\s/>!?<]+)(?P<attrs>(?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*(?P<close>/?)>)
    |(?P<text>[^<]+)
    |(?P<stray><)""",
    re.S | re.X,
)
_ATTR = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_REF = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][\w.-]*);|\r\n|\r|\n|\t")
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_XML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


@dataclass(frozen=True, slots=True)
class Slot:
    start: int  # file character offsets of the raw value
    end: int
    quote: str | None  # '"' / "'" / "" (unquoted attribute); None: character data


@dataclass(frozen=True, slots=True)
class Char:
    """One character of a value and the file span ``[start, end)`` it was read from."""

    ch: str
    start: int
    end: int
    slot: int  # index into XmlMap.slots, -1 when not exactly mapped


@dataclass
class _Scanned:
    local: str
    tag_start: int
    attrs: dict[str, int] = field(default_factory=dict)  # local attribute name -> slot
    text: list[int] = field(default_factory=list)  # slots of .text
    tail: list[int] = field(default_factory=list)  # slots of .tail


def escape(text: str, quote: str | None) -> str:
    """``text`` escaped to stand in a slot with this ``quote`` (see module docstring)."""
    out = text.replace("&", "&amp;").replace("<", "&lt;")
    if quote is None:
        return out.replace(">", "&gt;").replace("\r", "&#13;")
    out = out.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")
    return out.replace('"', "&quot;") if quote != "'" else out.replace("'", "&apos;")


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


class XmlMap:
    """Start tags and value slots of ``file_text`` paired with the elements under ``root``."""

    def __init__(self, file_text: str, root: etree._Element, html: bool = False) -> None:
        self.file_text = file_text
        self.html = html
        self.slots: list[Slot] = []
        scanned = self._scan(file_text)
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        self._by_element: dict[etree._Element, _Scanned] = {}
        if html:
            self._pair_html(elements, scanned)
        elif len(scanned) == len(elements) and all(
            s.local == etree.QName(e).localname for s, e in zip(scanned, elements, strict=True)
        ):
            self._by_element = dict(zip(elements, scanned, strict=True))

    @property
    def paired(self) -> bool:
        return bool(self._by_element)

    # -- scanning ---------------------------------------------------------------------

    def _slot(self, start: int, end: int, quote: str | None) -> int:
        self.slots.append(Slot(start, end, quote))
        return len(self.slots) - 1

    def _scan(self, text: str) -> list[_Scanned]:
        out: list[_Scanned] = []
        stack: list[_Scanned] = []
        target: list[int] | None = None  # where character data goes next
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind in ("text", "cdata"):
                if target is not None:
                    if kind == "text":
                        target.append(self._slot(m.start(), m.end(), None))
                    else:
                        target.append(self._slot(m.start() + 9, m.end() - 3, "cdata"))
            elif kind == "start":
                el = _Scanned(_local(m.group("name")), m.start())
                base = m.start("attrs")
                for a in _ATTR.finditer(m.group("attrs")):
                    g = next((i for i in (2, 3, 4) if a.group(i) is not None), None)
                    if g is None:
                        continue
                    quote = {2: '"', 3: "'", 4: ""}[g]
                    el.attrs[_local(a.group(1))] = self._slot(base + a.start(g), base + a.end(g), quote)
                out.append(el)
                if (m.group("close") and not self.html) or (self.html and el.local.lower() in _VOID):
                    target = el.tail
                else:
                    stack.append(el)
                    target = el.text
            elif kind == "end":
                name = _local(m.group()[2:-1].strip())
                while stack:
                    top = stack.pop()
                    if top.local == name or not self.html:
                        target = top.tail
                        break
            else:
                target = None  # text after a comment or PI is that node's tail in lxml
        return out

    def _pair_html(self, elements: list[etree._Element], scanned: list[_Scanned]) -> None:
        """HTML parsing adds implied elements; pair only elements with an id or class."""

        def key_el(e: etree._Element) -> tuple[str, str, str]:
            return (etree.QName(e).localname.lower(), e.get("id", ""), e.get("class", ""))

        def key_sc(s: _Scanned) -> tuple[str, str, str]:
            return (s.local.lower(), self.value(s.attrs.get("id")), self.value(s.attrs.get("class")))

        left = [e for e in elements if e.get("id") or e.get("class")]
        right = [s for s in scanned if "id" in s.attrs or "class" in s.attrs]
        if len(left) == len(right) and all(key_el(e) == key_sc(s) for e, s in zip(left, right, strict=True)):
            self._by_element = dict(zip(left, right, strict=True))

    # -- decoding ---------------------------------------------------------------------

    def value(self, slot: int | None) -> str:
        if slot is None:
            return ""
        return "".join(c.ch for c in self._decode(slot))

    def _decode(self, index: int) -> Iterator[Char]:
        slot = self.slots[index]
        text = self.file_text
        if slot.quote == "cdata":
            pos = slot.start
            for m in re.finditer(r"\r\n|\r", text[slot.start : slot.end]):
                for k in range(pos, slot.start + m.start()):
                    yield Char(text[k], k, k + 1, index)
                yield Char("\n", slot.start + m.start(), slot.start + m.end(), index)
                pos = slot.start + m.end()
            for k in range(pos, slot.end):
                yield Char(text[k], k, k + 1, index)
            return
        attr = slot.quote is not None
        pos = slot.start
        for m in _REF.finditer(text, slot.start, slot.end):
            for k in range(pos, m.start()):
                yield Char(text[k], k, k + 1, index)
            ref = m.group(1)
            if ref is None:
                yield Char(" " if attr else "\n" if m.group() != "\t" else "\t", m.start(), m.end(), index)
            elif ref.startswith("#"):
                code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
                yield Char(chr(code), m.start(), m.end(), index)
            elif ref in _XML_ENTITIES:
                yield Char(_XML_ENTITIES[ref], m.start(), m.end(), index)
            elif self.html and ref in name2codepoint:
                yield Char(chr(name2codepoint[ref]), m.start(), m.end(), index)
            else:  # an entity this scanner does not know: keep the raw text (will not verify)
                for k in range(m.start(), m.end()):
                    yield Char(text[k], k, k + 1, index)
            pos = m.end()
        for k in range(pos, slot.end):
            yield Char(text[k], k, k + 1, index)

    def _chars(self, slots: list[int], expected: str | None) -> list[Char] | None:
        chars = [c for s in slots for c in self._decode(s)]
        if "".join(c.ch for c in chars) != (expected or ""):
            return None
        return chars

    # -- per element ------------------------------------------------------------------

    def tag_start(self, el: etree._Element) -> int | None:
        s = self._by_element.get(el)
        return s.tag_start if s is not None else None

    def attr(self, el: etree._Element, name: str) -> list[Char] | None:
        """The characters of attribute ``name`` (local name) with their file spans."""
        s = self._by_element.get(el)
        if s is None or name not in s.attrs:
            return None
        return self._chars([s.attrs[name]], el.get(name))

    def text(self, el: etree._Element) -> list[Char] | None:
        s = self._by_element.get(el)
        return None if s is None else self._chars(s.text, el.text)

    def tail(self, el: etree._Element) -> list[Char] | None:
        s = self._by_element.get(el)
        return None if s is None else self._chars(s.tail, el.tail)

    def approximate(self, el: etree._Element, value: str) -> list[Char]:
        """``value`` pinned to ``el``'s start tag (or the file start): for values this
        scanner cannot map character by character; such characters are never edited."""
        at = self.tag_start(el)
        if at is None:
            at = _line_offset(self.file_text, el.sourceline)
        return [Char(ch, at, at, -1) for ch in value]


def _line_offset(text: str, line: int | None) -> int:
    if not line or line <= 1:
        return 0
    pos = 0
    for _ in range(line - 1):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return pos
        pos = nxt + 1
    return pos
