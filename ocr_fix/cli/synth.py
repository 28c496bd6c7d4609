"""``ocr-fix synth PAGE.gt.txt... -o DIR``: render ground-truth pages as typed page scans
(see :mod:`ocr_fix.synth`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ocr_fix.cli import app
from ocr_fix.cli.common import err_console, handles_errors
from ocr_fix.synth import Degrade, SynthSettings, synth_pages


@app.command()
@handles_errors
def synth(
    pages: list[Path] = typer.Argument(..., help="Ground-truth pages (NN.gt.txt), one typed page each."),
    out_dir: Path = typer.Option(..., "--output-dir", "-o", help="Directory for the page images (NN.png)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives identical images."),
    degrade: Degrade = typer.Option(
        Degrade.MEDIUM, "--degrade", help="How worn the typing and the scan look."
    ),
    dpi: int = typer.Option(300, "--dpi", min=72, max=1200, help="Scan resolution."),
    jpeg_quality: int | None = typer.Option(
        None, "--jpeg-quality", min=5, max=100, help="Pass the page through JPEG at this quality."
    ),
    font: str | None = typer.Option(
        None,
        "--font",
        help="Font file, or a family fontconfig knows (FreeMono, Liberation Mono, TeX Gyre Cursor, ...); "
        "default Courier Prime.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not list the written files."),
) -> None:
    """Render each PAGE.gt.txt as a typewritten US-letter page scan DIR/PAGE.png.

    Example: ocr-fix synth golden/psis-400-23/*.gt.txt -o scans/

    Exit 3 if an input or the --font file is missing, 4 if it is not UTF-8 text or the
    font (by default Courier Prime, Debian package fonts-courier-prime) is not installed.
    """
    settings = SynthSettings(seed=seed, degrade=degrade, dpi=dpi, jpeg_quality=jpeg_quality, font=font)
    for path in synth_pages(pages, out_dir, settings):
        if not quiet:
            err_console.print(f"wrote {path}", markup=False, highlight=False)
