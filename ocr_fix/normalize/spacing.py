"""Letter-spaced words (Sperrsatz) read as the words they are.

Typists emphasised a word by spacing its letters (``R o s e n b a u m``), a convention
of German typewritten files in particular; diplomatic transcripts keep the spacing, and
Tesseract reads such a word joined (``Rosenbaum``). Compared word by word, the spaced
letters would pair with the joined word as nine substitutions. :func:`join_letter_spacing`
deletes the single spaces inside a run of three or more single letters (and the space
before a punctuation mark that ends the run: ``W i e n .`` -> ``Wien.``), so the word
is one token; the deleted spaces simply have no folded character, and every kept
character keeps its origin, so findings still name the file's columns.

Measured on the transcripts of ``../shared/realdata`` and the bundled document: the run
pattern matches 17 places, all letter-spaced words (German names and headings, an
English magazine masthead), none in running text.
"""

from __future__ import annotations

import re

from ocr_fix.normalize.markdown import Folded

__all__ = ["LETTER_SPACED", "join_letter_spacing"]

#: Three or more single letters, each followed by one space, starting a word and ending
#: at whitespace, a closing mark or the end; the space before a final mark is included.
LETTER_SPACED = re.compile(r"(?<!\S)(?:[^\W\d_] ){2,}[^\W\d_](?: (?=[,.;:!?](?:\s|$)))?(?=[\s,.;:!?)]|$)")


def join_letter_spacing(f: Folded) -> Folded:
    """``f`` with the spaces inside letter-spaced words deleted (module docstring)."""
    drop: set[int] = set()
    for m in LETTER_SPACED.finditer(f.text):
        drop.update(i for i in range(m.start(), m.end()) if f.text[i] == " ")
    if not drop:
        return f
    keep = [i for i in range(len(f.text)) if i not in drop]
    return Folded(
        "".join(f.text[i] for i in keep),
        (*(f.origin[i] for i in keep), f.origin[-1]),
        tuple(f.ends[i] for i in keep),
    )
