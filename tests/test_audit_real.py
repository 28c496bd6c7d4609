"""The realdata audit keeps its verdicts across runs and counts them per 1,000 words."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import audit_real as ar  # noqa: E402


def _row(doc: str, line: int, col: int, text: str, folder: str = "set_a") -> ar.AuditRow:
    return ar.AuditRow(
        set=folder,
        document=doc,
        line=line,
        column=col,
        transcript=text,
        scan="x",
        suggestion="x|y",
        severity="warning",
        kind="substitution",
        score=0.8,
        crop="",
        page_image="p.jpg",
    )


ROWS = [
    _row("D1", 3, 5, "a|b"),  # a pipe in the text
    _row("D1", 4, 1, "rück-\nsichtslos"),  # a span across a line break
    _row("D2", 7, 2, " leading space", "set_b"),
    _row("D2", 9, 1, ""),  # an omission: nothing in the transcript
]
WORDS = {"set_a": 2000, "set_b": 500}


def test_verdicts_survive_a_rewrite_of_the_file(tmp_path: Path) -> None:
    given = {
        ar._key(ROWS[0]): ("slip", "scan shows b"),
        ar._key(ROWS[1]): ("false alarm", "hyphenated word"),
        ar._key(ROWS[3]): ("unclear", "faint"),
    }
    md = tmp_path / "audit.md"
    md.write_text(ar.render_md(ROWS, WORDS, given, "# head\n"), encoding="utf-8")
    assert ar.read_verdicts(md) == {**given, ar._key(ROWS[2]): ("?", "")}
    # a second rewrite (as --write-md does) changes nothing
    again = ar.render_md(ROWS, WORDS, ar.read_verdicts(md), "# head\n")
    assert again == md.read_text(encoding="utf-8")


def test_a_verdict_outlives_a_run_that_does_not_raise_its_finding(tmp_path: Path) -> None:
    given = {ar._key(ROWS[0]): ("slip", "scan shows b"), ar._key(ROWS[1]): ("false alarm", "x")}
    md = tmp_path / "audit.md"
    md.write_text(ar.render_md(ROWS, WORDS, given, "# head\n"), encoding="utf-8")
    # the next version raises only the last two findings
    later = ROWS[2:]
    kept = ar.earlier(ar.table(md), later)
    md.write_text(ar.render_md(later, WORDS, ar.read_verdicts(md), "# head\n", kept), encoding="utf-8")
    assert {k: v for k, v in ar.read_verdicts(md).items() if k in given} == given
    assert ar.totals(later, WORDS, ar.read_verdicts(md))["overall"]["findings"] == 2  # not counted
    # and when a finding comes back, its verdict is in the table again, once
    md.write_text(
        ar.render_md(ROWS, WORDS, ar.read_verdicts(md), "# head\n", ar.earlier(ar.table(md), ROWS)),
        encoding="utf-8",
    )
    assert ar.read_verdicts(md)[ar._key(ROWS[0])] == ("slip", "scan shows b")
    assert "does not raise" not in md.read_text(encoding="utf-8")


def test_totals_per_set_and_per_thousand_words() -> None:
    given = {
        ar._key(ROWS[0]): ("slip", ""),
        ar._key(ROWS[1]): ("false alarm", ""),
        ar._key(ROWS[2]): ("false alarm", ""),
    }
    t = ar.totals(ROWS, WORDS, given)
    assert (t["set_a"]["findings"], t["set_a"]["slips"], t["set_a"]["false_alarms"]) == (3, 1, 1)
    assert t["set_a"]["unjudged"] == 1
    assert t["set_a"]["false_alarms_per_1000"] == 0.5
    assert t["set_b"]["false_alarms_per_1000"] == 2.0
    assert t["overall"]["words"] == 2500
    assert t["overall"]["false_alarms"] == 2
    assert t["overall"]["findings_per_1000"] == 1.6


def test_crop_spans_the_page_width_and_boxes_the_word(tmp_path: Path) -> None:
    page = tmp_path / "page.png"
    Image.new("RGB", (1000, 800), "white").save(page)
    out = tmp_path / "crop.png"
    ar._crop(page, (400, 300, 500, 330), out)
    with Image.open(out) as im:
        assert im.width == 1000  # the whole line, not just the word
        top = int(300 - ar.V_MARGIN * 30)
        assert im.height == int(330 + ar.V_MARGIN * 30) - top  # a margin, not the whole page
        assert im.getpixel((400 - 3, 315 - top)) == (255, 0, 0)  # the box's left edge


def test_rows_of_a_report_keep_errors_and_warnings_only(tmp_path: Path) -> None:
    page = tmp_path / "p.png"
    Image.new("RGB", (600, 400), "white").save(page)

    def finding(sev: str, line: int) -> dict:
        return {
            "severity": sev,
            "kind": "substitution",
            "transcript": {"line": line, "column": 1, "text": "tbe"},
            "scan": {"text": "the", "bbox": [10, 10, 60, 30], "image": str(page)},
            "suggestion": "the",
            "score": 0.9,
        }

    report = tmp_path / "r.json"
    report.write_text(json.dumps({"findings": [finding("info", 1), finding("error", 2)]}), encoding="utf-8")
    s = ar.InjectedSet("Doc", "g", report, (page,), report, report)
    rows = ar._rows(s, report, ["f1", "f2"], tmp_path)
    assert [(r.set, r.line, r.severity) for r in rows] == [("f2", 2, "error")]
    assert Path(rows[0].crop).is_file()
