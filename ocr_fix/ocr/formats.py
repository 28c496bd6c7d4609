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
        "rotation": page.rotation,
        "skew": page.skew,
        "redactions": [b.as_list() for b in page.redactions],
        "variant": page.variant,
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
        return Page(
            ref=ref,
            width=int(data["width"]),
            height=int(data["height"]),
            words=words,
            rotation=int(data.get("rotation", 0)),
            skew=float(data.get("skew", 0.0)),
            redactions=tuple(BBox(*(int(v) for v in b)) for b in data.get("redactions", ())),
            variant=str(data.get("variant", "first")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"malformed page JSON ({type(exc).__name__}: {exc})") from None


# --- output formats ------------------------------------------------------------------


def page_json(page: Page) -> dict[str, Any]:
    """The ``ocr --format json`` form of a page: its words with boxes in the pixels of the
    image as given, and how it was read (``rotation``: counter-clockwise degrees it was
    turned by; ``skew``: degrees it was then levelled by; ``redactions``: solid bars
    found, ``[x0, y0, x1, y1]``; ``variant``: which reading was kept)."""
    return {
        "page": page.number,
        "image": str(page.ref.path) + (f"#{page.ref.frame + 1}" if page.ref.multi else ""),
        "width": page.width,
        "height": page.height,
        "rotation": page.rotation,
        "skew": page.skew,
        "redactions": [b.as_list() for b in page.redactions],
        "variant": page.variant,
        "mean_confidence": round(page.mean_confidence, 1),
        "text": page.text(),
        "words": [
            {"text": w.text, "bbox": w.box.as_list(), "conf": w.conf, "line": w.line} for w in page.words
        ],
    }


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


# --- ALTO and PAGE XML ---------------------------------------------------------------

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_SCHEMA = "http://www.loc.gov/standards/alto/ns-v4# http://www.loc.gov/alto/v4/alto-4-2.xsd"
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
PAGE_SCHEMA = f"{PAGE_NS} {PAGE_NS}/pagecontent.xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
SOFTWARE = "ocr-fix (tesseract)"


def _blocks(page: Page) -> list[list[tuple[Word, ...]]]:
    """The page's lines grouped by Tesseract block, both in reading order."""
    out: list[list[tuple[Word, ...]]] = []
    last: int | None = None
    for line in page.lines():
        if not out or line[0].block != last:
            out.append([])
            last = line[0].block
        out[-1].append(line)
    return out


def _union(words: tuple[Word, ...] | list[Word]) -> BBox:
    box = words[0].box
    for w in words[1:]:
        box = box.union(w.box)
    return box


def _wc(conf: float) -> str:
    """Tesseract's 0..100 word confidence as ALTO ``WC`` / PAGE ``conf`` (0..1)."""
    return f"{min(max(conf, 0.0), 100.0) / 100:.2f}"


def _xml(root: Any) -> str:
    from lxml import etree

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def page_alto(page: Page) -> str:
    """ALTO 4.2 of a page: TextBlock / TextLine / String with pixel boxes and word
    confidence (``WC``, 0..1), ``SP`` between words; valid against alto-4-2.xsd."""
    from lxml import etree

    def box(el: Any, b: BBox) -> None:
        el.set("HPOS", str(b.x0))
        el.set("VPOS", str(b.y0))
        el.set("WIDTH", str(b.width))
        el.set("HEIGHT", str(b.height))

    a = f"{{{ALTO_NS}}}"
    root = etree.Element(f"{a}alto", nsmap={None: ALTO_NS, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", ALTO_SCHEMA)
    desc = etree.SubElement(root, f"{a}Description")
    etree.SubElement(desc, f"{a}MeasurementUnit").text = "pixel"
    source = etree.SubElement(desc, f"{a}sourceImageInformation")
    etree.SubElement(source, f"{a}fileName").text = page.ref.label
    processing = etree.SubElement(desc, f"{a}Processing", ID="OCR_0")
    software = etree.SubElement(processing, f"{a}processingSoftware")
    etree.SubElement(software, f"{a}softwareName").text = SOFTWARE
    n = page.number
    layout = etree.SubElement(root, f"{a}Layout")
    pg = etree.SubElement(
        layout,
        f"{a}Page",
        ID=f"page_{n}",
        PHYSICAL_IMG_NR=str(n),
        WIDTH=str(page.width),
        HEIGHT=str(page.height),
    )
    space = etree.SubElement(pg, f"{a}PrintSpace")
    box(space, BBox(0, 0, page.width, page.height))
    for bi, block in enumerate(_blocks(page), start=1):
        tb = etree.SubElement(space, f"{a}TextBlock", ID=f"block_{n}_{bi}")
        box(tb, _union([w for line in block for w in line]))
        for li, line in enumerate(block, start=1):
            tl = etree.SubElement(tb, f"{a}TextLine", ID=f"line_{n}_{bi}_{li}")
            box(tl, _union(line))
            for wi, w in enumerate(line, start=1):
                if wi > 1:
                    prev = line[wi - 2].box
                    sp = etree.SubElement(tl, f"{a}SP")
                    sp.set("WIDTH", str(max(w.box.x0 - prev.x1, 0)))
                    sp.set("HPOS", str(prev.x1))
                    sp.set("VPOS", str(prev.y0))
                s = etree.SubElement(tl, f"{a}String", ID=f"word_{n}_{bi}_{li}_{wi}")
                box(s, w.box)
                s.set("CONTENT", w.text)
                s.set("WC", _wc(w.conf))
    return _xml(root)


def _points(b: BBox) -> str:
    x1, y1 = max(b.x1 - 1, b.x0), max(b.y1 - 1, b.y0)
    return f"{b.x0},{b.y0} {x1},{b.y0} {x1},{y1} {b.x0},{y1}"


def page_pagexml(page: Page, created: str | None = None) -> str:
    """PAGE XML (2019-07-15) of a page: TextRegion / TextLine / Word with rectangular
    ``Coords``, word ``TextEquiv`` with ``conf`` (0..1) and the line and region text; a
    ``ReadingOrder`` in Tesseract's block order. ``created`` (ISO 8601) defaults to now."""
    from datetime import datetime, timezone

    from lxml import etree

    p = f"{{{PAGE_NS}}}"
    stamp = created or datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "")
    root = etree.Element(f"{p}PcGts", nsmap={None: PAGE_NS, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", PAGE_SCHEMA)
    meta = etree.SubElement(root, f"{p}Metadata")
    etree.SubElement(meta, f"{p}Creator").text = SOFTWARE
    etree.SubElement(meta, f"{p}Created").text = stamp
    etree.SubElement(meta, f"{p}LastChange").text = stamp
    pg = etree.SubElement(
        root,
        f"{p}Page",
        imageFilename=page.ref.label,
        imageWidth=str(page.width),
        imageHeight=str(page.height),
    )
    n = page.number
    blocks = _blocks(page)
    if blocks:
        order = etree.SubElement(etree.SubElement(pg, f"{p}ReadingOrder"), f"{p}OrderedGroup", id=f"ro_{n}")
        for bi in range(1, len(blocks) + 1):
            etree.SubElement(order, f"{p}RegionRefIndexed", index=str(bi - 1), regionRef=f"region_{n}_{bi}")

    def equiv(parent: Any, text: str, conf: float | None = None) -> None:
        te = etree.SubElement(parent, f"{p}TextEquiv")
        if conf is not None:
            te.set("conf", _wc(conf))
        etree.SubElement(te, f"{p}Unicode").text = text

    for bi, block in enumerate(blocks, start=1):
        region = etree.SubElement(pg, f"{p}TextRegion", id=f"region_{n}_{bi}", type="paragraph")
        etree.SubElement(region, f"{p}Coords", points=_points(_union([w for ln in block for w in ln])))
        for li, line in enumerate(block, start=1):
            tl = etree.SubElement(region, f"{p}TextLine", id=f"line_{n}_{bi}_{li}")
            etree.SubElement(tl, f"{p}Coords", points=_points(_union(line)))
            for wi, w in enumerate(line, start=1):
                word = etree.SubElement(tl, f"{p}Word", id=f"word_{n}_{bi}_{li}_{wi}")
                etree.SubElement(word, f"{p}Coords", points=_points(w.box))
                equiv(word, w.text, w.conf)
            equiv(tl, " ".join(w.text for w in line))
        equiv(region, "\n".join(" ".join(w.text for w in line) for line in block))
    return _xml(root)
