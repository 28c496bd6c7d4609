"""Running the OCR of many pages: the one :class:`PageScheduler` (``ocr``, ``check`` and
``batch``), its chunks, the worker task and the process pool."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import cv2

from ocr_fix.errors import OcrFailed
from ocr_fix.fileio import temp_root
from ocr_fix.model import Page, PageRef
from ocr_fix.ocr.cache import OcrCache
from ocr_fix.ocr.engine import OcrEngine
from ocr_fix.ocr.formats import page_from_json, page_to_json

if TYPE_CHECKING:
    from ocr_fix.distributed import PageExecutor, PageFuture, WorkerPool

T = TypeVar("T")


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
    """The task every worker process runs: :func:`read_pages` with OpenCV on one thread.

    One task per worker at a time: the pool is the parallelism, and OpenCV's own threads
    would only take cores from the other workers' Tesseract (measured: 12 % more CPU for
    preprocessing with 2 threads on 2 cores). Only worker processes run this.
    """
    cv2.setNumThreads(1)
    return read_pages(refs, engine)


def read_pages(refs: Sequence[PageRef], engine: OcrEngine) -> list[tuple[str, Any]]:
    """One page or a few: per page, ``("ok", page JSON)`` or ``("error", (class, message))``.

    Expected failures travel as class and finished message because OcrFixError
    subclasses take different constructor arguments and do not round-trip through
    pickle; :func:`page_result` turns the pair back into the exception.
    """
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


def _worker_init() -> None:
    """Signals and threads in an OCR worker. Ctrl-C goes to the whole process group; the
    parent alone decides what to cancel, and workers must not each print a
    KeyboardInterrupt traceback. SIGTERM (from the parent stopping the pool, or from the
    kernel when the parent dies) kills the worker's Tesseract, removes its temp files and
    exits at once. The system's temp directory is found now, while the worker has one
    thread (:func:`~ocr_fix.fileio.temp_root`). OpenCV runs on one thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_sigterm)
    _die_with_parent(signal.SIGTERM)
    temp_root()
    # One thread per worker for every task, not only page OCR (the verifier's crops too):
    # the pool is the parallelism (see pages_task).
    cv2.setNumThreads(1)


def _worker_sigterm(signum: int, frame: object) -> None:
    from ocr_fix.ocr.tesseract import stop_all

    stop_all()
    os._exit(128 + signum)


def _die_with_parent(sig: int) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies, so a parent killed
    outright (SIGKILL, OOM) leaves no workers behind; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(128 + int(sig))


def process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A pool of OCR worker processes: ``spawn``, not ``fork``, because the parent runs a
    progress-drawing thread and forking a threaded process can deadlock the child on a
    lock held at fork time; workers leave Ctrl-C to the parent (see :func:`_worker_init`)."""
    return cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init
    )


def stop_pool(pool: cf.Executor) -> None:
    """Stop ``pool`` now: queued pages cancelled, running ones killed (each worker's
    SIGTERM handler kills its Tesseract and removes its temp files), workers reaped."""
    # Taken before shutdown(), which drops the executor's list of its workers.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    if isinstance(pool, cf.ProcessPoolExecutor):
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
        for proc in processes:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
        pool.shutdown(wait=True)
    # A thread pool is left to finish on its own: a thread cannot be killed, and its
    # Tesseract was killed by stop_all() on Ctrl-C / SIGTERM.


#: A page is declared stuck when no page at all finished for this long past the longest
#: a task may take (Tesseract itself is killed at the timeout; this only catches a hung
#: worker).
STALL_GRACE = 10.0
#: Before the first page of a run (or after a restart) comes back, workers are still
#: starting: a spawned worker imports OpenCV and this package, seconds on a busy machine.
STARTUP_GRACE = 30.0


class WorkerStalled(OcrFailed):
    """A task outlived every timeout: its worker hung and was stopped."""


@dataclass(frozen=True, slots=True)
class PageDone:
    """One page of a :meth:`PageScheduler.run` is finished.

    ``page`` is its OCR; otherwise ``error`` says why it failed and ``task`` names the
    pages the failure is about (the whole task when the task as a whole failed: a dead
    worker, a stall). Neither is set when the page was not read because its group was
    cancelled (:meth:`PageScheduler.cancel`)."""

    group: int
    ref: PageRef
    page: Page | None = None
    error: BaseException | None = None
    task: tuple[PageRef, ...] = ()


class PageScheduler:
    """The one scheduler of page OCR, for ``ocr``, ``check`` and ``batch``.

    Cache hits are resolved first; the misses go to an executor (a local process pool,
    Dask, or this process) in chunks that share a Tesseract process while much work is
    left (:func:`chunk_size`), a bounded window of pages in flight. With a ``timeout``
    per page the engine enforces it, and a worker that hangs anyway is detected (no page
    back for longer than a task may take), its task failed, the executor restarted and
    the other tasks in flight submitted again. Pages come back as :class:`PageDone`
    events; ``progress(done, total)`` follows every page, ``on_start(group)`` tells when
    a group's first page was resolved or submitted.

    Without an ``executor`` the scheduler takes one from ``pool`` (workers that outlive
    the run, for the verifier's work after it), or makes its own for the misses (``jobs``
    workers, this process when one is enough) and closes it at the end.
    """

    def __init__(
        self,
        engine: OcrEngine,
        *,
        cache: OcrCache | None = None,
        executor: PageExecutor | None = None,
        pool: WorkerPool | None = None,
        jobs: int | None = None,
        timeout: float | None = None,
        progress: Callable[[int, int], None] | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> None:
        self.engine = engine.with_timeout(timeout) if timeout is not None else engine
        self.cache = cache
        self.timeout = timeout
        self.jobs = jobs
        self.progress = progress
        self.on_start = on_start
        self._executor = executor
        self._pool = pool
        self._pending: dict[PageFuture, tuple[int, list[PageRef]]] = {}
        self._cancelled: set[int] = set()
        self._started: set[int] = set()
        self._done = 0
        self._total = 0

    def cancel(self, group: int) -> None:
        """Read no more pages of ``group``: queued tasks are cancelled, and its pages not
        yet read come back as neither read nor failed."""
        self._cancelled.add(group)
        for future, (g, _) in self._pending.items():
            if g == group:
                future.cancel()

    def run(self, groups: Sequence[Sequence[PageRef]]) -> Generator[PageDone, None, None]:
        """Every page of ``groups`` as it finishes (cache hits first, in order). Closing
        the iterator early (an exception in the caller, Ctrl-C) cancels the pages in
        flight."""
        self._total = sum(len(g) for g in groups)
        misses: list[tuple[int, PageRef]] = []
        for group, refs in enumerate(groups):
            for ref in refs:
                hit = self.cache.get(ref, self.engine) if self.cache is not None else None
                if hit is None:
                    misses.append((group, ref))
                else:
                    self._start(group)
                    yield self._finished(PageDone(group, ref, page=hit))
        if not misses:
            return
        owned = self._executor is None and self._pool is None
        executor = self._executor
        if executor is None:
            executor = self._pool.executor(len(misses)) if self._pool else self._own_executor(len(misses))
        try:
            yield from self._through(executor, misses)
        finally:
            for future in self._pending:
                future.cancel()
            self._pending.clear()
            if owned:
                executor.close()

    def _own_executor(self, misses: int) -> PageExecutor:
        from ocr_fix.distributed import InlineExecutor, LocalExecutor

        workers = min(self.jobs or os.cpu_count() or 1, misses)
        return LocalExecutor(workers) if workers > 1 else InlineExecutor()

    def _through(self, executor: PageExecutor, misses: Sequence[tuple[int, PageRef]]) -> Iterator[PageDone]:
        # Enough queued work that no worker idles while the caller works on a finished
        # page (batch checks whole documents; two queued pages per worker did not cover
        # that). Pending entries are only page references, so this is cheap.
        window = max(8, 8 * executor.workers)
        stall = None
        if self.timeout is not None:
            # A task of n pages may take n timeouts together, then n more read one by one.
            most = chunk_size(len(misses), executor.workers, self.engine)
            stall = 2 * most * self.timeout + STALL_GRACE
        warm = False  # a page has come back since the workers (re)started
        position = 0
        while position < len(misses) or self._pending:
            while position < len(misses) and self._in_flight() < window:
                group, ref = misses[position]
                position += 1
                if group in self._cancelled:
                    yield self._finished(PageDone(group, ref))
                    continue
                self._start(group)
                # Pages of one group share a task while much work is left (one Tesseract
                # start-up for several pages); the last ones go out singly.
                chunk = [ref]
                size = chunk_size(len(misses) - position + 1, executor.workers, self.engine)
                while len(chunk) < size and position < len(misses) and misses[position][0] == group:
                    chunk.append(misses[position][1])
                    position += 1
                self._pending[executor.submit(chunk, self.engine)] = (group, chunk)
            if not self._pending:
                continue
            wait = None if stall is None else stall + (0.0 if warm else STARTUP_GRACE)
            finished = executor.wait_any(list(self._pending), wait)
            if not finished:
                yield from self._stalled(executor)
                warm = False
                continue
            warm = True
            for future in finished:
                group, refs = self._pending.pop(future)
                yield from self._collect(group, refs, future)

    def _collect(self, group: int, refs: list[PageRef], future: PageFuture) -> Iterator[PageDone]:
        if future.cancelled():
            for ref in refs:
                yield self._finished(PageDone(group, ref))
            return
        try:
            payloads = future.result()
        except Exception as exc:  # the task as a whole: a dead worker, a lost cluster
            for ref in refs:
                yield self._finished(PageDone(group, ref, error=exc, task=tuple(refs)))
            return
        for ref, payload in zip(refs, payloads, strict=True):
            try:
                page = page_from_json(page_result(payload))
            except Exception as exc:
                yield self._finished(PageDone(group, ref, error=exc, task=(ref,)))
                continue
            page = replace(page, ref=ref)
            if self.cache is not None:
                self.cache.put(ref, self.engine, page)
            yield self._finished(PageDone(group, ref, page=page))

    def _stalled(self, executor: PageExecutor) -> Iterator[PageDone]:
        """No task finished for the longest one may take: the executing ones are stuck.
        They fail; the executor restarts and the other tasks in flight go again."""
        stuck = executor.executing(list(self._pending))
        if not stuck:
            return
        per_page = self.timeout or 0.0  # stalls are only watched with a timeout
        for future in stuck:
            group, refs = self._pending.pop(future)
            future.cancel()
            error = WorkerStalled(f"timed out after {per_page * len(refs):g} s")
            for ref in refs:
                yield self._finished(PageDone(group, ref, error=error, task=tuple(refs)))
        executor.restart()
        for future, (group, refs) in list(self._pending.items()):
            if future.done():
                continue
            del self._pending[future]
            if group in self._cancelled:
                for ref in refs:
                    yield self._finished(PageDone(group, ref))
            else:
                self._pending[executor.submit(refs, self.engine)] = (group, refs)

    def _in_flight(self) -> int:
        """Pages submitted and not yet collected."""
        return sum(len(refs) for _, refs in self._pending.values())

    def _start(self, group: int) -> None:
        if group not in self._started:
            self._started.add(group)
            if self.on_start is not None:
                self.on_start(group)

    def _finished(self, done: PageDone) -> PageDone:
        self._done += 1
        if self.progress is not None:
            self.progress(self._done, self._total)
        return done


def ocr_pages(
    refs: Sequence[PageRef],
    engine: OcrEngine,
    *,
    jobs: int | None = None,
    cache: OcrCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    timeout: float | None = None,
    pool: WorkerPool | None = None,
) -> list[Page]:
    """OCR pages in input order through a :class:`PageScheduler`: cache hits first,
    then the misses in a process pool (``pool``'s workers, else ``jobs`` workers of
    its own, default the number of cores; in this process when one is enough). The
    first failure is raised after the pages not yet started are cancelled. ``timeout``
    is seconds per page."""
    scheduler = PageScheduler(engine, cache=cache, pool=pool, jobs=jobs, timeout=timeout, progress=progress)
    pages: dict[PageRef, Page] = {}
    with closing(scheduler.run([refs])) as events:
        for done in events:
            if done.page is not None:
                pages[done.ref] = done.page
            elif done.error is not None:
                raise _as_ocr_error(done)
    return [pages[r] for r in refs]


def run_tasks(executor: PageExecutor, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> list[T]:
    """``fn(*args)`` for each of ``calls`` as tasks on ``executor`` (other per-page work
    of a run on the workers of its OCR, e.g. the verifier's), results in order. The first
    failure is raised after the tasks not yet started are cancelled."""
    futures = [executor.call(fn, *args) for args in calls]
    try:
        waiting = set(futures)
        while waiting:
            for future in executor.wait_any(waiting, None):
                waiting.discard(future)
                future.result()  # a failure is raised now, not after the slowest task
        return [f.result() for f in futures]
    finally:
        for future in futures:
            future.cancel()


def _as_ocr_error(done: PageDone) -> BaseException:
    error = done.error
    assert error is not None
    if isinstance(error, BrokenProcessPool):
        first = done.task[0]
        return OcrFailed(
            f"the OCR worker died on page {first.number} ({first.label})"
            + (f" or one of the {len(done.task) - 1} after it" if len(done.task) > 1 else "")
        )
    if isinstance(error, WorkerStalled):
        return OcrFailed(f"{pages_label(done.task)}: {error}")
    return error


def pages_label(refs: Sequence[PageRef]) -> str:
    """``page 3 (03.png)``, or ``pages 3-6 (03.png to 06.png)`` for a task of several."""
    first, last = refs[0], refs[-1]
    if len(refs) == 1:
        return f"page {first.number} ({first.label})"
    return f"pages {first.number}-{last.number} ({first.label} to {last.label})"
