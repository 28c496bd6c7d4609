"""Merge lexicon files into one with a single canonical spelling per term.

Collections grow lexicons piece by piece: one per box, one per transcriber, one proposed
by ``lexicon suggest`` for each batch. Merging them must not smuggle a misspelling in
as a term: when two files spell what is one name differently (``Lozovsky`` in one,
``Loxovsky`` in the other; or one lists the other's term among its variants), only one
spelling can be canonical. It is the one with more evidence on the scans (the
``xN in scans`` that ``lexicon suggest`` writes in the note), then the one of the earlier
file; the other is recorded as its variant and reported as a conflict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from ocr_fix.lexicon import Pattern, Term, parse_lexicon
from ocr_fix.variants import max_distance

__all__ = ["Conflict", "Merged", "merge_lexicons"]

_SCANS = re.compile(r"\bx(\d+) in scans\b")
_VARIANTS = re.compile(r"variants:\s*([^(;]*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two spellings of one term from different files; ``kept`` won."""

    kept: Term
    dropped: Term
    reason: str


@dataclass(frozen=True, slots=True)
class Merged:
    terms: tuple[Term, ...]
    patterns: tuple[Pattern, ...]
    conflicts: tuple[Conflict, ...]

    def render(self, sources: Sequence[str] = ()) -> str:
        lines = ["# Lexicon merged by: ocr-fix lexicon merge" + (f" {' '.join(sources)}" if sources else "")]
        lines.append("# term<TAB>kind<TAB>note")
        for t in self.terms:
            lines.append("\t".join([t.text, t.kind, t.note]).rstrip("\t"))
        for p in self.patterns:
            lines.append("\t".join([f"re:{p.regex.pattern}", p.kind, p.note]).rstrip("\t"))
        if self.conflicts:
            lines.append("#")
            lines.append("# Conflicts: one term spelled two ways; the first spelling was kept.")
            for c in self.conflicts:
                lines.append(
                    f"#   {c.kept.text} ({c.kept.source}:{c.kept.line}) over "
                    f"{c.dropped.text} ({c.dropped.source}:{c.dropped.line}): {c.reason}"
                )
        return "\n".join(lines) + "\n"


def _scan_evidence(t: Term) -> int:
    m = _SCANS.search(t.note)
    return int(m.group(1)) if m else -1


def _variants(t: Term) -> set[str]:
    return {
        v.strip().casefold() for m in _VARIANTS.finditer(t.note) for v in m.group(1).split(",") if v.strip()
    }


def _same_term(a: Term, b: Term) -> str | None:
    """Why ``a`` and ``b`` (from different files) are spellings of one term, or None."""
    fa, fb = a.text.casefold(), b.text.casefold()
    if fa == fb:
        return "same term"
    if fa in _variants(b) or fb in _variants(a):
        return "listed as a variant"
    if " " in fa or " " in fb or fa[:1] != fb[:1]:
        return None
    # A few letters apart where one spelling is on the scans and the other is not: one
    # name (``Hirose`` and ``Hirota``, both on the scans, are two).
    limit = min(max_distance(fa), max_distance(fb))
    evidence = sorted((_scan_evidence(a), _scan_evidence(b)))
    if evidence[0] == 0 < evidence[1] and Levenshtein.distance(fa, fb, score_cutoff=limit) <= limit:
        return f"{Levenshtein.distance(fa, fb)} letter(s) apart, only one on the scans"
    return None


def merge_lexicons(texts: Sequence[tuple[str, str]]) -> Merged:
    """Merge ``(source, text)`` lexicons in order.

    Terms of one file never conflict with each other (``lexicon check`` vets a file);
    across files, spellings of one term (same text in any case, one listed as the
    other's variant, or a few letters apart where ``lexicon suggest`` found only one
    of them on the scans) keep one canonical form. Patterns are deduplicated by their regex."""
    kept: list[Term] = []
    conflicts: list[Conflict] = []
    patterns: dict[str, Pattern] = {}
    for source, text in texts:
        terms, pats, _ = parse_lexicon(text, source)
        for p in pats:
            patterns.setdefault(p.regex.pattern, p)
        for term in terms:
            clash = next(
                ((i, why) for i, k in enumerate(kept) if k.source != source and (why := _same_term(k, term))),
                None,
            )
            if clash is None:
                kept.append(term)
                continue
            i, why = clash
            old = kept[i]
            if old.text.casefold() == term.text.casefold() and old.text == term.text:
                continue  # the same term twice: nothing to report
            winner, loser = (term, old) if _scan_evidence(term) > _scan_evidence(old) else (old, term)
            kept[i] = winner
            conflicts.append(Conflict(winner, loser, why))
    return Merged(tuple(kept), tuple(patterns.values()), tuple(conflicts))
