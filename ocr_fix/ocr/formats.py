"""Page formats: the JSON form (cache files, distributed workers) and the tsv/hOCR
writers of ``ocr-fix ocr``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ocr_fix.errors import BadInput
from ocr_fix.model import BBox, Page, PageRef, Word

JSON_VERSION = 1


# --- JSON form (cache, distributed workers) ------------------------------------------


def page_to_json(page: Page) -> dict[str, Any]:
    """Stable JSON form of a page; words are compact rows to keep cache files small."""
    return {
        "version": JSON_VERSION,
        "ref": {
            "path": str(page.ref.path),
            "frame": page.ref.frame,
            "number": page.ref.number,
            "multi": page.ref.multi,
        },
        "width": page.width,
        "height": page.height,
        "words": [[w.text, *w.box.as_list(), w.conf, w.line, w.block, w.par] for w in page.words],
    }


def page_from_json(data: dict[str, Any]) -> Page:
    """Inverse of :func:`page_to_json`; :class:`BadInput` if the structure is wrong."""
    try:
        if data["version"] != JSON_VERSION:
            raise BadInput(f"page JSON version {data['version']!r}, expected {JSON_VERSION}")
        r = data["ref"]
        ref = PageRef(
            path=Path(r["path"]), frame=int(r["frame"]), number=int(r["number"]), multi=bool(r["multi"])
        )
        words = tuple(
            Word(
                text=str(t),
                box=BBox(int(x0), int(y0), int(x1), int(y1)),
                conf=float(conf),
                line=int(line),
                block=int(block),
                par=int(par),
            )
            for t, x0, y0, x1, y1, conf, line, block, par in data["words"]
        )
        return Page(ref=ref, width=int(data["width"]), height=int(data["height"]), words=words)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"malformed page JSON ({type(exc).__name__}: {exc})") from None


# --- output formats ------------------------------------------------------------------


def page_tsv(page: Page) -> str:
    """Tesseract-style TSV (word rows only) in original-image coordinates."""
    head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [head]
    counts: dict[int, int] = {}
    for w in page.words:
        counts[w.line] = counts.get(w.line, 0) + 1
        b = w.box
        rows.append(
            f"5\t{page.number}\t{w.block}\t{w.par}\t{w.line}\t{counts[w.line]}\t"
            f"{b.x0}\t{b.y0}\t{b.width}\t{b.height}\t{w.conf:g}\t{w.text}"
        )
    return "\n".join(rows) + "\n"


def page_hocr(page: Page) -> str:
    """hOCR 1.2 of a page (ocr_page / ocr_line / ocrx_word), boxes in original pixels."""
    from html import escape

    n = page.number
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
        "<head><title></title>",
        '<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
        '<meta name="ocr-system" content="ocr-fix (tesseract)"/>',
        '<meta name="ocr-capabilities" content="ocr_page ocr_line ocrx_word ocrp_wconf"/>',
        "</head><body>",
        f'<div class="ocr_page" id="page_{n}" title="image &quot;{escape(page.ref.path.name)}&quot;; '
        f'bbox 0 0 {page.width} {page.height}; ppageno {n - 1}">',
    ]
    for li, line in enumerate(page.lines(), start=1):
        box = line[0].box
        for w in line[1:]:
            box = box.union(w.box)
        out.append(
            f'<span class="ocr_line" id="line_{n}_{li}" title="bbox {box.x0} {box.y0} {box.x1} {box.y1}">'
        )
        for wi, w in enumerate(line, start=1):
            b = w.box
            out.append(
                f'<span class="ocrx_word" id="word_{n}_{li}_{wi}" title="bbox {b.x0} {b.y0} '
                f'{b.x1} {b.y1}; x_wconf {round(w.conf)}">{escape(w.text)}</span>'
            )
        out.append("</span>")
    out += ["</div>", "</body></html>"]
    return "\n".join(out) + "\n"
