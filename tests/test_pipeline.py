"""The pipeline with an injected engine: second readings, the layout retry and the
defaults of an engine that declares no capability."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PIL import Image

from ocr_fix.model import Page, PageRef, Severity
from ocr_fix.ocr.engine import Capabilities, OcrEngine
from ocr_fix.ocr.scheduler import chunk_size, ocr_pages
from ocr_fix.pipeline import OcrRun, check, mark_reader_for, reader_for, verifier_for
from tests.fakes import FakeEngine, page_from_text

TEXT = (
    "The Ambassador in Moscow reported that Prince Konoye would go to the Soviet Union as a "
    "special envoy of the Emperor in order to end the war and bring peace.\n"
)

#: Three columns of a page; a single-column reading runs their lines together.
COLUMNS = [
    ["The committee met on Monday", "to discuss the harbour defences", "and the supplies for winter."],
    ["Letters from the ministry came", "in the morning with new orders", "for the northern fleet and its"],
    ["Admiral Nimitz reported that", "the convoy reached Guam", "without losses of any kind"],
]


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    Image.new("L", (40, 20), 255).save(tmp_path / "01.png")
    return tmp_path / "01.png"


def _run(engine: OcrEngine) -> OcrRun:
    return OcrRun(jobs=1, no_cache=True, engines=lambda lang, psm: engine)


def _only(result, word: str):
    [finding] = [f for f in result.findings if f.transcript is not None and f.transcript.text == word]
    return finding


def test_second_readings_decide_a_disputed_word(tmp_path: Path, scan: Path) -> None:
    """The transcript's 'Moskow' against the scan's 'Moscow': an error on the first reading
    alone; a second reading that shows the transcript's spelling lowers the score (the
    fitted weight of ``second_agrees_transcript`` is never positive; here, with no verifier
    to ask (the fake engine has no page images), the fitted models take 2 to 3 off its
    log-odds, which near a score of 0.99 is only 0.13 to 0.2 of the score), one that shows
    the scan's keeps the error and records the agreement."""
    transcript = tmp_path / "t.md"
    transcript.write_text(TEXT.replace("Moscow", "Moskow"), encoding="utf-8")
    alone = check(transcript, [scan], run=_run(FakeEngine({"01.png": TEXT})))
    assert _only(alone, "Moskow").severity is Severity.ERROR
    assert not _only(alone, "Moskow").has("second_read")

    agrees_t = FakeEngine({"01.png": TEXT}, second={"01.png": TEXT.replace("Moscow", "Moskow")})
    noise = _only(check(transcript, [scan], run=_run(agrees_t)), "Moskow")
    assert noise.feature("second_agrees_transcript") == 1.0

    agrees_ocr = FakeEngine({"01.png": TEXT}, second={"01.png": TEXT})
    kept = _only(check(transcript, [scan], run=_run(agrees_ocr)), "Moskow")
    assert kept.severity is Severity.ERROR and kept.feature("second_agrees_ocr") == 1.0
    assert noise.score is not None and kept.score is not None and _only(alone, "Moskow").score is not None

    def logit(p: float) -> float:
        return math.log(p / (1 - p))

    assert (
        logit(noise.score) < logit(kept.score) - 1
        and logit(noise.score) < logit(_only(alone, "Moskow").score) - 1
    )


def test_the_line_reader_is_asked_only_for_disputed_lines(scan: Path) -> None:
    engine = FakeEngine({"01.png": TEXT}, second={})
    reader = reader_for(engine, None)
    assert reader is not None
    page = engine.recognise(PageRef(scan, 0, 1))
    [[words]] = reader.read_lines([(page, [page.words[0].box])])
    assert [w for w, _ in words] == ["The"]
    assert reader_for(FakeEngine({"01.png": TEXT}), None) is None  # declares no re-reading


def test_layout_retry_reads_run_together_columns_again(tmp_path: Path, scan: Path) -> None:
    transcript = tmp_path / "t.md"
    transcript.write_text("\n".join(line for column in COLUMNS for line in column) + "\n", encoding="utf-8")
    together = "\n".join(" ".join(column[i] for column in COLUMNS) for i in range(3))
    single = check(transcript, [scan], run=_run(FakeEngine({"01.png": together})))
    assert single.agreement is not None and single.agreement < 0.5 and single.findings
    layout = {"01.png": transcript.read_text(encoding="utf-8")}
    retried = check(transcript, [scan], run=_run(FakeEngine({"01.png": together}, layout=layout)))
    assert retried.agreement == 1.0 and not retried.findings


class Minimal(OcrEngine):
    """Only what an engine must implement; every capability left at its default."""

    def recognise(self, ref: PageRef) -> Page:
        page = page_from_text(TEXT, ref.number, ref.path)
        return Page(ref, page.width, page.height, page.words)

    def cache_token(self) -> str:
        return "minimal-1"


def test_an_engine_without_capabilities_gets_the_declared_defaults(tmp_path: Path, scan: Path) -> None:
    engine = Minimal()
    assert engine.capabilities == Capabilities()
    assert engine.with_timeout(3.0) is engine
    assert engine.line_reader(None) is None and engine.layout_retry() is None
    assert engine.load(PageRef(scan, 0, 1)) is None  # no page images: nothing to crop
    assert verifier_for(engine, None) is None and mark_reader_for(engine, None) is None
    with_second = FakeEngine({"01.png": TEXT}, second={})
    assert with_second.capabilities.line_rereading and verifier_for(with_second, None) is None
    assert chunk_size(100, 2, engine) == 1
    [page] = engine.recognise_many([PageRef(scan, 0, 1)])
    assert isinstance(page, Page) and page.words
    assert [p.number for p in ocr_pages([PageRef(scan, 0, 1)], engine, jobs=1, timeout=1.0)] == [1]
    transcript = tmp_path / "t.md"
    transcript.write_text(TEXT.replace("Moscow", "Moskow"), encoding="utf-8")
    result = check(transcript, [scan], run=_run(engine))
    assert _only(result, "Moskow").severity is Severity.ERROR  # first reading only
