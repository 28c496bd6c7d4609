"""What the lexicon, the dictionary and the language say about one reading of a word.

Triage weighs two readings of the same place, the transcript's and the scan's. Each
function here answers one general question about a reading — is it a lexicon term, an
English word, an identifier of a known form? how well does it fit between its
neighbours? is the difference between the readings one OCR makes all the time? — and
knows nothing of any particular document.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from ocr_fix.lexicon import Bigrams, Dictionary, Lexicon, bare

#: Glyphs that OCR swaps between digits and letters (typewriter faces make them near twins).
HOMOGLYPHS = frozenset(
    frozenset(p) for p in ("0O", "0o", "0D", "1l", "1I", "1i", "1|", "5S", "5s", "8B", "2Z", "6b", "9g", "4A")
)
_BRACKETS = {"(": ")", "[": "]", "{": "}"}


def is_number(word: str) -> bool:
    return bool(re.fullmatch(r"[\d.,:/-]*\d[\d.,:/-]*", word))


def has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


@dataclass(frozen=True)
class Evidence:
    """The sources of evidence for one check: its lexicon, the dictionary of the
    transcript's language, and (English only) bigram counts (loaded once per process)."""

    lexicon: Lexicon
    dictionary: Dictionary = field(default_factory=Dictionary.english)
    #: False when the document is not in the dictionary's language: then only the
    #: lexicon, identifier patterns and numbers make a reading plausible.
    speaks: bool = True

    def words(self, text: str) -> list[str]:
        return [b for b in (bare(w) for w in text.split()) if b]

    def in_lexicon(self, text: str) -> bool:
        """Every word is a lexicon term or a number, and at least one is a term."""
        ws = self.words(text)
        return (
            bool(ws)
            and all(self.lexicon.contains(w) or is_number(w) for w in ws)
            and any(self.lexicon.contains(w) for w in ws)
        )

    def plausible(self, text: str) -> bool:
        """Every word is a lexicon term, a dictionary word, a number or a known identifier
        (a single character — an initial, a footnote mark — is never evidence against)."""
        ws = self.words(text)
        return bool(ws) and all(
            len(w) == 1
            or self.lexicon.contains(w)
            or (self.speaks and w in self.dictionary)
            or is_number(w)
            or self.lexicon.pattern_for(w) is not None
            for w in ws
        )

    def context_score(self, context: tuple[str, str], word: str) -> float:
        """log10 of how often ``word`` follows the previous word plus how often the next
        word follows it in English text (0 for a side with no usable neighbour)."""
        if not self.speaks or self.dictionary.lang != "eng":  # the bigram counts are English
            return 0.0
        bigrams = Bigrams.english()
        prev, nxt = context
        w = bare(word)
        score = 0.0
        if prev:
            score += math.log10(1 + bigrams.count(prev, w))
        if nxt:
            score += math.log10(1 + bigrams.count(w, nxt))
        return score

    def rarity(self, common: str, rare: str) -> float:
        """How many orders of magnitude rarer ``rare`` is than ``common`` in English."""
        if not self.speaks:
            return 0.0
        return math.log10(1 + self.dictionary.frequency(common)) - math.log10(
            1 + self.dictionary.frequency(rare)
        )

    def lexicon_form(self, reading: str, other: str) -> str:
        """An implausible single-word ``reading`` one edit from a lexicon term (of the
        same capitalisation, at least four letters) is that term misread; otherwise
        ``reading`` itself. ``other`` (the competing reading) is never chosen."""
        core = bare(reading)
        if self.plausible(reading) or len(self.words(reading)) != 1 or has_digit(reading) or len(core) < 4:
            return reading
        near = self.lexicon.nearest(reading, 1)
        if not near or bare(near[0][0]).casefold() == bare(other).casefold():
            return reading
        term = near[0][0]
        if core[0].isupper() != term[0].isupper():
            return reading
        return with_core(reading, term)

    def pattern_fix(self, t: str, o: str) -> str:
        """The smallest correction of ``t`` that matches a lexicon pattern: the scan's
        letters and punctuation where they differ, the transcript's digits (Tesseract
        misreads digits inside identifiers far more than typists change letters for
        digits). Falls back to the scan reading ``o``."""
        out: list[str] = []
        pos = 0
        for op in Levenshtein.editops(t, o):
            out.append(t[pos : op.src_pos])
            pos = op.src_pos
            src = t[op.src_pos] if op.tag != "insert" else ""
            dst = o[op.dest_pos] if op.tag != "delete" else ""
            out.append(src if src.isdigit() and (dst.isdigit() or not dst) else dst)
            if op.tag != "insert":
                pos += 1
        out.append(t[pos:])
        merged = "".join(out)
        return merged if self.lexicon.pattern_for(merged) else o


_JUNK_IN_WORD = re.compile(r"[^\W\d_][*@$%^&|~<>{}\\=+_]|[*@$%^&|~<>{}\\=+_][^\W\d_]")


def garbled(reading: str) -> bool:
    """A symbol no typist puts against a letter (``*rom``, ``For@ign``): OCR noise, even
    when the letters left over happen to spell a word."""
    return bool(_JUNK_IN_WORD.search(reading))


def with_core(token: str, word: str) -> str:
    """``token`` with its word (edge punctuation and possessive aside) replaced by
    ``word``: ``Loshvsky,`` -> ``Lozovsky,``, ``Konoyc's`` -> ``Konoye's``."""
    core = bare(token)
    i = token.find(core) if core else -1
    return token[:i] + word + token[i + len(core) :] if i >= 0 else word


#: Below this share of its words known to the English dictionary, a transcript is taken
#: to be in another language (English despatches measure 0.92-0.98, French typed pages
#: 0.19-0.46) and dictionary evidence is switched off.
MIN_DICTIONARY_COVERAGE = 0.75


def dictionary_coverage(words: Sequence[str], dictionary: Dictionary) -> float:
    """Share of the alphabetic words of three letters or more that ``dictionary`` knows."""
    alpha = [b for b in (bare(w) for w in words) if len(b) >= 3 and b.isalpha()]
    return sum(1 for w in alpha if w in dictionary) / len(alpha) if alpha else 1.0


def homoglyphs_only(t: str, o: str) -> bool:
    """True when every difference between ``t`` and ``o`` is a digit/letter look-alike swap."""
    ops = Levenshtein.editops(t, o)
    return bool(ops) and all(
        op.tag == "replace" and frozenset((t[op.src_pos], o[op.dest_pos])) in HOMOGLYPHS for op in ops
    )


def restores_balance(text: str, wrong: str, right: str) -> bool:
    """True when putting ``right`` for the first ``wrong`` in ``text`` leaves fewer
    unmatched brackets: a closing bracket a typist dropped, not one OCR invented."""

    def imbalance(s: str) -> int:
        return sum(abs(s.count(a) - s.count(b)) for a, b in _BRACKETS.items())

    return bool(wrong) and imbalance(text.replace(wrong, right, 1)) < imbalance(text)
