"""Text from files made safe to show on a terminal.

A transcript, a lexicon, an OCR reading or a file name can hold control characters: an
``ESC]0;...BEL`` retitles the terminal, ``ESC[31m`` recolours it, a ``\\r`` overwrites
the line, U+202E reverses what follows. Everything a human reads on a terminal passes
through :func:`visible`, which shows such characters as escapes (``\\x1b``, ``\\u202e``)
instead of obeying them. Machine formats (JSON, the diff written to a file) keep the
bytes as they are.
"""

from __future__ import annotations

import re

__all__ = ["visible"]

#: C0 and C1 controls (tab and newline too: a table cell is one line), DEL, and the
#: invisible bidirectional marks, embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep_layout: bool = False) -> str:
    """``text`` with every control or bidi-override character written as an escape;
    with ``keep_layout``, newlines and tabs stay (multi-line text: a diff, a lexicon)."""
    return (_UNSAFE_IN_TEXT if keep_layout else _UNSAFE).sub(_escape, text)
