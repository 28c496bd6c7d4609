"""Inject realistic transcriber errors into a correct transcript, with their catalogue.

The verdicts of ``check`` are measured and fitted on transcripts whose errors are known
exactly: a correct transcript (the ground truth of real or rendered pages) gets errors a
human transcriber makes, and the catalogue lists each one in the format of
``golden/psis-400-23/errors.json``, which ``../shared/tools/score_findings.py`` scores::

    {"line": 12, "column": 31, "page": 2, "wrong": "form", "right": "from",
     "kind": "real-word", "class": "real-word", "context": "a letter form the Minister"}

``line`` and ``column`` are 1-based (characters) in the *altered* text, ``wrong`` is the
exact text found there and ``right`` what the original had: replacing ``wrong`` with
``right`` at every entry gives the original back (:func:`restore`). ``page`` is the
1-based page of that line when pages are given. ``class`` is the injected class;
``kind`` is the same except for the two omission classes, whose ``kind`` is ``omission``
(the scorer then accepts a finding within 3 characters, since a missing text has no
width of its own).

Classes:

``name``
    a capitalised word inside a sentence, one or two letters off (``Konoye`` ->
    ``Kenoye``); the result is no word of the vocabulary.
``digit-letter``
    a digit typed for a look-alike letter inside a word (``Wash1ngton``, ``c0mmittee``).
``real-word``
    a frequent word for another at edit distance 1 or an adjacent transposition
    (``from``/``form``, ``on``/``no``, ``in``/``is``), both words of the vocabulary; the
    pairs come from the vocabulary given, never from a list.
``number``
    one wrong digit in a date, number or file number (``1921`` -> ``1927``).
``doubled-word``
    a word typed twice (``the the``); the entry spans both copies.
``dropped-word`` (kind ``omission``)
    one word left out.
``dropped-clause`` (kind ``omission``)
    five to twelve consecutive words left out, possibly across one line break (the
    line break stays, so line numbers do not move).
``line-order``
    two adjacent lines exchanged; one entry spans both lines.
``punctuation``
    a comma for a full stop, a semicolon for a colon, a dropped or an added comma, a
    dropped closing bracket; the entry spans the whole token (``July,`` for ``July.``,
    ``July,`` for ``July),``).

Errors never touch: between two injected errors there are at least two untouched words.
Only lines in ``eligible`` are altered, so a caller that knows which lines the page
really shows (a partial transcript leaves letterheads out; a line OCR cannot find may
be handwriting) keeps errors where a reader of the scan could see them.

Everything is pure and seeded: the same text, seed and vocabulary give the same result.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from ocr_fix.editorial import DEFAULT_EDITORIAL_MARKS, compile_marks

__all__ = [
    "CLASSES",
    "InjectedError",
    "Injection",
    "inject",
    "real_word_partners",
    "restore",
    "vocabulary",
]

CLASSES = (
    "name",
    "digit-letter",
    "real-word",
    "number",
    "doubled-word",
    "dropped-word",
    "dropped-clause",
    "line-order",
    "punctuation",
)
_OMISSIONS = frozenset({"dropped-word", "dropped-clause"})

#: Letters a typist replaces with the digit key that looks like them.
_DIGIT_FOR = {
    "i": "1",
    "l": "1",
    "I": "1",
    "o": "0",
    "O": "0",
    "s": "5",
    "S": "5",
    "B": "8",
    "z": "2",
    "Z": "2",
}
_VOWELS = "aeiou"
_CONSONANTS = "bcdfghjklmnprstvwz"
_TOKEN = re.compile(r"\S+")
_EDGE = re.compile(r"^([^\w]*)(.*?)([^\w]*)$", re.DOTALL)
_SENTENCE_END = (".", "!", "?", ":")
_GAP = 2  # untouched words between two errors
#: A real-word slip turns a word into one of the language's this many most frequent words:
#: further down wordfreq's lists sit abbreviations and names (``rom``, ``brom``).
_COMMON = 8000
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class InjectedError:
    """One catalogued error: ``wrong`` sits at ``line:column`` of the altered text."""

    line: int
    column: int
    page: int | None
    wrong: str
    right: str
    klass: str
    context: str

    @property
    def kind(self) -> str:
        """The scorer's kind: the class, or ``omission`` for a dropped word or clause."""
        return "omission" if self.klass in _OMISSIONS else self.klass

    def as_dict(self) -> dict[str, Any]:
        """The catalogue entry (``errors.json`` format, plus ``class``)."""
        out: dict[str, Any] = {"line": self.line, "column": self.column}
        if self.page is not None:
            out["page"] = self.page
        out.update(
            wrong=self.wrong, right=self.right, kind=self.kind, context=self.context, **{"class": self.klass}
        )
        return out


@dataclass(frozen=True, slots=True)
class Injection:
    """The altered text and its catalogue, in text order."""

    text: str
    errors: tuple[InjectedError, ...]

    def catalogue(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in self.errors]


@dataclass(frozen=True, slots=True)
class _Token:
    index: int  # position in the text's token list
    line: int  # 0-based line
    start: int  # offset of the token in the text
    end: int
    lead: str  # punctuation before the core
    core: str
    trail: str  # punctuation after the core

    @property
    def core_start(self) -> int:
        return self.start + len(self.lead)


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int  # original offset
    end: int
    replacement: str
    klass: str
    tokens: tuple[int, int]  # first and last token index it touches (inclusive)


def vocabulary(lang: str = "eng", size: int = 30000) -> dict[str, float]:
    """The ``size`` most frequent words of a language with their frequencies.

    From wordfreq (``eng``, ``fra``, ``deu`` and 40 more languages):
    its lists merge many corpora, so "frequent" is not the taste of one document.
    Empty when wordfreq is missing or does not know the language: real-word slips are
    then left out and altered names are not checked against real words.
    """
    return dict(_vocabulary(lang, size))


@lru_cache(maxsize=8)
def _vocabulary(lang: str, size: int) -> tuple[tuple[str, float], ...]:
    code = {"eng": "en", "fra": "fr", "deu": "de", "ita": "it", "spa": "es", "nld": "nl"}.get(lang, lang)
    try:
        import wordfreq
    except ImportError:
        return ()
    try:
        words = wordfreq.top_n_list(code, size)
    except LookupError:
        return ()
    return tuple((w, wordfreq.word_frequency(w, code)) for w in words if w.isalpha())


def real_word_partners(word: str, vocab: Mapping[str, float], letters: str = "") -> list[str]:
    """Words of ``vocab`` one substitution, insertion, deletion or adjacent
    transposition away from ``word`` (lower case), most frequent first. ``letters``: the
    alphabet to substitute and insert from (default: every letter ``vocab`` uses)."""
    w = word.lower()
    letters = "".join(sorted(set(letters or _alphabet(vocab)) | set(w)))
    edits: set[str] = set()
    for i in range(len(w) + 1):
        left, right = w[:i], w[i:]
        if right:
            edits.add(left + right[1:])
            for c in letters:
                edits.add(left + c + right[1:])
        if len(right) > 1:
            edits.add(left + right[1] + right[0] + right[2:])
        for c in letters:
            edits.add(left + c + right)
    edits.discard(w)
    return sorted((e for e in edits if len(e) >= 2 and e in vocab), key=lambda e: (-vocab[e], e))


def _alphabet(vocab: Mapping[str, float]) -> str:
    return "".join(sorted({c for v in vocab for c in v if c.isalpha()}))


def restore(text: str, catalogue: Sequence[Mapping[str, Any]]) -> str:
    """Put ``right`` back for ``wrong`` at every entry's line:column (the inverse of
    :func:`inject`); raises ``ValueError`` when an entry's ``wrong`` is not there."""
    starts = _line_starts(text)
    spots = []
    for e in catalogue:
        at = starts[e["line"] - 1] + e["column"] - 1
        if text[at : at + len(e["wrong"])] != e["wrong"]:
            raise ValueError(f"{e['line']}:{e['column']}: {e['wrong']!r} is not there")
        spots.append((at, len(e["wrong"]), e["right"]))
    for at, n, right in sorted(spots, reverse=True):
        text = text[:at] + right + text[at + n :]
    return text


def inject(
    text: str,
    seed: int,
    *,
    per_class: int | Mapping[str, int] = 3,
    vocab: Mapping[str, float] | None = None,
    pages: Sequence[int] | None = None,
    eligible: Collection[int] | None = None,
    classes: Sequence[str] = CLASSES,
) -> Injection:
    """Inject ``per_class`` errors of each of ``classes`` into ``text``.

    ``vocab``: word -> frequency (:func:`vocabulary`), for real-word slips and to keep
    altered names off real words. ``pages``: the 1-based page of each line. ``eligible``:
    the 1-based lines that may be altered (default: all). A class gets fewer errors than
    asked when the text has no more room for it. Raises ``ValueError`` for an unknown class.
    """
    unknown = [c for c in classes if c not in CLASSES]
    if unknown:
        raise ValueError(f"unknown error class {unknown[0]!r}; choose from {', '.join(CLASSES)}")
    vocab = vocab or {}
    lines = text.split("\n")
    ok_lines = set(range(len(lines))) if eligible is None else {n - 1 for n in eligible}
    tokens = _tokens(text)
    rng = random.Random(seed)
    wanted = dict.fromkeys(classes, per_class) if isinstance(per_class, int) else dict(per_class)
    plan = [c for c in classes for _ in range(wanted.get(c, 0))]
    # Whole-line and many-word errors first: they need the most room.
    plan.sort(key=lambda c: (c not in ("line-order", "dropped-clause"), rng.random()))
    # Editorial marks (``[illegible]``, ``Caf~~``) and their words are left alone: check
    # never flags a finding that touches one, so an error there could not be found.
    taken = _marked(text, tokens)
    taken_lines = {tokens[i].line for i in taken}
    edits: list[_Edit] = []
    makers = {
        "name": _name,
        "digit-letter": _digit_letter,
        "real-word": _real_word,
        "number": _number,
        "doubled-word": _doubled,
        "dropped-word": _dropped_word,
        "dropped-clause": _dropped_clause,
        "line-order": _line_order,
        "punctuation": _punctuation,
    }
    ctx = _Context(text, lines, tokens, ok_lines, vocab, _alphabet(vocab), pages, rng)
    for klass in plan:
        edit = makers[klass](ctx, taken, taken_lines)
        if edit is None:
            continue
        edits.append(edit)
        lo, hi = edit.tokens
        taken.update(range(lo - _GAP, hi + _GAP + 1))
        if klass == "line-order":
            first = tokens[lo].line
            taken_lines.update((first - 1, first, first + 1, first + 2))
        else:
            taken_lines.update({tokens[lo].line, tokens[hi].line})
    return _apply(text, edits, pages)


# --- sites -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Context:
    text: str
    lines: list[str]
    tokens: list[_Token]
    ok_lines: set[int]
    vocab: Mapping[str, float]
    letters: str
    pages: Sequence[int] | None
    rng: random.Random

    def free(self, taken: set[int], lo: int, hi: int) -> bool:
        if lo < 0 or hi >= len(self.tokens):
            return False
        return all(i not in taken and self.tokens[i].line in self.ok_lines for i in range(lo, hi + 1))

    def page(self, line: int) -> int | None:
        return self.pages[line] if self.pages is not None and line < len(self.pages) else None

    def pick(self, candidates: list[_T]) -> _T | None:
        return self.rng.choice(candidates) if candidates else None


def _tokens(text: str) -> list[_Token]:
    out = []
    starts = _line_starts(text)
    line = 0
    for i, m in enumerate(_TOKEN.finditer(text)):
        while line + 1 < len(starts) and starts[line + 1] <= m.start():
            line += 1
        lead, core, trail = _EDGE.match(m.group()).groups()  # type: ignore[union-attr]
        out.append(_Token(i, line, m.start(), m.end(), lead, core, trail))
    return out


def _marked(text: str, tokens: Sequence[_Token]) -> set[int]:
    """The indices of ``tokens`` a default editorial mark touches."""
    spans = compile_marks(DEFAULT_EDITORIAL_MARKS).spans(text)
    return {t.index for t in tokens for a, b in spans if t.start < b and a < t.end}


def _is_word(core: str) -> bool:
    return core.isalpha()


def _word_edit(ctx: _Context, taken: set[int], klass: str, accept: Any, mutate: Any) -> _Edit | None:
    """One token whose core ``accept`` takes, its core replaced by ``mutate``'s result."""
    order = [t for t in ctx.tokens if ctx.free(taken, t.index, t.index) and accept(t)]
    ctx.rng.shuffle(order)
    for t in order[:200]:
        new = mutate(t)
        if new and new != t.core:
            return _Edit(t.core_start, t.core_start + len(t.core), new, klass, (t.index, t.index))
    return None


def _inside_sentence(ctx: _Context, t: _Token) -> bool:
    if t.index == 0 or t.lead:
        return False
    return not ctx.tokens[t.index - 1].trail.endswith(_SENTENCE_END)


def _name(ctx: _Context, taken: set[int], _lines: set[int]) -> _Edit | None:
    def accept(t: _Token) -> bool:
        c = t.core
        return len(c) >= 4 and _is_word(c) and c[0].isupper() and c[1:].islower() and _inside_sentence(ctx, t)

    def mutate(t: _Token) -> str | None:
        for _ in range(20):
            new = t.core
            for _ in range(ctx.rng.choice((1, 1, 2))):
                new = _letter_slip(new, ctx.rng)
            if new.lower() != t.core.lower() and new.lower() not in ctx.vocab and new[1:].islower():
                return new
        return None

    return _word_edit(ctx, taken, "name", accept, mutate)


def _letter_slip(word: str, rng: random.Random) -> str:
    """One letter off, never the first: a vowel for a vowel, a consonant for a
    consonant, a letter dropped or doubled, two letters exchanged."""
    i = rng.randrange(1, len(word))
    c = word[i]
    how = rng.random()
    if how < 0.55 and c.lower() in _VOWELS + _CONSONANTS:
        pool = _VOWELS if c.lower() in _VOWELS else _CONSONANTS
        return word[:i] + rng.choice([p for p in pool if p != c.lower()]) + word[i + 1 :]
    if how < 0.7 and len(word) > 4:
        return word[:i] + word[i + 1 :]
    if how < 0.85:
        return word[:i] + c + word[i:]
    if i + 1 < len(word) and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


def _digit_letter(ctx: _Context, taken: set[int], _lines: set[int]) -> _Edit | None:
    def spots(c: str) -> list[int]:
        return [i for i in range(1, len(c) - 1) if c[i] in _DIGIT_FOR]

    def accept(t: _Token) -> bool:
        return len(t.core) >= 4 and _is_word(t.core) and bool(spots(t.core))

    def mutate(t: _Token) -> str:
        i = ctx.rng.choice(spots(t.core))
        return t.core[:i] + _DIGIT_FOR[t.core[i]] + t.core[i + 1 :]

    return _word_edit(ctx, taken, "digit-letter", accept, mutate)


def _real_word(ctx: _Context, taken: set[int], _lines: set[int]) -> _Edit | None:
    if not ctx.vocab:
        return None

    def accept(t: _Token) -> bool:
        return 2 <= len(t.core) <= 10 and t.core.islower() and _is_word(t.core) and t.core in ctx.vocab

    common = dict(sorted(ctx.vocab.items(), key=lambda kv: -kv[1])[:_COMMON])

    def mutate(t: _Token) -> str | None:
        partners = real_word_partners(t.core, common, ctx.letters)[:8]
        if not partners:
            return None
        weights = [ctx.vocab[p] ** 0.5 for p in partners]
        return ctx.rng.choices(partners, weights=weights)[0]

    return _word_edit(ctx, taken, "real-word", accept, mutate)


def _number(ctx: _Context, taken: set[int], _lines: set[int]) -> _Edit | None:
    def accept(t: _Token) -> bool:
        return any(ch.isdigit() for ch in t.core)

    def mutate(t: _Token) -> str:
        spots = [i for i, ch in enumerate(t.core) if ch.isdigit()]
        i = ctx.rng.choice(spots)
        digit = ctx.rng.choice([d for d in "0123456789" if d != t.core[i]])
        return t.core[:i] + digit + t.core[i + 1 :]

    return _word_edit(ctx, taken, "number", accept, mutate)


def _punctuation(ctx: _Context, taken: set[int], _lines: set[int]) -> _Edit | None:
    swaps = {",": (".", ";", ""), ".": (",", ""), ";": (",", ":"), ":": (";", ".")}

    def accept(t: _Token) -> bool:
        if not (t.core and (t.core.isalpha() or t.core.isdigit())):
            return False
        if ")" in t.trail:
            return True
        if t.trail in swaps:
            # "Mr." or "No." lose their stop only as an abbreviation slip: leave them.
            return not (t.trail == "." and len(t.core) <= 3) and t.index + 1 < len(ctx.tokens)
        return not t.trail and t.core.islower() and _inside_sentence(ctx, t)

    def mutate(t: _Token) -> str:
        if ")" in t.trail:
            # A closing bracket dropped ("21 July)," typed "21 July,"): the one punctuation
            # slip of the bundled document's catalogue, and 8 % of the marks after words in
            # the realdata transcripts are closing brackets.
            return t.lead + t.core + t.trail.replace(")", "", 1)
        new_trail = ctx.rng.choice(swaps[t.trail]) if t.trail else ","
        return t.lead + t.core + new_trail

    candidates = [t for t in ctx.tokens if ctx.free(taken, t.index, t.index) and accept(t)]
    # Most slips change or drop a mark the text has; fewer add a comma (far more words
    # have none, so drawing from all of them alike would make nearly every slip an added comma).
    marked = [t for t in candidates if t.trail]
    t = ctx.pick(marked if marked and ctx.rng.random() < 0.75 else candidates)
    return None if t is None else _Edit(t.start, t.end, mutate(t), "punctuation", (t.index, t.index))


def _doubled(ctx: _Context, taken: set[int], _lines: set[int]) -> _Edit | None:
    t = ctx.pick(
        [
            t
            for t in ctx.tokens
            if ctx.free(taken, t.index, t.index) and _is_word(t.core) and len(t.core) >= 2 and not t.lead
        ]
    )
    # "the war" -> "the the war": the entry covers both copies.
    return None if t is None else _Edit(t.start, t.start, t.core + " ", "doubled-word", (t.index, t.index))


def _drop(ctx: _Context, first: int, last: int, klass: str) -> _Edit:
    """Drop tokens first..last with the space after them (before them at a line end);
    a line break inside stays."""
    before, after = ctx.tokens[first - 1], ctx.tokens[last + 1]
    start, end = before.end, after.start
    gap = ctx.text[start:end]
    replacement = "\n" if "\n" in gap else " "
    return _Edit(start, end, replacement, klass, (first, last))


def _dropped_word(ctx: _Context, taken: set[int], _lines: set[int]) -> _Edit | None:
    order = [
        t.index
        for t in ctx.tokens
        if 0 < t.index < len(ctx.tokens) - 1
        and ctx.free(taken, t.index - 1, t.index + 1)
        and _is_word(t.core)
        and len(t.core) >= 2  # a letter of a letter-spaced name ("B e r n e r") is no word
        and not t.lead
        and not t.trail
        and ctx.text.count("\n", ctx.tokens[t.index - 1].end, ctx.tokens[t.index + 1].start) <= 1
    ]
    i = ctx.pick(order)
    return None if i is None else _drop(ctx, i, i, "dropped-word")


def _dropped_clause(ctx: _Context, taken: set[int], _lines: set[int]) -> _Edit | None:
    n = ctx.rng.randint(5, 12)
    order = []
    for first in range(1, len(ctx.tokens) - n):
        last = first + n - 1
        if not ctx.free(taken, first - 1, last + 1):
            continue
        a, b = ctx.tokens[first - 1], ctx.tokens[last + 1]
        breaks = ctx.text.count("\n", a.end, b.start)
        # At most one line break inside: a whole line gone would move every later line.
        if breaks <= 1 and ctx.page(a.line) == ctx.page(b.line):
            order.append(first)
    first_pick = ctx.pick(order)
    if first_pick is None:
        return None
    return _drop(ctx, first_pick, first_pick + n - 1, "dropped-clause")


def _line_order(ctx: _Context, taken: set[int], taken_lines: set[int]) -> _Edit | None:
    by_line: dict[int, list[int]] = {}
    for t in ctx.tokens:
        by_line.setdefault(t.line, []).append(t.index)
    order = []
    for n in range(len(ctx.lines) - 1):
        a, b = ctx.lines[n], ctx.lines[n + 1]
        if a.strip() == b.strip() or len(a) > 120 or len(b) > 120:
            continue
        if len(a.split()) < 3 or len(b.split()) < 3 or {n, n + 1} & taken_lines:
            continue
        if ctx.page(n) != ctx.page(n + 1) or not {n, n + 1} <= ctx.ok_lines:
            continue
        lo, hi = by_line[n][0], by_line[n + 1][-1]
        if ctx.free(taken, lo, hi):
            order.append(n)
    at = ctx.pick(order)
    if at is None:
        return None
    lo, hi = by_line[at][0], by_line[at + 1][-1]
    starts = _line_starts(ctx.text)
    start, end = starts[at], starts[at + 1] + len(ctx.lines[at + 1])
    return _Edit(start, end, ctx.lines[at + 1] + "\n" + ctx.lines[at], "line-order", (lo, hi))


# --- applying ----------------------------------------------------------------------------


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return starts


def _apply(text: str, edits: list[_Edit], pages: Sequence[int] | None) -> Injection:
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    pieces: list[str] = []
    placed: list[tuple[int, _Edit]] = []
    pos = 0
    out_len = 0
    for e in edits:
        pieces.append(text[pos : e.start])
        out_len += e.start - pos
        placed.append((out_len, e))
        pieces.append(e.replacement)
        out_len += len(e.replacement)
        pos = e.end
    pieces.append(text[pos:])
    altered = "".join(pieces)
    starts = _line_starts(altered)
    errors = []
    for at, e in placed:
        wrong, right = e.replacement, text[e.start : e.end]
        if e.klass == "doubled-word":
            # Span both copies: a finding on either one names the slip.
            wrong, right = altered[at : at + 2 * len(e.replacement) - 1], e.replacement[:-1]
        line = _line_of(starts, at)
        errors.append(
            InjectedError(
                line=line + 1,
                column=at - starts[line] + 1,
                page=pages[line] if pages is not None and line < len(pages) else None,
                wrong=wrong,
                right=right,
                klass=e.klass,
                context=_context(altered, at, at + len(wrong)),
            )
        )
    return Injection(altered, tuple(errors))


def _line_of(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _context(text: str, start: int, end: int) -> str:
    """The altered span with a word either side, on one line (at most 8 words)."""
    left = text[max(0, start - 200) : start].split()
    right = text[end : end + 200].split()
    middle = text[start:end].split()
    if len(middle) > 6:
        middle = [*middle[:3], "...", *middle[-3:]]
    return " ".join([*left[-1:], *middle, *right[:1]])
