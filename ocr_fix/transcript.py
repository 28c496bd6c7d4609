"""Read a transcript file and answer "which line and column is offset N?".

Findings must point into the transcript *as the user gave it*, so the reader keeps the
decoded text untouched (line endings included) and only records where lines start.
Normalisation (:mod:`ocr_fix.normalize`) works on a copy and carries offsets back here.

Kinds:

* ``markdown`` (``.md``, ``.markdown``) and ``text`` (``.txt``, no suffix, anything
  else): the decoded file itself; positions are positions in the file.
* ``alto`` / ``page`` (``.xml``, sniffed by root element): the text is *derived* — one
  line per ``TextLine`` (ALTO ``String/@CONTENT`` joined by single spaces, or the
  line's own ``CONTENT``; PAGE ``TextEquiv/Unicode``), text blocks / regions separated
  by one empty line. Line N of a finding is then the Nth line of that derived text
  (blank separator lines count), not a line of the XML file.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ocr_fix.errors import BadInput
from ocr_fix.fileio import decode_text, read_input
from ocr_fix.model import TranscriptSpan

KINDS = ("markdown", "text", "alto", "page")

#: What ends a line. A lone "\r" counts so old Mac files still get sane line numbers;
#: "\f" (page break) does not: editors show it inside a line.
_LINE_END = re.compile(r"\r\n|\n|\r")

_BOM = b"\xef\xbb\xbf"
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"PK\x03\x04", b"GIF8")


def _line_starts(text: str) -> tuple[int, ...]:
    return (0, *(m.end() for m in _LINE_END.finditer(text)))


@dataclass(frozen=True)
class Transcript:
    """A decoded transcript plus the bookkeeping to turn offsets into line:column.

    ``line_starts``, ``page_breaks`` and ``sha256`` are computed from ``text`` when not
    given, so tests can build one from a string; :func:`read_transcript` passes the
    digest of the raw bytes (BOM included) because that is what ``fix`` compares.
    """

    path: Path
    text: str
    kind: str = "text"
    line_starts: tuple[int, ...] = ()
    page_breaks: tuple[int, ...] = ()
    sha256: str = field(default="")

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

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset; columns count characters."""
        if not 0 <= offset <= len(self.text):
            raise ValueError(f"offset {offset} outside 0..{len(self.text)}")
        line = bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def span(self, start: int, end: int) -> TranscriptSpan:
        """The span ``text[start:end]`` as a :class:`TranscriptSpan`.

        ``end_column`` is exclusive and belongs to the line of the span's last
        character (``end_line``, set only when that differs from ``line``); a span that
        ends with a line break therefore stays on its line.
        """
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

    def line_text(self, line: int) -> str:
        """Text of 1-based ``line`` without its line ending."""
        if not 1 <= line <= len(self.line_starts):
            raise ValueError(f"line {line} outside 1..{len(self.line_starts)}")
        start = self.line_starts[line - 1]
        if line == len(self.line_starts):
            return self.text[start:]
        end = self.line_starts[line]
        return self.text[start : end - 2 if self.text.endswith("\r\n", start, end) else end - 1]


def read_transcript(path: Path) -> Transcript:
    """Read ``path`` as a transcript; every unusable file becomes one :class:`BadInput`."""
    path = Path(path)
    raw = read_input(path, "transcript file")
    digest = hashlib.sha256(raw).hexdigest()
    suffix = path.suffix.lower()
    if not raw.strip():
        raise BadInput("empty transcript", path)
    if suffix == ".xml":
        if raw.startswith(_BINARY_MAGIC):
            raise BadInput("binary file, not a transcript", path)
        kind, text = _read_xml(raw, path)
        _require_content(text, path)
        return Transcript(path, text, kind, sha256=digest)
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


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _read_xml(raw: bytes, path: Path) -> tuple[str, str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno is not None else exc.position[0]
        raise BadInput(f"malformed XML at line {line}: {exc.msg}", path) from exc
    name = _local(root.tag)
    if name == "alto":
        return "alto", _alto_text(root)
    if name == "PcGts":
        return "page", _page_text(root)
    raise BadInput(f"XML root <{name}> is neither ALTO <alto> nor PAGE <PcGts>", path)


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c.tag) == name]


def _alto_line(line: etree._Element) -> str:
    words: list[str] = []
    for child in line.iter():
        kind = _local(child.tag)
        if kind == "String":
            words.append(child.get("CONTENT", ""))
        elif kind == "HYP" and words:
            # A hyphenation mark belongs to the word before it, not a word of its own.
            words[-1] += child.get("CONTENT", "-")
    if not words and line.get("CONTENT"):
        words.append(line.get("CONTENT", ""))
    return " ".join(w for w in words if w)


def _join_blocks(blocks: list[list[str]]) -> str:
    return "\n\n".join("\n".join(lines) for lines in blocks if lines)


def _alto_text(root: etree._Element) -> str:
    blocks = []
    for block in root.iter():
        if _local(block.tag) != "TextBlock":
            continue
        lines = [_alto_line(tl) for tl in block.iter() if _local(tl.tag) == "TextLine"]
        blocks.append([ln for ln in lines if ln.strip()])
    return _join_blocks(blocks)


def _text_equiv(el: etree._Element) -> str | None:
    """The element's own best TextEquiv: lowest ``index`` wins, as PAGE prescribes."""
    equivs = _children(el, "TextEquiv")
    if not equivs:
        return None
    best = min(equivs, key=lambda e: int(e.get("index", "0") or 0))
    unicode = _children(best, "Unicode")
    return (unicode[0].text or "") if unicode else ""


def _page_line(line: etree._Element) -> str:
    own = _text_equiv(line)
    if own is not None:
        return own
    words = [_text_equiv(w) or "" for w in _children(line, "Word")]
    return " ".join(w for w in words if w)


def _page_text(root: etree._Element) -> str:
    all_regions = [r for r in root.iter() if _local(r.tag) == "TextRegion"]
    regions = {r.get("id"): r for r in all_regions if r.get("id")}
    order = [
        ref.get("regionRef")
        for ref in sorted(
            (r for r in root.iter() if _local(r.tag) == "RegionRefIndexed"),
            key=lambda r: int(r.get("index", "0") or 0),
        )
    ]
    ordered = [regions[rid] for rid in order if rid in regions]
    seen = {id(r) for r in ordered}
    ordered += [r for r in all_regions if id(r) not in seen]
    blocks = []
    for region in ordered:
        lines = [_page_line(tl) for tl in _children(region, "TextLine")]
        blocks.append([ln for ln in lines if ln.strip()])
    return _join_blocks(blocks)
