"""Lexicons of a collection's names and terms, and the general English dictionary.

Triage asks two questions of a word: *is it a real word?* and *is it close to a term
this collection is known to use?* The lexicon answers for names and identifiers
(canonical spellings only, plus ``re:`` patterns such as ``re:H-\\d{6}``); symspellpy's
English frequency dictionary answers for ordinary words. Lexicon terms outrank the
dictionary.

Lexicon file format (UTF-8)::

    # comment
    Konoye<TAB>name<TAB>Prince Fumimaro Konoye
    Special Envoy
    re:H-\\d{6}<TAB>identifier<TAB>Magic intercept serial

One canonical term per line (multi-word allowed), optional tab-separated ``kind`` and
``note`` columns.
"""

from __future__ import annotations

import functools
import heapq
import importlib.resources
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex
from symspellpy import SymSpell, Verbosity

from ocr_fix.errors import LexiconError
from ocr_fix.fileio import decode_text, read_input, text_problem

_WORD_EDGE = re.compile(r"^[^\w]+|[^\w]+$")
_TRAILING = ".,;:!?)]}\"'"
_POSSESSIVE = re.compile(r"(?:'s|s')$", re.IGNORECASE)
_FOOTNOTE_MARK = re.compile(r"^\d{1,2}(?=[^\W\d_])")


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    kind: str = ""
    note: str = ""
    line: int = 0
    source: str = ""


#: Longest one ``re:`` pattern may take to match one token, in seconds. An identifier
#: pattern takes microseconds; this only stops catastrophic backtracking such as
#: ``(a|aa)+$`` that the load-time check below cannot see (``regex`` checks its timeout
#: coarsely: 0.1 s ends such a match after ~0.1-0.6 s).
REGEX_TIMEOUT = 0.1


@dataclass(frozen=True, slots=True)
class Pattern:
    """A ``re:`` line, compiled with the ``regex`` package, whose matches can time out."""

    regex: regex.Pattern[str]
    kind: str = "identifier"
    note: str = ""
    line: int = 0
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.regex, regex.Pattern):  # a stdlib ``re`` pattern or a string
            source = getattr(self.regex, "pattern", self.regex)
            object.__setattr__(self, "regex", regex.compile(source, getattr(self.regex, "flags", 0)))


def _fullmatch(p: Pattern, token: str) -> bool:
    try:
        return p.regex.fullmatch(token, timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        where = f"line {p.line}: " if p.line else ""
        raise LexiconError(
            f"{where}regex {p.regex.pattern!r} took over {REGEX_TIMEOUT} s on a {len(token)}-character "
            "word (catastrophic backtracking); simplify it",
            p.source or None,
        ) from None


#: Longest ``re:`` pattern, and the most one piece of it may be repeated counting nested
#: bounds (``(?:a{100}){100}`` is 10,000). An identifier pattern needs a few dozen of
#: each; the ``regex`` package takes over 20 s to compile ``(?:(?:(?:a{100}){100}){100}){100}``.
MAX_PATTERN = 1000
MAX_REPETITION = 1000


def repetition(pattern: str) -> int:
    """The largest product of nested bounded repeat counts in ``pattern`` (unbounded
    repeats count as 1: their cost is the matching, which the timeout bounds); 0 when
    only the ``regex`` package can parse it."""
    try:
        sre: Any = importlib.import_module("re._parser")
        tree = sre.parse(pattern)
    except Exception:
        return 0
    repeats = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}

    def most(seq: Any) -> int:
        best = 1
        for op, av in seq:
            if op in repeats:
                lo, hi, body = av
                count = lo if hi == sre.MAXREPEAT else hi
                best = max(best, max(count, 1) * most(body))
            elif op is sre.SUBPATTERN:
                best = max(best, most(av[-1]))
            elif op is sre.BRANCH:
                best = max(best, *(most(branch) for branch in av[1]))
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                best = max(best, most(av[1]))
        return best

    return most(tree)


def regex_problem(pattern: str) -> str | None:
    """Why the ``re:`` ``pattern`` is refused before it is compiled, or None."""
    if len(pattern) > MAX_PATTERN:
        return f"unsafe regex: {len(pattern)} characters, at most {MAX_PATTERN}"
    times = repetition(pattern)
    if times > MAX_REPETITION:
        return f"unsafe regex {pattern!r}: repeats a piece {times:,} times, at most {MAX_REPETITION:,}"
    if nested_quantifier(pattern):
        return (
            f"unsafe regex {pattern!r}: a repeated group that itself repeats "
            "(exponential matching time); write it without the nesting"
        )
    return None


def nested_quantifier(pattern: str) -> bool:
    """Whether ``pattern`` repeats without bound a group that can match by repeating,
    without bound, something inside it alone: ``(a+)+``, ``(\\w+\\s?)*``, ``(a|b+)*``.
    Such a group can split one run of text in exponentially many ways, which backtracking
    tries one by one. ``(\\d+-)+`` is fine: each round needs its ``-``. A pattern only the
    ``regex`` package can parse is not judged (its matches still time out)."""
    try:
        sre: Any = importlib.import_module("re._parser")  # the stdlib's own regex parser
        tree = sre.parse(pattern)
    except Exception:
        return False
    repeats = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
    zero_width = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}

    def nullable(op: Any, av: Any) -> bool:
        if op in repeats:
            return av[0] == 0 or all(nullable(*e) for e in av[2])
        if op is sre.SUBPATTERN:
            return all(nullable(*e) for e in av[-1])
        if op is sre.BRANCH:
            return any(all(nullable(*e) for e in branch) for branch in av[1])
        return op in zero_width

    def loose(seq: Any) -> bool:
        """``seq`` can match as one unbounded repeat with everything else in it empty."""
        items = list(seq)
        for i, (op, av) in enumerate(items):
            if not all(nullable(*e) for j, e in enumerate(items) if j != i):
                continue
            if op in repeats and av[1] == sre.MAXREPEAT:
                return True
            if op is sre.SUBPATTERN and loose(av[-1]):
                return True
            if op is sre.BRANCH and any(loose(branch) for branch in av[1]):
                return True
        return False

    def search(seq: Any) -> bool:
        for op, av in seq:
            if op in repeats:
                if av[1] == sre.MAXREPEAT and loose(av[2]):
                    return True
                if search(av[2]):
                    return True
            elif op is sre.SUBPATTERN:
                if search(av[-1]):
                    return True
            elif op is sre.BRANCH:
                if any(search(branch) for branch in av[1]):
                    return True
            elif op in (sre.ASSERT, sre.ASSERT_NOT) and search(av[1]):
                return True
        return False

    return search(tree)


def bare(word: str) -> str:
    """The word a token stands for: edge punctuation and a possessive ``'s`` removed."""
    w = _WORD_EDGE.sub("", word)
    stripped = _POSSESSIVE.sub("", w)
    return stripped if len(stripped) >= 2 else w


def term_words(text: str) -> list[str]:
    """The words of a lexicon term that count as lexicon words on their own.

    A one-word term is itself. A multi-word term (``Bank of England``, ``Ministry of
    Foreign Affairs``) counts whole: alone, only its capitalised words that no general
    dictionary lists (``Konoye`` of ``Prince Konoye``) stand for it. Its function words
    (``of``, ``de``, ``von``: lowercase inside a title) and ordinary words (``Bank``,
    ``Foreign``) are not terms, so a transcript's ``of`` for the scan's ``off`` is never
    "backed by the lexicon" because some entry contains ``of``.
    """
    words = [b for b in (bare(w) for w in text.split()) if b]
    if len(words) <= 1:
        return words
    dictionary = Dictionary.english()
    return [w for w in words if (w[0].isupper() or w[0].isdigit()) and w not in dictionary]


def _phrase_key(text: str) -> str:
    return " ".join(b.casefold() for b in (bare(w) for w in text.split()) if b)


@dataclass(frozen=True)
class Lexicon:
    """An immutable set of canonical terms and identifier patterns."""

    terms: tuple[Term, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    _words: frozenset[str] = field(default=frozenset(), repr=False)
    _canon: dict[str, str] = field(default_factory=dict, repr=False, hash=False, compare=False)
    _phrases: frozenset[str] = field(default=frozenset(), repr=False)

    @classmethod
    def build(cls, terms: Iterable[Term], patterns: Iterable[Pattern] = ()) -> Lexicon:
        terms = tuple(terms)
        canon: dict[str, str] = {}
        for t in terms:
            for w in term_words(t.text):
                canon.setdefault(w.casefold(), w)
        phrases = frozenset(k for k in (_phrase_key(t.text) for t in terms) if k)
        return cls(terms, tuple(patterns), frozenset(canon), canon, phrases)

    def __bool__(self) -> bool:
        return bool(self.terms or self.patterns)

    def __len__(self) -> int:
        return len(self.terms) + len(self.patterns)

    def merged(self, other: Lexicon) -> Lexicon:
        return Lexicon.build(self.terms + other.terms, self.patterns + other.patterns)

    def contains(self, word: str) -> bool:
        """True when ``word`` (any case, possessive and edge punctuation ignored) is a
        one-word term or stands for a multi-word one (see :func:`term_words`)."""
        b = bare(word)
        return bool(b) and b.casefold() in self._words

    def is_term(self, text: str) -> bool:
        """True when ``text`` is a whole term (any case, spacing and edge punctuation
        ignored): ``bank of  England`` is, ``of`` is not."""
        key = _phrase_key(text)
        return bool(key) and key in self._phrases

    def canonical(self, word: str) -> str | None:
        b = bare(word)
        return self._canon.get(b.casefold()) if b else None

    def pattern_for(self, token: str) -> Pattern | None:
        """The first ``re:`` pattern that matches the whole of ``token``, as it is, without
        trailing punctuation (``#1214,``), without any edge punctuation (``(H-173306,``),
        or without a footnote number glued to its front (``4H-197715``: a superscript
        marker that the transcript or the OCR ran into the identifier)."""
        core = _WORD_EDGE.sub("", token)
        forms = (
            token,
            token.rstrip(_TRAILING),
            token.strip(_TRAILING + "([{\"'"),
            core,
            _FOOTNOTE_MARK.sub("", core),
        )
        for p in self.patterns:
            if any(_fullmatch(p, f) for f in forms if f):
                return p
        return None

    @functools.cached_property
    def _symspell(self) -> SymSpell:
        sym = SymSpell(max_dictionary_edit_distance=3, prefix_length=10)
        for w in self._canon.values():
            sym.create_dictionary_entry(w.casefold(), 1)
        return sym

    def nearest(self, word: str, max_distance: int = 2) -> list[tuple[str, int]]:
        """Lexicon words within ``max_distance`` edits of ``word``, closest first, and
        never further than :func:`near_distance` allows for the shorter of the two: a
        three-letter word is never "near" a different four-letter term."""
        b = bare(word)
        if not b or not self._canon:
            return []
        hits = self._symspell.lookup(b.casefold(), Verbosity.ALL, max_edit_distance=min(max_distance, 3))
        return [
            (self._canon[h.term], h.distance)
            for h in sorted(hits, key=lambda h: h.distance)
            if h.distance <= near_distance(min(len(b), len(h.term)))
        ]


def near_distance(length: int) -> int:
    """Most edits at which two words of which the shorter has ``length`` letters are
    still one word misspelt: none up to three letters (``die``/``Dieu``, ``in``/``is``
    are different words), one up to seven, two beyond (a fifth of the letters or less)."""
    return 0 if length <= 3 else 1 if length <= 7 else 2


def _symspell_counts(name: str, words: int) -> dict[str, int]:
    """One of symspellpy's frequency files: ``words`` space-separated words, then a count."""
    counts: dict[str, int] = {}
    for row in (importlib.resources.files("symspellpy") / name).read_text(encoding="utf-8").splitlines():
        parts = row.split(" ")
        if len(parts) == words + 1 and all(parts[:words]):
            counts[" ".join(parts[:words])] = int(parts[words] or 0)
    return counts


#: Tesseract language codes whose dictionary comes from wordfreq (its ISO 639-1 code);
#: ``eng`` uses symspellpy's English list, as before.
WORDFREQ_LANGUAGES = {
    "fra": "fr",
    "deu": "de",
    "ita": "it",
    "spa": "es",
    "por": "pt",
    "nld": "nl",
    "dan": "da",
    "swe": "sv",
    "nor": "nb",
    "fin": "fi",
    "pol": "pl",
    "ces": "cs",
    "slk": "sk",
    "hun": "hu",
    "ron": "ro",
    "cat": "ca",
    "tur": "tr",
    "lit": "lt",
    "lav": "lv",
    "slv": "sl",
}
#: wordfreq's floor: words rarer than this (Zipf 1.5, 3 per 100 million) are mostly
#: misspellings and OCR noise of the web and subtitle corpora, not words.
WORDFREQ_FLOOR = 10**-7.5


#: How many of a language's most frequent words :meth:`Dictionary.rank` tells apart.
RANKED = 1000


class Dictionary:
    """A language's word list with frequencies, as a word test (one per language code).

    English: symspellpy's frequency dictionary (82,765 words). Other languages
    (:data:`WORDFREQ_LANGUAGES`): wordfreq's list for that language (shipped in its
    wheel), above :data:`WORDFREQ_FLOOR`. Loaded once per process and language on first
    use. A word is "in" when its casefolded form (``ß`` folds to ``ss``, as wordfreq
    stores German), or every part of a hyphenated compound, is listed; outside English an
    elided word (``l'homme``, ``qu'il``) is in when its parts are.
    """

    def __init__(self, counts: dict[str, int], lang: str = "eng") -> None:
        self._counts = counts
        self.lang = lang
        self._split = re.compile(r"[-/]" if lang == "eng" else "[-/'\u2019]")

    @classmethod
    @functools.lru_cache(maxsize=1)
    def english(cls) -> Dictionary:
        return cls(_symspell_counts("frequency_dictionary_en_82_765.txt", 1))

    @classmethod
    def for_language(cls, lang: str) -> Dictionary | None:
        """The dictionary for a Tesseract language code (``eng``, ``fra``, ``deu``, or
        ``eng+fra``: the union; ``none``: an empty one); None when no listed language
        has one."""
        return _dictionary_for(lang)

    @staticmethod
    def supports(lang: str) -> bool:
        return any(code == "eng" or code in WORDFREQ_LANGUAGES for code in lang.split("+"))

    def frequency(self, word: str) -> int:
        return self._counts.get(bare(word).casefold(), 0)

    def rank(self, word: str) -> int:
        """The word's place among the language's :data:`RANKED` most frequent words (0:
        the most frequent); :data:`RANKED` for any other word."""
        return self._ranks.get(bare(word).casefold(), RANKED)

    @functools.cached_property
    def _ranks(self) -> dict[str, int]:
        top = heapq.nlargest(RANKED, self._counts.items(), key=lambda kv: kv[1])
        return {w: i for i, (w, _) in enumerate(top)}

    def __contains__(self, word: str) -> bool:
        b = bare(word).casefold()
        if not b:
            return False
        if self._known(b):
            return True
        parts = [p for p in self._split.split(b) if p]
        return len(parts) > 1 and all(self._known(p) or p.isdigit() for p in parts)

    def _known(self, w: str) -> bool:
        """Listed, or (English) the plural of a listed word (the list has few plurals of names)."""
        return w in self._counts or (
            self.lang == "eng" and len(w) > 4 and w.endswith("s") and w[:-1] in self._counts
        )


def _wordfreq_counts(code: str) -> dict[str, int]:
    """wordfreq's ``best`` list for ``code``: word -> frequency per 10^9 words.

    Read bucket by bucket (bucket ``i`` holds the words of frequency 10^(-i/100)), which
    costs a third of wordfreq's own ``get_frequency_dict``, and stopped at the floor."""
    import wordfreq

    counts: dict[str, int] = {}
    for i, bucket in enumerate(wordfreq.get_frequency_list(code, wordlist="best")):
        freq = 10 ** (-i / 100)
        if freq < WORDFREQ_FLOOR:
            break
        n = round(freq * 1e9)
        for w in bucket:
            if " " not in w:
                counts.setdefault(w, n)
    return counts


@functools.lru_cache(maxsize=8)
def _dictionary_for(lang: str) -> Dictionary | None:
    if lang == "none":  # no dictionary: only the lexicon, patterns and numbers count
        return Dictionary({}, "none")
    codes = [c for c in dict.fromkeys(lang.split("+")) if c == "eng" or c in WORDFREQ_LANGUAGES]
    if not codes:
        return None
    if codes == ["eng"]:
        return Dictionary.english()
    counts: dict[str, int] = {}
    for code in codes:
        more = Dictionary.english()._counts if code == "eng" else _wordfreq_counts(WORDFREQ_LANGUAGES[code])
        for w, n in more.items():
            if n > counts.get(w, 0):
                counts[w] = n
    return Dictionary(counts, "+".join(codes))


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect of a lexicon file, for ``ocr-fix lexicon check``."""

    line: int
    message: str


_VARIANTS = re.compile(r"variants:\s*([^(;]*)", re.IGNORECASE)


def parse_lexicon(text: str, source: str = "") -> tuple[list[Term], list[Pattern], list[Problem]]:
    """Terms, patterns and every defect of a lexicon's text, in one pass.

    Defects: an empty term or regex, a bad regex, a duplicate term (case-insensitive),
    and a term that another line lists among its ``variants:`` — that would make
    ``check`` accept the misspelling the lexicon was written to catch."""
    terms: list[Term] = []
    patterns: list[Pattern] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    variant_of: dict[str, tuple[int, str]] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.strip().startswith("#"):
            continue
        cols = [c.strip() for c in raw.split("\t")]
        head, kind, note = [*cols, "", ""][:3]
        if not head:
            problems.append(Problem(n, "empty term (line has columns but no term)"))
            continue
        if head.startswith("re:"):
            pattern = head[3:]
            try:
                if not pattern:
                    raise regex.error("empty regex")
                unsafe = regex_problem(pattern)
                if unsafe is not None:  # checked before compiling: compiling can be the cost
                    problems.append(Problem(n, unsafe))
                else:
                    patterns.append(Pattern(regex.compile(pattern), kind or "identifier", note, n, source))
            except regex.error as exc:
                problems.append(Problem(n, f"bad regex {pattern!r}: {exc}" if pattern else "empty regex"))
        else:
            terms.append(Term(unicodedata.normalize("NFC", head), kind, note, n, source))
        key = unicodedata.normalize("NFC", head).casefold()
        if key in seen:
            problems.append(Problem(n, f"{head!r} duplicates line {seen[key]}"))
        else:
            seen[key] = n
        for m in _VARIANTS.finditer(note):
            for v in (x.strip() for x in m.group(1).split(",")):
                if v:
                    variant_of.setdefault(unicodedata.normalize("NFC", v).casefold(), (n, head))
    for term in terms:
        hit = variant_of.get(term.text.casefold())
        if hit is not None and hit[0] != term.line:
            problems.append(
                Problem(term.line, f"{term.text!r} is listed as a variant of {hit[1]!r} (line {hit[0]})")
            )
    return terms, patterns, sorted(problems, key=lambda p: p.line)


def read_lexicon(path: Path) -> Lexicon:
    """Parse one lexicon file; a regex or term that cannot be used raises
    :class:`LexiconError` naming its line (duplicates are harmless here)."""
    path = Path(path)
    text = decode_text(read_input(path, "lexicon file"), path, "lexicon", LexiconError)
    terms, patterns, problems = parse_lexicon(text, str(path))
    fatal = [p for p in problems if "regex" in p.message or "empty term" in p.message]
    if fatal:
        raise LexiconError(f"line {fatal[0].line}: {fatal[0].message}", path)
    return Lexicon.build(terms, patterns)


def load_lexicons(paths: Sequence[Path]) -> Lexicon:
    lex = Lexicon()
    for p in paths:
        lex = lex.merged(read_lexicon(p))
    return lex


def validate_lexicon(path: Path) -> list[Problem]:
    """Every defect of a lexicon file, not just the first (:func:`read_lexicon` stops
    at the first because ``check`` cannot run with a broken lexicon; an editor wants
    them all)."""
    path = Path(path)
    raw = read_input(path, "lexicon file")
    problem = text_problem(raw.removeprefix(b"\xef\xbb\xbf"), "lexicon")
    if problem is not None:
        return [Problem(*problem)]
    return parse_lexicon(decode_text(raw, path, "lexicon", LexiconError), str(path))[2]


class Bigrams:
    """symspellpy's English bigram counts (243,342 pairs): how often two words follow
    each other. Triage uses them as context evidence when both readings of a word are
    real words (``enemy in order`` against ``enemy is order``)."""

    def __init__(self, counts: dict[str, int]) -> None:
        self._counts = counts

    @classmethod
    @functools.lru_cache(maxsize=1)
    def english(cls) -> Bigrams:
        return cls(_symspell_counts("frequency_bigramdictionary_en_243_342.txt", 2))

    def count(self, first: str, second: str) -> int:
        return self._counts.get(f"{first.casefold()} {second.casefold()}", 0)
