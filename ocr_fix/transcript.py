"""Read a transcript file and answer "where in the file is offset N?".

Findings must point into the transcript *as the user gave it*. A transcript is read into
``text``, the text that checking compares with the scans, plus the bookkeeping that
maps each character of it back to the file.

Kinds (detected by content; the suffix only decides between markdown and plain text):

* ``markdown`` (``.md``, ``.markdown``) and ``text`` (anything else that is not XML or
  HTML, or ``-``: stdin): ``text`` is the decoded file itself (line endings included);
  positions are positions in the file.
* ``alto``, ``page``, ``hocr``, ``tei`` (XML or hOCR HTML, sniffed by the root element
  and, for HTML, the hOCR classes): ``text`` is *derived* (see :mod:`ocr_fix.readers`)
  and a :class:`SourceMap` keeps, for each of its characters, the file span it was read
  from and the id of the element that holds it. :meth:`Transcript.span` then gives the
  line and column of the text in the XML file, plus that element id, while
  ``start``/``end`` stay offsets into ``text`` (what ``fix`` re-reads and checks).
  :meth:`Transcript.position` and :meth:`Transcript.line_text` always work on ``text``.

Anything else that looks like markup (an HTML page, XML with another root) is refused:
reading it as plain text would "check" tags and report nothing useful.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import sys
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ocr_fix.errors import BadInput
from ocr_fix.fileio import decode_text, read_input
from ocr_fix.model import TranscriptSpan
from ocr_fix.readers import (
    TEXTEQUIV_LEVELS,
    Mark,
    TextBuilder,
    is_hocr,
    read_alto,
    read_hocr,
    read_page,
    read_tei,
)
from ocr_fix.xmlmap import Slot, XmlMap

__all__ = [
    "KINDS",
    "STDIN",
    "SUPPORTED",
    "TEXTEQUIV_LEVELS",
    "SourceMap",
    "Transcript",
    "XmlEditError",
    "is_markup",
    "read_raw",
    "read_transcript",
    "transcript_from_bytes",
]

KINDS = ("markdown", "text", "alto", "page", "hocr", "tei")
XML_KINDS = frozenset({"alto", "page", "hocr", "tei"})

#: Named in the refusal of an unknown format.
SUPPORTED = "markdown (.md), plain text (.txt), ALTO XML, PAGE XML, hOCR, TEI XML"

#: What ends a line. A lone "\r" counts so old Mac files still get sane line numbers;
#: "\f" (page break) does not: editors show it inside a line.
_LINE_END = re.compile(r"\r\n|\n|\r")

_BOM = b"\xef\xbb\xbf"
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"PK\x03\x04", b"GIF8")
_XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_MARKUP_START = re.compile(r"^\s*<(?:\?xml|!DOCTYPE|!--|[A-Za-z][\w.:-]*[\s/>])", re.I)
_HTML_START = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!DOCTYPE\s+html|html[\s>])", re.I | re.S
)


def _line_starts(text: str) -> tuple[int, ...]:
    return (0, *(m.end() for m in _LINE_END.finditer(text)))


class XmlEditError(ValueError):
    """An edit ``fix`` cannot make in the XML file; the message says why."""


@dataclass(frozen=True)
class SourceMap:
    """Where each character of a derived transcript text comes from in the file.

    ``starts[i]``/``ends[i]``: file character span of ``text[i]`` (equal for a
    separator the reader added, pinned after the previous character); ``slots[i]``:
    index into ``slot_info`` of the attribute value / text run it was read from, ``-1``
    for separators and characters mapped only approximately; ``owners[i]``: index into
    ``ids`` of the id-bearing element holding it (``-1``: none).
    """

    file_text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    slots: tuple[int, ...]
    owners: tuple[int, ...]
    ids: tuple[str, ...]
    slot_info: tuple[Slot, ...]
    encoding: str = "utf-8"
    prefix: bytes = b""  # a BOM before the encoded file text
    marks: tuple[Mark, ...] = ()
    file_line_starts: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.file_line_starts:
            object.__setattr__(self, "file_line_starts", _line_starts(self.file_text))

    @classmethod
    def build(cls, file_text: str, out: TextBuilder, xml: XmlMap, encoding: str, prefix: bytes) -> SourceMap:
        return cls(
            file_text,
            tuple(out.starts),
            tuple(out.ends),
            tuple(out.slots),
            tuple(out.owners),
            tuple(out.ids),
            tuple(xml.slots),
            encoding,
            prefix,
            tuple(out.marks),
        )

    def file_position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset in the file."""
        line = bisect_right(self.file_line_starts, offset)
        return line, offset - self.file_line_starts[line - 1] + 1

    def point(self, offset: int) -> int:
        """File offset of the gap before ``text[offset]``."""
        if offset < len(self.starts) and self.slots[offset] != -1:
            return self.starts[offset]
        if offset > 0:
            return self.ends[offset - 1]
        return self.starts[0] if self.starts else 0

    def element(self, start: int, end: int) -> str | None:
        """Id of the element holding the span's first character (the point's neighbour)."""
        n = len(self.owners)
        probe = [i for i in range(start, min(end, n)) if self.slots[i] != -1][:1]
        probe += [i for i in (start, start - 1) if 0 <= i < n]
        for i in probe:
            if self.owners[i] >= 0:
                return self.ids[self.owners[i]]
        return None

    def encode(self, file_text: str) -> bytes:
        return self.prefix + file_text.encode(self.encoding)

    def file_edits(self, start: int, end: int, replacement: str) -> list[tuple[int, int, str]]:
        """The file splices that make ``text[start:end]`` read ``replacement``.

        Every spliced range lies inside one attribute value or text run, so no markup
        changes. A span over several values (ALTO Strings, PAGE Words) is changed value by
        value when ``replacement`` has one word per value; otherwise, or where a
        character has no exact place in the file, :class:`XmlEditError` says why.
        """
        if start == end:
            return [self._insert(start, replacement)]
        runs: list[tuple[int, list[int]]] = []  # (slot, derived offsets) in order
        for i in range(start, end):
            slot = self.slots[i]
            if slot == -1:
                if self.starts[i] == self.ends[i]:
                    continue  # a separator the reader added (space between words)
                raise XmlEditError("the text there has no exact place in the file")
            if runs and runs[-1][0] == slot:
                runs[-1][1].append(i)
            else:
                runs.append((slot, [i]))
        if not runs:
            return [self._insert(start, replacement)]
        if len(runs) == 1:
            return [self._splice(runs[0][0], runs[0][1], replacement)]
        words = replacement.split()
        if len(words) != len(runs):
            raise XmlEditError(
                f"the text spans {len(runs)} elements and the fix does not split into one word each"
            )
        return [self._splice(slot, idx, w) for (slot, idx), w in zip(runs, words, strict=True)]

    def _splice(self, slot: int, offsets: Sequence[int], replacement: str) -> tuple[int, int, str]:
        from ocr_fix.xmlmap import escape

        info = self.slot_info[slot]
        quote = None if info.quote in (None, "cdata") else info.quote
        if info.quote == "cdata":
            if "]]>" in replacement:
                raise XmlEditError("the fix would end a CDATA section")
            return self.starts[offsets[0]], self.ends[offsets[-1]], replacement
        if info.quote == "" and (not replacement or re.search(r"[\s\"'=<>`]", replacement)):
            raise XmlEditError("an unquoted HTML attribute cannot take that text")
        return self.starts[offsets[0]], self.ends[offsets[-1]], escape(replacement, quote)

    def _insert(self, at: int, replacement: str) -> tuple[int, int, str]:
        """Text missing from the transcript goes into the value before the gap (or after)."""
        for i in (at - 1, at):
            if 0 <= i < len(self.slots) and self.slots[i] != -1:
                pos = self.ends[i] if i == at - 1 else self.starts[i]
                return self._splice_at(self.slots[i], pos, replacement)
        raise XmlEditError("no element value next to the gap to insert into")

    def _splice_at(self, slot: int, pos: int, replacement: str) -> tuple[int, int, str]:
        from ocr_fix.xmlmap import escape

        info = self.slot_info[slot]
        if info.quote == "":
            raise XmlEditError("an unquoted HTML attribute cannot take that text")
        quote = None if info.quote in (None, "cdata") else info.quote
        return pos, pos, replacement if info.quote == "cdata" else escape(replacement, quote)


@dataclass(frozen=True)
class Transcript:
    """A transcript's text plus the bookkeeping to turn offsets into file positions.

    ``line_starts``, ``page_breaks`` and ``sha256`` are computed from ``text`` when not
    given, so tests can build one from a string; :func:`read_transcript` passes the
    digest of the raw bytes (BOM included) because that is what ``fix`` compares.
    ``source`` is set for the XML kinds (module docstring).
    """

    path: Path
    text: str
    kind: str = "text"
    line_starts: tuple[int, ...] = ()
    page_breaks: tuple[int, ...] = ()
    sha256: str = field(default="")
    source: SourceMap | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown transcript kind {self.kind!r}")
        if not self.line_starts:
            object.__setattr__(self, "line_starts", _line_starts(self.text))
        if not self.page_breaks and self.kind == "text" and "\f" in self.text:
            breaks = tuple(i for i, ch in enumerate(self.text) if ch == "\f")
            object.__setattr__(self, "page_breaks", breaks)
        if not self.sha256:
            digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
            object.__setattr__(self, "sha256", digest)

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    @property
    def marks(self) -> tuple[Mark, ...]:
        """Editorial marks (TEI ``gap``, ``unclear``, ``sic``) over ``text``."""
        return self.source.marks if self.source is not None else ()

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset in ``text``; columns count characters."""
        if not 0 <= offset <= len(self.text):
            raise ValueError(f"offset {offset} outside 0..{len(self.text)}")
        line = bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def span(self, start: int, end: int) -> TranscriptSpan:
        """The span ``text[start:end]`` as a :class:`TranscriptSpan` positioned in the file.

        ``end_column`` is exclusive and belongs to the line of the span's last
        character (``end_line``, set only when that differs from ``line``); a span that
        ends with a line break therefore stays on its line. For the XML kinds line and
        columns are those of the text in the XML file and ``element`` names its element.
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"bad span {start}..{end} for text of length {len(self.text)}")
        if self.source is not None:
            return self._file_span(self.source, start, end)
        return self.text_span(start, end)

    def text_span(self, start: int, end: int) -> TranscriptSpan:
        """Like :meth:`span`, with line and columns in ``text`` (the same for
        markdown and plain text; the derived text's lines for XML)."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"bad span {start}..{end} for text of length {len(self.text)}")
        line, column = self.position(start)
        if end == start:
            return TranscriptSpan(line, column, column, "", start, end)
        last_line, last_column = self.position(end - 1)
        return TranscriptSpan(
            line=line,
            column=column,
            end_column=last_column + 1,
            text=self.text[start:end],
            start=start,
            end=end,
            end_line=last_line if last_line != line else None,
        )

    def _file_span(self, src: SourceMap, start: int, end: int) -> TranscriptSpan:
        element = src.element(start, end)
        sourced = [i for i in range(start, end) if src.ends[i] > src.starts[i]]
        if not sourced:
            line, column = src.file_position(src.point(start))
            return TranscriptSpan(line, column, column, self.text[start:end], start, end, None, element)
        first, last = src.starts[sourced[0]], src.ends[sourced[-1]]
        line, column = src.file_position(first)
        last_line, last_column = src.file_position(last - 1)
        return TranscriptSpan(
            line=line,
            column=column,
            end_column=last_column + 1,
            text=self.text[start:end],
            start=start,
            end=end,
            end_line=last_line if last_line != line else None,
            element=element,
        )

    def line_text(self, line: int) -> str:
        """Text of 1-based ``line`` of ``text`` without its line ending."""
        if not 1 <= line <= len(self.line_starts):
            raise ValueError(f"line {line} outside 1..{len(self.line_starts)}")
        start = self.line_starts[line - 1]
        if line == len(self.line_starts):
            return self.text[start:]
        end = self.line_starts[line]
        return self.text[start : end - 2 if self.text.endswith("\r\n", start, end) else end - 1]


STDIN = Path("-")


def read_transcript(path: Path, textequiv_level: str = "line") -> Transcript:
    """Read ``path`` (``-``: stdin) as a transcript; every unusable file becomes one
    :class:`BadInput`. ``textequiv_level`` (``line`` / ``word``) applies to PAGE."""
    path = Path(path)
    return transcript_from_bytes(read_raw(path), path, textequiv_level)


def read_raw(path: Path) -> bytes:
    """The bytes of a transcript file, or of stdin for ``-``."""
    return sys.stdin.buffer.read() if Path(path) == STDIN else read_input(Path(path), "transcript file")


def transcript_from_bytes(raw: bytes, path: Path, textequiv_level: str = "line") -> Transcript:
    """:func:`read_transcript` on bytes already read (``path`` names the file and its suffix)."""
    digest = hashlib.sha256(raw).hexdigest()
    suffix = path.suffix.lower()
    if not raw.strip():
        raise BadInput("empty transcript", path)
    if raw.startswith(_BINARY_MAGIC):
        raise BadInput("binary file, not a transcript", path)
    markup = _sniff_markup(raw)
    if markup:
        kind, text, source, breaks = _read_markup(raw, path, textequiv_level)
        _require_content(text, path)
        return Transcript(path, text, kind, page_breaks=breaks, sha256=digest, source=source)
    text = _decode(raw, path)
    _require_content(text, path)
    kind = "markdown" if suffix in (".md", ".markdown") else "text"
    return Transcript(path, text, kind, sha256=digest)


def _require_content(text: str, path: Path) -> None:
    if not text.strip():
        raise BadInput("empty transcript", path)


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith(_BINARY_MAGIC):
        raise BadInput("binary file, not a transcript", path)
    return decode_text(raw, path, "transcript")


def is_markup(raw: bytes) -> bool:
    """Whether ``raw`` is an XML or HTML document (then read as one of the XML kinds,
    or refused) rather than text."""
    return not raw.startswith(_BINARY_MAGIC) and _sniff_markup(raw)


def _sniff_markup(raw: bytes) -> bool:
    """Whether the file is an XML or HTML document rather than text that may hold tags.

    A markdown file may start with ``<sup>`` or an HTML comment; it is markup only
    when it parses as one whole XML document or starts like an HTML page."""
    head = raw[:4096].lstrip(b"\xef\xbb\xbf").decode("utf-8", "replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = raw[:4096].decode("utf-16", "replace").lstrip("\ufeff")
    if not _MARKUP_START.match(head):
        return False
    if _HTML_START.match(head) or head.lstrip().startswith("<?xml"):
        return True
    try:
        etree.fromstring(raw, _xml_parser())
    except etree.XMLSyntaxError:
        return False
    return True


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)


def _file_text(raw: bytes, path: Path) -> tuple[str, str, bytes]:
    """The decoded file, its encoding and the BOM to write back before it."""
    for bom, enc in ((_BOM, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom):
            body = raw[len(bom) :]
            try:
                return body.decode(enc), enc, bom
            except UnicodeDecodeError:
                raise BadInput(f"not valid {enc.upper()} text", path) from None
    declared = _XML_DECL_ENCODING.match(raw)
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise BadInput(f"unknown encoding {encoding!r} in the XML declaration", path) from None
    if encoding.replace("-", "").replace("_", "") in ("utf8",):
        return decode_text(raw, path, "transcript"), "utf-8", b""
    try:
        return raw.decode(encoding), encoding, b""
    except UnicodeDecodeError:
        raise BadInput(f"not valid {encoding} text (as its XML declaration says)", path) from None


def _read_markup(raw: bytes, path: Path, level: str) -> tuple[str, str, SourceMap, tuple[int, ...]]:
    file_text, encoding, prefix = _file_text(raw, path)
    html = False
    try:
        root = etree.fromstring(raw, _xml_parser())
    except etree.XMLSyntaxError as exc:
        if not _HTML_START.match(file_text):
            line = exc.lineno if exc.lineno is not None else exc.position[0]
            raise BadInput(f"malformed XML at line {line}: {exc.msg}", path) from exc
        import lxml.html

        root = lxml.html.document_fromstring(file_text)
        html = True
    name = etree.QName(root.tag).localname if isinstance(root.tag, str) else ""
    xml = XmlMap(file_text, root, html=html)
    if name == "alto":
        kind, out = "alto", read_alto(root, xml)
    elif name == "PcGts":
        if level not in TEXTEQUIV_LEVELS:
            raise BadInput(f"--textequiv-level must be one of {', '.join(TEXTEQUIV_LEVELS)}", path)
        kind, out = "page", read_page(root, xml, level)
    elif name in ("TEI", "teiCorpus"):
        kind, out = "tei", read_tei(root, xml)
    elif name.lower() == "html" and is_hocr(root):
        kind, out = "hocr", read_hocr(root, xml)
    else:
        what = "an HTML page without hOCR markup" if name.lower() == "html" else f"XML with root <{name}>"
        raise BadInput(f"unsupported transcript format: {what}; supported: {SUPPORTED}", path)
    source = SourceMap.build(file_text, out, xml, encoding, prefix)
    return kind, out.text(), source, tuple(out.page_breaks)
