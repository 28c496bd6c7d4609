"""The one page scheduler: cache hits first, groups, cancelling, failures, progress."""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image

from ocr_fix.distributed import InlineExecutor, LocalExecutor
from ocr_fix.errors import OcrFailed
from ocr_fix.model import Page, PageRef
from ocr_fix.ocr.cache import OcrCache
from ocr_fix.ocr.scheduler import PageScheduler
from ocr_fix.scans import expand_scans
from tests.fakes import ChunkEngine, FakeEngine


def _refs(tmp_path: Path, names: list[str]):
    texts = {}
    for i, name in enumerate(names):
        Image.new("L", (20, 20), i + 1).save(tmp_path / name)
        texts[name] = f"words of {name}"
    return expand_scans([tmp_path / n for n in names]), texts


def test_cache_hits_come_first_then_the_misses_with_progress(tmp_path: Path) -> None:
    refs, texts = _refs(tmp_path, ["01.png", "02.png", "03.png", "04.png"])
    cache = OcrCache(tmp_path / "cache")
    engine = ChunkEngine(texts)
    list(PageScheduler(engine, cache=cache, executor=InlineExecutor()).run([refs[2:3]]))
    seen: list[tuple[int, int]] = []
    events = list(
        PageScheduler(
            engine, cache=cache, executor=InlineExecutor(), progress=lambda d, t: seen.append((d, t))
        ).run([refs[:2], refs[2:]])
    )
    assert events[0].ref == refs[2] and events[0].group == 1  # the hit, before any reading
    assert sorted(e.ref.number for e in events) == [1, 2, 3, 4]
    assert all(e.page is not None and e.page.text() == texts[e.ref.path.name] for e in events)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


class GatedEngine(FakeEngine):
    """Fails on 01.png; holds 02.png until ``gate`` opens; records what it read."""

    def __init__(self, texts: dict[str, str]) -> None:
        super().__init__(texts)
        self.gate = threading.Event()
        self.read: list[str] = []

    def recognise(self, ref: PageRef) -> Page:
        self.read.append(ref.path.name)
        if ref.path.name == "01.png":
            raise OcrFailed("bad page")
        if ref.path.name == "02.png":
            self.gate.wait(30)
        return super().recognise(ref)


def test_a_cancelled_group_is_read_no_further_and_failures_name_their_task(tmp_path: Path) -> None:
    refs, texts = _refs(tmp_path, [f"{i:02d}.png" for i in range(1, 7)])
    engine = GatedEngine(texts)
    executor = LocalExecutor(1, threads=True)  # one page at a time, the rest queued
    scheduler = PageScheduler(engine, executor=executor)
    events = []
    try:
        for done in scheduler.run([refs[:3], refs[3:]]):
            events.append(done)
            if done.error is not None:
                scheduler.cancel(done.group)
                engine.gate.set()  # 02 was running: it finishes; 03 was queued: cancelled
    finally:
        executor.close()
    first = events[0]
    assert isinstance(first.error, OcrFailed) and first.task == (refs[0],)
    [skipped] = [e for e in events if e.ref == refs[2]]
    assert skipped.page is None and skipped.error is None and "03.png" not in engine.read
    assert [e.page is not None for e in events if e.group == 1] == [True, True, True]
    assert len(events) == 6


def test_pages_of_a_group_share_tasks_through_a_process_pool(tmp_path: Path) -> None:
    refs, texts = _refs(tmp_path, [f"{i:02d}.png" for i in range(1, 9)])
    executor = LocalExecutor(2, threads=True)
    engine = ChunkEngine(texts, bad=frozenset())
    try:
        events = list(PageScheduler(engine, executor=executor).run([refs]))
    finally:
        executor.close()
    assert sorted(e.ref.number for e in events) == list(range(1, 9))
    assert max(len(t) for t in engine.tasks) == 2 and sum(len(t) for t in engine.tasks) == 8
