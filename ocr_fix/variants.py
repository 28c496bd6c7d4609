"""Lexicon-only checking: spelling evidence from the transcript itself, no scans.

Without scans the only evidence is the lexicon, the dictionary and the transcript's
own consistency. A word in neither lexicon nor dictionary but a few edits from a lexicon
term is probably that term misspelt; a lexicon term written several ways in one
transcript (``Lozovsky`` x7, ``Loxovsky`` x2) is listed with all its spellings; an
identifier shaped like the lexicon's patterns but not matching them is suspect.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from ocr_fix.lexicon import Dictionary, Lexicon, bare
from ocr_fix.model import Finding, Kind, Severity
from ocr_fix.normalize.markdown import Folded
from ocr_fix.normalize.tokens import Token, token_span
from ocr_fix.transcript import Transcript


def max_distance(word: str) -> int:
    """Edits allowed between a word and a lexicon term: short words get fewer."""
    return 1 if len(word) <= 5 else 2


def shape(word: str) -> str:
    """``H-197715`` -> ``A-999999``: the form of an identifier."""
    return re.sub(r"\d", "9", re.sub(r"[^\W\d_]", "A", word))


def lexicon_only(
    transcript: Transcript, folded: Folded, tokens: Sequence[Token], lexicon: Lexicon, dictionary: Dictionary
) -> list[Finding]:
    """Findings for a transcript checked against a lexicon alone."""
    candidates: list[tuple[Token, str, str, int, bool]] = []  # token, word, term, distance, in_dict
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for tok in tokens:
        word = bare(tok.text)
        if len(word) < 3 or not any(c.isalpha() for c in word) or any(c.isdigit() for c in word):
            continue
        if lexicon.contains(word):
            canon = lexicon.canonical(word) or word
            spellings[canon][word] += 1
            continue
        near = lexicon.nearest(word, max_distance(word))
        if not near:
            continue
        term, dist = near[0]
        in_dict = word in dictionary
        # A real word is only suspect as a rarer spelling of a capitalised term
        # (Tojo for Togo), never when it is the commoner word (China for Chita).
        if in_dict and not (
            word[0].isupper()
            and term[0].isupper()
            and dist == 1
            and dictionary.frequency(word) < dictionary.frequency(term)
        ):
            continue
        candidates.append((tok, word, term, dist, in_dict))
        spellings[term][word] += 1

    out: list[Finding] = []
    for tok, word, term, dist, in_dict in candidates:
        if in_dict and spellings[term][term] == 0:
            continue  # a real word and the term never appears: no evidence of a variant
        ways = spellings[term]
        listing = ", ".join(f"{w} x{n}" for w, n in ways.most_common())
        lead = max(tok.text.find(word), 0)
        span = token_span(transcript, folded, tok, lead, tok, max(len(tok.text) - lead - len(word), 0))
        if in_dict:
            sev, kind = Severity.WARNING, Kind.VARIANT
            msg = (
                f"{word!r} is a word, but this transcript spells lexicon term {term!r} "
                f"{len(ways)} ways: {listing}"
            )
        else:
            sev = Severity.ERROR if dist == 1 or len(word) >= 7 else Severity.WARNING
            kind = Kind.VARIANT if len(ways) > 1 else Kind.NONWORD
            msg = f"{word!r} is in no dictionary and {dist} edit(s) from lexicon term {term!r}"
            if len(ways) > 1:
                msg += f"; spelled {len(ways)} ways here: {listing}"
        out.append(Finding(sev, kind, span, None, _suggest(word, term), msg))
    out.extend(_identifier_findings(transcript, folded, tokens, lexicon))
    return sorted(out, key=lambda f: f.transcript.start if f.transcript else 0)


def _suggest(word: str, term: str) -> str:
    return term.upper() if word.isupper() else term


def _identifier_findings(
    transcript: Transcript, folded: Folded, tokens: Sequence[Token], lexicon: Lexicon
) -> list[Finding]:
    """Identifiers shaped like those that match a pattern, but not matching it.

    The suggestion keeps the identifier's digits and takes its letters from the
    characters that every matching identifier of that shape shares (``E-197715`` ->
    ``H-197715`` when all the good ones start with ``H-``).
    """
    if not lexicon.patterns:
        return []
    cores = [(tok, re.sub(r"^[^\w#]+|[^\w]+$", "", tok.text)) for tok in tokens]
    templates: dict[str, list[str | None]] = {}
    for _, core in cores:
        if core and lexicon.pattern_for(core):
            prev = templates.get(shape(core))
            templates[shape(core)] = (
                list(core)
                if prev is None
                else [a if a == b else None for a, b in zip(prev, core, strict=True)]
            )
    out: list[Finding] = []
    for tok, core in cores:
        if not core or not any(ch.isdigit() for ch in core) or lexicon.pattern_for(core):
            continue
        template = templates.get(shape(core))
        if template is None:
            continue
        fixed = "".join(
            t if t is not None and not c.isdigit() else c for c, t in zip(core, template, strict=True)
        )
        if fixed == core or not lexicon.pattern_for(fixed):
            continue
        lead = max(tok.text.find(core), 0)
        span = token_span(transcript, folded, tok, lead, tok, len(tok.text) - lead - len(core))
        out.append(
            Finding(
                Severity.WARNING,
                Kind.NONWORD,
                span,
                None,
                fixed,
                f"{core!r} has the form of a catalogued identifier but matches no "
                f"lexicon pattern; the others of its form read like {fixed!r}",
            )
        )
    return out
