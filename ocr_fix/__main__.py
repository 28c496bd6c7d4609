"""``python -m ocr_fix`` and the ``ocr-fix`` command (``[project.scripts]``).

The script pip generates for the command imports this module at its top, and every OCR
worker process the command starts (``spawn``) runs that top again as its ``__mp_main__``:
so nothing is imported here before the command runs. (The script pointed at
``ocr_fix.cli`` before, and each worker imported the whole CLI, typer, rich and every
command, for nothing: 0.13 CPU-s a worker.)"""

from __future__ import annotations


def main() -> None:
    from ocr_fix.cli import main as run

    run()


if __name__ == "__main__":
    main()
