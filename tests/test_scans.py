"""Page expansion, image loading, preprocessing (no Tesseract needed)."""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.errors import BadInput, InputNotFound
from ocr_fix.scans import (
    Prepared,
    Preprocess,
    binarise,
    char_height,
    content_key,
    estimate_skew,
    expand_scans,
    load_image,
    map_point_back,
    prepare,
    rotate,
)

runner = CliRunner()


def _png(path: Path, shade: int = 0, size: tuple[int, int] = (40, 30)) -> Path:
    Image.new("L", size, 255 - shade).save(path)
    return path


def _text_page(width: int = 1200, height: int = 1500, scale: float = 1.0, thickness: int = 2) -> np.ndarray:
    img = np.full((height, width), 255, np.uint8)
    y = int(80 * scale)
    while y < height - 60 * scale:
        cv2.putText(
            img,
            "The quick brown fox jumps over the lazy dog 1945",
            (int(60 * scale), y),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.0 * scale,
            0,
            thickness,
            cv2.LINE_AA,
        )
        y += int(50 * scale)
    return img


def test_directory_pages_sorted_by_name_other_files_ignored(tmp_path):
    for name in ("10.png", "02.jpg", "01.png"):
        if name.endswith(".jpg"):
            Image.new("L", (20, 20), 200).save(tmp_path / name, format="JPEG")
        else:
            _png(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not a page")
    _png(tmp_path / ".00.partial.png")
    (tmp_path / "sub").mkdir()
    _png(tmp_path / "sub" / "00.png")
    refs = expand_scans([tmp_path])
    assert [r.path.name for r in refs] == ["01.png", "02.jpg", "10.png"]
    assert [r.number for r in refs] == [1, 2, 3]
    assert all(not r.multi and r.frame == 0 for r in refs)


def test_multipage_tiff_and_pdf_pages_in_place(tmp_path):
    frames = [Image.new("L", (30, 20), v) for v in (10, 120, 240)]
    frames[0].save(tmp_path / "b.tif", save_all=True, append_images=frames[1:])
    pdf_pages = [Image.new("RGB", (72, 144), "white") for _ in range(2)]
    pdf_pages[0].save(tmp_path / "c.pdf", save_all=True, append_images=pdf_pages[1:], resolution=72)
    a = _png(tmp_path / "a.png")
    refs = expand_scans([a, tmp_path / "b.tif", tmp_path / "c.pdf", a])
    assert [(r.path.name, r.frame, r.number) for r in refs] == [
        ("a.png", 0, 1),
        ("b.tif", 0, 2),
        ("b.tif", 1, 3),
        ("b.tif", 2, 4),
        ("c.pdf", 0, 5),
        ("c.pdf", 1, 6),
        ("a.png", 0, 7),
    ]
    assert refs[2].multi and refs[2].stem == "b-002"
    assert [int(load_image(r).mean()) for r in refs[1:4]] == [10, 120, 240]
    pdf_page = load_image(refs[4], dpi=144)
    assert pdf_page.dtype == np.uint8 and pdf_page.shape == (288, 144)


def test_load_image_colour_and_alpha_become_grey(tmp_path):
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(tmp_path / "t.png")
    Image.new("RGB", (10, 10), (255, 0, 0)).save(tmp_path / "r.png")
    grey_t, grey_r = (load_image(r) for r in expand_scans([tmp_path / "t.png", tmp_path / "r.png"]))
    assert grey_t.ndim == 2 and int(grey_t.min()) == 255  # transparent = paper
    assert 60 <= int(grey_r.mean()) <= 90


def _pillow_grey(path: Path) -> np.ndarray:
    """The page as Pillow alone decodes it (load_image's way before grey PNGs went to OpenCV)."""
    from ocr_fix.scans import _to_grey

    with Image.open(path) as im:
        im.load()
        return np.array(im if im.mode == "L" else _to_grey(im), dtype=np.uint8)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    height=st.integers(1, 60),
    width=st.integers(1, 60),
    levels=st.sampled_from([2, 7, 256]),
    how=st.sampled_from(["plain", "optimize", "level0", "dpi"]),
)
def test_load_image_reads_grey_pngs_as_pillow_does(tmp_path_factory, seed, height, width, levels, how):
    """8-bit grey PNGs (which OpenCV decodes) give the bytes Pillow gives, whatever the
    pixels, size and encoder settings."""
    from ocr_fix.model import PageRef

    rng = np.random.default_rng(seed)
    pixels = (rng.integers(0, levels, (height, width)) * (255 // max(1, levels - 1))).astype(np.uint8)
    path = tmp_path_factory.mktemp("png") / "p.png"
    options = {"optimize": {"optimize": True}, "level0": {"compress_level": 0}, "dpi": {"dpi": (300, 300)}}
    Image.fromarray(pixels).save(path, **options.get(how, {}))
    got = load_image(PageRef(path, 0, 1))
    assert got.dtype == np.uint8 and np.array_equal(got, pixels) and np.array_equal(got, _pillow_grey(path))


def test_load_image_leaves_other_pngs_to_pillow(tmp_path):
    """PNGs that are not plain 8-bit grey (1 and 4 bits, 16 bits, palette, grey with a
    transparent level, grey and alpha, colour) read as Pillow reads them."""
    from ocr_fix.model import PageRef

    rng = np.random.default_rng(7)
    grey = rng.integers(0, 256, (23, 31)).astype(np.uint8)
    images = {
        "bits1": Image.fromarray(grey > 128),
        "bits16": Image.fromarray(grey.astype(np.uint16) * 257),
        "palette": Image.fromarray(grey).convert("P"),
        "grey_alpha": Image.fromarray(np.dstack([grey, grey[::-1]])),
        "colour": Image.fromarray(np.dstack([grey, grey // 2, 255 - grey])),
    }
    for name, image in images.items():
        path = tmp_path / f"{name}.png"
        image.save(path)
        assert np.array_equal(load_image(PageRef(path, 0, 1)), _pillow_grey(path)), name
    transparent = tmp_path / "transparent.png"
    Image.fromarray(grey).save(transparent, transparency=0)
    assert np.array_equal(load_image(PageRef(transparent, 0, 1)), _pillow_grey(transparent))
    for bits in (2, 4):  # grey of 2 and 4 bits, which Pillow opens as "L" too
        path = tmp_path / f"bits{bits}.png"
        path.write_bytes(_grey_png(grey >> (8 - bits), bits))
        with Image.open(path) as im:
            assert im.mode == "L"
        assert np.array_equal(load_image(PageRef(path, 0, 1)), _pillow_grey(path))


def _grey_png(values: np.ndarray, bits: int) -> bytes:
    """A greyscale PNG of ``bits`` (1, 2 or 4) bits a pixel, which Pillow cannot write."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    height, width = values.shape
    per_byte = 8 // bits
    rows = []
    for row in values:
        padded = np.zeros(-(-width // per_byte) * per_byte, np.uint8)
        padded[:width] = row
        packed = np.zeros(len(padded) // per_byte, np.uint8)
        for k in range(per_byte):
            packed |= padded[k::per_byte] << (8 - bits * (k + 1))
        rows.append(b"\x00" + packed.tobytes())
    header = struct.pack(">IIBBBBB", width, height, bits, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def test_bad_inputs_raise_with_exit_codes(tmp_path):
    with pytest.raises(InputNotFound):
        expand_scans([tmp_path / "missing.png"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match=r"no page images \(PNG, JPEG, TIFF, JPEG 2000, WebP, BMP, PNM, PDF\)"):
        expand_scans([tmp_path / "empty"])
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(BadInput, match="not a readable image"):
        expand_scans([tmp_path / "text.png"])
    (tmp_path / "doc.docx").write_bytes(b"PK")
    with pytest.raises(BadInput, match="not a page image"):
        expand_scans([tmp_path / "doc.docx"])


@pytest.mark.parametrize(
    "case, code, fragment",
    [
        ("missing", 3, "no such file or directory"),
        ("empty_dir", 4, "no page images (PNG, JPEG, TIFF, JPEG 2000, WebP, BMP, PNM, PDF)"),
        ("text_as_png", 4, "not a readable image"),
        ("truncated_png", 4, "not a readable image"),
        ("bad_pdf", 4, "cannot read PDF"),
    ],
)
def test_ocr_cli_bad_scans_one_line_and_exit_code(tmp_path, case, code, fragment):
    target = tmp_path / "x.png"
    if case == "empty_dir":
        target = tmp_path / "pages"
        target.mkdir()
        (target / "readme.txt").write_text("nothing")
    elif case == "text_as_png":
        target.write_text("this is text, not a PNG\n")
    elif case == "truncated_png":
        full = tmp_path / "full.png"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8)).save(full)
        target.write_bytes(full.read_bytes()[:3000])
    elif case == "bad_pdf":
        target = tmp_path / "x.pdf"
        target.write_bytes(b"%PDF-1.4\nnot really\n")
    result = runner.invoke(app, ["ocr", str(target), "--no-cache"])
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.stderr


def test_load_image_corrupt_after_header(tmp_path):
    full = tmp_path / "full.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (300, 300), dtype=np.uint8)).save(full)
    ref = expand_scans([full])[0]
    full.write_bytes(full.read_bytes()[:2000])  # damaged between listing and reading
    with pytest.raises(BadInput, match=r"full\.png: not a readable image"):
        load_image(ref)


def test_content_key_tracks_bytes_and_frame_not_path(tmp_path):
    a = _png(tmp_path / "a.png", shade=10)
    b = tmp_path / "b.png"
    shutil.copy(a, b)
    c = _png(tmp_path / "c.png", shade=20)
    ra, rb, rc = expand_scans([a, b, c])
    assert content_key(ra) == content_key(rb) != content_key(rc)
    frames = [Image.new("L", (8, 8), v) for v in (0, 0)]
    frames[0].save(tmp_path / "d.tif", save_all=True, append_images=frames[1:])
    d0, d1 = expand_scans([tmp_path / "d.tif"])
    assert content_key(d0) != content_key(d1)


@pytest.mark.parametrize("angle", [-2.3, -0.7, 1.5])
def test_deskew_recovers_known_rotation(angle):
    tilted = rotate(_text_page(), angle)
    assert abs(estimate_skew(tilted) + angle) < 0.2
    prepared = prepare(tilted, Preprocess(denoise=False, upscale=False))
    assert abs(prepared.angle + angle) < 0.2
    assert abs(estimate_skew(prepared.image)) < 0.2


def test_level_page_is_not_rotated():
    page = _text_page()
    prepared = prepare(page, Preprocess(denoise=False))
    assert prepared.angle == 0.0 and prepared.scale == 1.0
    assert np.array_equal(prepared.image, page)


def test_small_text_is_upscaled_and_large_text_is_not():
    small = _text_page(400, 500, scale=0.35, thickness=1)
    big = _text_page(1200, 1500, scale=1.3, thickness=3)
    assert 0 < char_height(small) < 15
    p_small = prepare(small, Preprocess(deskew=False, denoise=False))
    assert p_small.scale > 1.5 and p_small.image.shape[0] == round(500 * p_small.scale)
    assert prepare(big, Preprocess(deskew=False, denoise=False)).scale == 1.0
    assert prepare(small, Preprocess(upscale=False)).scale == 1.0


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(20, 90), st.integers(20, 90))
def test_binarise_is_the_sauvola_formula_bit_for_bit(seed, height, width):
    """The in-place steps give exactly what the formula written out gives."""
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur((rng.random((height, width)) * 255).astype(np.uint8), (0, 0), 2)
    window = max(15, (min(img.shape[:2]) // 40) | 1)
    f = img.astype(np.float64)
    mean = cv2.boxFilter(f, -1, (window, window), borderType=cv2.BORDER_REPLICATE)
    sq = cv2.boxFilter(f * f, -1, (window, window), borderType=cv2.BORDER_REPLICATE)
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    expected = np.where(f > mean * (1 + 0.2 * (std / 128.0 - 1)), 255, 0).astype(np.uint8)
    assert np.array_equal(binarise(img), expected)


def test_binarise_gives_two_levels_and_keeps_text_dark():
    page = _text_page()
    out = prepare(page, Preprocess(deskew=False, denoise=False, binarise=True)).image
    assert set(np.unique(out)) <= {0, 255}
    ink = page < 128
    assert (out[ink] == 0).mean() > 0.9 and (out[~ink] == 255).mean() > 0.98


def test_map_point_back_inverts_scale_and_rotation():
    h, w = 1000, 800
    prepared = Prepared(image=np.zeros((h, w), np.uint8), scale=2.0, angle=1.7)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 1.7, 1.0)
    for x, y in ((10.0, 20.0), (399.0, 250.0), (150.0, 480.0)):
        sx, sy = x * 2, y * 2  # upscaled
        rx, ry = m @ np.array([sx, sy, 1.0])  # then rotated
        bx, by = map_point_back(rx, ry, prepared, (h, w))
        assert math.isclose(bx, x, abs_tol=1e-6) and math.isclose(by, y, abs_tol=1e-6)


def _same_preparation(a: Prepared, b: Prepared) -> bool:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "measured":
            continue
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and np.array_equal(x, y)):
                return False
        elif x != y:
            return False
    return True


@pytest.mark.parametrize("page", ["tilted", "turned", "upside_down", "small", "marked"])
def test_a_preparation_like_another_reuses_its_measurements_with_the_same_result(page):
    """Another treatment of a page at the rotation it was read at (the restore and
    unsmoothed readings) takes the first preparation's measurements: the same image,
    scale, skew, rotation, bars and spots as measuring again. A different rotation,
    settings the measurements depend on, or another array are measured afresh."""
    text = _text_page(900, 1100)
    if page == "marked":
        text[:, :30] = 10  # a scanner bed down the left edge
        cv2.rectangle(text, (300, 400), (700, 440), 0, -1)  # a redaction bar
    images = {
        "tilted": rotate(text, 2.5),
        "turned": np.ascontiguousarray(np.rot90(rotate(text, -1.5), 1)),
        "upside_down": np.ascontiguousarray(np.rot90(text, 2)),
        "small": cv2.resize(rotate(text, 1.0), None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA),
        "marked": rotate(text, 1.2),
    }
    img = images[page]
    first = prepare(img)
    assert first.measured is not None
    treatments = [
        Preprocess(restore=True, denoise=False),
        Preprocess(denoise=False),
        Preprocess(binarise=True),
        Preprocess(char_height=40.0),
    ]
    for treatment in treatments:
        again = prepare(img, treatment, rotation=first.rotation, like=first)
        assert again.measured is first.measured
        assert _same_preparation(again, prepare(img, treatment, rotation=first.rotation))
    others = [
        (img, Preprocess(), (first.rotation + 90) % 360),
        (img, Preprocess(mask=False), first.rotation),
        (img, Preprocess(max_skew=3.0), first.rotation),
        (img.copy(), Preprocess(), first.rotation),
    ]
    for other, treatment, rotation in others:
        fresh = prepare(other, treatment, rotation=rotation, like=first)
        assert fresh.measured is not first.measured
        assert _same_preparation(fresh, prepare(other, treatment, rotation=rotation))
    assert prepare(img, like=first).measured is not first.measured  # the rotation left to the tests


# --- decoded pages kept for the run --------------------------------------------------------


def test_decoded_pages_give_the_pixels_load_image_gives_decoding_each_page_once(tmp_path):
    from ocr_fix.model import PageRef
    from ocr_fix.scans import DecodedPages, decoded_pages, read_page_image

    page = tmp_path / "p.png"
    Image.fromarray(_text_page(300, 200)).save(page)
    ref = PageRef(page, 0, 1)
    with decoded_pages() as decoded:
        first = decoded.load(ref)
        assert np.array_equal(first, load_image(ref)) and first.dtype == np.uint8
        kept = list(decoded.directory.glob("*.npy"))
        assert len(kept) == 1  # one array, keyed by content and resolution
        # What a later load returns comes from the kept array, not from the file.
        np.save(kept[0], np.zeros((3, 4), np.uint8))
        assert decoded.load(ref).shape == (3, 4)
        assert read_page_image(ref, 300, decoded).shape == (3, 4)
        assert np.array_equal(read_page_image(ref, 300, None), first)
        # A kept array that cannot be read (or is no grey page) is decoded again.
        kept[0].write_bytes(b"not an array")
        assert np.array_equal(decoded.load(ref), first)
        np.save(kept[0], np.zeros((3, 4, 3), np.uint8))
        assert np.array_equal(decoded.load(ref), first)
        # Another resolution is another entry (PDF pages render at it).
        decoded.load(ref, dpi=150)
        assert len(list(decoded.directory.glob("*.npy"))) == 2
        directory = decoded.directory
    assert not directory.exists()  # removed with the run
    # Past its budget nothing more is kept; the pixels are the same.
    small = DecodedPages(tmp_path / "small", budget=first.nbytes - 1)
    small.directory.mkdir()
    assert np.array_equal(small.load(ref), first) and not list(small.directory.iterdir())
    # A directory that is gone keeps nothing and fails nothing.
    gone = DecodedPages(tmp_path / "gone")
    assert np.array_equal(gone.load(ref), first)
    gone.forget([ref])


def test_a_mapped_decoded_page_gives_the_same_pixels_read_only(tmp_path):
    """``mapped``: a kept page comes as a read-only memory map of the same pixels (the
    second readings cut their lines out of it); a page not kept yet is decoded and kept
    as without it; a kept file that cannot be mapped is decoded again."""
    from ocr_fix.model import PageRef
    from ocr_fix.scans import decoded_pages, read_page_image

    page = tmp_path / "p.png"
    Image.fromarray(_text_page(300, 200)).save(page)
    ref = PageRef(page, 0, 1)
    with decoded_pages() as decoded:
        first = decoded.load(ref, mapped=True)  # not kept yet: decoded, then kept
        assert np.array_equal(first, load_image(ref)) and len(list(decoded.directory.glob("*.npy"))) == 1
        mapped = read_page_image(ref, 300, decoded, mapped=True)
        assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
        assert np.array_equal(mapped, first) and np.array_equal(mapped[40:60, 10:90], first[40:60, 10:90])
        (kept,) = decoded.directory.glob("*.npy")
        kept.write_bytes(kept.read_bytes()[:100])  # truncated
        assert np.array_equal(decoded.load(ref, mapped=True), first)


def test_forgotten_pages_are_no_longer_kept(tmp_path):
    from ocr_fix.model import PageRef
    from ocr_fix.scans import decoded_pages

    refs = []
    for i, shade in enumerate((0, 60)):
        path = tmp_path / f"p{i}.png"
        Image.fromarray(np.full((20, 30), 255 - shade, np.uint8)).save(path)
        refs.append(PageRef(path, 0, i + 1))
    with decoded_pages() as decoded:
        for ref in refs:
            decoded.load(ref)
        decoded.load(refs[0], dpi=150)
        # Every resolution of a page is dropped; a page whose file is gone is skipped.
        decoded.forget([refs[0], PageRef(tmp_path / "missing.png", 0, 3)])
        left = sorted(p.name for p in decoded.directory.glob("*.npy"))
        assert left == [f"{content_key(refs[1])}-300.npy"]
