"""ocr-fix lexicon suggest / check: clusters, canonical choice, patterns, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.errors import ExitCode
from ocr_fix.lexicon import read_lexicon, validate_lexicon
from ocr_fix.suggest import clusters_of, propose, render
from ocr_fix.transcript import Transcript, read_transcript
from tests.conftest import ROOT
from tests.fakes import page_from_text

runner = CliRunner()


def doc(text: str) -> Transcript:
    return Transcript(Path("t.md"), text, "markdown")


def by_canonical(text: str, scans: list[str] | None = None) -> dict[str, list[str]]:
    p = propose([doc(text)], scans)
    return {c.canonical.text: [o.text for o in c.others] for c in p.clusters}


def test_single_linkage_clusters_spelling_variants() -> None:
    groups = {
        frozenset(g)
        for g in clusters_of(["lozovsky", "loxovsky", "lotosky", "loshvsky", "kase", "case", "kameyama"])
    }
    assert frozenset({"lozovsky", "loxovsky", "lotosky", "loshvsky"}) in groups
    assert frozenset({"kameyama"}) in groups
    assert frozenset({"kase", "case"}) in groups  # short words: one edit links


def test_canonical_by_frequency_without_scans() -> None:
    text = (
        "We met Vronsky today. Later Vronsky left, and Vronsky came back.\n"
        "Then Vrensky wrote to Petersburg about the horse.\n"
    )
    got = by_canonical(text)
    assert got["Vronsky"] == ["Vrensky"]
    assert "Later" not in got and "Then" not in got and "We" not in got  # sentence-initial words
    assert "Petersburg" in got


def test_scans_overrule_the_transcripts_majority() -> None:
    text = "Letter to Minister Tanaguchi. The Minister Tanaguchi agreed; Tanigucki refused.\n"
    assert by_canonical(text)["Tanaguchi"] == ["Tanigucki"]
    scans = page_from_text("Letter to Minister Taniguchi. The Minister Taniguchi agreed;\nTanigucki refused.")
    with_scans = propose([doc(text)], [w.text for w in scans.words])
    (cluster,) = [c for c in with_scans.clusters if c.canonical.text.startswith("Tan")]
    assert cluster.canonical.text == "Tanigucki"  # the only transcript spelling the scans show
    assert [o.text for o in cluster.others] == ["Tanaguchi"]
    assert "in scans: x0" in render(with_scans)


def test_scan_confirmed_spellings_stay_separate() -> None:
    text = "Consul Hirose met Hirota. Hirose agreed.\n"
    assert by_canonical(text)["Hirose"] == ["Hirota"]
    scans = page_from_text("Consul Hirose met Hirota. Hirose agreed.")
    got = by_canonical(text, [w.text for w in scans.words])
    assert got["Hirose"] == [] and got["Hirota"] == []


def test_exclusions_headings_numbers_common_words() -> None:
    text = "# SECRET REPORT\n\nThe Government in 1945 asked COMINCH and the Special Envoy Zorgov.\n"
    got = by_canonical(text)
    assert "COMINCH" in got and "Zorgov" in got
    for word in ("SECRET", "REPORT", "The", "Government", "Special", "1945"):
        assert word not in got


def test_identifier_patterns_need_three_and_a_letter_prefix() -> None:
    text = "See H-197715, H-197837 and H-198001; OP-20-3 once, #1214 and 21-27 July, X-12 X-13.\n"
    p = propose([doc(text)])
    assert [pp.regex for pp in p.patterns] == [r"H-\d{6}"]
    assert "re:H-\\d{6}\tidentifier" in render(p)


def test_rendered_proposal_is_a_valid_lexicon(tmp_path: Path) -> None:
    text = "Lozovsky wrote. Then Lozovsky and Loxovsky and Lotosky met; Lozovsky left. H-1 H-2 H-3\n"
    out = tmp_path / "lex.txt"
    out.write_text(render(propose([doc(text)])), encoding="utf-8")
    assert validate_lexicon(out) == []
    lex = read_lexicon(out)
    assert lex.contains("Lozovsky") and not lex.contains("Loxovsky")
    assert lex.pattern_for("H-7")


def test_psis_canonical_picks_with_golden_pages_as_scans() -> None:
    transcript = read_transcript(ROOT / "scans" / "psis-400-23" / "transcript.md")
    pages = [
        page_from_text(p.read_text(encoding="utf-8"), i + 1)
        for i, p in enumerate(sorted((ROOT / "golden" / "psis-400-23").glob("*.gt.txt")))
    ]
    p = propose([transcript], [w.text for page in pages for w in page.words])
    canon = {c.canonical.text: {o.text for o in c.others} for c in p.clusters}
    assert canon["Konoye"] >= {"Kenoye"}
    assert canon["Lozovsky"] >= {"Loshvsky", "Loxovsky", "Lotosky"}
    assert canon["Togo"] >= {"Tojo", "Fogo"}
    for wrong in ("Kenoye", "Loshvsky", "Loxovsky", "Lotosky", "Tojo", "Fogo"):
        assert wrong not in canon
    assert r"H-\d{6}" in [pp.regex for pp in p.patterns]


def test_suggest_cli_writes_file(tmp_path: Path) -> None:
    t = tmp_path / "t.md"
    t.write_text("Prince Konoye met Kenoye and Konoye again.\n", encoding="utf-8")
    out = tmp_path / "lex.txt"
    res = runner.invoke(app, ["lexicon", "suggest", str(t), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Konoye\tperson\tx2 in transcripts; variants: Kenoye (in transcript: x1)" in out.read_text(
        encoding="utf-8"
    )


def test_suggest_cli_scans_count_mismatch_is_usage_error(tmp_path: Path) -> None:
    t = tmp_path / "t.md"
    t.write_text("Prince Konoye.\n", encoding="utf-8")
    res = runner.invoke(
        app, ["lexicon", "suggest", str(t), "--scans", str(tmp_path), "--scans", str(tmp_path)]
    )
    assert res.exit_code == ExitCode.USAGE


def test_suggest_cli_missing_transcript_exits_3(tmp_path: Path) -> None:
    res = runner.invoke(app, ["lexicon", "suggest", str(tmp_path / "none.md")])
    assert res.exit_code == ExitCode.NOT_FOUND


def test_check_clean_lexicon_exits_0() -> None:
    res = runner.invoke(app, ["lexicon", "check", str(ROOT / "lexicons" / "psis-400-23.txt")])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""


def test_check_reports_every_problem_with_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "lex.txt"
    f.write_text(
        "# comment\n"
        "Lozovsky\tname\tvariants: Loxovsky, Lotosky (in transcript: x2, x1)\n"
        "re:H-(\\d{6}\tidentifier\n"
        "konoye\tname\n"
        "Konoye\n"
        "Loxovsky\tname\n"
        "\tname\tno term\n"
        "re:\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["lexicon", "check", str(f)])
    assert res.exit_code == ExitCode.BAD_LEXICON == 5
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"{f}:3: bad regex")
    assert lines[1] == f"{f}:5: 'Konoye' duplicates line 4"
    assert lines[2] == f"{f}:6: 'Loxovsky' is listed as a variant of 'Lozovsky' (line 2)"
    assert lines[3] == f"{f}:7: empty term (line has columns but no term)"
    assert lines[4] == f"{f}:8: empty regex"
    assert len(lines) == 5


@pytest.mark.parametrize(
    "data, message",
    [(b"Konoye\n\xff\xfeTogo\n", ":2: not UTF-8"), (b"Konoye\nTo\x00go\n", ":2: binary file")],
)
def test_check_non_utf8_and_binary(tmp_path: Path, data: bytes, message: str) -> None:
    f = tmp_path / "lex.txt"
    f.write_bytes(data)
    res = runner.invoke(app, ["lexicon", "check", str(f)])
    assert res.exit_code == ExitCode.BAD_LEXICON
    assert message in res.stdout


def test_check_missing_file_exits_3(tmp_path: Path) -> None:
    res = runner.invoke(app, ["lexicon", "check", str(tmp_path / "nope.txt")])
    assert res.exit_code == ExitCode.NOT_FOUND
