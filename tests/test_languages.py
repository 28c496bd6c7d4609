"""Languages: a dictionary per language code, typewriter substitutes, ß against ss,
lexicon proximity relative to word length."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocr_fix.cli import app
from ocr_fix.lexicon import Dictionary, Lexicon, Term, near_distance
from ocr_fix.normalize.tokens import loose_key
from ocr_fix.typewriter import substitute_of
from tests.fakes import FakeEngine, OcrCliRunner

ROOT = Path(__file__).resolve().parent.parent
runner = OcrCliRunner()

GERMAN = """Sehr geehrter Herr Konsul,
die Gesandtschaft hat uns mitgeteilt, dass die Ausreise der Familie aus der Stadt
nicht vor dem Ende des Monats möglich sein wird. Wir bitten Sie daher, die
notwendigen Papiere an die Adresse in der Hauptstraße zu senden, damit die Kinder
noch vor dem Winter fahren können. Für Ihre Mühe danken wir Ihnen herzlich und
verbleiben mit den besten Grüßen an Ihre Frau und an alle Freunde in der Stadt.
"""


def test_a_dictionary_per_language() -> None:
    deu, fra = Dictionary.for_language("deu"), Dictionary.for_language("fra")
    assert deu is not None and fra is not None
    assert deu.lang == "deu" and fra.lang == "fra"
    for word in ("Straße", "Strasse", "für", "Gesandtschaft", "müssen"):
        assert word in deu, word
    for word in ("l'homme", "qu\u2019il", "été", "aujourd'hui"):
        assert word in fra, word
    assert "xqzvt" not in deu and "Gesandtschaft" not in fra
    assert Dictionary.for_language("eng") is Dictionary.english()
    both = Dictionary.for_language("eng+fra")
    assert both is not None and "despatched" in both and "été" in both
    assert Dictionary.for_language("jpn") is None
    none = Dictionary.for_language("none")
    assert none is not None and "the" not in none


@pytest.mark.parametrize(
    ("transcript", "scan", "side"),
    [
        ("Straße", "Strasse", "scan"),
        ("Strasse", "Straße", "transcript"),
        ("für", "fuer", "scan"),
        ("Öffnung", "Oeffnung", "scan"),
        ("été", "e'te'", "scan"),
        ("ÉTÉ", "ETE", "scan"),
        ("Haus", "Maus", None),
        ("Fürst", "Furst", None),  # a lost umlaut is not a typed substitute
        ("Straße", "Strase", None),
        ("die", "Dieu", None),
    ],
)
def test_typewriter_substitutes(transcript: str, scan: str, side: str | None) -> None:
    assert substitute_of(transcript, scan) == side


def test_sharp_s_against_ss_is_a_letter_not_case() -> None:
    assert loose_key("Straße") != loose_key("STRASSE")
    assert loose_key("Straße") == loose_key("STRAßE")


def test_lexicon_proximity_is_relative_to_length() -> None:
    assert [near_distance(n) for n in (2, 3, 4, 7, 8, 12)] == [0, 0, 1, 1, 2, 2]
    lexicon = Lexicon.build([Term("Dieu"), Term("Bukarest"), Term("Konoye")])
    assert lexicon.nearest("die", 2) == []
    assert lexicon.nearest("Konoya", 2) == [("Konoye", 1)]
    assert lexicon.nearest("Bukerast", 2) == [("Bukarest", 2)]
    assert lexicon.nearest("Kenoya", 2) == []  # two edits in six letters is another word


@pytest.fixture
def german_page(tmp_path: Path):
    from PIL import Image

    scans = tmp_path / "scans"
    scans.mkdir()
    Image.new("L", (64, 64), 255).save(scans / "01.png")
    scan_text = GERMAN.replace("Hauptstraße", "Hauptstrasse").replace("Für", "Fuer")
    runner.engine = FakeEngine({"01.png": scan_text})
    yield scans
    runner.engine = None


def _check(transcript: Path, scans: Path, *extra: str) -> dict:
    r = runner.invoke(
        app, ["check", str(transcript), str(scans), "-f", "json", "--no-cache", "-q", "--lang", "deu", *extra]
    )
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.stdout)


def test_typewriter_substitute_on_the_scan_is_its_own_class(tmp_path: Path, german_page: Path) -> None:
    path = tmp_path / "brief.txt"
    path.write_text(GERMAN)
    doc = _check(path, german_page)
    by_text = {f["transcript"]["text"]: f for f in doc["findings"] if f["transcript"]}
    for word in ("ß", "Für"):
        hit = next(f for t, f in by_text.items() if word in t)
        assert hit["severity"] == "info"
        assert hit["features"].get("typewriter_on_scan") == 1.0
        assert "typewriter substitute on the scan" in hit["message"]


def test_german_slips_found_with_the_german_dictionary(tmp_path: Path, german_page: Path) -> None:
    path = tmp_path / "brief.txt"
    path.write_text(GERMAN.replace("Gesandtschaft", "Gesandtschatf").replace("danken", "dunken"))
    doc = _check(path, german_page)
    flagged = {f["transcript"]["text"] for f in doc["findings"] if f["severity"] in ("error", "warning")}
    assert {"Gesandtschatf", "dunken"} <= flagged
    assert all(f["features"].get("speaks", 1.0) == 1.0 for f in doc["findings"] if "features" in f)


def test_line_end_hyphenation_is_rejoined_in_german(tmp_path: Path) -> None:
    """The scan breaks ``Gesandt-schaft`` and ``Grü-ßen`` at line ends, the transcript
    does not (and the other way round): no error or warning either way."""
    from PIL import Image

    scans = tmp_path / "scans"
    scans.mkdir()
    Image.new("L", (64, 64), 255).save(scans / "01.png")
    broken = GERMAN.replace("die Gesandtschaft hat", "die Gesandt-\nschaft hat").replace(
        "besten Grüßen an", "besten Grü-\nßen an"
    )
    for scan_text, transcript_text in ((broken, GERMAN), (GERMAN, broken)):
        runner.engine = FakeEngine({"01.png": scan_text})
        path = tmp_path / "brief.txt"
        path.write_text(transcript_text)
        doc = _check(path, scans)
        assert [f for f in doc["findings"] if f["severity"] in ("error", "warning")] == []
    runner.engine = None


def test_a_word_the_transcript_breaks_at_a_line_end_is_judged_whole(
    tmp_path: Path, german_page: Path
) -> None:
    """``rück-`` / ``sichtslos`` against an OCR slip ``rücksichtsios``: the transcript's
    word is a word (joined), the OCR's none, so this is no ``error`` against the
    transcript. (The OCR's ``rücksichtlos`` is a word too: a confident real-word reading
    is the scan's evidence, whichever side the dictionary takes.)"""
    from tests.fakes import FakeEngine

    text = GERMAN.replace("notwendigen Papiere", "rücksichtslos Papiere")
    runner.engine = FakeEngine({"01.png": text.replace("rücksichtslos", "rücksichtsios")})
    path = tmp_path / "brief.txt"
    path.write_text(text.replace("rücksichtslos Papiere", "rück-\nsichtslos Papiere"))
    doc = _check(path, german_page)
    hit = [f for f in doc["findings"] if f["transcript"] and "sichtslos" in f["transcript"]["text"]]
    assert hit and all(f["severity"] != "error" for f in hit), hit
    assert all(f["features"]["t_is_word"] == 1.0 for f in hit if "t_is_word" in f["features"])
