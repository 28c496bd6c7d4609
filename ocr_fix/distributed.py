"""Where page OCR runs (for :class:`~ocr_fix.ocr.scheduler.PageScheduler`): a local process
pool, this process, or a Dask cluster.

Running on a Dask cluster
=========================

``ocr-fix batch ROOT -o OUT --scheduler tcp://HOST:8786`` sends every page that is not
already in the OCR cache to a Dask distributed cluster instead of the local process
pool; results and outputs are the same as a local run. Install the extra first::

    pip install 'ocr-fix[dask]'

Start a scheduler on one machine and workers on as many as you like::

    dask scheduler                      # listens on tcp://HOST:8786
    OMP_THREAD_LIMIT=1 dask worker tcp://HOST:8786 --nthreads 1 --nworkers N

One thread per worker process and ``OMP_THREAD_LIMIT=1`` because each page task runs
one Tesseract process; Tesseract's own OpenMP threads only fight each other when several
pages run side by side, so give each worker process a core and let N = cores.

Every worker machine needs:

- Tesseract (``apt-get install tesseract-ocr tesseract-ocr-eng``, plus any ``--lang``
  you use) and the same ocr-fix version as the client;
- the scan files **at the same paths** as on the machine running ``ocr-fix batch``
  (a shared or mirrored file system): tasks carry paths, not pixels.

The OCR cache lives only on the client: cache hits are resolved there before anything is
submitted, and the client writes the results it gets back. Workers need no shared cache
directory, and a cluster never sees pages it has already read.

``--scheduler local`` starts a throw-away ``distributed.LocalCluster`` on this machine
(``--jobs`` worker processes, one thread each) — handy for trying the Dask path, but a
plain local run (no ``--scheduler``) is as fast and has fewer moving parts.

Page timeouts: ``--page-timeout`` is enforced inside the task (Tesseract is killed after
that many seconds). If a worker is stuck anyway, the local pool kills and replaces its
workers; on Dask the task is cancelled and its document marked failed, but a worker
thread that is really hung stays busy until you restart that worker.

The executors
=============

:class:`PageExecutor` is the one small interface the page scheduler uses: submit a page task
(or, with ``call``, other per-page work such as the verifier's), wait for any of a set of
futures, list the ones that are executing, restart, close. Every
implementation returns objects with ``done()``, ``cancelled()``, ``result()`` and
``cancel()``.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ocr_fix.errors import ExitCode, OcrFixError
from ocr_fix.ocr.scheduler import pages_task, process_pool, read_pages, stop_pool

if TYPE_CHECKING:
    from ocr_fix.model import PageRef
    from ocr_fix.ocr.engine import OcrEngine

DASK_MISSING = "Dask is not installed; run: pip install 'ocr-fix[dask]'"


class DaskMissing(OcrFixError):
    """``--scheduler`` given without the ``dask`` extra installed."""

    exit_code = ExitCode.TESSERACT_MISSING  # 6: a missing optional component, like Tesseract


class SchedulerUnreachable(OcrFixError):
    exit_code = ExitCode.NOT_FOUND


class PageFuture(Protocol):
    def done(self) -> bool: ...
    def cancelled(self) -> bool: ...
    def result(self, timeout: float | None = None) -> Any: ...
    def cancel(self) -> Any: ...


class PageExecutor(Protocol):
    """Runs :func:`~ocr_fix.ocr.scheduler.pages_task` (the OCR of one page or a few) somewhere and
    hands back futures whose result is one payload per page."""

    workers: int

    def submit(self, refs: Sequence[PageRef], engine: OcrEngine) -> PageFuture: ...

    def call(self, fn: Callable[..., Any], *args: Any) -> PageFuture:
        """Run ``fn(*args)`` (module-level, so it pickles) on a worker: other per-page work
        of a run, such as the verifier's (:func:`~ocr_fix.ocr.scheduler.run_tasks`)."""
        ...

    def wait_any(self, futures: Collection[PageFuture], timeout: float | None) -> set[PageFuture]:
        """Block until at least one of ``futures`` is done (or ``timeout`` passes: empty set)."""
        ...

    def executing(self, futures: Collection[PageFuture]) -> list[PageFuture]:
        """The futures that are running right now (not queued)."""
        ...

    def restart(self) -> None:
        """Drop every worker (stuck ones included); later submissions get fresh ones."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """A process pool on this machine (:func:`~ocr_fix.ocr.scheduler.process_pool`: ``spawn``
    workers, one task at a time each).

    ``threads=True`` runs pages in threads of this process instead: no start-up cost,
    and in-process engines (tests) stay observable; a stuck thread cannot be killed.
    """

    def __init__(self, jobs: int | None = None, threads: bool = False) -> None:
        self.workers = max(1, jobs or os.cpu_count() or 1)
        self.threads = threads
        self._pool: cf.Executor = self._new_pool()
        self._submitted: dict[cf.Future[Any], int] = {}
        self._counter = 0

    def _new_pool(self) -> cf.Executor:
        if self.threads:
            return cf.ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ocr-page")
        return process_pool(self.workers)

    def submit(self, refs: Sequence[PageRef], engine: OcrEngine) -> cf.Future[Any]:
        return self.call(pages_task, list(refs), engine)

    def call(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        future = self._pool.submit(fn, *args)
        self._counter += 1
        self._submitted[future] = self._counter
        future.add_done_callback(lambda f: self._submitted.pop(f, None))
        return future

    def wait_any(self, futures: Collection[Any], timeout: float | None) -> set[Any]:
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def executing(self, futures: Collection[Any]) -> list[Any]:
        # The pool marks one call beyond its workers "running" while it sits in the call
        # queue; calls leave that queue in submission order, so the earliest are executing.
        running = sorted((f for f in futures if f.running()), key=lambda f: self._submitted.get(f, 0))
        return running[: self.workers]

    def restart(self) -> None:
        stop_pool(self._pool)  # SIGTERM first: each worker kills its Tesseract and temp files
        self._pool = self._new_pool()

    def close(self) -> None:
        stop_pool(self._pool)


class InlineExecutor:
    """Pages read in this process as they are submitted (``--jobs 1``, or a single page
    to read): no worker to start, nothing to pickle. A task cannot be stopped, so no
    task is ever reported as executing past its time."""

    workers = 1

    def submit(self, refs: Sequence[PageRef], engine: OcrEngine) -> cf.Future[Any]:
        return self.call(read_pages, refs, engine)

    def call(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def wait_any(self, futures: Collection[Any], timeout: float | None) -> set[Any]:
        return {f for f in futures if f.done()}

    def executing(self, futures: Collection[Any]) -> list[Any]:
        return []

    def restart(self) -> None:
        return None

    def close(self) -> None:
        return None


class DaskExecutor:
    """Pages as tasks on a Dask distributed cluster (``address``), or a local one.

    ``address="local"`` starts a ``LocalCluster`` with ``jobs`` single-threaded worker
    processes and closes it again in :meth:`close`.
    """

    def __init__(self, address: str, jobs: int | None = None, processes: bool = True) -> None:
        try:
            import distributed
        except ImportError:
            raise DaskMissing(DASK_MISSING) from None
        self._distributed = distributed
        self._cluster = None
        if address == "local":
            n = max(1, jobs or os.cpu_count() or 1)
            self._cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
                silence_logs=40,
            )
            self.client = distributed.Client(self._cluster)
        else:
            try:
                self.client = distributed.Client(address, timeout=30)
            except (OSError, TimeoutError) as exc:
                raise SchedulerUnreachable(
                    f"cannot reach Dask scheduler ({' '.join(str(exc).split())})", address
                ) from None
        threads = self.client.nthreads()
        self.workers = max(1, sum(threads.values())) if threads else 1

    def submit(self, refs: Sequence[PageRef], engine: OcrEngine) -> Any:
        return self.call(pages_task, list(refs), engine)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def wait_any(self, futures: Collection[Any], timeout: float | None) -> set[Any]:
        cancelled = {f for f in futures if f.cancelled()}
        if cancelled:  # distributed.wait raises on cancelled futures instead of returning them
            return cancelled
        try:
            done, _ = self._distributed.wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set()
        return set(done)

    def executing(self, futures: Collection[Any]) -> list[Any]:
        processing = {key for keys in self.client.processing().values() for key in keys}
        return [f for f in futures if f.key in processing]

    def restart(self) -> None:
        # Killing a hung task on Dask means restarting its worker, which would also lose
        # every other worker's work; the stuck tasks were cancelled by the caller instead.
        return None

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


class WorkerPool:
    """The worker processes of one ``check``, shared by its page OCR and its verifier
    (:mod:`ocr_fix.verifier`), so the verifier's work is spread over the cores by
    workers already started for the OCR.

    Started on first need: a run served from the cache starts none, and work that one
    worker does alone (``jobs`` 1, a single page) runs in this process, as the scheduler
    does with an executor of its own. :meth:`close` stops the workers.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self.workers = max(1, jobs or os.cpu_count() or 1)
        self._executor: LocalExecutor | None = None

    @property
    def running(self) -> bool:
        """Whether the workers have been started."""
        return self._executor is not None

    def executor(self, tasks: int) -> PageExecutor:
        """Where ``tasks`` tasks run: the shared workers (started now if need be), or
        this process when there is no pool yet and one worker would do them all."""
        if self._executor is None:
            if min(self.workers, tasks) <= 1:
                return InlineExecutor()
            self._executor = LocalExecutor(self.workers)
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def executor_for(scheduler: str | None, jobs: int | None) -> PageExecutor:
    """The local pool without ``scheduler``; Dask for ``tcp://...`` or ``local``."""
    if scheduler is None:
        return LocalExecutor(jobs)
    return DaskExecutor(scheduler, jobs)
