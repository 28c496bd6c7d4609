"""lexicon suggest: names not capitalised words, scan-supported terms only, kinds, patterns."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ocr_fix.lexicon import Lexicon, Term, parse_lexicon
from ocr_fix.suggest import ocr_skeleton, propose, render
from ocr_fix.transcript import Transcript
from tests.fakes import page_from_text


def doc(text: str) -> Transcript:
    return Transcript(Path("t.md"), text, "markdown")


def terms(text: str, scans: str | None = None, conf: float | dict[str, float] = 95.0) -> dict[str, str]:
    words = None if scans is None else list(page_from_text(scans, conf=conf).words)
    p = propose([doc(text)], words)
    return {c.canonical.text: c.kind for c in p.clusters}


LETTER = (
    "Subject: Visit of the Minister\n\n"
    "Further to my despatch, the Ministry of Foreign Affairs informed Mr. Young that China and\n"
    "the Bank of England had agreed. The Government said J. F. Dulles met Konoye in Bucharest.\n"
    "Regarding the Legation, the Government replied that Prince Konoye had left.\n"
)


def test_names_not_capitalised_words() -> None:
    got = terms(LETTER)
    for name in (
        "Konoye",
        "Bucharest",
        "China",
        "Young",
        "Dulles",
        "Ministry of Foreign Affairs",
        "Bank of England",
    ):
        assert name in got, name
    # Sentence and line starts, headings, institutions after "the", titles, parts of names.
    for word in (
        "Subject",
        "Further",
        "Regarding",
        "Government",
        "Legation",
        "Minister",
        "Prince",
        "Foreign",
        "Affairs",
        "England",
        "The",
    ):
        assert word not in got, word


def test_kinds_from_context() -> None:
    got = terms(LETTER)
    assert got["Young"] == "person"  # after Mr.
    assert got["Dulles"] == "person"  # after initials
    assert got["Bucharest"] == "place"  # after "in"
    assert got["Ministry of Foreign Affairs"] == "organisation"
    assert got["Bank of England"] == "organisation"


def test_with_scans_terms_must_be_on_the_scans() -> None:
    text = "Prince Konoye wrote. Konoye met Kenoye. Then Kameyama left, and Kameyama came.\n"
    scans = "Prince Konoye wrote. Konoye met Konoye. Then Konoye left, and Konoye came."
    p = propose([doc(text)], list(page_from_text(scans).words))
    canon = {c.canonical.text: [o.text for o in c.others] for c in p.clusters}
    assert canon == {"Konoye": ["Kenoye"]}
    assert all(c.verified for c in p.clusters)
    assert [c.canonical.text for c in p.unverified] == ["Kameyama"]
    out = render(p)
    assert "Kenoye -> Konoye (x1 in transcripts, x0 in scans; Konoye: x5 in scans)" in out
    assert "#   Kameyama (x2 in transcripts, x0 in scans)" in out
    terms_, _, problems = parse_lexicon(out)
    assert [t.text for t in terms_] == ["Konoye"] and problems == []


def test_a_name_misspelt_everywhere_takes_the_scans_spelling() -> None:
    text = "The talks of Soong and Chelbalsan went on; Chelbalsan left.\n"
    scans = "The talks of Soong and Choibalsan went on; Choibalsan left."
    got = propose([doc(text)], list(page_from_text(scans).words))
    (cluster,) = [c for c in got.clusters if c.canonical.text.startswith("Ch")]
    assert cluster.canonical.text == "Choibalsan" and cluster.canonical.in_transcripts == 0
    assert [o.text for o in cluster.others] == ["Chelbalsan"]


def test_ocr_look_alikes_support_the_transcript() -> None:
    # Tesseract reads a typewriter's l as i: the scans still show "Basle".
    assert "Basle" in terms("Talks were held in Basle and Berne.\n", "Talks were held in Basie and Berne.")
    assert ocr_skeleton("Basle") == ocr_skeleton("Basie") != ocr_skeleton("Basel")


def test_unclear_scan_only_reads_are_not_terms() -> None:
    text = "Talks with Kitamura went on.\n"
    scans = "Talks with Kitamura went on. Zorgov Zorgov"
    assert "Zorgov" in terms(text, scans)  # twice, clearly: a name the transcript leaves out
    assert "Zorgov" not in terms(text, scans, conf={"Zorgov": 60.0})
    assert "Kitamora" not in terms(text, scans + " Kitamora Kitamora")  # the OCR's misreading of a term


def test_without_scans_the_file_says_unverified_and_ranks_by_evidence() -> None:
    p = propose([doc("Met Zorgov. Later Zorgov and Zorgov and Abakan left; Zorgov stayed.\n")])
    assert [c.canonical.text for c in p.clusters] == ["Zorgov", "Abakan"]
    assert "UNVERIFIED" in render(p)


def test_numeric_identifier_patterns_but_not_dates() -> None:
    text = "Files 740.00119, 740.00120 and 740.00121; dated 21.3.1939, 22.3.1939, 23.3.1939.\n"
    assert [pp.regex for pp in propose([doc(text)]).patterns] == [r"\d{3}\.\d{5}"]


def test_footnote_number_glued_to_an_identifier_still_matches() -> None:
    (pattern,) = propose([doc("Serials H-197715, H-197837 and H-198001.\n")]).patterns
    lex = Lexicon.build([], [parse_lexicon(f"re:{pattern.regex}\n")[1][0]])
    assert lex.pattern_for("4H-197715,") and not lex.pattern_for("4E-197715,")


NAMES = ["Konoye", "Lozovsky", "Jacobsson", "Miyakawa", "Shimozura", "Hirose"]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(NAMES), st.integers(0, 5), st.sampled_from("aeiouxkz"), st.booleans()),
        min_size=1,
        max_size=4,
    )
)
def test_no_misspelling_of_a_scan_supported_name_is_proposed(slips: list[tuple[str, int, str, bool]]) -> None:
    """One or two letters off a name the scans show: never a term."""
    right = [f"Then {n} spoke to {n} again." for n in NAMES]
    wrong = list(right)
    misspelt = set()
    for name, pos, letter, twice in slips:
        i = NAMES.index(name)
        bad = name[: 1 + pos % (len(name) - 1)] + letter + name[2 + pos % (len(name) - 1) :]
        if twice:
            bad = bad[:-1] + ("q" if bad[-1] != "q" else "j")
        if bad.casefold() == name.casefold():
            continue
        misspelt.add(bad)
        wrong[i] = f"Then {bad} spoke to {name} again."
    p = propose([doc("\n".join(wrong) + "\n")], list(page_from_text("\n".join(right)).words))
    proposed = {c.canonical.text for c in p.clusters}
    assert not (proposed & misspelt)
    assert proposed >= set(NAMES)


def test_multi_word_terms_count_whole() -> None:
    lex = Lexicon.build([Term("Bank of England"), Term("Prince Konoye"), Term("Special Envoy"), Term("Togo")])
    for word in ("of", "Bank", "England", "Prince", "Special", "Envoy"):
        assert not lex.contains(word), word
    assert lex.contains("Konoye's") and lex.contains("togo")
    assert lex.is_term("bank of  England") and lex.is_term("Special Envoy,")
    assert not lex.is_term("of") and not lex.is_term("Bank of")


def test_merge_keeps_one_canonical_spelling_and_lists_conflicts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ocr_fix.cli import app
    from ocr_fix.lexicon import read_lexicon

    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text(
        "Loxovsky\tname\tx2 in transcripts, x0 in scans\nHirose\tperson\tx5 in transcripts, x5 in scans\n"
        "re:H-\\d{6}\tidentifier\n",
        encoding="utf-8",
    )
    b.write_text(
        "Lozovsky\tname\tx7 in transcripts, x11 in scans\nHirota\tperson\tx1 in transcripts, x1 in scans\n"
        "hirose\tperson\nKonoye\tname\tvariants: Kenoye\nre:H-\\d{6}\tidentifier\n",
        encoding="utf-8",
    )
    out = tmp_path / "m.txt"
    res = CliRunner().invoke(app, ["lexicon", "merge", str(a), str(b), "-o", str(out)])
    assert res.exit_code == 0, res.output
    lex = read_lexicon(out)
    assert [t.text for t in lex.terms] == ["Lozovsky", "Hirose", "Hirota", "Konoye"]
    assert len(lex.patterns) == 1
    assert "'Loxovsky' conflicts with 'Lozovsky'" in res.stderr
    assert "'hirose' conflicts with 'Hirose'" in res.stderr  # one canonical case too
    assert "Lozovsky (" in out.read_text(encoding="utf-8").split("# Conflicts")[1]


def test_suggest_over_a_batch_root_uses_each_documents_scans(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from ocr_fix.cli import app
    from tests.fakes import FakeEngine, OcrCliRunner

    texts = {"a1.png": "Talks with Zorgov went on. Zorgov left.", "b1.png": "Then Abakan wrote."}
    for name in texts:
        d = tmp_path / "root" / name[0]
        d.mkdir(parents=True)
        (d / "transcript.md").write_text(texts[name] + "\n", encoding="utf-8")
        Image.new("L", (40, 20), 255).save(d / name)
    engine = FakeEngine(texts)
    res = OcrCliRunner(engine).invoke(
        app, ["lexicon", "suggest", str(tmp_path / "root"), "-q", "--no-cache", "--jobs", "1"]
    )
    assert res.exit_code == 0, res.output
    assert "Zorgov\tname\tx2 in transcripts, x2 in scans" in res.stdout
    assert "Abakan\tname\tx1 in transcripts, x1 in scans" in res.stdout
    res = CliRunner().invoke(app, ["lexicon", "suggest", str(tmp_path / "root"), "--scans", str(tmp_path)])
    assert res.exit_code == 2


def test_languages_that_capitalise_nouns_and_compounds() -> None:
    from ocr_fix.lexicon import Dictionary

    german = Dictionary.for_language("deu")
    assert german is not None
    text = (
        "Die Regierung hat das Ausweisungsverfahren gegen Herrn Schmidt eingeleitet.\n"
        "Der Handelsvertrag mit der Stadt Wlaschim gilt seit dem Januar.\n"
    )
    got = {c.canonical.text for c in propose([doc(text)], None, 1, german).clusters}
    assert "Wlaschim" in got and "Schmidt" in got  # a place no dictionary lists; a title's name
    for word in ("Regierung", "Stadt", "Ausweisungsverfahren", "Handelsvertrag", "Januar"):
        assert word not in got, word
