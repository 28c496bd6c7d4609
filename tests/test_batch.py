"""``ocr-fix batch``: discovery, failure isolation, resume, atomic outputs, executors."""

from __future__ import annotations

import json
import shutil
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ocr_fix.batch import runner as batch_mod
from ocr_fix.batch.discovery import Document, discover, read_manifest
from ocr_fix.batch.runner import BatchOptions
from ocr_fix.cli import app
from ocr_fix.distributed import LocalExecutor
from ocr_fix.errors import OcrFailed
from ocr_fix.model import Page, PageRef
from ocr_fix.ocr import scheduler as scheduler_mod
from ocr_fix.report import check_json
from ocr_fix.scans import DecodedPages, decoded_pages
from tests.fakes import FakeEngine, OcrCliRunner

#: Every batch here writes the JSON report, as the CLI does.
run_batch = partial(batch_mod.run_batch, render=check_json.render)

REPO = Path(__file__).resolve().parent.parent

PAGES = {
    "a": [
        "The committee met on Monday to discuss the harbour defences and supplies.",
        "Admiral Nimitz reported that the convoy reached Guam without losses.",
    ],
    "b": [
        "Soviet officials in Harbin expected further talks with the Japanese envoy.",
        "The embassy in Moscow was told that no answer would be given before August.",
    ],
    "e": ["Weather over the northern islands delayed the reconnaissance flights again."],
}


def _png(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(200, 256, (40, 30), dtype=np.uint8), mode="L").save(path)


def _texts() -> dict[str, str]:
    return {f"{doc}-{i + 1:02d}.png": text for doc, pages in PAGES.items() for i, text in enumerate(pages)}


def make_archive(root: Path) -> None:
    """Good documents a (2 pages, one transcript typo), nested/b, e; broken c, d, empty."""
    seed = 0
    for doc, pages in PAGES.items():
        folder = root / ("nested/b" if doc == "b" else doc)
        folder.mkdir(parents=True)
        for i in range(len(pages)):
            seed += 1
            _png(folder / f"{doc}-{i + 1:02d}.png", seed)
        text = "\n\n".join(pages) + "\n"
        if doc == "a":
            text = text.replace("Nimitz", "Nimltz")
        (folder / "transcript.md").write_text(text, encoding="utf-8")
    (root / "c").mkdir()
    (root / "c" / "c-01.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    (root / "c" / "transcript.md").write_text("Some text here.\n", encoding="utf-8")
    (root / "d").mkdir()
    _png(root / "d" / "d-01.png", 99)
    (root / "empty").mkdir()


def summary(out: Path) -> dict[str, dict]:
    lines = (out / "summary.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    by_id = {r["document"]: r for r in rows}
    assert len(by_id) == len(rows), "one line per document"
    return by_id


def no_temp_files(out: Path) -> bool:
    return not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


class CountingEngine(FakeEngine):
    """FakeEngine that records which pages it read (in-process executors only)."""

    def __init__(self, texts: dict[str, str], fail: frozenset[str] = frozenset()) -> None:
        super().__init__(texts)
        self.read: list[str] = []
        self.fail = fail

    def recognise(self, ref: PageRef) -> Page:
        self.read.append(ref.path.name)
        if ref.path.name in self.fail:
            raise OcrFailed(f"Tesseract failed on page {ref.number} ({ref.label}), exit 134: crash")
        return super().recognise(ref)


class SleepyEngine(FakeEngine):
    """Hangs on pages named in ``hang`` (module level so a spawned worker can import it)."""

    def __init__(self, texts: dict[str, str], hang: frozenset[str]) -> None:
        super().__init__(texts)
        self.hang = hang

    def recognise(self, ref: PageRef) -> Page:
        if ref.path.name in self.hang:
            time.sleep(600)
        return super().recognise(ref)


def test_discover_ids_and_problems(tmp_path: Path) -> None:
    make_archive(tmp_path)
    docs = {d.id: d for d in discover(tmp_path)}
    assert sorted(docs) == ["a", "c", "d", "e", "nested/b"]  # empty folder and "nested" are no documents
    assert docs["d"].problem is not None and "no transcript" in docs["d"].problem
    assert docs["a"].problem is None and [p.name for p in docs["a"].scans] == ["a-01.png", "a-02.png"]
    (tmp_path / "a" / "notes.txt").write_text("x", encoding="utf-8")
    only = {d.id: d for d in discover(tmp_path, transcript_glob="notes.*")}
    assert only["a"].transcript == tmp_path / "a" / "notes.txt"
    assert only["e"].problem is not None


def test_cli_broken_beside_good_exit_8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real process pool with a picklable fake engine: statuses, reasons, outputs."""
    root, out = tmp_path / "root", tmp_path / "out"
    make_archive(root)
    result = OcrCliRunner(FakeEngine(_texts())).invoke(
        app, ["batch", str(root), "-o", str(out), "--no-cache", "--jobs", "2"]
    )
    assert result.exit_code == 8, result.output
    rows = summary(out)
    assert {k: r["status"] for k, r in rows.items()} == {
        "a": "ok",
        "nested/b": "ok",
        "e": "ok",
        "c": "failed",
        "d": "failed",
    }
    assert "not a readable image" in rows["c"]["reason"]
    assert rows["d"]["reason"].startswith("no transcript")
    assert "reason" not in rows["a"]
    assert rows["a"]["pages"] == 2 and rows["a"]["error"] >= 1 and rows["a"]["cer"] > 0
    assert rows["e"]["error"] == 0 and rows["e"]["cer"] == 0.0
    assert set(rows["a"]) >= {
        "document",
        "status",
        "pages",
        "error",
        "warning",
        "info",
        "cer",
        "seconds",
        "key",
    }
    findings = json.loads((out / "a" / "findings.json").read_text(encoding="utf-8"))
    assert findings["schema"] == "ocr-fix/check/1"
    assert any(f["suggestion"] == "Nimitz" for f in findings["findings"])
    assert (
        json.loads((out / "nested" / "b" / "findings.json").read_text(encoding="utf-8"))["findings"]
        is not None
    )
    assert not (out / "c" / "findings.json").exists()
    assert no_temp_files(out)
    assert "failed c:" in result.output.replace("\n", " ")


def test_all_ok_exits_0_and_page_crash_fails_only_its_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = tmp_path / "root", tmp_path / "out"
    make_archive(root)
    docs = [d for d in discover(root) if d.problem is None and d.id != "c"]
    engine = CountingEngine(_texts(), fail=frozenset({"b-02.png"}))
    res = run_batch(docs, out, engine, LocalExecutor(2, threads=True))
    rows = summary(out)
    assert rows["nested/b"]["status"] == "failed"
    assert (
        rows["nested/b"]["reason"]
        == "page 2 (b-02.png): Tesseract failed on page 2 (b-02.png), exit 134: crash"
    )
    assert rows["a"]["status"] == rows["e"]["status"] == "ok"
    assert [o.document for o in res.failed] == ["nested/b"]
    ok = OcrCliRunner(FakeEngine(_texts())).invoke(
        app, ["batch", str(root / "e"), "-o", str(tmp_path / "o2"), "--no-cache", "-q"]
    )
    assert ok.exit_code == 0, ok.output
    assert summary(tmp_path / "o2")["."]["status"] == "ok"


def test_resume_after_interrupt(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "out"
    make_archive(root)
    docs = [d for d in discover(root) if d.id in ("a", "e", "nested/b")]

    def stop_after_first(outcome: object, done: int, total: int) -> None:
        raise KeyboardInterrupt

    first = CountingEngine(_texts())
    with pytest.raises(KeyboardInterrupt):
        run_batch(docs, out, first, LocalExecutor(1, threads=True), on_document=stop_after_first)
    lines = (out / "summary.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    done_id = json.loads(lines[0])["document"]
    assert (out / done_id / "findings.json").is_file()
    assert no_temp_files(out)
    done_pages = {s.name for d in docs if d.id == done_id for s in d.scans}

    second = CountingEngine(_texts())
    res = run_batch(docs, out, second, LocalExecutor(1, threads=True))
    assert res.skipped == {done_id}
    assert not done_pages & set(second.read)
    assert sorted(second.read) == sorted(s.name for d in docs if d.id != done_id for s in d.scans)
    rows = summary(out)
    assert sorted(rows) == ["a", "e", "nested/b"] and all(r["status"] == "ok" for r in rows.values())
    assert rows[done_id] == json.loads(lines[0])  # the resumed document's line is kept as it was

    third = CountingEngine(_texts())
    assert run_batch(docs, out, third, LocalExecutor(1, threads=True)).skipped == {"a", "e", "nested/b"}
    assert third.read == []

    (root / "e" / "transcript.md").write_text(
        "Weather over the northern islands delayed flights.\n", encoding="utf-8"
    )
    fourth = CountingEngine(_texts())
    assert run_batch(docs, out, fourth, LocalExecutor(1, threads=True)).skipped == {"a", "nested/b"}
    assert fourth.read == ["e-01.png"]

    forced = CountingEngine(_texts())
    run_batch(docs, out, forced, LocalExecutor(1, threads=True), options=BatchOptions(force=True))
    assert len(forced.read) == 5
    assert len(summary(out)) == 3


class DecodingEngine(CountingEngine):
    """Decodes each page it reads through the run's decoded pages, as the Tesseract
    engine does, and notes how many pages were kept at most."""

    def __init__(self, texts: dict[str, str], decoded: DecodedPages) -> None:
        super().__init__(texts)
        self.decoded = decoded
        self.kept = 0

    def recognise(self, ref: PageRef) -> Page:
        self.decoded.load(ref)
        self.kept = max(self.kept, len(list(self.decoded.directory.glob("*.npy"))))
        return super().recognise(ref)


def test_a_finished_document_leaves_its_decoded_pages_behind(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "out"
    make_archive(root)
    docs = [d for d in discover(root) if d.id in ("a", "e", "nested/b")]
    with decoded_pages() as decoded:
        engine = DecodingEngine(_texts(), decoded)
        run_batch(docs, out, engine, LocalExecutor(1, threads=True), options=BatchOptions(decoded=decoded))
        assert len(engine.read) == 5 and engine.kept >= 1
        assert not list(decoded.directory.glob("*.npy"))  # each dropped when its document was done
    assert {r["status"] for r in summary(out).values()} == {"ok"}


def test_failed_documents_are_retried(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "out"
    make_archive(root)
    run_batch(discover(root), out, CountingEngine(_texts()), LocalExecutor(1, threads=True))
    assert summary(out)["d"]["status"] == "failed"
    (root / "d" / "transcript.txt").write_text("Anything at all.\n", encoding="utf-8")
    engine = CountingEngine({"d-01.png": "Anything at all."})
    res = run_batch(discover(root), out, engine, LocalExecutor(1, threads=True))
    assert engine.read == ["d-01.png"]
    assert res.skipped == {"a", "e", "nested/b"}
    assert summary(out)["d"]["status"] == "ok"


def test_cache_hits_resolved_without_submitting(tmp_path: Path) -> None:
    from ocr_fix.ocr.cache import OcrCache

    root = tmp_path / "root"
    make_archive(root)
    docs = [d for d in discover(root) if d.id == "a"]
    cache = OcrCache(tmp_path / "cache")
    first = CountingEngine(_texts())
    run_batch(docs, tmp_path / "o1", first, LocalExecutor(1, threads=True), cache)
    again = CountingEngine(_texts())
    run_batch(docs, tmp_path / "o2", again, LocalExecutor(1, threads=True), cache)
    assert len(first.read) == 2 and again.read == []
    one = json.loads((tmp_path / "o1" / "a" / "findings.json").read_text(encoding="utf-8"))
    two = json.loads((tmp_path / "o2" / "a" / "findings.json").read_text(encoding="utf-8"))
    assert one == two


def test_bad_document_lexicon_fails_that_document(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "out"
    make_archive(root)
    (root / "e" / "lexicon.txt").write_text("re:(unclosed\n", encoding="utf-8")
    (root / "a" / "lexicon.txt").write_text("Nimitz\tname\n", encoding="utf-8")
    run_batch(discover(root), out, CountingEngine(_texts()), LocalExecutor(1, threads=True))
    rows = summary(out)
    assert rows["e"]["status"] == "failed" and "line 1: bad regex" in rows["e"]["reason"]
    assert rows["a"]["status"] == "ok"


def test_manifest_csv_and_jsonl(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_archive(root)
    (root / "m.csv").write_text(
        "id,transcript,scans\nfirst,a/transcript.md,a/a-01.png;a/a-02.png\nhollow,e/transcript.md,empty\n",
        encoding="utf-8",
    )
    (root / "m.jsonl").write_text(
        json.dumps({"id": "x/y", "transcript": "e/transcript.md", "scans": "e/e-01.png"}) + "\n",
        encoding="utf-8",
    )
    csv_docs = read_manifest(root / "m.csv")
    assert [d.id for d in csv_docs] == ["first", "hollow"]
    assert csv_docs[0].scans == (root / "a" / "a-01.png", root / "a" / "a-02.png")
    out = tmp_path / "out"
    run_batch(
        [*csv_docs, *read_manifest(root / "m.jsonl")],
        out,
        CountingEngine(_texts()),
        LocalExecutor(1, threads=True),
    )
    rows = summary(out)
    assert rows["first"]["status"] == "ok" and rows["x/y"]["status"] == "ok"
    assert rows["hollow"]["status"] == "failed" and "no page images" in rows["hollow"]["reason"]
    (root / "bad.csv").write_text("name,scans\nq,r\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["batch", "--manifest", str(root / "bad.csv"), "-o", str(out)])
    assert result.exit_code == 4


@pytest.mark.slow
def test_stuck_page_times_out_and_the_rest_go_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker hung beyond --page-timeout is killed; its document fails, the others finish."""
    root, out = tmp_path / "root", tmp_path / "out"
    make_archive(root)
    monkeypatch.setattr(scheduler_mod, "STALL_GRACE", 0.5)
    docs = [d for d in discover(root) if d.id in ("a", "e")]
    engine = SleepyEngine(_texts(), hang=frozenset({"a-02.png"}))
    executor = LocalExecutor(2)
    t0 = time.perf_counter()
    try:
        # 6 s: a spawned worker starting up on a loaded 2-core machine can take seconds
        # before its first page, and that must not count as a hung page.
        run_batch(docs, out, engine, executor, options=BatchOptions(page_timeout=6.0))
    finally:
        executor.close()
    assert time.perf_counter() - t0 < 60
    rows = summary(out)
    assert rows["a"]["status"] == "failed" and rows["a"]["reason"] == "page 2 (a-02.png): timed out after 6 s"
    assert rows["e"]["status"] == "ok"


def test_missing_dask_is_one_line_exit_6(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    root = tmp_path / "root"
    make_archive(root)
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = OcrCliRunner(FakeEngine(_texts())).invoke(
        app, ["batch", str(root), "-o", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:1"]
    )
    assert result.exit_code == 6
    assert "pip install 'ocr-fix[dask]'" in result.output


def _findings(out: Path, doc: str) -> dict:
    return json.loads((out / doc / "findings.json").read_text(encoding="utf-8"))


def test_dask_local_cluster_equals_local_pool(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from ocr_fix.distributed import DaskExecutor

    root = tmp_path / "root"
    make_archive(root)
    docs = discover(root)
    local_out, dask_out = tmp_path / "local", tmp_path / "dask"
    run_batch(docs, local_out, FakeEngine(_texts()), LocalExecutor(1, threads=True))
    executor = DaskExecutor("local", jobs=1, processes=False)
    try:
        run_batch(docs, dask_out, FakeEngine(_texts()), executor)
    finally:
        executor.close()
    local_rows, dask_rows = summary(local_out), summary(dask_out)
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    assert {k: strip(v) for k, v in local_rows.items()} == {k: strip(v) for k, v in dask_rows.items()}
    for doc, row in local_rows.items():
        if row["status"] == "ok":
            assert _findings(local_out, doc) == _findings(dask_out, doc)


@pytest.mark.tesseract
@pytest.mark.slow
def test_two_real_pages(tmp_path: Path) -> None:
    scans = REPO / "scans" / "psis-400-23"
    if not (scans / "01.png").exists() or shutil.which("tesseract") is None:
        pytest.skip("needs the bundled scans and Tesseract")
    doc = tmp_path / "root" / "psis"
    doc.mkdir(parents=True)
    for name in ("01.png", "02.png"):
        shutil.copy(scans / name, doc / name)
    (doc / "transcript.md").write_text(
        "\n".join(
            (REPO / "golden" / "psis-400-23" / f"{n}.gt.txt").read_text(encoding="utf-8")
            for n in ("01", "02")
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["batch", str(tmp_path / "root"), "-o", str(out), "--no-cache", "-q"])
    assert result.exit_code == 0, result.output
    row = summary(out)["psis"]
    assert row["status"] == "ok" and row["pages"] == 2 and row["cer"] < 0.1
    assert row["error"] == 0


def test_duplicate_ids_rejected(tmp_path: Path) -> None:
    from ocr_fix.errors import BadInput

    doc = Document("x", None, ())
    with pytest.raises(BadInput):
        run_batch([doc, doc], tmp_path, FakeEngine({}), LocalExecutor(1, threads=True))


def test_pages_share_tasks_and_a_bad_page_fails_only_its_document(tmp_path: Path) -> None:
    """Engines that read several pages per process get them in shrinking chunks of one
    document; a failing page in a chunk is named and fails only its document."""
    from tests.fakes import ChunkEngine

    root, out = tmp_path / "root", tmp_path / "out"
    texts = {}
    for doc, n in (("big", 12), ("small", 2)):
        (root / doc).mkdir(parents=True)
        lines = []
        for i in range(1, n + 1):
            name = f"{doc}-{i:02d}.png"
            _png(root / doc / name, i)
            texts[name] = f"page {i} of the {doc} file reports the convoy position"
            lines.append(texts[name])
        (root / doc / "transcript.md").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    engine = ChunkEngine(texts, bad=frozenset({"big-06.png"}))
    run_batch(discover(root), out, engine, LocalExecutor(2, threads=True))
    rows = summary(out)
    assert rows["big"]["status"] == "failed"
    assert (
        rows["big"]["reason"]
        == "page 6 (big-06.png): Tesseract failed on page 6 (big-06.png), exit 1: bad page"
    )
    assert rows["small"]["status"] == "ok" and rows["small"]["pages"] == 2
    assert max(map(len, engine.tasks)) > 1
    assert all(len({name.split("-")[0] for name in task}) == 1 for task in engine.tasks)
    good = ChunkEngine(texts)
    run_batch(discover(root), out, good, LocalExecutor(2, threads=True))
    assert summary(out)["big"]["status"] == "ok" and summary(out)["big"]["error"] == 0


def test_a_transcript_without_scans_is_checked_lexicon_only(tmp_path: Path) -> None:
    """An archive folder holding only a transcript is a document, as `check T.md` is:
    the lexicon's names are checked, no page is read."""
    root = tmp_path / "root"
    (root / "letter").mkdir(parents=True)
    (root / "letter" / "transcript.md").write_text("Admiral Nimltz met Admiral Nimitz.\n", encoding="utf-8")
    (root / "names.txt").write_text("Nimitz\n", encoding="utf-8")
    (doc,) = discover(root)
    assert doc.problem is None and doc.scans == ()
    out = tmp_path / "out"
    engine = CountingEngine(_texts())
    options = BatchOptions(lexicons=(root / "names.txt",))
    run_batch([doc], out, engine, LocalExecutor(1, threads=True), options=options)
    row = summary(out)["letter"]
    assert row["status"] == "ok" and row["pages"] == 0 and engine.read == []
    findings = json.loads((out / "letter" / "findings.json").read_text(encoding="utf-8"))["findings"]
    assert [(f["transcript"]["text"], f["suggestion"]) for f in findings] == [("Nimltz", "Nimitz")]
