"""``ocr-fix ocr SCAN...``: re-OCR page scans (preprocessed, cached, in parallel)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from enum import Enum
from pathlib import Path

import typer

from ocr_fix.cli import app
from ocr_fix.cli.common import handles_errors
from ocr_fix.cli.ocr_options import CacheDir, Jobs, Lang, NoCache, PageTimeout, Psm
from ocr_fix.cli.progress import progress_reporter
from ocr_fix.errors import BadInput, CannotWrite, UsageError
from ocr_fix.fileio import make_dir, refuse_input_as_output, write_atomic
from ocr_fix.model import Page
from ocr_fix.ocr.cache import OcrCache
from ocr_fix.ocr.formats import page_alto, page_hocr, page_json, page_pagexml, page_tsv
from ocr_fix.ocr.scheduler import ocr_pages
from ocr_fix.ocr.tesseract import OcrSettings, TesseractEngine
from ocr_fix.report.visible import visible
from ocr_fix.scans import SCAN_SUFFIXES, Preprocess, expand_scans
from ocr_fix.transcript import STDIN


class Format(str, Enum):
    txt = "txt"
    tsv = "tsv"
    hocr = "hocr"
    alto = "alto"
    page = "page"
    json = "json"


OCR_SCHEMA = "ocr-fix/ocr/1"


#: File suffix of each format's per-page output.
SUFFIX = {
    "txt": ".txt",
    "tsv": ".tsv",
    "hocr": ".hocr",
    "alto": ".alto.xml",
    "page": ".page.xml",
    "json": ".json",
}


def render_page(page: Page, fmt: Format) -> str:
    if fmt is Format.json:
        return json.dumps({"schema": OCR_SCHEMA, **page_json(page)}, ensure_ascii=False, indent=2) + "\n"
    if fmt is Format.tsv:
        return page_tsv(page)
    if fmt is Format.hocr:
        return page_hocr(page)
    if fmt is Format.alto:
        return page_alto(page)
    if fmt is Format.page:
        return page_pagexml(page)
    return page.text() + "\n"


@app.command()
@handles_errors
def ocr(
    scans: list[Path] = typer.Argument(
        ..., help="Page scans: images (PNG, JPEG, TIFF, JP2, WebP, BMP, PNM), PDFs or directories."
    ),
    out_dir: Path | None = typer.Option(
        None,
        "--output-dir",
        "-o",
        help="Write one file per page here (03.png -> DIR/03.txt) instead of stdout.",
    ),
    fmt: Format = typer.Option(
        Format.txt,
        "--format",
        "-f",
        help="txt, tsv (word boxes), hocr, alto (ALTO 4.2), page (PAGE XML 2019) or json (words, "
        "and per page the rotation, skew, redaction bars and reading kept).",
    ),
    jobs: Jobs = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    lang: Lang = "eng",
    psm: Psm = None,
    deskew: bool = typer.Option(True, "--deskew/--no-deskew", help="Straighten tilted pages."),
    denoise: bool = typer.Option(True, "--denoise/--no-denoise", help="Median filter against specks."),
    binarise: bool = typer.Option(
        False, "--binarise/--no-binarise", help="Local (Sauvola) threshold before OCR."
    ),
    upscale: bool = typer.Option(
        True, "--upscale/--no-upscale", help="Enlarge low-resolution scans to ~300 dpi text size."
    ),
    dpi: int = typer.Option(300, "--dpi", min=72, max=1200, help="Resolution PDF pages are rendered at."),
    page_timeout: PageTimeout = None,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """OCR page scans with Tesseract after deskew/denoise/upscale; print or save the text.

    Example: ocr-fix ocr scans/psis-400-23/ -f tsv -o ocr/

    Results are cached by image content and settings. Exit 3 if a scan is missing, 4 if
    it is unreadable, 6 if Tesseract or the language is not installed, 7 if Tesseract
    fails on a page.
    """
    refs = expand_scans(scans)
    if out_dir == STDIN:
        out_dir = None
    if out_dir is None and fmt in (Format.hocr, Format.alto, Format.page) and len(refs) > 1:
        raise UsageError(f"--format {fmt.value} with several pages needs --output-dir")
    if out_dir is not None:
        stems = [r.stem for r in refs]
        dupes = sorted({s for s in stems if stems.count(s) > 1})
        if dupes:
            raise BadInput(f"two pages would both be written to {dupes[0]}{SUFFIX[fmt.value]}", out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise CannotWrite("exists and is not a directory", out_dir)
        refuse_input_as_output([out_dir / f"{s}{SUFFIX[fmt.value]}" for s in stems], scans, SCAN_SUFFIXES)
    settings = OcrSettings(
        lang=lang,
        dpi=dpi,
        preprocess=Preprocess(deskew=deskew, denoise=denoise, binarise=binarise, upscale=upscale),
    )
    if psm is not None:
        settings = replace(settings, psm=psm)
    engine = TesseractEngine(settings)
    cache = None if no_cache else (OcrCache(cache_dir) if cache_dir is not None else OcrCache.default())
    with progress_reporter(enabled=not quiet and len(refs) > 1) as report:
        pages = ocr_pages(
            refs,
            engine,
            jobs=jobs,
            cache=cache,
            timeout=page_timeout,
            progress=lambda done, total: report("ocr", done, total),
        )
    if out_dir is not None:
        make_dir(out_dir)
        for page in pages:
            write_atomic(out_dir / f"{page.ref.stem}{SUFFIX[fmt.value]}", render_page(page, fmt))
        return
    out = sys.stdout
    if fmt is Format.json:
        doc = {"schema": OCR_SCHEMA, "pages": [page_json(p) for p in pages]}
        out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        out.flush()
        return
    shown = (lambda s: visible(s, keep_layout=True)) if out.isatty() else (lambda s: s)
    for i, page in enumerate(pages):
        if fmt is Format.tsv:
            body = render_page(page, fmt)
            out.write(shown(body if i == 0 else body.split("\n", 1)[1]))
            continue
        if len(pages) > 1:
            out.write(f"{'' if i == 0 else chr(10)}==> {visible(page.ref.label)} (page {page.number}) <==\n")
        out.write(shown(render_page(page, fmt)))
    out.flush()
