"""Normalise transcript text for comparison without losing where each character came from.

Idea taken from dinglehopper: positions travel with the text. Every character of the
normalised text records the offset (and raw end) of the transcript characters it was
made from, so a mismatch found between normalised words can be reported as line:column
of the file as given, and ``fix`` can replace exactly those raw characters.

Two stages:

1. *Markup stripping* (:mod:`.markdown`): what a reader of
   the rendered transcript sees. Markup is removed, content is kept — struck text is
   still on the page, a footnote reference ``[^1]`` shows as ``1``.
2. *Typography folding* (:mod:`.typography`): the typewriter had one dash, one
   quote and no ligatures, so curly quotes, dashes, ligatures, exotic spaces and
   superscript digits are folded to the ASCII a typed page (and Tesseract) shows. An em
   dash becomes ``--`` (the typist's dash), an en dash ``-``.
"""
