"""Transcript reading: kinds, positions in the file as given, and every refusal."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocr_fix.errors import BadInput, ExitCode, InputNotFound
from ocr_fix.transcript import Transcript, read_transcript

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def naive_positions(text: str) -> dict[int, tuple[int, int]]:
    """(line, column) of every non-line-ending character, counted the slow obvious way."""
    out: dict[int, tuple[int, int]] = {}
    line, col, k = 1, 1, 0
    while k < len(text):
        if text.startswith("\r\n", k):
            line, col, k = line + 1, 1, k + 2
        elif text[k] in "\r\n":
            line, col, k = line + 1, 1, k + 1
        else:
            out[k] = (line, col)
            col += 1
            k += 1
    return out


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(["a", "bc", " ", "é", "\n", "\r\n", "\r", "\f", "ﬁ", "\t"]), max_size=40),
    bom=st.booleans(),
    suffix=st.sampled_from([".md", ".txt"]),
)
def test_position_matches_naive_count(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], bom: bool, suffix: str
) -> None:
    text = "x" + "".join(pieces)  # never empty
    path = tmp_path_factory.mktemp("pos") / f"t{suffix}"
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    path.write_bytes(raw)
    t = read_transcript(path)
    assert t.text == text  # BOM gone, line endings untouched
    assert t.sha256 == hashlib.sha256(raw).hexdigest()
    for offset, expected in naive_positions(text).items():
        assert t.position(offset) == expected
    lines = re.split(r"\r\n|\n|\r", text)
    assert t.line_count == len(lines)
    assert [t.line_text(n) for n in range(1, len(lines) + 1)] == lines


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet="ab \n\r\u00e9", min_size=1, max_size=30), data=st.data())
def test_span_agrees_with_position(text: str, data: st.DataObject) -> None:
    t = Transcript(Path("x.md"), text, "markdown")
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    span = t.span(start, end)
    assert span.text == text[start:end] and (span.start, span.end) == (start, end)
    assert (span.line, span.column) == t.position(start)
    if end > start:
        last_line, last_col = t.position(end - 1)
        assert (span.end_line or span.line, span.end_column) == (last_line, last_col + 1)


def test_kinds_from_suffix(tmp_path: Path) -> None:
    for name, kind in [
        ("a.md", "markdown"),
        ("a.markdown", "markdown"),
        ("a.txt", "text"),
        ("README", "text"),
    ]:
        (tmp_path / name).write_text("hello\n", encoding="utf-8")
        assert read_transcript(tmp_path / name).kind == kind


def test_crlf_columns_do_not_count_the_carriage_return(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"ab\r\ncd\r\n")
    t = read_transcript(path)
    assert t.position(t.text.index("c")) == (2, 1)
    assert t.position(t.text.index("d")) == (2, 2)
    assert t.line_text(1) == "ab"


def test_span_on_one_line_and_across_lines() -> None:
    t = Transcript(Path("x.md"), "first line\nsecond line\n", "markdown")
    one = t.span(6, 10)
    assert (one.line, one.column, one.end_column, one.text, one.end_line) == (1, 7, 11, "line", None)
    across = t.span(6, 17)
    assert (across.line, across.column, across.end_line, across.end_column) == (1, 7, 2, 7)
    assert across.text == "line\nsecond"
    with_newline = t.span(6, 11)  # ends with the line break: still line 1
    assert (with_newline.end_line, with_newline.end_column) == (None, 12)
    empty = t.span(3, 3)
    assert (empty.line, empty.column, empty.end_column, empty.text) == (1, 4, 4, "")
    with pytest.raises(ValueError):
        t.span(5, 100)


def test_page_breaks_only_for_text(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("one\fpage two\ftail", encoding="utf-8")
    assert read_transcript(tmp_path / "p.txt").page_breaks == (3, 12)
    (tmp_path / "p.md").write_text("one\fpage two", encoding="utf-8")
    assert read_transcript(tmp_path / "p.md").page_breaks == ()


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(InputNotFound) as info:
        read_transcript(tmp_path / "nope.md")
    assert info.value.exit_code == ExitCode.NOT_FOUND == 3


def test_directory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as info:
        read_transcript(tmp_path)
    assert info.value.exit_code == ExitCode.BAD_INPUT


@pytest.mark.parametrize(
    "raw", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"text with a \x00 byte", b"%PDF-1.4\n"]
)
def test_binary_is_bad_input(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "scan.md"
    path.write_bytes(raw)
    with pytest.raises(BadInput, match="binary file, not a transcript"):
        read_transcript(path)


def test_non_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("first\nCaf\u00e9 ok\n".encode("utf-8") + "na\u00efve\n".encode("latin-1"))
    with pytest.raises(BadInput) as info:
        read_transcript(path)
    assert "line 3, column 3" in str(info.value)
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_utf16_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "u16.txt"
    path.write_bytes("hello".encode("utf-16"))
    with pytest.raises(BadInput, match="UTF-16"):
        read_transcript(path)


@pytest.mark.parametrize("raw", [b"", b"  \n\t\r\n", b"\xef\xbb\xbf\n"])
def test_empty_is_bad_input(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(raw)
    with pytest.raises(BadInput, match="empty transcript"):
        read_transcript(path)


ALTO = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v{v}#"><Layout><Page><PrintSpace>
<TextBlock ID="b1">
  <TextLine><String CONTENT="RUSSO-JAPANESE"/><SP/><String CONTENT="RELATIONS"/></TextLine>
  <TextLine><String CONTENT="uncertain"/><HYP CONTENT="-"/></TextLine>
</TextBlock>
<ComposedBlock><TextBlock ID="b2">
  <TextLine CONTENT="whole line content"/>
  <TextLine><String CONTENT=""/></TextLine>
</TextBlock></ComposedBlock>
</PrintSpace></Page></Layout></alto>
"""


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_alto_text_one_line_per_textline_blocks_separated(tmp_path: Path, version: str) -> None:
    path = tmp_path / "page.xml"
    path.write_text(ALTO.format(v=version), encoding="utf-8")
    t = read_transcript(path)
    assert t.kind == "alto"
    assert t.text == "RUSSO-JAPANESE RELATIONS\nuncertain-\n\nwhole line content"
    assert t.line_text(4) == "whole line content"


PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"><Page>
<ReadingOrder><OrderedGroup id="g">
  <RegionRefIndexed index="1" regionRef="r1"/><RegionRefIndexed index="0" regionRef="r2"/>
</OrderedGroup></ReadingOrder>
<TextRegion id="r1">
  <TextLine id="l1"><TextEquiv index="2"><Unicode>worse</Unicode></TextEquiv>
    <TextEquiv index="1"><Unicode>second region</Unicode></TextEquiv></TextLine>
</TextRegion>
<TextRegion id="r2">
  <TextLine id="l2"><Word><TextEquiv><Unicode>first</Unicode></TextEquiv></Word>
    <Word><TextEquiv><Unicode>region</Unicode></TextEquiv></Word></TextLine>
  <TextLine id="l3"><TextEquiv><Unicode>line two</Unicode></TextEquiv></TextLine>
</TextRegion>
</Page></PcGts>
"""


def test_page_xml_follows_reading_order_and_best_text_equiv(tmp_path: Path) -> None:
    path = tmp_path / "page.xml"
    path.write_text(PAGE, encoding="utf-8")
    t = read_transcript(path)
    assert t.kind == "page"
    assert t.text == "first region\nline two\n\nsecond region"


def test_malformed_xml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text('<?xml version="1.0"?>\n<alto>\n<Layout>\n</alto>\n', encoding="utf-8")
    with pytest.raises(BadInput, match="line 4"):
        read_transcript(path)


def test_other_xml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text("<html><body>hi</body></html>", encoding="utf-8")
    with pytest.raises(BadInput, match=r"unsupported transcript format.*supported: markdown"):
        read_transcript(path)


def test_alto_without_text_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.xml"
    path.write_text(
        '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout/></alto>', encoding="utf-8"
    )
    with pytest.raises(BadInput, match="empty transcript"):
        read_transcript(path)


@pytest.mark.skipif(not (REALDATA / "ehri_english_typewritten").is_dir(), reason="realdata absent")
def test_real_ehri_alto_matches_its_ground_truth_lines() -> None:
    xml = REALDATA / "ehri_english_typewritten" / "EHRI-DR-19390125-US_02.xml"
    t = read_transcript(xml)
    assert t.kind == "alto"
    assert t.text.split("\n") == xml.with_suffix(".gt.txt").read_text(encoding="utf-8").splitlines()


@pytest.mark.skipif(not (REALDATA / "tapuscorpus_french_typewritten").is_dir(), reason="realdata absent")
def test_real_multi_block_alto_keeps_every_line_in_order() -> None:
    xml = REALDATA / "tapuscorpus_french_typewritten" / "FRAN_0150_0002_L-medium.xml"
    t = read_transcript(xml)
    lines = t.text.split("\n")
    assert "" in lines  # blocks are separated
    assert [ln for ln in lines if ln] == xml.with_suffix(".gt.txt").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b"", "empty transcript"), (b" \n", "empty transcript"), (b"%PDF-1.7\n\x00\x01", "binary file")],
)
def test_xml_suffix_empty_or_binary(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "page.xml"
    path.write_bytes(raw)
    with pytest.raises(BadInput, match=message):
        read_transcript(path)


def test_position_rejects_offsets_outside_the_text() -> None:
    t = Transcript(Path("x.txt"), "ab\ncd")
    assert t.position(len(t.text)) == (2, 3)
    with pytest.raises(ValueError):
        t.position(-1)
    with pytest.raises(ValueError):
        t.line_text(3)
