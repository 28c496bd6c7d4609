"""Character and word error rates between a ground-truth text and an OCR text.

The numbers are meant to be comparable with dinglehopper, the OCR-D evaluation tool, so
the definitions follow it wherever it has one.

Normalisation (applied to both texts before counting):

1. Unicode NFC, so precomposed and decomposed accents compare equal.
2. Every run of whitespace (spaces, tabs, CR, LF, CRLF, form feeds, Unicode spaces --
   whatever ``str.isspace`` accepts) becomes one space; leading and trailing whitespace
   is dropped. Line breaks and paragraph gaps are layout, not text: an OCR engine that
   wraps lines differently from the transcriber, or emits a blank line between
   paragraphs, is not making character errors.

Units:

* characters are extended grapheme clusters (Unicode UAX #29), so ``e`` + combining
  acute, a flag, or an emoji ZWJ family each count as one character;
* words are the whitespace-separated tokens of the normalised text (punctuation stays
  attached: ``war.`` and ``war`` are different words).

Rates: ``errors / reference_length`` where errors = substitutions + insertions +
deletions of a minimal (Levenshtein) alignment. A rate can exceed 1 when the OCR inserts
a lot. For an empty reference the rate is 0 if the hypothesis is empty too and
``inf`` otherwise -- dinglehopper's definition, kept so the two tools never disagree.

Agreement with dinglehopper: ``cer(gt, ocr)`` equals
``dinglehopper.character_error_rate(normalise(gt), normalise(ocr))`` exactly. On raw
text dinglehopper counts every newline and every space of a run as a character, so on
texts whose whitespace is already normal (single spaces, no line breaks, nothing at the
ends) the two agree on the raw strings too; on texts with line breaks or blank lines they
differ by design. WER differs from dinglehopper's on purpose: dinglehopper splits words
by UAX #29 and drops punctuation-only "words"; here a word is a whitespace token, so a
wrong full stop makes its word wrong.

Summaries give both the micro rate (total errors / total reference length, so a long
page weighs more) and the macro rate (mean of the page rates).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import regex
from rapidfuzz.distance import Levenshtein

from ocr_fix.errors import BadInput, InputNotFound
from ocr_fix.fileio import decode_text, read_input

__all__ = [
    "Counts",
    "PageScore",
    "Pairing",
    "Summary",
    "cer",
    "graphemes",
    "match_pages",
    "normalise",
    "pair_files",
    "read_page",
    "score_pair",
    "summarise",
    "wer",
]

TOP_CONFUSIONS = 20

_GRAPHEME = regex.compile(r"\X")
_LINKER = regex.compile(r"\p{InCB=Linker}")
# `regex` applies rule GB9c (Indic conjuncts) without checking that the chain starts with
# an InCB consonant, so it glues e.g. "U" + virama + "ह" into one cluster where UAX #29
# (and uniseg, which dinglehopper uses) break before the "ह". Split there.
_BAD_CONJUNCT = regex.compile(
    r"(?<!\p{InCB=Consonant}[\p{InCB=Extend}\p{InCB=Linker}]*)"
    r"(?<=\p{InCB=Linker}[\p{InCB=Extend}\p{InCB=Linker}]*)"
    r"(?=\p{InCB=Consonant})"
)


@dataclass(frozen=True, slots=True)
class Counts:
    """Edit operations of one minimal alignment of a hypothesis against a reference."""

    substitutions: int = 0
    insertions: int = 0
    deletions: int = 0
    hits: int = 0
    reference_length: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.insertions + self.deletions

    @property
    def rate(self) -> float:
        """errors / reference length; 0 or ``inf`` for an empty reference (dinglehopper)."""
        if self.errors == 0:
            return 0.0
        if self.reference_length == 0:
            return math.inf
        return self.errors / self.reference_length

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.substitutions + other.substitutions,
            self.insertions + other.insertions,
            self.deletions + other.deletions,
            self.hits + other.hits,
            self.reference_length + other.reference_length,
        )


Confusion = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class PageScore:
    """Scores of one page pair; ``confusions`` are (gt, ocr, count), '' = nothing."""

    name: str
    cer: float
    wer: float
    chars: Counts
    words: Counts
    confusions: tuple[Confusion, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    """Scores over many pages: micro (length-weighted) and macro (mean of pages)."""

    pages: int
    cer: float
    wer: float
    cer_macro: float
    wer_macro: float
    chars: Counts
    words: Counts
    confusions: tuple[Confusion, ...]


@dataclass(frozen=True, slots=True)
class Pairing:
    """GT/OCR files matched by page name, and the files that found no partner."""

    pairs: tuple[tuple[str, Path, Path], ...]
    gt_only: tuple[tuple[str, Path], ...] = ()
    ocr_only: tuple[tuple[str, Path], ...] = ()


def normalise(text: str) -> str:
    """NFC, whitespace runs folded to one space, ends stripped (see module docstring)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _clusters(text: str) -> list[str]:
    units = _GRAPHEME.findall(text)
    if _LINKER.search(text) is None:
        return units
    fixed: list[str] = []
    for unit in units:
        fixed.extend(_BAD_CONJUNCT.split(unit) if len(unit) > 1 else (unit,))
    return fixed


def graphemes(text: str) -> list[str]:
    """The characters (extended grapheme clusters) of the normalised ``text``."""
    return _clusters(normalise(text))


def _code_point(index: int) -> str:
    # BMP private use area first, then the supplementary private use planes 15 and 16.
    if index < 0x1900:
        return chr(0xE000 + index)
    return chr(0xF0000 + index - 0x1900)


_CAPACITY = 0x1900 + 0x20000


def _encode(ref: Sequence[str], hyp: Sequence[str]) -> tuple[str | list[int], str | list[int]]:
    """Map each distinct unit to one code point so rapidfuzz compares strings, which is
    several times faster than comparing lists of Python strings."""
    table: dict[str, int] = {}
    for unit in ref:
        table.setdefault(unit, len(table))
    for unit in hyp:
        table.setdefault(unit, len(table))
    if len(table) > _CAPACITY:  # more distinct units than private code points
        return [table[u] for u in ref], [table[u] for u in hyp]
    codes = {unit: _code_point(i) for unit, i in table.items()}
    return "".join(codes[u] for u in ref), "".join(codes[u] for u in hyp)


def _align(
    ref: Sequence[str], hyp: Sequence[str], *, collect: bool
) -> tuple[Counts, Counter[tuple[str, str]]]:
    """Counts (and confusions) of a minimal alignment. Two ``str`` arguments are taken
    as sequences of one-code-point units and compared as they are."""
    a: str | list[int]
    b: str | list[int]
    if isinstance(ref, str) and isinstance(hyp, str):
        a, b = ref, hyp
    else:
        a, b = _encode(ref, hyp)
    ops = Levenshtein.editops(a, b)
    subs = ins = dels = 0
    confusions: Counter[tuple[str, str]] = Counter()
    for op in ops:
        tag, i, j = op.tag, op.src_pos, op.dest_pos
        if tag == "replace":
            subs += 1
            if collect:
                confusions[ref[i], hyp[j]] += 1
        elif tag == "insert":
            ins += 1
            if collect:
                confusions["", hyp[j]] += 1
        else:
            dels += 1
            if collect:
                confusions[ref[i], ""] += 1
    counts = Counts(subs, ins, dels, len(ref) - subs - dels, len(ref))
    return counts, confusions


def _ranked(confusions: Counter[tuple[str, str]], top: int | None = None) -> tuple[Confusion, ...]:
    ranked = sorted(confusions.items(), key=lambda item: (-item[1], item[0]))
    if top is not None:
        ranked = ranked[:top]
    return tuple((gt, ocr, n) for (gt, ocr), n in ranked)


def score_pair(gt: str, ocr: str, name: str = "") -> PageScore:
    """Character and word scores of ``ocr`` against the reference ``gt``."""
    gt_n, ocr_n = normalise(gt), normalise(ocr)
    gt_units: Sequence[str] = gt_n
    ocr_units: Sequence[str] = ocr_n
    # Every ASCII character is its own grapheme once CRLF has been folded away.
    if not (gt_n.isascii() and ocr_n.isascii()):
        gt_units, ocr_units = _clusters(gt_n), _clusters(ocr_n)
    chars, confusions = _align(gt_units, ocr_units, collect=True)
    words, _ = _align(gt_n.split(), ocr_n.split(), collect=False)
    return PageScore(name, chars.rate, words.rate, chars, words, _ranked(confusions))


def cer(gt: str, ocr: str) -> float:
    """Character error rate of ``ocr`` against ``gt``."""
    return score_pair(gt, ocr).cer


def wer(gt: str, ocr: str) -> float:
    """Word error rate of ``ocr`` against ``gt``."""
    gt_n, ocr_n = normalise(gt), normalise(ocr)
    return _align(gt_n.split(), ocr_n.split(), collect=False)[0].rate


def summarise(scores: Sequence[PageScore], top: int = TOP_CONFUSIONS) -> Summary:
    """Micro and macro rates over ``scores`` and the ``top`` most frequent confusions."""
    if not scores:
        raise ValueError("summarise() needs at least one page")
    chars = sum((s.chars for s in scores), Counts())
    words = sum((s.words for s in scores), Counts())
    confusions: Counter[tuple[str, str]] = Counter()
    for s in scores:
        for gt, ocr, n in s.confusions:
            confusions[gt, ocr] += n
    return Summary(
        pages=len(scores),
        cer=chars.rate,
        wer=words.rate,
        cer_macro=math.fsum(s.cer for s in scores) / len(scores),
        wer_macro=math.fsum(s.wer for s in scores) / len(scores),
        chars=chars,
        words=words,
        confusions=_ranked(confusions, top),
    )


# --- files -------------------------------------------------------------------------


def read_page(path: Path) -> str:
    """The text of one page: a UTF-8 text file (a leading BOM is dropped) as it is, or
    the text of an ALTO / PAGE / hOCR / TEI file (detected by content, read as ``check``
    reads a transcript); BadInput if it is neither."""
    from ocr_fix.transcript import is_markup, read_raw, transcript_from_bytes

    raw = read_raw(path) if str(path) == "-" else read_input(path, "text file")
    if is_markup(raw):
        return transcript_from_bytes(raw, path).text
    return decode_text(raw, path, "UTF-8 text file")


#: Page files in a directory, longest first: ``03.gt.txt`` and ``03.xml`` are page ``03``.
PAGE_SUFFIXES = (".gt.txt", ".gt.xml", ".alto.xml", ".page.xml", ".txt", ".xml", ".hocr", ".html")


def _page_name(path: Path) -> str:
    name = path.name
    for suffix in PAGE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p)


def _pages(directory: Path, gt: bool) -> dict[str, Path]:
    """Page name -> file for the page files in ``directory`` (:data:`PAGE_SUFFIXES`).
    When a directory holds both ``03.gt.txt`` and ``03.txt`` the ground-truth side takes
    the ``.gt.`` file and the OCR side the other; text beats XML for the same name."""
    files = sorted(p for p in directory.iterdir() if p.name.endswith(PAGE_SUFFIXES) and p.is_file())
    if not files:
        raise BadInput("no page files (*.txt, *.xml, *.hocr) in directory", directory)
    pages: dict[str, Path] = {}

    def rank(path: Path) -> tuple[bool, bool]:
        return (".gt." in path.name) == gt, path.name.endswith(".txt")

    for path in files:
        name = _page_name(path)
        if name not in pages or rank(path) > rank(pages[name]):
            pages[name] = path
    return pages


def match_pages(gt: Path, ocr: Path) -> Pairing:
    """Pair two files, or the pages of two directories by page name.

    ``-`` (one side only) is stdin, paired as a file.
    ``03.gt.txt`` and ``03.txt`` are both page ``03``; either suffix is accepted on
    either side. Pages present on one side only are returned, not dropped, so the caller
    can tell the user that they were not scored.
    """
    if str(gt) == str(ocr) == "-":
        raise BadInput("only one side can be read from stdin (-)")
    for path in (gt, ocr):
        if str(path) != "-" and not path.exists():
            raise InputNotFound(path)
    if all(str(p) == "-" or p.is_file() for p in (gt, ocr)):
        return Pairing(((_page_name(gt), gt, ocr),))
    if not (gt.is_dir() and ocr.is_dir()):
        raise BadInput(f"GT and OCR must both be files or both be directories: {gt}, {ocr}")
    gt_pages, ocr_pages = _pages(gt, gt=True), _pages(ocr, gt=False)
    common = sorted(gt_pages.keys() & ocr_pages.keys(), key=_natural)
    if not common:
        raise BadInput(f"no page names in common between {gt} and {ocr}")
    return Pairing(
        pairs=tuple((n, gt_pages[n], ocr_pages[n]) for n in common),
        gt_only=tuple((n, gt_pages[n]) for n in sorted(gt_pages.keys() - ocr_pages.keys(), key=_natural)),
        ocr_only=tuple((n, ocr_pages[n]) for n in sorted(ocr_pages.keys() - gt_pages.keys(), key=_natural)),
    )


def pair_files(gt: Path, ocr: Path) -> list[tuple[str, Path, Path]]:
    """(page, gt file, ocr file) for every page found on both sides (see match_pages)."""
    return list(match_pages(gt, ocr).pairs)


def score_files(pairs: Iterable[tuple[str, Path, Path]]) -> list[PageScore]:
    """Read and score each (page, gt, ocr) pair."""
    return [score_pair(read_page(g), read_page(o), name) for name, g, o in pairs]
