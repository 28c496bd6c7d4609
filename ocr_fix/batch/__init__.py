"""``batch``: check a whole archive of documents — parallel, resumable, failure-isolated.

Pages of *all* documents share one executor (a local process pool or a Dask cluster, see
:mod:`ocr_fix.distributed`), so workers stay busy across document boundaries; each
document is checked in this process as soon as its last page is back (alignment is fast,
OCR is not). Every finished document is written at once — ``OUT/<id>/findings.json``
atomically and one fsynced line of ``OUT/summary.jsonl`` — so an interrupted run loses
only the documents in flight, and a rerun skips every document whose inputs, settings
and tool version hash to the key of its last successful line.

One broken document (unreadable image, missing transcript, bad lexicon, Tesseract crash
or timeout) is recorded as ``failed`` with a one-line reason; the others go on.

The module knows no UI: progress goes out through callbacks.
"""
