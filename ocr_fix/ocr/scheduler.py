"""Running the OCR of many pages: chunks, worker tasks, the process pool."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

import cv2

from ocr_fix.errors import OcrFailed
from ocr_fix.model import Page, PageRef
from ocr_fix.ocr.cache import OcrCache
from ocr_fix.ocr.engine import OcrEngine
from ocr_fix.ocr.formats import page_from_json, page_to_json


def ocr_page_task(ref: PageRef, engine: OcrEngine) -> dict[str, Any]:
    """OCR one page and return :func:`page_to_json` of it (module-level, so it pickles)."""
    return page_to_json(engine.recognise(ref))


#: Pages one Tesseract process reads at most. Loading Tesseract and its model takes ~80
#: ms, 6 % of a typed page: four pages to a process save most of that (measured: 4 pages
#: 4.13 -> 3.81 s, the same words), while :func:`chunk_size` sends the last pages of a
#: run one by one so no worker is left idle at the end.
MAX_PAGES_PER_PROCESS = 4


def chunk_size(remaining: int, workers: int, engine: OcrEngine) -> int:
    """How many of the ``remaining`` pages to hand one worker next (guided scheduling:
    a share of what is left, shrinking to single pages); 1 for engines that gain nothing
    from sharing a process."""
    if not engine.capabilities.many_pages:
        return 1
    return max(1, min(MAX_PAGES_PER_PROCESS, remaining // (2 * max(1, workers))))


def pages_task(refs: Sequence[PageRef], engine: OcrEngine) -> list[tuple[str, Any]]:
    """The task every pool runs, for one page or a few: per page, ``("ok", page JSON)``
    or ``("error", (class, message))``.

    Expected failures travel as class and finished message because OcrFixError
    subclasses take different constructor arguments and do not round-trip through
    pickle; :func:`page_result` turns the pair back into the exception.
    """
    # One task per worker at a time: the pool is the parallelism, and OpenCV's own
    # threads would only take cores from the other workers' Tesseract (measured: 12 %
    # more CPU for preprocessing with 2 threads on 2 cores).
    cv2.setNumThreads(1)
    results = engine.recognise_many(refs)
    return [("ok", page_to_json(r)) if isinstance(r, Page) else ("error", (type(r), str(r))) for r in results]


def page_result(payload: tuple[str, Any]) -> dict[str, Any]:
    """The page JSON of one page of a finished :func:`pages_task`, or its failure raised again."""
    status, value = payload
    if status == "ok":
        return value
    cls, message = value
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.path = None
    raise err


def _ignore_sigint() -> None:
    # Ctrl-C goes to the whole process group; the parent alone decides what to cancel,
    # and workers must not each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A pool of OCR worker processes: ``spawn``, not ``fork``, because the parent runs a
    progress-drawing thread and forking a threaded process can deadlock the child on a
    lock held at fork time; workers leave Ctrl-C to the parent."""
    return cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint
    )


def ocr_pages(
    refs: Sequence[PageRef],
    engine: OcrEngine,
    *,
    jobs: int | None = None,
    cache: OcrCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    timeout: float | None = None,
) -> list[Page]:
    """OCR pages in input order: cache hits first, then the misses in a process pool.

    ``jobs`` defaults to the number of cores; ``jobs=1`` runs in this process. The first
    failure is raised after the pages not yet started are cancelled. ``timeout`` (seconds
    per page) is handed to the engine (:meth:`OcrEngine.with_timeout`).
    """
    total = len(refs)
    done = 0
    report = progress or (lambda d, t: None)
    if timeout is not None:
        engine = engine.with_timeout(timeout)
    results: list[Page | None] = [None] * total
    misses: list[int] = []
    for i, ref in enumerate(refs):
        hit = cache.get(ref, engine) if cache is not None else None
        if hit is None:
            misses.append(i)
        else:
            results[i] = hit
            done += 1
            report(done, total)

    def finish(i: int, page: Page) -> None:
        nonlocal done
        results[i] = page
        if cache is not None:
            cache.put(refs[i], engine, page)
        done += 1
        report(done, total)

    workers = min(jobs or os.cpu_count() or 1, len(misses))
    if workers <= 1:
        for i in misses:
            finish(i, engine.recognise(refs[i]))
    else:
        groups: list[list[int]] = []
        start = 0
        while start < len(misses):
            size = chunk_size(len(misses) - start, workers, engine)
            groups.append(misses[start : start + size])
            start += size
        with process_pool(workers) as pool:
            futures = {pool.submit(pages_task, [refs[i] for i in group], engine): group for group in groups}
            try:
                for fut in cf.as_completed(futures):
                    group = futures[fut]
                    try:
                        payloads = fut.result()
                    except BrokenProcessPool:
                        first = refs[group[0]]
                        raise OcrFailed(
                            f"the OCR worker died on page {first.number} ({first.label})"
                            + (f" or one of the {len(group) - 1} after it" if len(group) > 1 else "")
                        ) from None
                    for i, payload in zip(group, payloads):
                        finish(i, replace(page_from_json(page_result(payload)), ref=refs[i]))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return [p for p in results if p is not None]
